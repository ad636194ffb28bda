# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""rclone_access_check's planning: one Job per distinct (namespace, secret, remote, bucket) and
rendered environment, the environment exactly as the operator renders the init container (compared
with the test stand-in's rendering of the same SeldonDeployment), no value in any Job, redaction of
rclone's errors, and how Job and pod states are read."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import sys

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as hst

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import access_check as ac
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import inventory as inv
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import operator_rules

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "standin"))
import standin_render as render  # noqa: E402  pylint: disable=wrong-import-position,import-error

NS = "core-access"
IMAGE = "docker.io/seldonio/rclone-storage-initializer:1.17.1"
RUN = "20250101t000000-abc123"
KEY_ID = "AKIAACCESSCHECK00001"
SECRET_KEY = "access-check-secret-value-7f3a9c"
SA_KEY_ID = "AKIAACCESSCHECKSA002"
SA_SECRET_KEY = "access-check-sa-secret-40fe77c1"
RCLONE_DATA = {"RCLONE_CONFIG_S3_TYPE": "s3", "RCLONE_CONFIG_S3_PROVIDER": "Minio", "RCLONE_CONFIG_S3_ENV_AUTH": "false",
               "RCLONE_CONFIG_S3_ACCESS_KEY_ID": KEY_ID, "RCLONE_CONFIG_S3_SECRET_ACCESS_KEY": SECRET_KEY,
               "RCLONE_CONFIG_S3_ENDPOINT": "http://minio.minio-system.svc:9000"}
KFSERVING_DATA = {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                  "AWS_ENDPOINT_URL": "http://minio.minio-system.svc:9000"}
SA_DATA = {"awsAccessKeyID": SA_KEY_ID, "awsSecretAccessKey": SA_SECRET_KEY}
SA_ANNOTATIONS = {"machinelearning.seldon.io/s3-endpoint": "minio.minio-system.svc:9000",
                  "machinelearning.seldon.io/s3-usehttps": "0", "serving.kubeflow.org/s3-region": "eu-west-1"}
VALUES = [KEY_ID, SECRET_KEY, SA_KEY_ID, SA_SECRET_KEY]


def b64(value):
    return base64.b64encode(value.encode()).decode()


def secret(name, data, annotations=None, namespace=NS):
    metadata = {"name": name, "namespace": namespace}
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {"metadata": metadata, "data": dict((k, b64(v)) for k, v in data.items())}


def service_account(name, secrets=(), namespace=NS):
    return {"metadata": {"name": name, "namespace": namespace}, "secrets": [{"name": s} for s in secrets]}


def model(name="classifier", uri="s3://sklearn/iris", implementation="SKLEARN_SERVER", **extra):
    out = {"name": name, "implementation": implementation, "modelUri": uri}
    out.update(extra)
    return out


def sdep(name, graph, explainer=None, namespace=NS, component_specs=None):
    predictor = {"name": "default", "graph": graph}
    if explainer:
        predictor["explainer"] = explainer
    if component_specs:
        predictor["componentSpecs"] = component_specs
    return {"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment",
            "metadata": {"name": name, "namespace": namespace, "uid": "uid-" + name},
            "spec": {"predictors": [predictor]}}


def inventory(deployments, secrets=(), service_accounts=(), default="", version=(1, 17, 1)):
    return inv.Inventory(secrets=list(secrets), service_accounts=list(service_accounts) or [service_account("default")],
                         deployments=deployments, default_env_secret_ref_name=default,
                         rules=operator_rules.rules_for(version, "test"))


def plan(cluster, image=IMAGE, timeout=120):
    return ac.plan_checks(cluster, image, RUN, timeout)


def container(check):
    (item,) = check.job["spec"]["template"]["spec"]["containers"]
    return item


# --------------------------------------------------------------------------- which Jobs


def test_one_job_per_distinct_namespace_secret_remote_bucket():
    other_ns = NS + "-2"
    cluster = inventory(
        deployments=[
            sdep("a", model(envSecretRefName="good", children=[model("child", envSecretRefName="good")])),
            sdep("b", model(uri="s3://sklearn/other-model", envSecretRefName="good")),
            sdep("c", model(uri="s3://xgboost/iris", envSecretRefName="good")),
            sdep("d", model(envSecretRefName="second")),
            sdep("e", model(uri="minio:sklearn/iris", envSecretRefName="both")),
            sdep("f", model(envSecretRefName="good"), namespace=other_ns),
        ],
        secrets=[secret("good", RCLONE_DATA), secret("second", RCLONE_DATA), secret("good", RCLONE_DATA, namespace=other_ns),
                 secret("both", dict((k.replace("_S3_", "_MINIO_"), v) for k, v in RCLONE_DATA.items()))],
        service_accounts=[service_account("default"), service_account("default", namespace=other_ns)])
    checks, not_checked = plan(cluster)
    assert not_checked == []
    keys = sorted((c.namespace, c.secret, c.remote, c.bucket) for c in checks)
    assert keys == [(NS, "both", "minio", "sklearn"), (NS, "good", "s3", "sklearn"), (NS, "good", "s3", "xgboost"),
                    (NS, "second", "s3", "sklearn"), (other_ns, "good", "s3", "sklearn")]
    shared = [c for c in checks if (c.namespace, c.secret, c.bucket) == (NS, "good", "sklearn")][0]
    assert shared.nodes == ["a/default/child", "a/default/classifier", "b/default/classifier"]
    assert shared.model_uri == "s3://sklearn/iris"  # the first of the bucket's modelUris
    assert container(shared)["command"] == ["rclone", "lsf", "s3://sklearn/iris"]
    assert len(set(c.job_name for c in checks)) == len(checks)


def test_job_names_are_stable_per_run_and_differ_between_runs():
    cluster = inventory([sdep("a", model(envSecretRefName="good"))], [secret("good", RCLONE_DATA)])
    first, again = plan(cluster)[0][0], plan(cluster)[0][0]
    other = ac.plan_checks(cluster, IMAGE, "another-run", 120)[0][0]
    assert first.job_name == again.job_name != other.job_name
    assert first.job_name.startswith("rclone-access-") and len(first.job_name) <= 52


def test_convertible_nodes_are_checked_as_after_the_conversion_and_other_statuses_are_listed():
    cluster = inventory(
        deployments=[
            sdep("kf", model(envSecretRefName="kf")),
            sdep("sa-only", model(serviceAccountName="s3-sa")),
            sdep("missing", model(envSecretRefName="nope")),
            sdep("pvc", model(uri="pvc://claim/iris")),
            sdep("pinned-kf", model(envSecretRefName="good", storageInitializerImage="kfserving/storage-initializer:v0.6.1")),
            sdep("pinned-rclone", model(envSecretRefName="good", storageInitializerImage="example.org/rclone-storage-initializer:9")),
            sdep("params", model(uri="s3,access_key_id=x:sklearn/iris", envSecretRefName="good")),
        ],
        secrets=[secret("kf", KFSERVING_DATA), secret("good", RCLONE_DATA), secret("sa-secret", SA_DATA, SA_ANNOTATIONS)],
        service_accounts=[service_account("default"), service_account("s3-sa", ["sa-secret"])])
    checks, not_checked = plan(cluster)
    assert [(c.secret, c.nodes, c.image) for c in checks] == [
        ("good", ["pinned-rclone/default/classifier"], "example.org/rclone-storage-initializer:9"),
        ("kf", ["kf/default/classifier"], IMAGE)]
    reasons = dict((entry["deployment"], (entry["status"], entry["reason"])) for entry in not_checked)
    assert sorted(reasons) == ["missing", "params", "pinned-kf", "pvc", "sa-only"]
    assert reasons["sa-only"][0] == "needs_secret_ref"
    assert reasons["missing"][0] == "blocked" and "not found" in reasons["missing"][1]
    assert reasons["pvc"][0] == "no_credentials"
    assert "switch does not change" in reasons["pinned-kf"][1]
    assert "rclone parameters" in reasons["params"][1]


# --------------------------------------------------------------------------- the environment, as the operator renders it


def _rendered_init_container(sdep_obj, cluster, default=""):
    """The init container the test stand-in renders for the same SeldonDeployment (its rules are the
    operator's, read from SeldonIO/seldon-core; values never reach it: keys and annotations only)."""
    secrets = dict((name, {"keys": sorted(inv_secret), "annotations": cluster.annotations(ns, name)})
                   for (ns, name), inv_secret in ((key, cluster.decoded(*key)) for key in cluster.secrets))
    sas = dict((name, {"secrets": obj.get("secrets") or []}) for (_ns, name), obj in cluster.service_accounts.items())
    settings_ = render.OperatorSettings(default_env_secret_ref_name=default, version=(1, 17, 1))
    data = {"storageInitializer": json.dumps({"image": IMAGE, "cpuRequest": "1", "cpuLimit": "1",
                                              "memoryRequest": "1Mi", "memoryLimit": "1Mi"})}
    ctx = render.InjectionContext(settings_, data, sas.get, secrets.get)
    inits = [init for deployment in render.render_seldon_deployment(sdep_obj, ctx)
             for init in deployment["spec"]["template"]["spec"].get("initContainers") or []]
    assert len(inits) == 1
    return inits[0]


CASES = {
    "env secret": (sdep("env", model(envSecretRefName="good")), ""),
    "default secret": (sdep("dflt", model()), "good"),
    "explainer, default secret": (sdep("expl", model(implementation="SIMPLE_MODEL", uri=""),
                                       explainer={"type": "AnchorTabular", "modelUri": "s3://sklearn/explainer"}),
                                  "good"),
    "env secret and the node's service account": (sdep("sa", model(envSecretRefName="good", serviceAccountName="s3-sa")), ""),
    "env secret and the default service account": (sdep("dsa", model(envSecretRefName="good")), ""),
    "env secret and a GCS service account": (sdep("gcs", model(envSecretRefName="good", serviceAccountName="gcs-sa")), ""),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_env_is_exactly_what_the_operator_renders(case):
    sdep_obj, default = CASES[case]
    default_sas = ["sa-secret"] if case.endswith("default service account") else []
    cluster = inventory(
        [sdep_obj], default=default,
        secrets=[secret("good", RCLONE_DATA), secret("sa-secret", SA_DATA, SA_ANNOTATIONS),
                 secret("gcs-secret", {"gcloud-application-credentials.json": "{}"})],
        service_accounts=[service_account("default", default_sas), service_account("s3-sa", ["sa-secret"]),
                          service_account("gcs-sa", ["gcs-secret"])])
    (check,), not_checked = plan(cluster)
    assert not_checked == []
    init = _rendered_init_container(sdep_obj, cluster, default)
    job_container = container(check)
    assert job_container["envFrom"] == init["envFrom"] == [{"secretRef": {"name": "good"}}]
    assert job_container.get("env") == init.get("env")
    rendered_mounts = [m for m in init["volumeMounts"] if not m["name"].endswith("-provision-location")]
    assert job_container.get("volumeMounts", []) == rendered_mounts
    assert check.secret_source == ("defaultEnvSecretRefName" if default else "envSecretRefName")
    expected_sa = {"env secret and the node's service account": "s3-sa", "env secret and a GCS service account": "gcs-sa",
                   "env secret and the default service account": "default"}
    assert check.service_account == expected_sa.get(case, "")
    assert check.sa_secrets == {"s3-sa": ["sa-secret"], "gcs-sa": ["gcs-secret"], "default": ["sa-secret"]}.get(
        check.service_account, [])


def test_service_account_env_follows_seldon_config_key_names_and_cluster_endpoint():
    cluster = inv.Inventory(
        secrets=[secret("renamed", {"myKey": SA_KEY_ID, "mySecret": SA_SECRET_KEY}), secret("good", RCLONE_DATA)],
        service_accounts=[service_account("default", ["renamed"])],
        deployments=[sdep("a", model(envSecretRefName="good"))],
        credentials_config={"s3_access_key_id_name": "myKey", "s3_secret_access_key_name": "mySecret",
                            "s3_endpoint": "s3.example.org", "s3_use_https": "0"})
    (check,), _not_checked = plan(cluster)
    assert container(check)["env"] == [
        {"name": "AWS_ACCESS_KEY_ID", "valueFrom": {"secretKeyRef": {"name": "renamed", "key": "myKey"}}},
        {"name": "AWS_SECRET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {"name": "renamed", "key": "mySecret"}}},
        {"name": "S3_USE_HTTPS", "value": "0"}, {"name": "S3_ENDPOINT", "value": "s3.example.org"},
        {"name": "AWS_ENDPOINT_URL", "value": "http://s3.example.org"}]
    expected = render.s3_env_from_annotations({}, {"s3Endpoint": "s3.example.org", "s3UseHttps": "0"})
    assert container(check)["env"][2:] == expected


def test_nodes_of_one_bucket_with_different_service_account_env_get_a_job_each():
    cluster = inventory(
        [sdep("plain", model(envSecretRefName="good")), sdep("sa", model(envSecretRefName="good", serviceAccountName="s3-sa"))],
        secrets=[secret("good", RCLONE_DATA), secret("sa-secret", SA_DATA, SA_ANNOTATIONS)],
        service_accounts=[service_account("default"), service_account("s3-sa", ["sa-secret"])])
    checks, _not_checked = plan(cluster)
    assert sorted((c.nodes, bool(container(c).get("env"))) for c in checks) == [
        (["plain/default/classifier"], False), (["sa/default/classifier"], True)]
    sa_check = [c for c in checks if c.service_account][0]
    assert sa_check.job["spec"]["template"]["spec"]["serviceAccountName"] == "s3-sa"


def test_the_job_spec():
    cluster = inventory([sdep("a", model(envSecretRefName="good"))], [secret("good", RCLONE_DATA)])
    (check,), _not_checked = plan(cluster, timeout=120)
    job = check.job
    assert job["apiVersion"] == "batch/v1" and job["kind"] == "Job"
    assert job["metadata"]["namespace"] == NS and job["metadata"]["name"] == check.job_name
    assert job["metadata"]["labels"][ac.RUN_LABEL] == RUN
    assert job["spec"]["template"]["metadata"]["labels"][ac.RUN_LABEL] == RUN
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["activeDeadlineSeconds"] == 120 + ac.DEADLINE_MARGIN
    assert job["spec"]["ttlSecondsAfterFinished"] == ac.TTL_SECONDS_AFTER_FINISHED
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and "serviceAccountName" not in pod
    item = container(check)
    assert item["image"] == IMAGE
    assert item["terminationMessagePolicy"] == "FallbackToLogsOnError"
    assert item["resources"] == {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}}


def _value_scene(key_id, secret_key, sa_key_id, sa_secret_key):
    data = dict(RCLONE_DATA, RCLONE_CONFIG_S3_ACCESS_KEY_ID=key_id, RCLONE_CONFIG_S3_SECRET_ACCESS_KEY=secret_key)
    return inventory(
        [sdep("a", model(envSecretRefName="good", serviceAccountName="s3-sa")), sdep("b", model()),
         sdep("c", model(envSecretRefName="kf"))],
        secrets=[secret("good", data), secret("kf", dict(KFSERVING_DATA, AWS_SECRET_ACCESS_KEY=secret_key)),
                 secret("sa-secret", {"awsAccessKeyID": sa_key_id, "awsSecretAccessKey": sa_secret_key}, SA_ANNOTATIONS)],
        service_accounts=[service_account("default", ["sa-secret"]), service_account("s3-sa", ["sa-secret"])],
        default="good")


def _plan_text(cluster):
    checks, _not_checked = plan(cluster)
    return checks, json.dumps([check.job for check in checks] + [ac.entry(check, ac.CHECK_PLANNED) for check in checks])


BASELINE = _plan_text(_value_scene(*VALUES))[1]


@settings(max_examples=40, deadline=None)
@given(values=hst.lists(hst.text(alphabet=hst.characters(min_codepoint=33, max_codepoint=126), min_size=8, max_size=40),
                        min_size=4, max_size=4, unique=True))
def test_no_value_in_any_job(values):
    assume(all(value not in BASELINE and b64(value) not in BASELINE for value in values))
    checks, text = _plan_text(_value_scene(*values))
    assert len(checks) == 3
    for value in values:
        assert value not in text and b64(value) not in text


# --------------------------------------------------------------------------- reading the outcome


@pytest.mark.parametrize("text, values, expected", [
    ("Failed to lsf: key " + SECRET_KEY + " refused", [SECRET_KEY], "Failed to lsf: key <redacted> refused"),
    ("Failed to lsf: " + b64(SECRET_KEY), [SECRET_KEY], "Failed to lsf: <redacted>"),
    ("Failed: Get http://user:pass@h:9000/b?X-Amz-Credential=AKIA/x", [], "Failed: Get http://h:9000/b"),
    ("signing with AKIAIOSFODNN7EXAMPLE failed", [], "signing with <redacted> failed"),
    ("token wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY0 rejected", [], "token <redacted> rejected"),
    ("access_key_id=abc secret=xyz", [], "access_key_id=<redacted> secret=<redacted>"),
    ("Failed to lsf: directory not found", ["false", "s3"], "Failed to lsf: directory not found"),
    ("error listing: SignatureDoesNotMatch: The request signature we calculated does not match", [],
     "error listing: SignatureDoesNotMatch: The request signature we calculated does not match"),
])
def test_redact(text, values, expected):
    assert ac.redact(text, values) == expected


@settings(max_examples=60, deadline=None)
@given(value=hst.text(alphabet=hst.characters(min_codepoint=33, max_codepoint=126), min_size=3, max_size=40),
       before=hst.text(alphabet="abcdefgh :", max_size=30), after=hst.text(alphabet="abcdefgh :", max_size=30))
def test_redact_never_returns_a_masked_value(value, before, after):
    assume(value not in before + after and value not in ac.st.REDACTED)
    redacted = ac.redact(before + value + " " + b64(value) + after, [value])
    assert value not in redacted.replace(ac.st.REDACTED, "\0")


MESSAGE = "\n".join([
    "2025/01/01 00:00:00 ERROR : error listing: operation error S3: ListObjectsV2, api error SignatureDoesNotMatch: "
    "The request signature we calculated does not match the signature you provided.",
    "2025/01/01 00:00:00 NOTICE: Failed to lsf with 2 errors: last error was: error in ListJSON: api error "
    "SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided."])


def test_error_line_picks_rclones_failure_without_timestamp():
    assert ac.error_line(MESSAGE).startswith("Failed to lsf with 2 errors")
    assert ac.error_line("2025/01/01 00:00:00 CRITICAL: Failed to create file system for \"s3:b\": didn't find "
                         "section in config file (\"s3\")") == \
        "Failed to create file system for \"s3:b\": didn't find section in config file (\"s3\")"
    assert ac.error_line("just one line\n") == "just one line"
    assert ac.error_line("") == ""


def job(conditions):
    return {"metadata": {"namespace": NS, "name": "j"}, "status": {"conditions": conditions}}


@pytest.mark.parametrize("conditions, expected", [
    ([{"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}], "ok"),
    ([{"type": "FailureTarget", "status": "True"}, {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}],
     "failed"),
    ([{"type": "Failed", "status": "True", "reason": "DeadlineExceeded"}], "timeout"),
    ([{"type": "FailureTarget", "status": "True"}], ""),
    ([{"type": "Complete", "status": "False"}], ""),
    ([], ""),
])
def test_job_state(conditions, expected):
    assert ac.job_state(job(conditions))[0] == expected


def pod(state=None, conditions=None, phase="Pending"):
    status = {"phase": phase, "conditions": conditions or []}
    if state:
        status["containerStatuses"] = [{"name": ac.CONTAINER_NAME, "state": state}]
    return {"metadata": {"namespace": NS, "name": "p"}, "status": status}


def test_pod_error():
    assert ac.pod_error(pod({"terminated": {"exitCode": 1, "message": MESSAGE}}, phase="Failed")).startswith(
        "exit code 1: Failed to lsf with 2 errors")
    assert ac.pod_error(pod({"waiting": {"reason": "CreateContainerConfigError",
                                         "message": "couldn't find key X in Secret ns/good"}})) == \
        "container waiting: CreateContainerConfigError: couldn't find key X in Secret ns/good"
    assert ac.pod_error(pod(conditions=[{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                         "message": "0/2 nodes are available"}])) == \
        "pod not scheduled: Unschedulable: 0/2 nodes are available"
    assert ac.pod_error(None) == ""


def test_entry_masks_the_values_of_the_secrets_the_job_used():
    cluster = inventory([sdep("a", model(envSecretRefName="good", serviceAccountName="s3-sa"))],
                        secrets=[secret("good", RCLONE_DATA), secret("sa-secret", SA_DATA, SA_ANNOTATIONS)],
                        service_accounts=[service_account("default"), service_account("s3-sa", ["sa-secret"])])
    (check,), _not_checked = plan(cluster)
    values = ac.masked_values(check, cluster)
    assert set(VALUES) <= set(values)
    result = ac.entry(check, ac.CHECK_FAILED, "exit code 1: Failed to lsf: key {0}/{1} and {2} refused".format(
        KEY_ID, SECRET_KEY, b64(SA_SECRET_KEY)), values)
    text = json.dumps(result)
    for value in VALUES:
        assert value not in text and b64(value) not in text
    assert result["status"] == "failed" and result["action"] == "failed"
    assert result["nodes"] == ["a/default/classifier"] and result["secret"] == "good"
    assert result["reason"].startswith("{0}/good s3:sklearn (nodes a/default/classifier): rclone cannot read".format(NS))


@pytest.mark.parametrize("run_id, ok", [("gate-1", True), ("20250101t000000-abc123", True), ("Gate", False),
                                        ("-x", False), ("a" * 41, False), ("", False)])
def test_run_id_problem(run_id, ok):
    assert (ac.run_id_problem(run_id) == "") is ok
