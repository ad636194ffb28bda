# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/migrate.yml (inventories/local) under two operator releases, 1.13.1 and 1.17.1, and
what is true for each (docs/operator-versions.md).

Each release is the local chart installed in a scratch namespace with ``image.tag`` set to it (the
controller image's tag is the release the migration and the test stand-in read), with a default
env secret and ``WATCH_NAMESPACE`` set to the scene's namespace; a namespaced stand-in renders the
scene as that release would. Both migrations run at the same time. Then:

* the restart: at 1.13.1 the model Deployments' own ``restartedAt`` (an annotation change of the
  SeldonDeployment alone is not written there) and it lasts through a reconcile; at 1.17.1 the
  annotation in the SeldonDeployment's ``spec.annotations``, copied into the pod templates - and a
  ``restartedAt`` written on a Deployment by hand is undone;
* explainers get the default env secret at 1.17.1 only: at 1.13.1 this one reads the S3 secret of
  its service account, so the migration gives it an ``envSecretRefName``;
* a custom node with a ``modelUri`` gets an init container at 1.17.1 only (migrated there, ignored
  at 1.13.1), and one without a container fails to render at 1.17.1 (reported as failing before
  the migration, neither blamed nor credited);
* at both: a hand-written init container is reported apart and keeps its image, a SeldonDeployment
  labelled for another operator is reported as unwatched, every other model Deployment is verified;
  the access check (rclone_migration_access_check) lists every converted secret's model with the
  real rclone (tests/standin/job_runner.py plays the Jobs) before the switch.

A third scene at 1.17.1, migrated at the same time, holds a secret with a wrong key: the access
check stops the run before the switch, naming the node, the secret and rclone's error.

About a minute, most of it the three migrations side by side.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import time

import pytest
import yaml

from e2e_support import REPO, Kube, StandInProcess, render_scene, wait_for

VERSIONS = ("1.13.1", "1.17.1")
DENIED = "denied"
JOBRUNNER = os.path.join(REPO, "tests", "standin", "jobrunner.sh")
CHART = os.path.join(REPO, "tests", "chart", "seldon-core-operator")
INVENTORY = os.path.join(REPO, "inventories", "local")
PLAYBOOK = os.path.join(REPO, "playbooks", "migrate.yml")
ANSIBLE_PLAYBOOK = os.path.join(REPO, ".cache", "venv", "bin", "ansible-playbook")
KFSERVING = "gcr.io/kfserving/storage-initializer:v0.4.0"
RCLONE = "docker.io/seldonio/rclone-storage-initializer:1.17.1"
DEFAULT_SECRET = "default-creds"
RESTART_ANNOTATION = "rclone-migration.seldon-ops.io/restarted-at"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
GROUP, VERSION, PLURAL = "machinelearning.seldon.io", "v1", "seldondeployments"


def sdep(name, predictor, labels=None):
    return {"apiVersion": GROUP + "/" + VERSION, "kind": "SeldonDeployment",
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {"predictors": [dict(predictor, name="default", replicas=1)]}}


def scene_objects(namespace, s3):
    """The seed scene plus what differs between releases; the env secrets come from render_scene."""
    values = render_scene.scene_values(namespace, s3["access_key_id"], s3["secret_access_key"], s3["endpoint"])
    with open(render_scene.DEFAULT_TEMPLATE, encoding="utf-8") as handle:
        seed = [item for item in yaml.safe_load(render_scene.render(handle.read(), values))["items"]
                if item["kind"] != "Namespace"]
    default_secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": DEFAULT_SECRET}, "type": "Opaque",
                      "stringData": {"AWS_ACCESS_KEY_ID": s3["access_key_id"],
                                     "AWS_SECRET_ACCESS_KEY": s3["secret_access_key"],
                                     "AWS_ENDPOINT_URL": values["S3_ENDPOINT_URL"]}}
    model = {"name": "classifier", "implementation": "SKLEARN_SERVER", "modelUri": "s3://sklearn/iris",
             "envSecretRefName": "seldon-init-container-secret"}
    custom = {"name": "classifier", "modelUri": "s3://sklearn/iris", "envSecretRefName": "seldon-init-container-secret"}
    return seed + [
        default_secret,
        # an explainer without envSecretRefName whose service account lists the S3 secret
        sdep("explained", {"graph": model, "explainer": {"type": "AnchorTabular", "modelUri": "s3://sklearn/iris",
                                                         "serviceAccountName": "seldon-sa"}}),
        # a custom (not prepackaged) node with a modelUri and its container
        sdep("custom", {"graph": custom, "componentSpecs": [
            {"spec": {"containers": [{"name": "classifier", "image": "example.org/custom-model:1"}]}}]}),
        # the same without a container: 1.17.1 cannot render it
        sdep("failing", {"graph": dict(custom, name="lonely")}),
        # a hand-written init container: the operator keeps it as written (with the volume it mounts,
        # or the operator cannot render the pod at all)
        sdep("hand", {"graph": model, "componentSpecs": [{"spec": {
            "containers": [{"name": "classifier", "image": "seldonio/sklearnserver:1.17.1"}],
            "initContainers": [{"name": "classifier-model-initializer", "image": KFSERVING,
                                "args": ["s3://sklearn/iris", "/mnt/models"],
                                "envFrom": [{"secretRef": {"name": "seldon-init-container-secret"}}],
                                "volumeMounts": [{"name": "classifier-provision-location", "mountPath": "/mnt/models"}]}],
            "volumes": [{"name": "classifier-provision-location", "emptyDir": {}}]}}]}),
        # another operator's SeldonDeployment (CONTROLLER_ID differs)
        sdep("other-operator", {"graph": model}, labels={"seldon.io/controller-id": "someone-else"}),
    ]


def denied_objects(namespace, s3):
    """The seed scene plus a model whose secret holds a wrong secret key."""
    seed = [item for item in scene_objects(namespace, s3) if item["kind"] != "SeldonDeployment"
            or item["metadata"]["name"] in ("sklearn-env", "sklearn-sa")]
    wrong = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "wrong-creds"}, "type": "Opaque",
             "stringData": {"AWS_ACCESS_KEY_ID": s3["access_key_id"], "AWS_SECRET_ACCESS_KEY": WRONG_KEY,
                            "AWS_ENDPOINT_URL": s3["endpoint"] or render_scene.DEFAULT_S3_ENDPOINT}}
    return seed + [wrong, sdep("wrong", {"graph": {"name": "classifier", "implementation": "SKLEARN_SERVER",
                                                   "modelUri": "s3://sklearn/iris", "envSecretRefName": "wrong-creds"}})]


WRONG_KEY = "not-the-key-" + os.urandom(6).hex()


def create(kube, namespace, objects):
    """Through the API, never kubectl apply (its last-applied annotation would copy secret data)."""
    for obj in objects:
        obj = json.loads(json.dumps(obj))
        obj["metadata"]["namespace"] = namespace
        if obj["kind"] == "Secret":
            kube.core.create_namespaced_secret(namespace, obj)
        elif obj["kind"] == "ServiceAccount":
            kube.core.create_namespaced_service_account(namespace, obj)
        else:
            kube.custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, obj)


def model_deployments(kube, namespace):
    items = kube.apps.list_namespaced_deployment(namespace, label_selector="seldon-deployment-id").items
    return dict((item.metadata.name, kube.plain(item)) for item in items)


def by_sdep(deployments, name):
    return [d for d in deployments.values() if d["metadata"]["labels"]["seldon-deployment-id"] == name]


def init_containers(deployment):
    return deployment["spec"]["template"]["spec"].get("initContainers") or []


def env_from(container):
    return [(source.get("secretRef") or {}).get("name") for source in container.get("envFrom") or []]


class Release:
    """One operator release: the local chart in a scratch namespace, its scene and stand-in."""

    def __init__(self, kube, env, tmp_path, version, s3, name=None):
        self.kube, self.env, self.version = kube, env, version
        self.name = name or version
        self.tmp = tmp_path / self.name
        self.tmp.mkdir()
        tag = self.name.replace(".", "-")
        self.system = kube.create_namespace("e2e-ver-sys-" + tag)
        self.scene = kube.create_namespace("e2e-ver-" + tag)
        # The cluster-wide stand-in leaves namespaces labelled for another operator alone.
        kube.core.patch_namespace(self.scene, {"metadata": {"labels": {"seldon.io/controller-id": self.scene}}})
        values = self.tmp / "values.yaml"
        # The operator watches the scene only, as its stand-in does (chart value watchNamespace: env
        # WATCH_NAMESPACE, kept by the migration's helm upgrade).
        values.write_text(yaml.safe_dump({"storageInitializer": {"image": KFSERVING}, "image": {"tag": version},
                                          "predictiveUnit": {"defaultEnvSecretRefName": DEFAULT_SECRET},
                                          "watchNamespace": self.scene}))
        self.helm("install", "seldon-core", CHART, "-n", self.system, "-f", str(values), "--wait", "--timeout", "120s")
        create(kube, self.scene, denied_objects(self.scene, s3) if self.name == DENIED else scene_objects(self.scene, s3))
        self.standin = StandInProcess(self.tmp, self.scene, self.system, env)
        self.process = None
        self.reports = self.tmp / "reports"

    def helm(self, *args):
        completed = subprocess.run(["helm"] + list(args), text=True, capture_output=True, check=False, env=self.env)
        assert completed.returncode == 0, "helm %s failed: %s" % (args[0], completed.stderr[-2000:])

    def rendered(self):
        deployments = model_deployments(self.kube, self.scene)
        images = [c["image"] for d in deployments.values() for c in init_containers(d)]
        if self.name == DENIED:
            counts = dict((name, len(by_sdep(deployments, name))) for name in ("sklearn-env", "sklearn-sa", "wrong"))
            return counts == {"sklearn-env": 1, "sklearn-sa": 1, "wrong": 1} and set(images) == {KFSERVING} and deployments
        expected = {"sklearn-env": 1, "sklearn-sa": 1, "explained": 2, "custom": 1, "hand": 1}
        counts = dict((name, len(by_sdep(deployments, name))) for name in expected)
        failing = self.kube.sdep(self.scene, "failing").get("status", {}).get("state")
        return (counts == expected and images and set(images) == {KFSERVING}
                and (failing == "Failed") == (self.version == "1.17.1")) and deployments

    def start_migration(self):
        variables = {
            "cluster_kubeconfig": self.env["KUBECONFIG"],
            "seldon_core_namespace": self.system, "seldon_core_release_name": "seldon-core",
            "seldon_core_chart_ref": CHART, "seldon_core_chart_repo_url": "", "seldon_core_wait_timeout": 120,
            "rclone_migration_namespaces": [self.scene], "rclone_migration_report_dir": str(self.reports),
            # kwok rolls a Deployment out in seconds; short waits keep a Deployment that never verifies
            # from costing minutes
            "rclone_migration_rclone_image": RCLONE, "rclone_migration_rollout_wait_timeout": 45,
            "rclone_migration_rerender_timeout": 30, "rclone_migration_rollout_wait_sleep": 2,
            "rclone_migration_access_check": True, "rclone_migration_access_check_timeout": 60,
        }
        (self.tmp / "vars.json").write_text(json.dumps(variables))
        self.log = self.tmp / "migrate.log"
        with open(self.log, "w", encoding="utf-8") as log:
            self.process = subprocess.Popen(  # pylint: disable=consider-using-with
                [ANSIBLE_PLAYBOOK, "-i", INVENTORY, PLAYBOOK, "-e", "@" + str(self.tmp / "vars.json")],
                stdout=log, stderr=subprocess.STDOUT, env=dict(self.env, ANSIBLE_NOCOLOR="1"))

    def finish_migration(self):
        code = self.process.wait(timeout=600)
        output = self.log.read_text()
        # the denied scene stops before the switch: its cluster fails and so does the run
        assert (code == 0) == (self.name != DENIED), "migrate.yml for %s exited %s:\n%s" % (self.name, code, output[-6000:])
        with open(self.reports / "migrate" / "local.json", encoding="utf-8") as handle:
            return json.load(handle)

    def close(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
        self.standin.stop()
        self.kube.delete_namespace(self.scene)
        self.kube.delete_namespace(self.system)


@pytest.fixture(scope="module", name="migrated")
def migrated_fixture(kubeconfig, cluster_env, tmp_path_factory, model_in_s3, s3):  # pylint: disable=unused-argument
    """Both releases set up, then migrated side by side: {version: (Release, report, deployments)}."""
    kube = Kube(kubeconfig, dict(cluster_env, KUBECONFIG=kubeconfig))
    tmp_path = tmp_path_factory.mktemp("operator-versions")
    releases = {}
    # The access check's Jobs are played by the job runner (shared: stopped only when started here).
    started_runner = subprocess.run([JOBRUNNER, "status"], capture_output=True, check=False, env=kube.env).returncode != 0
    completed = subprocess.run([JOBRUNNER, "start"], text=True, capture_output=True, check=False, env=kube.env)
    assert completed.returncode == 0, "job runner: %s" % completed.stderr[-2000:]
    try:
        for version in VERSIONS:
            releases[version] = Release(kube, kube.env, tmp_path, version, s3)
        releases[DENIED] = Release(kube, kube.env, tmp_path, "1.17.1", s3, name=DENIED)
        before = dict((version, wait_for(release.rendered, timeout=90, what="the %s scene rendered" % version))
                      for version, release in releases.items())
        for release in releases.values():
            release.start_migration()
        reports = dict((version, release.finish_migration()) for version, release in releases.items())
        yield dict((version, (release, reports[version], before[version])) for version, release in releases.items())
    finally:
        for release in releases.values():
            release.close()
        if started_runner:
            subprocess.run([JOBRUNNER, "stop"], capture_output=True, check=False, env=kube.env)


@pytest.mark.parametrize("version", VERSIONS)
def test_migrated_under_each_release_with_every_model_deployment_verified(migrated, version):
    release, report, _before = migrated[version]
    assert report["status"] == "migrated", report["problems"]
    assert report["operator"] == {"version": version, "source": "controller image tag"}
    assert report["gate"]["watch"]["namespace"] == release.scene and report["gate"]["stops"] == []
    assert report["rollouts"] and all(entry["verified"] for entry in report["rollouts"]), report["rollouts"]
    assert report["problems"] == [] and report["storage_initializer"]["after"] == RCLONE


@pytest.mark.parametrize("version", VERSIONS)
def test_every_converted_secret_reached_its_model_before_the_switch(migrated, version):
    _release, report, _before = migrated[version]
    checks = report["access_checks"]["checks"]
    assert checks and all(check["status"] == "ok" for check in checks), checks
    assert report["access_checks"]["problems"] == []
    secrets = set(check["secret"] for check in checks)
    assert {"seldon-init-container-secret", DEFAULT_SECRET} <= secrets
    # the 1.17.1 explainer reads the default secret; the 1.13.1 one its service account's, referenced by then
    assert any("explained/default/.explainer" in check["nodes"] for check in checks)


def test_a_secret_that_does_not_reach_its_model_stops_the_switch(migrated):
    release, report, _before = migrated[DENIED]
    assert report["status"] == "failed" and report["failed_task"] == "Stop before the switch when a secret does not reach its model"
    failed = [check for check in report["access_checks"]["checks"] if check["status"] != "ok"]
    assert [(check["secret"], check["nodes"]) for check in failed] == [("wrong-creds", ["wrong/default/classifier"])]
    assert failed[0]["error"] and WRONG_KEY not in json.dumps(report)
    for word in ("wrong-creds", "wrong/default/classifier", failed[0]["error"]):
        assert word in report["error"]
    # nothing switched: the operator still injects kfserving, no rollback record was written
    deployments = model_deployments(release.kube, release.scene)
    assert set(c["image"] for d in deployments.values() for c in init_containers(d)) == {KFSERVING}
    assert release.kube.core.list_namespaced_config_map(
        release.system, field_selector="metadata.name=rclone-migration-state").items == []


@pytest.mark.parametrize("version", VERSIONS)
def test_hand_written_and_unwatched_are_reported_apart(migrated, version):
    release, report, _before = migrated[version]
    assert [item["deployment"] for item in report["hand_written"]] == ["hand"]
    assert [item["name"] for item in report["unwatched_deployments"]] == ["other-operator"]
    counts = report["counts"]
    assert counts["hand_written"] == 1
    # hand-written, failing and credential-free nodes are never counted as migrated
    assert counts["migrated"] == counts["nodes"] - counts["hand_written"] - counts["failing_before"] - counts["no_credentials"]
    hand = by_sdep(model_deployments(release.kube, release.scene), "hand")
    assert [c["image"] for c in init_containers(hand[0])] == [KFSERVING]
    # the other operator's SeldonDeployment was never rendered here, nor touched
    assert by_sdep(model_deployments(release.kube, release.scene), "other-operator") == []
    assert "annotations" not in release.kube.sdep(release.scene, "other-operator")["spec"]


def test_explainers_get_the_default_secret_from_1_14_only(migrated):
    for version, secret, refs in (("1.13.1", "seldon-sa-s3-secret", ["explained"]), ("1.17.1", DEFAULT_SECRET, [])):
        release, report, before = migrated[version]
        explainer = [d for d in by_sdep(model_deployments(release.kube, release.scene), "explained")
                     if d["metadata"]["name"].endswith("-explainer")][0]
        assert [env_from(c) for c in init_containers(explainer)] == [[secret]], version
        assert [c["image"] for c in init_containers(explainer)] == [RCLONE], version
        assert [item["name"] for item in report["conversion"]["refs_added"]] == refs, version
        explainer_before = [d for d in by_sdep(before, "explained") if d["metadata"]["name"].endswith("-explainer")][0]
        # before the migration the 1.13.1 explainer had no env secret at all
        assert [env_from(c) for c in init_containers(explainer_before)] == ([[]] if version == "1.13.1" else [[secret]])


def test_custom_nodes_with_a_model_uri_get_an_init_container_at_1_17_1_only(migrated):
    old, old_report, _before = migrated["1.13.1"]
    new, new_report, _before = migrated["1.17.1"]
    assert [init_containers(d) for d in by_sdep(model_deployments(old.kube, old.scene), "custom")] == [[]]
    assert "custom" not in [node["deployment"] for node in old_report["nodes"]]
    custom = by_sdep(model_deployments(new.kube, new.scene), "custom")
    assert [(c["name"], c["image"], env_from(c)) for c in init_containers(custom[0])] == [
        ("classifier-model-initializer", RCLONE, ["seldon-init-container-secret"])]
    assert [node["status"] for node in new_report["nodes"] if node["deployment"] == "custom"] == ["migrated"]
    # one without a container fails to render at 1.17.1 - before the migration already
    assert [item["deployment"] for item in new_report["failing_before"]] == ["failing"]
    assert old_report["failing_before"] == [] and old_report["counts"]["failing_before"] == 0
    assert all(entry["seldon_deployment"] != "failing" for entry in new_report["rollouts"])


def touch(kube, namespace, name):
    """A change of the SeldonDeployment's metadata: the operator reconciles it (every release)."""
    kube.custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name,
                                               {"metadata": {"labels": {"e2e-touch": str(int(time.time()))}}})


def test_the_restart_before_1_16_is_the_deployments_own_and_it_lasts(migrated):
    release, report, _before = migrated["1.13.1"]
    assert report["rollout_restart"]["method"] == "deployment_restarted_at"
    restarted = set(report["rollout_restart"]["restarted"])
    deployments = model_deployments(release.kube, release.scene)
    for name in ("sklearn-env", "explained"):
        for deployment in by_sdep(deployments, name):
            assert "%s/%s" % (release.scene, deployment["metadata"]["name"]) in restarted
            assert deployment["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT] == report["started_at"]
    # nothing was written into the SeldonDeployments for it
    assert RESTART_ANNOTATION not in (release.kube.sdep(release.scene, "sklearn-env")["spec"].get("annotations") or {})
    moment = time.time()
    touch(release.kube, release.scene, "sklearn-env")
    release.standin.wait_for_quiet_pass_after(moment)
    for deployment in by_sdep(model_deployments(release.kube, release.scene), "sklearn-env"):
        assert deployment["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT] == report["started_at"]


def test_the_restart_from_1_16_goes_through_the_seldon_deployment(migrated):
    release, report, _before = migrated["1.17.1"]
    assert report["rollout_restart"]["method"] == "seldon_deployment_annotation"
    assert "%s/sklearn-env" % release.scene in report["rollout_restart"]["restarted"]
    assert release.kube.sdep(release.scene, "sklearn-env")["spec"]["annotations"][RESTART_ANNOTATION] == report["started_at"]
    deployment = by_sdep(model_deployments(release.kube, release.scene), "sklearn-env")[0]
    assert deployment["spec"]["template"]["metadata"]["annotations"][RESTART_ANNOTATION] == report["started_at"]
    # a kubectl rollout restart of the Deployment is undone by the operator
    name = deployment["metadata"]["name"]
    moment = time.time()
    release.kube.apps.patch_namespaced_deployment(name, release.scene, {"spec": {"template": {"metadata": {
        "annotations": {RESTARTED_AT: "2026-01-01T00:00:00Z"}}}}})
    release.standin.wait_for_quiet_pass_after(moment)
    live = release.kube.deployment(release.scene, name)
    assert RESTARTED_AT not in live["spec"]["template"]["metadata"]["annotations"]
    assert live["spec"]["template"]["metadata"]["annotations"][RESTART_ANNOTATION] == report["started_at"]
