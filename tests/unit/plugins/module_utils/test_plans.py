# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning across module_utils: node statuses, secret reports, patches (applied with jsonpatch),
rollback round trips, operator settings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

import jsonpatch
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import inventory as inv
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kfserving_secret as ks
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import operator_rules
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import rclone_mapping as rm
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import secret_plan as sp
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import secret_ref_plan as rp
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_settings as ss
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import status
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import storage_report as sr

NS = "core-plan"
SEED_ANNOTATIONS = {"machinelearning.seldon.io/s3-endpoint": "minio.minio-system.svc:9000",
                    "machinelearning.seldon.io/s3-usehttps": "0"}


def b64(value):
    return base64.b64encode(value.encode()).decode()


def secret(name, data, annotations=None, namespace=NS, rv="10"):
    metadata = {"name": name, "namespace": namespace, "resourceVersion": rv}
    if annotations is not None:
        metadata["annotations"] = dict(annotations)
    return {"metadata": metadata, "data": dict((k, b64(v)) for k, v in data.items())}


def service_account(name, secrets=(), namespace=NS):
    return {"metadata": {"name": name, "namespace": namespace}, "secrets": [{"name": s} for s in secrets]}


def sdep(name, graph, explainer=None, namespace=NS, component_specs=None, rv="20", annotations=None):
    predictor = {"name": "default", "graph": graph}
    if explainer:
        predictor["explainer"] = explainer
    if component_specs:
        predictor["componentSpecs"] = component_specs
    metadata = {"name": name, "namespace": namespace, "resourceVersion": rv}
    if annotations is not None:
        metadata["annotations"] = annotations
    return {"metadata": metadata, "spec": {"predictors": [predictor]}}


def model(name="classifier", uri="s3://sklearn/iris", implementation="SKLEARN_SERVER", **extra):
    out = {"name": name, "implementation": implementation, "modelUri": uri}
    out.update(extra)
    return out


ENV_DATA = {"AWS_ACCESS_KEY_ID": "AKIAENVEXAMPLE001", "AWS_SECRET_ACCESS_KEY": "envSecretValueExample01",
            "AWS_ENDPOINT_URL": "http://minio.minio-system.svc:9000"}
SA_DATA = {"awsAccessKeyID": "AKIASAEXAMPLE0002", "awsSecretAccessKey": "saSecretValueExample02"}


def seed_inventory(**overrides):
    """The seed tutorial's two deployments: one env secret, one service account."""
    objects = dict(
        secrets=[secret("seldon-init-container-secret", ENV_DATA),
                 secret("seldon-s3-secret", SA_DATA, SEED_ANNOTATIONS)],
        service_accounts=[service_account("default"), service_account("seldon-s3-sa", ["seldon-s3-secret"])],
        deployments=[
            sdep("iris-env", model(envSecretRefName="seldon-init-container-secret")),
            sdep("iris-sa", model(serviceAccountName="seldon-s3-sa")),
        ],
        provider="minio",
    )
    objects.update(overrides)
    return inv.Inventory(**objects)


def by_deployment(report):
    return dict(((n["deployment"], n["ref"]), n) for n in report["nodes"])


def test_seed_scenarios():
    report = sr.storage_report(seed_inventory())
    nodes = by_deployment(report)
    env_node = nodes[("iris-env", "default/classifier")]
    sa_node = nodes[("iris-sa", "default/classifier")]
    assert (env_node["status"], env_node["credentials"], env_node["secret"]) == (
        status.CONVERTIBLE, status.VIA_ENV_SECRET, "seldon-init-container-secret")
    assert (sa_node["status"], sa_node["credentials"], sa_node["secret"], sa_node["service_account"]) == (
        status.NEEDS_SECRET_REF, status.VIA_SERVICE_ACCOUNT, "seldon-s3-secret", "seldon-s3-sa")
    assert report["ready_for_upgrade"] is False
    secrets = dict((s["name"], s) for s in report["secrets"])
    assert secrets["seldon-init-container-secret"]["format"] == ks.FORMAT_ENV
    assert secrets["seldon-s3-secret"]["format"] == ks.FORMAT_SERVICE_ACCOUNT
    assert secrets["seldon-s3-secret"]["used_by"] == ["iris-sa/default/classifier"]
    assert report["summary"]["nodes_by_status"][status.CONVERTIBLE] == 1
    assert report["summary"]["secrets_by_status"][status.CONVERTIBLE] == 2


def converted(secret_obj, remotes=("s3",), provider="minio", on_conflict="fail"):
    """Apply rclone_secret's patch to a copy of the secret, as the API server would."""
    plan = sp.plan_conversion(secret_obj, list(remotes), provider, on_conflict)
    if plan.patch is None:
        return secret_obj, plan.change
    return jsonpatch.apply_patch(secret_obj, plan.patch), plan.change


def test_after_conversion_and_secret_ref_everything_is_migrated():
    inventory = seed_inventory()
    new_secrets = [converted(s)[0] for s in inventory.secrets.values()]
    deployments = []
    for obj in inventory.deployments:
        outcomes = rp.desired_refs(obj, inventory)
        patch = rp.set_patch(obj, outcomes)
        deployments.append(jsonpatch.apply_patch(obj, patch) if patch else obj)
    after = seed_inventory(secrets=new_secrets, deployments=deployments)
    report = sr.storage_report(after)
    assert [n["status"] for n in report["nodes"]] == [status.MIGRATED, status.MIGRATED]
    assert report["ready_for_upgrade"] is True
    # the service-account node now reads its secret through envSecretRefName, SA kept
    sa_graph = deployments[1]["spec"]["predictors"][0]["graph"]
    assert sa_graph["envSecretRefName"] == "seldon-s3-secret" and sa_graph["serviceAccountName"] == "seldon-s3-sa"
    # second pass: nothing to do anywhere
    for obj in after.deployments:
        assert rp.set_patch(obj, rp.desired_refs(obj, after)) is None
    for obj in after.secrets.values():
        assert converted(obj)[1].action == status.ACTION_UNCHANGED


def test_conversion_keeps_original_bytes_and_rollback_restores_them_exactly():
    original = secret("s", dict(ENV_DATA, other="kept as is\n"), {"team": "a"})
    after, change = converted(original)
    for key, value in original["data"].items():
        assert after["data"][key] == value
    assert sp.added_keys_recorded(after["metadata"]["annotations"]) == sorted(change.added_keys)
    restored = jsonpatch.apply_patch(after, sp.plan_removal(after).patch)
    assert restored == original


def test_patch_adds_data_and_annotations_maps_when_absent():
    bare = {"metadata": {"name": "s", "namespace": NS, "resourceVersion": "3"}, "data": None}
    patch = sp.add_patch(bare, {"RCLONE_CONFIG_S3_TYPE": "s3"}, "RCLONE_CONFIG_S3_TYPE")
    assert patch[0] == {"op": "replace", "path": "/metadata/resourceVersion", "value": "3"}
    result = jsonpatch.apply_patch(dict(bare, data=None), patch)
    assert result["data"] == {"RCLONE_CONFIG_S3_TYPE": b64("s3")}
    assert result["metadata"]["annotations"] == {sp.ADDED_KEYS_ANNOTATION: "RCLONE_CONFIG_S3_TYPE"}


@pytest.mark.parametrize("policy,action,overwritten", [
    ("fail", status.ACTION_CONFLICT, []),
    ("keep", status.ACTION_CONVERTED, []),
    ("overwrite", status.ACTION_CONVERTED, ["RCLONE_CONFIG_S3_ENDPOINT"]),
])
def test_on_conflict(policy, action, overwritten):
    data = dict(ENV_DATA, RCLONE_CONFIG_S3_ENDPOINT="http://elsewhere:9000")
    change = sp.secret_change(data, {}, ["s3"], "minio", policy)
    assert change.action == action
    assert change.conflicting_keys == ["RCLONE_CONFIG_S3_ENDPOINT"]
    assert change.overwritten_keys == overwritten
    assert "RCLONE_CONFIG_S3_ENDPOINT" not in change.added_keys
    if policy == "keep":
        assert "RCLONE_CONFIG_S3_ENDPOINT" not in change.keys_to_set


def test_keep_then_rerun_is_unchanged_and_says_why():
    data = dict(ENV_DATA, RCLONE_CONFIG_S3_ENDPOINT="http://elsewhere:9000")
    first = sp.secret_change(data, {}, ["s3"], "minio", "keep")
    second = sp.secret_change(rm.apply_keys(data, first.keys_to_set), {}, ["s3"], "minio", "keep")
    assert second.action == status.ACTION_UNCHANGED and "kept" in second.reason


def test_overwritten_keys_are_not_recorded_for_rollback():
    data = dict(ENV_DATA, RCLONE_CONFIG_S3_ENDPOINT="http://elsewhere:9000")
    change = sp.secret_change(data, {}, ["s3"], "minio", "overwrite")
    assert "RCLONE_CONFIG_S3_ENDPOINT" not in json.loads(change.annotation)


def test_secret_change_actions_for_bad_inputs():
    assert sp.secret_change(None, {}, ["s3"], "auto", "fail").action == status.ACTION_BLOCKED
    assert sp.secret_change({"token": "x"}, {}, ["s3"], "auto", "fail").action == status.ACTION_SKIPPED
    change = sp.secret_change({"AWS_ACCESS_KEY_ID": "x"}, {}, ["s3"], "auto", "fail")
    assert change.action == status.ACTION_BLOCKED and "AWS_SECRET_ACCESS_KEY" in change.reason


def test_nested_children_and_explainer_each_get_a_status():
    graph = model("router", uri="", implementation="RANDOM_ABTEST", children=[
        model("a", envSecretRefName="seldon-init-container-secret"),
        model("b", serviceAccountName="seldon-s3-sa", children=[model("c", uri="gs://public/model")]),
    ])
    explainer = {"type": "AnchorTabular", "modelUri": "s3://bucket/explainer", "serviceAccountName": "seldon-s3-sa"}
    inventory = seed_inventory(deployments=[sdep("nested", graph, explainer)])
    report = sr.storage_report(inventory)
    statuses = dict((n["ref"], (n["status"], n["depth"])) for n in report["nodes"])
    assert statuses == {
        "default/a": (status.CONVERTIBLE, 1),
        "default/b": (status.NEEDS_SECRET_REF, 1),
        "default/c": (status.NO_CREDENTIALS, 2),
        "default/.explainer": (status.NEEDS_SECRET_REF, 0),
    }
    outcomes = dict((o["ref"], o["action"]) for o in rp.desired_refs(inventory.deployments[0], inventory))
    assert outcomes["default/b"] == "set" and outcomes["default/.explainer"] == "set"
    patched = jsonpatch.apply_patch(inventory.deployments[0],
                                    rp.set_patch(inventory.deployments[0], rp.desired_refs(
                                        inventory.deployments[0], inventory)))
    assert patched["spec"]["predictors"][0]["explainer"]["envSecretRefName"] == "seldon-s3-secret"
    assert rp.recorded_refs(patched) == {"default/.explainer": "seldon-s3-secret", "default/b": "seldon-s3-secret"}


@pytest.mark.parametrize("deployment,secrets,service_accounts,needle", [
    (sdep("missing-secret", model(envSecretRefName="nope")), [], [], "secret nope (envSecretRefName) not found"),
    (sdep("missing-key", model(envSecretRefName="half")), [secret("half", {"AWS_ACCESS_KEY_ID": "AKIAHALFEXAMPLE1"})],
     [], "key AWS_SECRET_ACCESS_KEY missing"),
    (sdep("sa-without-secrets", model(serviceAccountName="empty-sa")), [], [service_account("empty-sa")],
     "service account empty-sa lists no secrets"),
    (sdep("sa-missing", model(serviceAccountName="ghost")), [], [], "service account ghost not found"),
    (sdep("default-sa-nothing", model()), [], [service_account("default")], "service account default lists no secrets"),
    (sdep("sa-token-only", model(serviceAccountName="tok")), [secret("tok-token", {"token": "abcdefghijkl"})],
     [service_account("tok", ["tok-token"])], "lists no S3 secret (key awsSecretAccessKey)"),
    (sdep("azure", model(envSecretRefName="az")), [secret("az", {"AZ_CLIENT_ID": "a", "AZ_CLIENT_SECRET": "b",
                                                                 "AZ_SUBSCRIPTION_ID": "c", "AZ_TENANT_ID": "d"})],
     [], "Azure"),
    (sdep("azure-url", model(uri="https://acct.blob.core.windows.net/c/m")), [], [], "azureblob"),
    (sdep("http-url", model(uri="https://example.com/m.joblib")), [], [], "http(s) URL"),
    (sdep("file-url", model(uri="file:///mnt/models/iris")), [], [], "file:// URL"),
    (sdep("wrong-remote", model(envSecretRefName="mys3")), [secret("mys3", {"RCLONE_CONFIG_MYS3_TYPE": "s3"})], [],
     "remote(s) MYS3 but the modelUri uses remote S3"),
    (sdep("conflict", model(envSecretRefName="conf")),
     [secret("conf", dict(ENV_DATA, RCLONE_CONFIG_S3_ENDPOINT="http://x:1"))], [],
     "conflicting rclone keys: RCLONE_CONFIG_S3_ENDPOINT"),
    (sdep("own-env-secret-without-s3", model(envSecretRefName="other", serviceAccountName="seldon-s3-sa")),
     [secret("other", {"FOO": "bar"}), secret("seldon-s3-secret", SA_DATA)],
     [service_account("seldon-s3-sa", ["seldon-s3-secret"])], "a node takes one envSecretRefName"),
    (sdep("bad-remote", model(uri="my-minio:bucket")), [], [], "letters, digits and _ only"),
])
def test_blocked_cases_are_reported_by_name(deployment, secrets, service_accounts, needle):
    inventory = inv.Inventory(secrets=secrets, service_accounts=service_accounts, deployments=[deployment])
    report = sr.storage_report(inventory)
    (node_report,) = report["nodes"]
    assert node_report["status"] == status.BLOCKED
    assert needle in node_report["reason"]
    assert report["ready_for_upgrade"] is False


def test_missing_secret_is_reported_in_secrets():
    inventory = inv.Inventory(deployments=[sdep("d", model(envSecretRefName="nope"))])
    report = sr.storage_report(inventory)
    assert report["secrets"][0]["status"] == status.SECRET_MISSING


@pytest.mark.parametrize("uri", ["pvc://claim/model", "/mnt/models", "gs://public-bucket/model"])
def test_no_credentials_needed(uri):
    inventory = inv.Inventory(service_accounts=[service_account("default")], deployments=[sdep("d", model(uri=uri))])
    report = sr.storage_report(inventory)
    assert report["nodes"][0]["status"] == status.NO_CREDENTIALS
    assert report["ready_for_upgrade"] is True


def test_private_gcs_through_service_account_needs_a_secret_ref():
    gcs = secret("gcs-creds", {"gcloud-application-credentials.json": json.dumps({"type": "service_account"})})
    inventory = inv.Inventory(secrets=[gcs], service_accounts=[service_account("gcs-sa", ["gcs-creds"])],
                              deployments=[sdep("d", model(uri="gs://private/model", serviceAccountName="gcs-sa"))])
    report = sr.storage_report(inventory)
    assert report["nodes"][0]["status"] == status.NEEDS_SECRET_REF
    assert report["secrets"][0]["keys_to_add"] == ["RCLONE_CONFIG_GS_ANONYMOUS", "RCLONE_CONFIG_GS_SERVICE_ACCOUNT_CREDENTIALS",
                                                   "RCLONE_CONFIG_GS_TYPE"]


def test_default_env_secret_ref_name_applies_and_node_secret_overrides():
    inventory = seed_inventory(default_env_secret_ref_name="seldon-init-container-secret",
                               deployments=[sdep("uses-default", model()),
                                            sdep("sa-with-default", model(serviceAccountName="seldon-s3-sa"))])
    report = sr.storage_report(inventory)
    nodes = by_deployment(report)
    assert nodes[("uses-default", "default/classifier")]["credentials"] == status.VIA_DEFAULT_SECRET
    assert nodes[("uses-default", "default/classifier")]["status"] == status.CONVERTIBLE
    # the default secret has S3 credentials, so it is what the init container reads
    assert nodes[("sa-with-default", "default/classifier")]["status"] == status.CONVERTIBLE


def test_default_secret_without_s3_falls_back_to_service_account_secret_ref():
    inventory = seed_inventory(
        default_env_secret_ref_name="unrelated",
        secrets=[secret("unrelated", {"FOO": "x"}), secret("seldon-s3-secret", SA_DATA, SEED_ANNOTATIONS)],
        deployments=[sdep("sa", model(serviceAccountName="seldon-s3-sa"))])
    report = sr.storage_report(inventory)
    assert report["nodes"][0]["status"] == status.NEEDS_SECRET_REF


def test_last_s3_secret_of_a_service_account_wins_and_missing_ones_are_skipped():
    inventory = inv.Inventory(
        secrets=[secret("first", SA_DATA), secret("second", SA_DATA)],
        service_accounts=[service_account("sa", ["gone", "first", "second"])],
        deployments=[sdep("d", model(serviceAccountName="sa"))])
    report = sr.storage_report(inventory)
    assert report["nodes"][0]["secret"] == "second"


def test_hand_written_initializer_and_image_pin_are_noted():
    specs = [{"spec": {"containers": [{"name": "classifier"}],
                       "initContainers": [{"name": "classifier-model-initializer"}]}}]
    inventory = seed_inventory(deployments=[sdep("custom", model(envSecretRefName="seldon-init-container-secret",
                                                                 storageInitializerImage="kfserving/si:v0.6.1"),
                                                 component_specs=specs)])
    report = sr.storage_report(inventory)
    node_report = report["nodes"][0]
    assert node_report["custom_initializer"] == "classifier-model-initializer"
    assert "migrate it by hand" in node_report["reason"] and "kfserving/si:v0.6.1" in node_report["reason"]
    assert report["summary"]["custom_initializers"] == 1


def test_custom_container_with_model_uri_is_ignored_not_counted_before_1_17_1():
    inventory = inv.Inventory(deployments=[sdep("custom", {"name": "c", "modelUri": "s3://b/m"})],
                              rules=operator_rules.rules_for((1, 17, 0)))
    report = sr.storage_report(inventory)
    assert report["nodes"] == [] and len(report["ignored_nodes"]) == 1
    assert report["ready_for_upgrade"] is True


def test_custom_container_with_model_uri_loads_and_needs_credentials_from_1_17_1():
    specs = [{"spec": {"containers": [{"name": "c"}]}}]
    inventory = seed_inventory(deployments=[sdep("custom", {"name": "c", "modelUri": "s3://b/m",
                                                            "envSecretRefName": "seldon-init-container-secret"},
                                                 component_specs=specs)],
                               rules=operator_rules.rules_for((1, 17, 1)))
    report = sr.storage_report(inventory)
    assert [(n["node"], n["status"]) for n in report["nodes"]] == [("c", status.CONVERTIBLE)]
    assert report["ignored_nodes"] == [] and report["ready_for_upgrade"] is False


def test_secret_name_option_covers_nodes_without_credentials():
    inventory = inv.Inventory(secrets=[secret("shared", ENV_DATA)], service_accounts=[service_account("default")],
                              deployments=[sdep("d", model())])
    outcomes = rp.desired_refs(inventory.deployments[0], inventory, secret_name="shared")
    assert [(o["action"], o["secret"]) for o in outcomes] == [("set", "shared")]
    outcomes = rp.desired_refs(inventory.deployments[0], inventory, secret_name="absent")
    assert outcomes[0]["action"] == status.ACTION_BLOCKED


def test_sdep_rollback_removes_exactly_what_was_set():
    inventory = seed_inventory()
    original = inventory.deployments[1]
    patched = jsonpatch.apply_patch(original, rp.set_patch(original, rp.desired_refs(original, inventory)))
    outcomes = rp.removal_nodes(patched)
    assert [o["action"] for o in outcomes] == [status.ACTION_REMOVED]
    restored = jsonpatch.apply_patch(patched, rp.removal_patch(patched, outcomes))
    restored["metadata"].pop("annotations")
    assert restored == original


def test_sdep_rollback_leaves_a_reference_changed_since():
    inventory = seed_inventory()
    original = inventory.deployments[1]
    patched = jsonpatch.apply_patch(original, rp.set_patch(original, rp.desired_refs(original, inventory)))
    patched["spec"]["predictors"][0]["graph"]["envSecretRefName"] = "someone-else"
    outcomes = rp.removal_nodes(patched)
    assert outcomes[0]["action"] == status.ACTION_SKIPPED and "changed since" in outcomes[0]["reason"]
    restored = jsonpatch.apply_patch(patched, rp.removal_patch(patched, outcomes))
    assert restored["spec"]["predictors"][0]["graph"]["envSecretRefName"] == "someone-else"
    assert rp.SECRET_REFS_ANNOTATION not in restored["metadata"]["annotations"]


def test_recorded_refs_survive_bad_annotations():
    assert rp.recorded_refs(sdep("d", model(), annotations={rp.SECRET_REFS_ANNOTATION: "not json"})) == {}
    assert rp.recorded_refs(sdep("d", model(), annotations={rp.SECRET_REFS_ANNOTATION: "[1]"})) == {}


def test_diff_shows_key_names_with_redacted_values():
    decoded = dict(ENV_DATA)
    change = sp.secret_change(decoded, {}, ["s3"], "minio", "fail")
    before, after = sp.diff(decoded, change.keys_to_set, None, None, change.annotation)
    assert set(before["data"].values()) == {status.REDACTED} == set(after["data"].values())
    assert set(after["data"]) == set(decoded) | set(change.keys_to_set)
    dumped = json.dumps([before, after])
    for value in list(decoded.values()) + list(change.keys_to_set.values()):
        if len(value) > 6:
            assert value not in dumped and b64(value) not in dumped


def test_seldon_settings_from_controller_and_configmap():
    controller = {"spec": {"template": {"spec": {"containers": [{"name": "manager", "env": [
        {"name": ss.DEFAULT_ENV_SECRET_ENV, "value": "seldon-default"},
        {"name": ss.RELATED_IMAGE_ENV, "value": ""}]}]}}}}
    configmap = {"data": {"storageInitializer": json.dumps({"image": "kfserving/storage-initializer:v0.6.1"}),
                          "credentials": json.dumps({"s3": {"s3AccessKeyIDName": "id"}})}}
    settings_ = ss.seldon_settings(controller, configmap)
    assert settings_.default_env_secret_ref_name == "seldon-default"
    assert settings_.default_env_secret_ref_name_source == "controller"
    assert settings_.storage_initializer_image == "kfserving/storage-initializer:v0.6.1"
    assert settings_.credentials_config["s3_access_key_id_name"] == "id"
    assert settings_.credentials_config["s3_secret_access_key_name"] == "awsSecretAccessKey"
    overridden = ss.seldon_settings(controller, configmap, "", {"s3_access_key_id_name": "mine", "s3_endpoint": None})
    assert overridden.default_env_secret_ref_name == "" and overridden.default_env_secret_ref_name_source == "option"
    assert overridden.credentials_config["s3_access_key_id_name"] == "mine"


def test_seldon_settings_value_from_warns():
    controller = {"spec": {"template": {"spec": {"containers": [{"env": [
        {"name": ss.DEFAULT_ENV_SECRET_ENV, "valueFrom": {"configMapKeyRef": {"name": "x", "key": "y"}}}]}]}}}}
    assert ss.seldon_settings(controller, None).warnings
    assert ss.seldon_settings(None, None).default_env_secret_ref_name == ""


class FakeAccess:
    def __init__(self, objects, failing=()):
        self.objects, self.failing, self.calls = objects, failing, []

    def get(self, kind, namespace, name):
        self.calls.append(("get", kind))
        if kind in self.failing:
            raise RuntimeError("403 Forbidden")
        return self.objects.get(kind)

    def list(self, kind, namespaces):
        self.calls.append(("list", kind))
        return []


def test_read_seldon_settings_turns_failures_into_warnings():
    access = FakeAccess({}, failing=("Deployment",))
    result = ss.read(access, {"read_seldon_config": True, "seldon_namespace": "seldon-system"}, RuntimeError)
    assert any("403 Forbidden" in w for w in result.warnings) and any("not found" in w for w in result.warnings)
    access = FakeAccess({})
    ss.read(access, {"read_seldon_config": True, "default_env_secret_ref_name": "x"})
    # the controller is read all the same: its image tag names the operator release
    assert access.calls == [("get", "Deployment"), ("get", "ConfigMap")]
    access = FakeAccess({})
    ss.read(access, {"read_seldon_config": False})
    assert access.calls == []


def test_load_inventory_lists_each_kind_once():
    access = FakeAccess({})
    inv.load(access, {"namespaces": ["a", "b"]}, ss.seldon_settings(None, None))
    assert sorted(access.calls) == [("list", "Secret"), ("list", "SeldonDeployment"), ("list", "ServiceAccount")]


# --------------------------------------------------------------------------- no value ever leaves the plan

# Canary values: random printable text behind a "#" that no report, reason or diff contains, so a
# hit means a leak and never a coincidence with a key name.
_secret_values = st.builds(lambda tail: "#" + tail,
                           st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=11, max_size=31))


@settings(max_examples=100, deadline=None)
@given(values=st.lists(_secret_values, min_size=6, max_size=6, unique=True),
       endpoint_key=st.sampled_from(["AWS_ENDPOINT_URL", "S3_ENDPOINT"]),
       provider_value=_secret_values)
def test_no_secret_value_in_reports_outcomes_or_diffs(values, endpoint_key, provider_value):
    env_data = {"AWS_ACCESS_KEY_ID": values[0], "AWS_SECRET_ACCESS_KEY": values[1], endpoint_key: values[2],
                "AWS_REGION": values[3]}
    sa_data = {"awsAccessKeyID": values[4], "awsSecretAccessKey": values[5]}
    # an rclone-only secret whose PROVIDER value must not leak through notes either
    rclone_data = {"RCLONE_CONFIG_S3_TYPE": "s3", "RCLONE_CONFIG_S3_PROVIDER": provider_value}
    inventory = seed_inventory(secrets=[secret("seldon-init-container-secret", env_data),
                                        secret("seldon-s3-secret", sa_data, SEED_ANNOTATIONS),
                                        secret("rclone-only", rclone_data)],
                               deployments=seed_inventory().deployments + [
                                   sdep("rclone", model(envSecretRefName="rclone-only"))])
    report = sr.storage_report(inventory)
    visible = [report]
    for obj in inventory.deployments:
        visible.append(rp.desired_refs(obj, inventory))
    for obj in inventory.secrets.values():
        decoded = ks.decode_data(obj["data"])
        change = sp.secret_change(decoded, obj["metadata"].get("annotations"), ["s3"], "auto", "fail")
        visible.append(dict((k, v) for k, v in change._asdict().items() if k != "keys_to_set"))
        visible.append(sp.diff(decoded, change.keys_to_set, None, None, change.annotation))
    dumped = json.dumps(visible)
    for value in values + [provider_value]:
        assert value not in dumped
        assert b64(value) not in dumped
        assert ks.normalise_endpoint(value) not in dumped


def test_a_hand_written_initializer_has_its_own_status_and_never_counts_as_migrated():
    specs = [{"spec": {"containers": [{"name": "classifier"}],
                       "initContainers": [{"name": "classifier-model-initializer", "image": "kfserving/si:v0.6.1"}]}}]
    converted_secret = converted(secret("seldon-init-container-secret", ENV_DATA))[0]
    inventory = seed_inventory(secrets=[converted_secret], deployments=[
        sdep("custom", model(envSecretRefName="seldon-init-container-secret"), component_specs=specs)])
    report = sr.storage_report(inventory)
    (node,) = report["nodes"]
    assert node["status"] == status.HAND_WRITTEN and "switch does not reach it" in node["reason"]
    assert report["summary"]["nodes_by_status"][status.MIGRATED] == 0
    assert report["ready_for_upgrade"] is True
    assert rp.desired_refs(inventory.deployments[0], inventory)[0]["action"] != status.ACTION_SET


def test_a_seldon_deployment_the_operator_fails_already_is_reported_apart():
    failing = sdep("broken", model(envSecretRefName="seldon-init-container-secret"))
    description = "Failed to find PodSpec for x; uri s3,secret_access_key=#leak-canary-1:b/m\nmore"
    failing["status"] = {"state": "Failed", "description": description}
    report = sr.storage_report(seed_inventory(deployments=[failing]))
    (node,) = report["nodes"]
    assert node["status"] == status.FAILING_BEFORE
    assert "status Failed: Failed to find PodSpec" in node["reason"] and "convertible" in node["reason"]
    assert "#leak-canary-1" not in json.dumps(report) and "more" not in node["reason"]
    assert report["ready_for_upgrade"] is True


def test_hand_written_init_containers_move_on_request_and_come_back_exactly():
    specs = [{"spec": {"containers": [{"name": "classifier"}], "initContainers": [
        {"name": "classifier-model-initializer", "image": "kfserving/si:v0.6.1", "args": ["s3://b/m", "/mnt/models"]}]}}]
    converted_secret = converted(secret("seldon-init-container-secret", ENV_DATA))[0]
    original = sdep("custom", model(envSecretRefName="seldon-init-container-secret"), component_specs=specs)
    inventory = seed_inventory(secrets=[converted_secret], deployments=[original])
    rclone = "docker.io/seldonio/rclone-storage-initializer:1.17.1"
    assert rp.plan_refs(original, inventory).patch is None  # only on request
    plan = rp.plan_refs(original, inventory, hand_written_image=rclone)
    (entry,) = plan.nodes
    assert (entry["action"], entry["target"], entry["secret"]) == ("set", "initContainer", "seldon-init-container-secret")
    patched = jsonpatch.apply_patch(original, plan.patch)
    init = patched["spec"]["predictors"][0]["componentSpecs"][0]["spec"]["initContainers"][0]
    assert init["image"] == rclone and init["envFrom"] == [{"secretRef": {"name": "seldon-init-container-secret"}}]
    assert rp.plan_refs(patched, seed_inventory(secrets=[converted_secret], deployments=[patched]),
                        hand_written_image=rclone).patch is None
    restored = jsonpatch.apply_patch(patched, rp.plan_ref_removal(patched).patch)
    restored["metadata"].pop("annotations")
    assert restored == original
