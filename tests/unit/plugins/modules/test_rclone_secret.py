# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""rclone_secret's flow against the in-memory API: requests sent, results, idempotence, rollback."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kfserving_secret as ks
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import secret_plan
from ansible_collections.seldon_ops.rclone_migration.plugins.modules import rclone_secret

# Canary values: they must never appear in a result, plain or base64.
KEY_ID = "#AKIA-canary-key-id-001"
KEY_SECRET = "#canary-secret-access-key-002"
SA_KEY_ID = "#AKIA-canary-sa-key-id-003"
SA_SECRET = "#canary-sa-secret-key-004"
CANARIES = (KEY_ID, KEY_SECRET, SA_KEY_ID, SA_SECRET)


def b64(value):
    return base64.b64encode(value.encode()).decode()


def seed(cluster, namespace):
    cluster.add("Secret", {"metadata": {"name": "env-secret", "namespace": namespace}, "data": {
        "AWS_ACCESS_KEY_ID": b64(KEY_ID), "AWS_SECRET_ACCESS_KEY": b64(KEY_SECRET),
        "AWS_ENDPOINT_URL": b64("http://minio.minio-system.svc:9000\n")}})
    cluster.add("Secret", {"metadata": {"name": "sa-secret", "namespace": namespace, "annotations": {
        "machinelearning.seldon.io/s3-endpoint": "minio.minio-system.svc:9000",
        "machinelearning.seldon.io/s3-usehttps": "0"}},
        "data": {"awsAccessKeyID": b64(SA_KEY_ID), "awsSecretAccessKey": b64(SA_SECRET)}})
    cluster.add("Secret", {"metadata": {"name": "unrelated", "namespace": namespace}, "data": {"x": b64("y")}})
    cluster.add("ServiceAccount", {"metadata": {"name": "default", "namespace": namespace}})
    cluster.add("ServiceAccount", {"metadata": {"name": "s3-sa", "namespace": namespace}, "secrets": [{"name": "sa-secret"}]})
    cluster.add("SeldonDeployment", {"metadata": {"name": "iris-env", "namespace": namespace}, "spec": {"predictors": [
        {"name": "default", "graph": {"name": "classifier", "implementation": "SKLEARN_SERVER",
                                      "modelUri": "s3://sklearn/iris", "envSecretRefName": "env-secret"}}]}})
    cluster.add("SeldonDeployment", {"metadata": {"name": "iris-sa", "namespace": namespace}, "spec": {"predictors": [
        {"name": "default", "graph": {"name": "classifier", "implementation": "SKLEARN_SERVER",
                                      "modelUri": "s3://sklearn/iris", "serviceAccountName": "s3-sa"}}]}})


def assert_no_values(result):
    dumped = json.dumps(result)
    for value in CANARIES:
        assert value not in dumped and b64(value) not in dumped


def count(cluster, verb):
    return sum(1 for call in cluster.calls if call[0] == verb)


def test_converts_seed_secrets_in_two_namespaces_then_nothing(cluster, run_module):
    for namespace in ("core-a", "core-b"):
        seed(cluster, namespace)
    result, failed, _module = run_module(rclone_secret, namespaces=["core-a", "core-b"], provider="minio")
    assert not failed and result["changed"]
    assert sorted((e["namespace"], e["name"], e["action"]) for e in result["secrets"]) == [
        ("core-a", "env-secret", "converted"), ("core-a", "sa-secret", "converted"),
        ("core-b", "env-secret", "converted"), ("core-b", "sa-secret", "converted")]
    # 2 GETs (controller, seldon-config: 404 here), 3 LISTs per namespace, one PATCH per secret
    assert (count(cluster, "get"), count(cluster, "list"), count(cluster, "patch")) == (2, 6, 4)
    assert_no_values(result)

    stored = cluster.obj("Secret", "core-a", "env-secret")
    decoded = ks.decode_data(stored["data"])
    assert decoded["AWS_ENDPOINT_URL"] == "http://minio.minio-system.svc:9000\n"  # original untouched
    assert decoded["RCLONE_CONFIG_S3_ENDPOINT"] == "http://minio.minio-system.svc:9000"
    assert decoded["RCLONE_CONFIG_S3_PROVIDER"] == "Minio"
    assert decoded["RCLONE_CONFIG_S3_SECRET_ACCESS_KEY"] == KEY_SECRET
    sa_decoded = ks.decode_data(cluster.obj("Secret", "core-a", "sa-secret")["data"])
    assert sa_decoded["RCLONE_CONFIG_S3_ACCESS_KEY_ID"] == SA_KEY_ID
    assert cluster.obj("Secret", "core-a", "unrelated")["data"] == {"x": b64("y")}

    cluster.calls[:] = []
    result, failed, _module = run_module(rclone_secret, namespaces=["core-a", "core-b"], provider="minio")
    assert not failed and not result["changed"]
    assert set(e["action"] for e in result["secrets"]) == {"unchanged"}
    assert cluster.writes() == []


def test_check_mode_writes_nothing_and_diff_is_redacted(cluster, run_module):
    seed(cluster, "core-a")
    before = json.dumps(sorted(cluster.objects.items()))
    result, failed, _module = run_module(rclone_secret, check_mode=True, namespaces=["core-a"])
    assert not failed and result["changed"]
    assert cluster.writes() == []
    assert json.dumps(sorted(cluster.objects.items())) == before
    after = result["diff"]["after"]["core-a/env-secret"]
    assert after["data"]["RCLONE_CONFIG_S3_TYPE"] == "<redacted>"
    assert set(after["data"].values()) == {"<redacted>"}
    assert "RCLONE_CONFIG_S3_TYPE" in after["annotations"][secret_plan.ADDED_KEYS_ANNOTATION]
    assert_no_values(result)


def test_rollback_restores_the_original_secrets_exactly(cluster, run_module):
    seed(cluster, "core-a")
    originals = dict((name, cluster.obj("Secret", "core-a", name)["data"]) for name in ("env-secret", "sa-secret"))
    run_module(rclone_secret, namespaces=["core-a"])
    cluster.calls[:] = []
    result, failed, _module = run_module(rclone_secret, namespaces=["core-a"], state="absent")
    assert not failed and result["changed"]
    assert sorted(e["action"] for e in result["secrets"]) == ["removed", "removed"]
    # absent also lists SeldonDeployments and ServiceAccounts: secrets that nodes keeping the rclone
    # initializer read keep their keys
    assert (count(cluster, "list"), count(cluster, "patch")) == (3, 2)
    for name, data in originals.items():
        stored = cluster.obj("Secret", "core-a", name)
        assert stored["data"] == data
        assert secret_plan.ADDED_KEYS_ANNOTATION not in stored["metadata"].get("annotations", {})
    result, _failed, _module = run_module(rclone_secret, namespaces=["core-a"], state="absent")
    assert not result["changed"] and result["secrets"] == []


def test_named_secret_with_custom_remote(cluster, run_module):
    seed(cluster, "core-a")
    result, failed, _module = run_module(rclone_secret, namespaces=["core-a"], name="env-secret", remote="minio")
    assert not failed
    assert [(e["name"], e["action"], e["remotes"]) for e in result["secrets"]] == [("env-secret", "converted", ["MINIO"])]
    assert "RCLONE_CONFIG_MINIO_TYPE" in ks.decode_data(cluster.obj("Secret", "core-a", "env-secret")["data"])
    # only the one secret was read: a LIST with a name selector, no SeldonDeployments or ServiceAccounts
    assert [call[:2] for call in cluster.calls if call[0] == "list"] == [("list", "Secret")]


def test_named_secret_missing_is_blocked_not_fatal(cluster, run_module):
    result, failed, _module = run_module(rclone_secret, namespaces=["core-a"], name="nope", read_seldon_config=False)
    assert not failed and result["secrets"][0]["action"] == "blocked"


def test_remote_option_that_users_do_not_use_blocks_the_secret(cluster, run_module):
    seed(cluster, "core-a")
    result, _failed, _module = run_module(rclone_secret, namespaces=["core-a"], remote="minio")
    assert set(e["action"] for e in result["secrets"]) == {"blocked"}
    assert "S3, not MINIO" in result["secrets"][0]["reason"]
    assert cluster.writes() == []


def test_conflict_retry_rereads_and_succeeds(cluster, run_module):
    seed(cluster, "core-a")
    cluster.conflicts_to_inject[("Secret", "core-a", "env-secret")] = 1
    result, failed, _module = run_module(rclone_secret, namespaces=["core-a"])
    assert not failed
    assert dict((e["name"], e["action"]) for e in result["secrets"])["env-secret"] == "converted"
    env_calls = [call[0] for call in cluster.calls if call[3] == "env-secret"]
    assert env_calls == ["patch", "get", "patch"]
    assert cluster.obj("Secret", "core-a", "env-secret")["metadata"]["labels"] == {"touched": "yes"}


def test_api_error_on_one_secret_does_not_stop_the_others(cluster, run_module):
    seed(cluster, "core-a")
    cluster.forbidden_writes.add(("Secret", "core-a", "env-secret"))
    result, failed, _module = run_module(rclone_secret, namespaces=["core-a"])
    assert failed
    actions = dict((e["name"], (e["action"], e["reason"])) for e in result["secrets"])
    assert actions["env-secret"] == ("failed", "PATCH Secret core-a/env-secret: 403 Forbidden")
    assert actions["sa-secret"][0] == "converted"
    # what failed, grouped by reason, and what was done: a run that stops names both
    assert result["msg"] == ("1 of 2 secrets failed - PATCH Secret: 403 Forbidden (core-a/env-secret). "
                             "Done: converted 1 (core-a/sa-secret).")
    assert_no_values(result)


def test_on_conflict_fail_reports_and_keep_adds_the_rest(cluster, run_module):
    seed(cluster, "core-a")
    stored = cluster.obj("Secret", "core-a", "env-secret")
    stored["data"]["RCLONE_CONFIG_S3_ENDPOINT"] = b64("http://hand-written:9000")
    result, _failed, _module = run_module(rclone_secret, namespaces=["core-a"], name="env-secret")
    assert result["secrets"][0]["action"] == "conflict"
    assert result["secrets"][0]["conflicting_keys"] == ["RCLONE_CONFIG_S3_ENDPOINT"]
    assert cluster.writes() == []
    result, _failed, _module = run_module(rclone_secret, namespaces=["core-a"], name="env-secret", on_conflict="keep")
    assert result["secrets"][0]["action"] == "converted"
    decoded = ks.decode_data(cluster.obj("Secret", "core-a", "env-secret")["data"])
    assert decoded["RCLONE_CONFIG_S3_ENDPOINT"] == "http://hand-written:9000"


def test_cluster_wide_when_namespaces_omitted(cluster, run_module):
    seed(cluster, "core-a")
    seed(cluster, "core-b")
    result, _failed, _module = run_module(rclone_secret)
    lists = [call for call in cluster.calls if call[0] == "list"]
    # one LIST per kind for the cluster, plus Namespaces: a cluster-wide operator skips namespaces
    # labelled seldon.io/controller-id
    assert [call[1] for call in lists] == ["SeldonDeployment", "Namespace", "Secret", "ServiceAccount"]
    assert all(call[2] is None for call in lists)
    assert len(result["secrets"]) == 4


def test_seldon_config_credentials_names_are_used(cluster, run_module):
    cluster.add("ConfigMap", {"metadata": {"name": "seldon-config", "namespace": "seldon-system"}, "data": {
        "credentials": json.dumps({"s3": {"s3AccessKeyIDName": "id", "s3SecretAccessKeyName": "key"}})}})
    cluster.add("Secret", {"metadata": {"name": "renamed", "namespace": "core-a"},
                           "data": {"id": b64(KEY_ID), "key": b64(KEY_SECRET)}})
    cluster.add("ServiceAccount", {"metadata": {"name": "sa", "namespace": "core-a"}, "secrets": [{"name": "renamed"}]})
    cluster.add("SeldonDeployment", {"metadata": {"name": "d", "namespace": "core-a"}, "spec": {"predictors": [
        {"name": "p", "graph": {"name": "m", "implementation": "SKLEARN_SERVER", "modelUri": "s3://b/m",
                                "serviceAccountName": "sa"}}]}})
    result, _failed, module = run_module(rclone_secret, namespaces=["core-a"])
    assert [(e["name"], e["action"], e["format"]) for e in result["secrets"]] == [("renamed", "converted", "service_account")]
    assert module.warnings == ["Deployment seldon-system/seldon-controller-manager not found; using Seldon defaults"]


def test_rollback_keeps_what_nodes_pinned_to_rclone_still_read(cluster, run_module):
    from ansible_collections.seldon_ops.rclone_migration.plugins.modules import seldon_deployment_secret_ref
    seed(cluster, "core-a")
    run_module(rclone_secret, namespaces=["core-a"])
    run_module(seldon_deployment_secret_ref, namespaces=["core-a"])
    # iris-sa got envSecretRefName sa-secret; now it pins an rclone image of its own (not a canary)
    cluster.bump("SeldonDeployment", "core-a", "iris-sa", lambda obj: obj["spec"]["predictors"][0]["graph"].update(
        storageInitializerImage="registry.example/seldonio/rclone-storage-initializer:1.17.1"))
    converted_sa = cluster.obj("Secret", "core-a", "sa-secret")["data"]
    refs, _failed, _module = run_module(seldon_deployment_secret_ref, namespaces=["core-a"], state="absent")
    (node,) = [entry for entry in refs["deployments"] if entry["name"] == "iris-sa"][0]["nodes"]
    assert node["action"] == "skipped" and "pins the rclone initializer" in node["reason"]
    graph = cluster.obj("SeldonDeployment", "core-a", "iris-sa")["spec"]["predictors"][0]["graph"]
    assert graph["envSecretRefName"] == "sa-secret"
    result, failed, _module = run_module(rclone_secret, namespaces=["core-a"], state="absent")
    assert not failed
    actions = dict((entry["name"], entry) for entry in result["secrets"])
    assert actions["env-secret"]["action"] == "removed"
    assert actions["sa-secret"]["action"] == "unchanged" and "iris-sa/default/classifier" in actions["sa-secret"]["reason"]
    assert cluster.obj("Secret", "core-a", "sa-secret")["data"] == converted_sa


def irsa_scene(cluster, namespace="core-iam"):
    cluster.add("ServiceAccount", {"metadata": {"name": "model-reader", "namespace": namespace, "annotations": {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/models"}}})
    cluster.add("SeldonDeployment", {"metadata": {"name": "iris-irsa", "namespace": namespace}, "spec": {"predictors": [
        {"name": "default", "graph": {"name": "classifier", "implementation": "SKLEARN_SERVER",
                                      "modelUri": "s3://models/iris", "serviceAccountName": "model-reader"}}]}})


def statuses(run_module, **params):
    from ansible_collections.seldon_ops.rclone_migration.plugins.modules import seldon_storage_info
    result, _failed, _module = run_module(seldon_storage_info, namespaces=["core-iam"], **params)
    return [(node["status"], node["reason"]) for node in result["nodes"]]


def test_iam_roles_for_service_accounts_get_an_env_auth_secret_on_request_and_lose_it_on_rollback(cluster, run_module):
    from ansible_collections.seldon_ops.rclone_migration.plugins.modules import seldon_deployment_secret_ref
    irsa_scene(cluster)
    ((status, reason),) = statuses(run_module)
    assert status == "blocked" and "IAM roles for service accounts" in reason and "iam_secret_name" in reason
    assert statuses(run_module, iam_secret_name="rclone-iam")[0][0] == "needs_secret_ref"
    image = "docker.io/seldonio/rclone-storage-initializer:1.17.1"
    result, failed, _module = run_module(rclone_secret, namespaces=["core-iam"], iam_secret_name="rclone-iam",
                                         iam_region="eu-west-1", rclone_image=image)
    assert not failed and [(e["name"], e["action"]) for e in result["secrets"]] == [("rclone-iam", "converted")]
    created = ks.decode_data(cluster.obj("Secret", "core-iam", "rclone-iam")["data"])
    assert created == {"RCLONE_CONFIG_S3_TYPE": "s3", "RCLONE_CONFIG_S3_PROVIDER": "AWS",
                       "RCLONE_CONFIG_S3_ENV_AUTH": "true", "RCLONE_CONFIG_S3_REGION": "eu-west-1"}
    run_module(seldon_deployment_secret_ref, namespaces=["core-iam"], iam_secret_name="rclone-iam")
    assert statuses(run_module, iam_secret_name="rclone-iam")[0][0] == "migrated"
    cluster.calls[:] = []
    result, _failed, _module = run_module(rclone_secret, namespaces=["core-iam"], iam_secret_name="rclone-iam",
                                          rclone_image=image)
    assert not result["changed"] and cluster.writes() == []
    # rollback: the reference goes, then the secret this collection created
    run_module(seldon_deployment_secret_ref, namespaces=["core-iam"], state="absent")
    result, failed, _module = run_module(rclone_secret, namespaces=["core-iam"], state="absent")
    assert not failed and [(e["name"], e["action"]) for e in result["secrets"]] == [("rclone-iam", "removed")]
    assert cluster.obj("Secret", "core-iam", "rclone-iam") is None


def test_iam_roles_need_rclone_1_57_and_a_changed_created_secret_survives_the_rollback(cluster, run_module):
    irsa_scene(cluster)
    result, _failed, _module = run_module(rclone_secret, namespaces=["core-iam"], iam_secret_name="rclone-iam",
                                          rclone_image="seldonio/rclone-storage-initializer:1.13.1")
    assert result["secrets"][0]["action"] == "blocked" and "rclone 1.56.2" in result["secrets"][0]["reason"]
    assert cluster.writes() == []
    run_module(rclone_secret, namespaces=["core-iam"], iam_secret_name="rclone-iam",
               rclone_image="seldonio/rclone-storage-initializer:1.14.0")
    cluster.bump("Secret", "core-iam", "rclone-iam", lambda obj: obj["data"].update(
        RCLONE_CONFIG_S3_REGION=b64("us-east-2")))
    result, _failed, _module = run_module(rclone_secret, namespaces=["core-iam"], state="absent")
    assert result["secrets"][0]["action"] == "unchanged" and "changed since" in result["secrets"][0]["reason"]
    assert cluster.obj("Secret", "core-iam", "rclone-iam") is not None
