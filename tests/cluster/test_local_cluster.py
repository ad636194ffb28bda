# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local cluster does what issue 2 promises (run after `make cluster-up`):
/readyz answers; Deployments roll out on the kwok nodes; the local seldon-core-operator chart
installs and upgrades with the real helm; the S3 server keeps what rclone uploads; the audit log
records those requests, at Metadata level only (no Secret value in it).
Every namespace these tests create starts with ``cluster-test-`` and is deleted afterwards.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import subprocess
import time
import uuid

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHART = os.path.join(REPO_ROOT, "tests", "chart", "seldon-core-operator")
KFSERVING_IMAGE = "gcr.io/kfserving/storage-initializer:v0.4.0"
RCLONE_IMAGE = "seldonio/rclone-storage-initializer:1.9.1"


def run(env, *args, **kwargs):
    """Run a built tool (kubectl, helm, rclone from .cache/bin via PATH); output on failure."""
    result = subprocess.run(
        list(args), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        universal_newlines=True, timeout=kwargs.pop("timeout", 180), check=False, **kwargs
    )
    assert result.returncode == 0, "%s failed (%s):\n%s" % (" ".join(args[:3]), result.returncode, result.stdout)
    return result.stdout


def wait_for(predicate, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(0.25)


def test_tools_are_the_built_ones(cluster_env):
    bin_dir = os.path.join(REPO_ROOT, ".cache", "bin")
    for tool in ("kubectl", "helm", "rclone"):
        located = run(cluster_env, "bash", "-c", "command -v " + tool).strip()
        assert located == os.path.join(bin_dir, tool)


def test_readyz_and_version(cluster_env):
    assert run(cluster_env, "kubectl", "get", "--raw", "/readyz").strip() == "ok"
    version = json.loads(run(cluster_env, "kubectl", "get", "--raw", "/version"))
    # helm and kubernetes.core compare this: the ldflags must make it the real version.
    assert version["gitVersion"].startswith("v1.34.")
    assert (version["major"], version["minor"]) == ("1", "34")


def test_nodes_are_kwok_nodes_and_ready(k8s_client):
    from kubernetes import client

    nodes = client.CoreV1Api(k8s_client).list_node(label_selector="type=kwok").items
    assert len(nodes) == 2
    for node in nodes:
        ready = [c.status for c in node.status.conditions if c.type == "Ready"]
        assert ready == ["True"], node.metadata.name
        assert not node.spec.taints, "%s: %s" % (node.metadata.name, node.spec.taints)


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      initContainers:
        - name: model-initializer
          image: seldonio/rclone-storage-initializer:1.9.1
          args: ["s3://models/iris", "/mnt/models"]
      containers:
        - name: web
          image: nginx
"""


def test_deployment_rolls_out_and_is_audited(cluster_env, k8s_client, audit, make_namespace):
    from kubernetes import client

    namespace = make_namespace("cluster-test")
    since = audit.mark()
    run(cluster_env, "kubectl", "apply", "-n", namespace, "-f", "-", input=DEPLOYMENT)
    run(cluster_env, "kubectl", "rollout", "status", "-n", namespace, "deployment/web", "--timeout=120s")

    apps = client.AppsV1Api(k8s_client)
    deployment = apps.read_namespaced_deployment("web", namespace)
    assert deployment.status.observed_generation >= deployment.metadata.generation
    assert deployment.status.updated_replicas == 2
    assert deployment.status.available_replicas == 2

    pods = client.CoreV1Api(k8s_client).list_namespaced_pod(namespace, label_selector="app=web").items
    assert len(pods) == 2
    for pod in pods:
        assert pod.spec.node_name in ("kwok-node-1", "kwok-node-2")
        assert [c.status for c in pod.status.conditions if c.type == "Ready"] == ["True"]
        init_state = pod.status.init_container_statuses[0].state
        assert init_state.terminated is not None and init_state.terminated.exit_code == 0

    # The audit log holds our request and the controllers' work it caused.
    assert audit.count(since, verb="create", resource="deployments", namespace=namespace) == 1
    assert audit.writes(since, namespace=namespace) == ["create deployments %s/web" % namespace]
    assert audit.count(since, verb="create", resource="pods", namespace=namespace,
                       user="system:serviceaccount:kube-system:replicaset-controller") == 2

    # A restart is a new rollout that completes as well (old pods go away).
    run(cluster_env, "kubectl", "rollout", "restart", "-n", namespace, "deployment/web")
    run(cluster_env, "kubectl", "rollout", "status", "-n", namespace, "deployment/web", "--timeout=120s")
    wait_for(lambda: len(client.CoreV1Api(k8s_client).list_namespaced_pod(
        namespace, label_selector="app=web").items) == 2, what="old pods to be deleted")
    assert audit.count(since, verb="patch", resource="deployments", namespace=namespace, name="web") == 1


def seldon_config_image(k8s_client, namespace):
    from kubernetes import client

    config_map = client.CoreV1Api(k8s_client).read_namespaced_config_map("seldon-config", namespace)
    return json.loads(config_map.data["storageInitializer"])["image"]


def test_local_chart_installs_and_upgrades(cluster_env, k8s_client, audit, make_namespace):
    from kubernetes import client

    namespace = make_namespace("cluster-test-helm")
    release = "cluster-test-" + uuid.uuid4().hex[:6]
    since = audit.mark()
    helm = ["helm", "--namespace", namespace]
    try:
        run(cluster_env, *(helm + ["install", release, CHART, "--wait", "--timeout", "120s"]))
        assert seldon_config_image(k8s_client, namespace) == KFSERVING_IMAGE
        credentials = json.loads(client.CoreV1Api(k8s_client).read_namespaced_config_map(
            "seldon-config", namespace).data["credentials"])
        assert credentials["s3"]["s3AccessKeyIDName"] == "awsAccessKeyID"
        controller = client.AppsV1Api(k8s_client).read_namespaced_deployment("seldon-controller-manager", namespace)
        env = {e.name: e.value for e in controller.spec.template.spec.containers[0].env}
        # Empty, so seldon-config decides the image (the API server stores '' as an absent value).
        assert "RELATED_IMAGE_STORAGE_INITIALIZER" in env and not env["RELATED_IMAGE_STORAGE_INITIALIZER"]
        assert controller.status.available_replicas == 1
        assert audit.count(since, verb="create", resource="configmaps", namespace=namespace,
                           name="seldon-config") == 1

        upgraded = audit.mark()
        run(cluster_env, *(helm + ["upgrade", release, CHART, "--reuse-values", "--wait",
                                   "--set", "storageInitializer.image=" + RCLONE_IMAGE,
                                   "--set", "predictiveUnit.defaultEnvSecretRefName=seldon-rclone-secret"]))
        assert seldon_config_image(k8s_client, namespace) == RCLONE_IMAGE
        assert audit.count(upgraded, verb="patch", resource="configmaps", namespace=namespace,
                           name="seldon-config") == 1
        history = json.loads(run(cluster_env, *(helm + ["history", release, "-o", "json"])))
        assert [entry["revision"] for entry in history] == [1, 2]
    finally:
        subprocess.run(helm + ["uninstall", release, "--wait"], env=cluster_env, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_s3_object_round_trip(cluster_env, tmp_path):
    env = dict(cluster_env)
    # An env-only rclone remote, as the rclone storage initializer gets it from a Secret.
    env.update({
        "RCLONE_CONFIG_LOCALS3_TYPE": "s3",
        "RCLONE_CONFIG_LOCALS3_PROVIDER": "Rclone",
        "RCLONE_CONFIG_LOCALS3_ENV_AUTH": "false",
        "RCLONE_CONFIG_LOCALS3_ACCESS_KEY_ID": env["S3_ACCESS_KEY_ID"],
        "RCLONE_CONFIG_LOCALS3_SECRET_ACCESS_KEY": env["S3_SECRET_ACCESS_KEY"],
        "RCLONE_CONFIG_LOCALS3_ENDPOINT": env["S3_ENDPOINT"],
        "RCLONE_CONFIG": os.devnull,
    })
    bucket = "cluster-test-" + uuid.uuid4().hex[:8]
    payload = os.urandom(4096) + b"model bytes"
    source = tmp_path / "model.joblib"
    source.write_bytes(payload)
    try:
        run(env, "rclone", "mkdir", "locals3:" + bucket)
        run(env, "rclone", "copyto", str(source), "locals3:%s/iris/model.joblib" % bucket)
        listing = run(env, "rclone", "lsf", "-R", "locals3:" + bucket)
        assert "iris/model.joblib" in listing.split()
        target = tmp_path / "mnt-models"
        run(env, "rclone", "copy", "locals3:%s/iris" % bucket, str(target))
        assert (target / "model.joblib").read_bytes() == payload
    finally:
        subprocess.run(["rclone", "purge", "locals3:" + bucket], env=env, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_audit_log_keeps_dry_run_apart_and_holds_no_secret_values(cluster_env, k8s_client, audit, make_namespace):
    from kubernetes import client

    namespace = make_namespace("cluster-test-audit")
    core = client.CoreV1Api(k8s_client)
    secret_value = "cluster-test-" + uuid.uuid4().hex
    body = client.V1Secret(metadata=client.V1ObjectMeta(name="probe"), string_data={"AWS_SECRET_ACCESS_KEY": secret_value})
    since = audit.mark()
    core.create_namespaced_secret(namespace, body, dry_run="All")
    assert audit.writes(since, namespace=namespace) == []
    assert audit.dry_run_writes(since, namespace=namespace) == ["create secrets %s/probe" % namespace]

    core.create_namespaced_secret(namespace, body)
    core.patch_namespaced_secret("probe", namespace, {"metadata": {"labels": {"checked": "yes"}}})
    assert audit.writes(since, namespace=namespace) == ["create secrets %s/probe" % namespace, "patch secrets %s/probe" % namespace]
    assert audit.count(since, resource="secrets", namespace=namespace) == 2
    assert audit.count(since, resource="secrets", namespace=namespace, dry_run=None) == 3

    with open(audit.path, "rb") as log:
        log.seek(since)
        text = log.read()
    for form in (secret_value.encode(), base64.b64encode(secret_value.encode())):
        assert form not in text


def test_seldondeployment_crd_keeps_unknown_fields(cluster_env, k8s_client, make_namespace):
    from kubernetes import client

    namespace = make_namespace("cluster-test-sdep")
    custom = client.CustomObjectsApi(k8s_client)
    graph = {"name": "classifier", "implementation": "SKLEARN_SERVER", "modelUri": "s3://models/iris",
             "envSecretRefName": "seldon-init", "children": [{"name": "child", "modelUri": "gs://public/x"}]}
    body = {"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment",
            "metadata": {"name": "iris"},
            "spec": {"predictors": [{"name": "default", "graph": graph, "someFutureField": {"a": 1}}]}}
    custom.create_namespaced_custom_object("machinelearning.seldon.io", "v1", namespace, "seldondeployments", body)
    stored = custom.get_namespaced_custom_object("machinelearning.seldon.io", "v1", namespace,
                                                 "seldondeployments", "iris")
    assert stored["spec"]["predictors"][0]["graph"] == graph
    assert stored["spec"]["predictors"][0]["someFutureField"] == {"a": 1}
    # The short name works as with the real CRD.
    assert run(cluster_env, "kubectl", "get", "sdep", "-n", namespace, "-o", "name").split() == [
        "seldondeployment.machinelearning.seldon.io/iris"]
