# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""E2E: the Seldon operator stand-in and the init container runner on the local cluster.

Run: .cache/venv/bin/python -m pytest -q tests/e2e   (after make cluster-up)
Real things only: the local kube-apiserver and kwok nodes, the local S3 server, the real rclone.
The migration steps here are written out by hand (the keys the collection's modules would add);
the lead switches them to the collection's modules later.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import subprocess
import sys
import time

import pytest

from e2e_support import (KFSERVING_IMAGE, RCLONE_IMAGE, STANDIN_DIR, StandInProcess, run_runner, standin_python,
                         standin_render, wait_for)

import seldon_operator_standin  # after e2e_support, which puts tests/standin on sys.path

ENV_DEPLOYMENT = "sklearn-env-default-0-classifier"
SA_DEPLOYMENT = "sklearn-sa-default-0-classifier"
INIT = "classifier-model-initializer"


def init_containers(deployment):
    return {c["name"]: c for c in deployment["spec"]["template"]["spec"].get("initContainers") or []}


def rendered(kube, namespace, name, predicate=lambda d: True, timeout=30, what=None):
    def _matching():
        deployment = kube.deployment(namespace, name)
        return deployment if deployment and predicate(deployment) else None

    return wait_for(_matching, timeout=timeout, what=what or "Deployment %s/%s" % (namespace, name))


def init_image(kube, namespace, name, container=INIT):
    return init_containers(kube.deployment(namespace, name))[container]["image"]


def rolled_out(kube, namespace, name, timeout=90):
    return rendered(kube, namespace, name, predicate=seldon_operator_standin.deployment_rolled_out,
                    timeout=timeout, what="rollout of %s/%s" % (namespace, name))


def set_storage_initializer_image(kube, controller_namespace, image):
    config_map = kube.core.read_namespaced_config_map("seldon-config", controller_namespace)
    storage = json.loads(config_map.data["storageInitializer"])
    storage["image"] = image
    kube.core.patch_namespaced_config_map("seldon-config", controller_namespace,
                                          {"data": {"storageInitializer": json.dumps(storage)}})


def restart_controller(kube, standin, controller_namespace):
    """kubectl rollout restart of the (kwok-simulated) controller: the stand-in's full resync."""
    resyncs = standin.state()["resyncs"]
    moment = time.time()
    # kubectl refuses a second restart within the same second (restartedAt has 1s resolution).
    time.sleep(1.1)
    kube.kubectl("rollout", "restart", "deployment/seldon-controller-manager", "-n", controller_namespace)

    def _resynced():
        state = standin.wait_for_pass_after(moment)
        return state if state["resyncs"] > resyncs else None

    return wait_for(_resynced, timeout=30, what="a full resync")


def secret_forms(s3):
    values = [s3["access_key_id"], s3["secret_access_key"]]
    return values + [base64.b64encode(v.encode()).decode() for v in values]


def assert_no_secret_values(text, s3):
    for value in secret_forms(s3):
        assert value not in text, "a secret value appears in the output"


@pytest.mark.usefixtures("standin")
def test_seed_scene_rendered_like_the_operator(kube, scene_namespace, s3):
    env_dep = rendered(kube, scene_namespace, ENV_DEPLOYMENT)
    assert env_dep["metadata"]["labels"][standin_render.LABEL_SELDON_ID] == "sklearn-env"
    assert env_dep["metadata"]["labels"]["app"] == ENV_DEPLOYMENT
    init = init_containers(env_dep)[INIT]
    assert init["image"] == KFSERVING_IMAGE
    assert init["args"] == ["s3://sklearn/iris", "/mnt/models"]
    assert init["envFrom"] == [{"secretRef": {"name": "seldon-init-container-secret"}}]
    assert "env" not in init  # the namespace's default service account lists no secret

    sa_dep = rendered(kube, scene_namespace, SA_DEPLOYMENT)
    assert sa_dep["spec"]["template"]["spec"]["serviceAccountName"] == "seldon-sa"
    init = init_containers(sa_dep)[INIT]
    assert "envFrom" not in init
    assert init["env"] == [
        {"name": "AWS_ACCESS_KEY_ID",
         "valueFrom": {"secretKeyRef": {"name": "seldon-sa-s3-secret", "key": "awsAccessKeyID"}}},
        {"name": "AWS_SECRET_ACCESS_KEY",
         "valueFrom": {"secretKeyRef": {"name": "seldon-sa-s3-secret", "key": "awsSecretAccessKey"}}},
        {"name": "S3_USE_HTTPS", "value": "0"},
        {"name": "S3_ENDPOINT", "value": s3["endpoint"].split("://", 1)[1]},
        {"name": "AWS_ENDPOINT_URL", "value": s3["endpoint"]},
    ]

    for name in (ENV_DEPLOYMENT, SA_DEPLOYMENT):
        rolled_out(kube, scene_namespace, name)
        pods = kube.core.list_namespaced_pod(scene_namespace, label_selector="app=" + name).items
        assert pods and all(p.spec.node_name and p.spec.node_name.startswith("kwok-") for p in pods)
    for sdep in ("sklearn-env", "sklearn-sa"):
        wait_for(lambda s=sdep: kube.sdep(scene_namespace, s).get("status", {}).get("state") == "Available",
                 timeout=60, what="%s Available" % sdep)


def test_graph_shapes_canary_and_related_image(kube, standin, scene_namespace, controller_namespace):
    graph = {"name": "router", "implementation": "RANDOM_ABTEST", "children": [
        {"name": "a", "implementation": "SKLEARN_SERVER", "modelUri": "s3://sklearn/iris",
         "envSecretRefName": "seldon-init-container-secret",
         "children": [{"name": "a1", "implementation": "XGBOOST_SERVER", "modelUri": "s3://sklearn/iris",
                       "storageInitializerImage": RCLONE_IMAGE}]},
        {"name": "b", "implementation": "SKLEARN_SERVER", "modelUri": "s3://sklearn/iris",
         "serviceAccountName": "seldon-sa"},
    ]}
    explainer = {"type": "AnchorTabular", "modelUri": "s3://sklearn/iris",
                 "envSecretRefName": "seldon-init-container-secret"}
    kube.apply([{"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment",
                 "metadata": {"name": "graph-shapes", "namespace": scene_namespace},
                 "spec": {"predictors": [{"name": "default", "replicas": 1, "graph": graph,
                                          "explainer": explainer}]}}])
    models = "graph-shapes-default-0-a-a1-b"
    deployment = rendered(kube, scene_namespace, models)
    inits = init_containers(deployment)
    assert list(inits) == ["a-model-initializer", "a1-model-initializer", "b-model-initializer"]
    assert [inits[n]["image"] for n in inits] == [KFSERVING_IMAGE, RCLONE_IMAGE, KFSERVING_IMAGE]
    assert inits["a-model-initializer"]["envFrom"] == [{"secretRef": {"name": "seldon-init-container-secret"}}]
    assert "envFrom" not in inits["a1-model-initializer"]
    b_env = [e["name"] for e in inits["b-model-initializer"]["env"]]
    assert b_env[:2] == ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "seldon-sa"
    explainer_dep = rendered(kube, scene_namespace, "graph-shapes-default-explainer")
    explainer_init = init_containers(explainer_dep)["graph-shapes-default-explainer-model-initializer"]
    assert explainer_init["image"] == KFSERVING_IMAGE
    assert explainer_init["envFrom"] == [{"secretRef": {"name": "seldon-init-container-secret"}}]

    # RELATED_IMAGE_STORAGE_INITIALIZER beats seldon-config but not the node's own image; it is
    # read at controller start, so changing it is a controller restart (template change).
    related = "registry.example/related-initializer:1"
    moment = time.time()
    kube.kubectl("set", "env", "deployment/seldon-controller-manager", "-n", controller_namespace,
                 "RELATED_IMAGE_STORAGE_INITIALIZER=" + related)
    standin.wait_for_pass_after(moment)
    inits = init_containers(rendered(
        kube, scene_namespace, models,
        predicate=lambda d: init_containers(d)["a-model-initializer"]["image"] == related))
    assert [inits[n]["image"] for n in inits] == [related, RCLONE_IMAGE, related]
    assert init_image(kube, scene_namespace, "graph-shapes-default-explainer",
                      "graph-shapes-default-explainer-model-initializer") == related
    rolled_out(kube, scene_namespace, models)
    rolled_out(kube, scene_namespace, "graph-shapes-default-explainer")


def restarted_at(deployment):
    return ((deployment["spec"]["template"]["metadata"].get("annotations") or {})
            .get("kubectl.kubernetes.io/restartedAt"))


def set_operator_version(kube, standin, controller_namespace, version):
    """An operator upgrade/downgrade: the controller image's tag changes (a pod template change,
    so a full resync); the stand-in follows that release's rules from then on."""
    resyncs = standin.state()["resyncs"]
    moment = time.time()
    kube.kubectl("set", "image", "deployment/seldon-controller-manager", "-n", controller_namespace,
                 "manager=docker.io/seldonio/seldon-core-operator:" + version)

    def _resynced():
        state = standin.wait_for_pass_after(moment)
        return state if state["resyncs"] > resyncs else None

    state = wait_for(_resynced, timeout=30, what="a full resync on operator %s" % version)
    assert state["controller_settings"]["operator_version"] == version
    return state


def test_config_change_needs_an_event_or_a_controller_restart(kube, standin, scene_namespace,
                                                              controller_namespace):
    before = rolled_out(kube, scene_namespace, ENV_DEPLOYMENT)
    rolled_out(kube, scene_namespace, SA_DEPLOYMENT)
    standin.wait_for_quiet_pass_after(time.time())

    # seldon-config changes alone reach nothing: the operator does not watch it.
    set_storage_initializer_image(kube, controller_namespace, RCLONE_IMAGE)
    standin.wait_for_pass_after(time.time())
    after_config = kube.deployment(scene_namespace, ENV_DEPLOYMENT)
    assert init_containers(after_config)[INIT]["image"] == KFSERVING_IMAGE
    assert after_config["metadata"]["generation"] == before["metadata"]["generation"]

    # Any change of a SeldonDeployment (here an annotation on its metadata) reconciles it, and the
    # reconcile reads seldon-config afresh; the other SeldonDeployment keeps the old image.
    kube.kubectl("annotate", "seldondeployment/sklearn-env", "-n", scene_namespace, "e2e.test/touched=1")
    rendered(kube, scene_namespace, ENV_DEPLOYMENT,
             predicate=lambda d: init_containers(d)[INIT]["image"] == RCLONE_IMAGE)
    standin.wait_for_quiet_pass_after(time.time())
    assert init_image(kube, scene_namespace, SA_DEPLOYMENT) == KFSERVING_IMAGE

    # A controller restart is a full resync: the new image everywhere.
    restart_controller(kube, standin, controller_namespace)
    rendered(kube, scene_namespace, SA_DEPLOYMENT, predicate=lambda d: init_containers(d)[INIT]["image"] == RCLONE_IMAGE)
    assert init_image(kube, scene_namespace, ENV_DEPLOYMENT) == RCLONE_IMAGE
    rolled_out(kube, scene_namespace, ENV_DEPLOYMENT)
    rolled_out(kube, scene_namespace, SA_DEPLOYMENT)
    standin.wait_for_quiet_pass_after(time.time())
    settled = kube.deployment(scene_namespace, ENV_DEPLOYMENT)

    # Another resync with nothing changed writes nothing.
    writes = standin.state()["writes"]
    restart_controller(kube, standin, controller_namespace)
    assert standin.state()["writes"] == writes
    assert kube.deployment(scene_namespace, ENV_DEPLOYMENT)["metadata"]["generation"] == settled["metadata"][
        "generation"]


@pytest.mark.parametrize("version", ["1.15.1", "1.17.1"])
def test_rollout_restart_of_a_model_deployment_per_operator_release(kube, standin, scene_namespace,
                                                                    controller_namespace, version):
    set_operator_version(kube, standin, controller_namespace, version)
    rolled_out(kube, scene_namespace, ENV_DEPLOYMENT)
    standin.wait_for_quiet_pass_after(time.time())
    kube.kubectl("rollout", "restart", "deployment/" + ENV_DEPLOYMENT, "-n", scene_namespace)
    if version == "1.15.1":
        # Up to 1.15.x the operator compares only the pod spec: the restart stays and rolls out.
        before = rolled_out(kube, scene_namespace, ENV_DEPLOYMENT)
        standin.wait_for_quiet_pass_after(time.time())
        assert restarted_at(kube.deployment(scene_namespace, ENV_DEPLOYMENT)) == restarted_at(before)
        assert restarted_at(before)
    else:
        # From 1.16.0 (seen at 1.17.1) the operator writes its own spec back within seconds.
        rendered(kube, scene_namespace, ENV_DEPLOYMENT, predicate=lambda d: restarted_at(d) is None,
                 what="the restart undone by the operator")
        rolled_out(kube, scene_namespace, ENV_DEPLOYMENT)

    # At every release a changed pod spec (a new init image after a controller restart) is written
    # as a whole spec: a rollout restart's annotation does not survive it (the stand-in used to
    # keep it; the operator never did).
    set_storage_initializer_image(kube, controller_namespace, RCLONE_IMAGE)
    restart_controller(kube, standin, controller_namespace)
    updated = rendered(kube, scene_namespace, ENV_DEPLOYMENT,
                       predicate=lambda d: init_containers(d)[INIT]["image"] == RCLONE_IMAGE)
    assert restarted_at(updated) is None
    rolled_out(kube, scene_namespace, ENV_DEPLOYMENT)


def test_an_edited_model_deployment_is_written_back(kube, standin, scene_namespace):
    rolled_out(kube, scene_namespace, ENV_DEPLOYMENT)
    standin.wait_for_quiet_pass_after(time.time())
    kube.kubectl("set", "image", "deployment/" + ENV_DEPLOYMENT, "-n", scene_namespace,
                 INIT + "=registry.example/someone-else:1")
    rendered(kube, scene_namespace, ENV_DEPLOYMENT,
             predicate=lambda d: init_containers(d)[INIT]["image"] == KFSERVING_IMAGE,
             what="the operator's init image written back")
    rolled_out(kube, scene_namespace, ENV_DEPLOYMENT)


def test_explainer_update_loop_of_1_17_1(kube, tmp_path, scene_namespace, controller_namespace, cluster_env):
    """Opt-in (--explainer-update-loop): an updated explainer without replicas is written on every
    reconcile; its generation climbs while the model Deployment's stays."""
    process = StandInProcess(tmp_path, scene_namespace, controller_namespace, cluster_env,
                             extra_args=["--explainer-update-loop"])
    try:
        process.wait_for_pass_after(0)
        explainer = {"type": "AnchorTabular", "modelUri": "s3://sklearn/iris",
                     "envSecretRefName": "seldon-init-container-secret"}
        kube.apply([{"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment",
                     "metadata": {"name": "explained", "namespace": scene_namespace},
                     "spec": {"predictors": [{"name": "default", "replicas": 1, "explainer": explainer, "graph": {
                         "name": "classifier", "implementation": "SKLEARN_SERVER", "modelUri": "s3://sklearn/iris",
                         "envSecretRefName": "seldon-init-container-secret"}}]}}])
        name = "explained-default-explainer"
        rolled_out(kube, scene_namespace, name)
        process.wait_for_quiet_pass_after(time.time())
        first = kube.deployment(scene_namespace, name)["metadata"]["generation"]
        model_generation = kube.deployment(scene_namespace, "explained-default-0-classifier")["metadata"]["generation"]
        kube.kubectl("patch", "seldondeployment/explained", "-n", scene_namespace, "--type=json", "-p", json.dumps(
            [{"op": "replace", "path": "/spec/predictors/0/explainer/modelUri", "value": "s3://sklearn/iris-v2"}]))
        rendered(kube, scene_namespace, name, predicate=lambda d: d["metadata"]["generation"] >= first + 5,
                 timeout=30, what="the explainer's generation climbing")
        assert kube.deployment(scene_namespace, "explained-default-0-classifier")["metadata"][
            "generation"] == model_generation
    finally:
        process.stop()


def rclone_keys(s3):
    """The keys the migration adds for the local S3 server (rclone's canonical provider name)."""
    return {
        "RCLONE_CONFIG_S3_TYPE": "s3",
        "RCLONE_CONFIG_S3_PROVIDER": "Minio",
        "RCLONE_CONFIG_S3_ENV_AUTH": "false",
        "RCLONE_CONFIG_S3_ACCESS_KEY_ID": s3["access_key_id"],
        "RCLONE_CONFIG_S3_SECRET_ACCESS_KEY": s3["secret_access_key"],
        "RCLONE_CONFIG_S3_ENDPOINT": s3["endpoint"],
    }


def only_init(report, deployment=None):
    (entry,) = [d for d in report["deployments"] if deployment is None or d["name"] == deployment]
    (result,) = entry["init_containers"]
    return result


def test_runner_fails_before_migration_and_downloads_after(kube, standin, scene_namespace, controller_namespace,
                                                           s3, tmp_path):
    rendered(kube, scene_namespace, ENV_DEPLOYMENT)
    rendered(kube, scene_namespace, SA_DEPLOYMENT)
    outputs = []

    # kfserving initializer: the runner only plays rclone.
    code, report, raw = run_runner(kube.env, scene_namespace, sdep="sklearn-env")
    outputs.append(raw)
    assert code == 0, raw
    assert only_init(report)["status"] == "not simulated"
    assert only_init(report)["initializer"] == "kfserving"

    # Switch the operator to rclone (helm would change seldon-config), restart the controller.
    set_storage_initializer_image(kube, controller_namespace, RCLONE_IMAGE)
    restart_controller(kube, standin, controller_namespace)
    for name in (ENV_DEPLOYMENT, SA_DEPLOYMENT):
        rendered(kube, scene_namespace, name, predicate=lambda d: init_containers(d)[INIT]["image"] == RCLONE_IMAGE)

    # Before the migration: kfserving-format credentials mean nothing to rclone.
    for sdep in ("sklearn-env", "sklearn-sa"):
        code, report, raw = run_runner(kube.env, scene_namespace, sdep=sdep)
        outputs.append(raw)
        assert code == 1, raw
        result = only_init(report)
        assert result["initializer"] == "rclone"
        assert result["status"] == "failed"
        assert "didn't find section in config file" in result["error"], result["error"]
        assert result["files"] == []
    env_names = {e["name"] for e in only_init(run_runner(kube.env, scene_namespace, sdep="sklearn-sa")[1])["env"]}
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"} <= env_names

    # The migration, by hand: rclone keys added to both secrets; the SA node gets envSecretRefName.
    for secret in ("seldon-init-container-secret", "seldon-sa-s3-secret"):
        kube.core.patch_namespaced_secret(secret, scene_namespace, {"stringData": rclone_keys(s3)})
    kube.kubectl("patch", "seldondeployment/sklearn-sa", "-n", scene_namespace, "--type=json", "-p", json.dumps(
        [{"op": "add", "path": "/spec/predictors/0/graph/envSecretRefName", "value": "seldon-sa-s3-secret"}]))
    rendered(kube, scene_namespace, SA_DEPLOYMENT,
             predicate=lambda d: init_containers(d)[INIT].get("envFrom") == [
                 {"secretRef": {"name": "seldon-sa-s3-secret"}}])

    for sdep, deployment in (("sklearn-env", ENV_DEPLOYMENT), ("sklearn-sa", SA_DEPLOYMENT)):
        download = tmp_path / sdep
        code, report, raw = run_runner(kube.env, scene_namespace, sdep=sdep, download_dir=download)
        outputs.append(raw)
        assert code == 0, raw
        result = only_init(report)
        assert result["status"] == "ok", result
        assert [f["path"] for f in result["files"]] == ["model.joblib"]
        model_file = download / deployment / INIT / "model.joblib"
        check = subprocess.run(
            [sys.executable, "-c",
             "import joblib,sys; m=joblib.load(sys.argv[1]); print(m.predict_proba([[5.964,4.006,2.081,1.031]]).shape)",
             str(model_file)], text=True, capture_output=True, check=False)
        assert check.stdout.strip() == "(1, 3)", check.stderr
        rolled_out(kube, scene_namespace, deployment)

    for raw in outputs:
        assert_no_secret_values(raw, s3)


@pytest.mark.usefixtures("standin")
def test_runner_reports_a_missing_secret(kube, scene_namespace, s3):
    rendered(kube, scene_namespace, ENV_DEPLOYMENT)
    kube.core.delete_namespaced_secret("seldon-init-container-secret", scene_namespace)
    code, report, raw = run_runner(kube.env, scene_namespace, deployment=ENV_DEPLOYMENT)
    assert code == 1, raw
    assert only_init(report)["reason"] == ('CreateContainerConfigError: secret "seldon-init-container-secret" '
                                           'not found')
    assert_no_secret_values(raw, s3)


@pytest.fixture(name="once_output")
def once_output_fixture(scene_namespace, controller_namespace, cluster_env):
    def _run():
        completed = subprocess.run(
            [standin_python(), os.path.join(STANDIN_DIR, "seldon_operator_standin.py"), "--once",
             "--namespace", scene_namespace, "--controller-namespace", controller_namespace],
            text=True, capture_output=True, check=False, timeout=120, env=cluster_env)
        return completed.returncode, json.loads(completed.stdout), completed.stdout + completed.stderr
    return _run


def test_once_mode_is_idempotent(kube, once_output, scene_namespace, s3):
    code, summary, raw = once_output()
    assert code == 0, raw
    assert summary["resync"] is True
    assert sorted(w["deployment"] for w in summary["written"]) == [ENV_DEPLOYMENT, SA_DEPLOYMENT]
    assert {w["action"] for w in summary["written"]} == {"created"}
    generation = kube.deployment(scene_namespace, ENV_DEPLOYMENT)["metadata"]["generation"]
    code, summary, raw2 = once_output()
    assert code == 0, raw2
    assert summary["written"] == []
    assert len(summary["reconciled"]) == 2
    assert kube.deployment(scene_namespace, ENV_DEPLOYMENT)["metadata"]["generation"] == generation
    assert_no_secret_values(raw + raw2, s3)
