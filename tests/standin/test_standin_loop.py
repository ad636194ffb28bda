# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""When the stand-in reconciles and what it writes, per operator release, against an in-memory
API (no cluster). Run: pytest tests/standin"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

import pytest

import seldon_operator_standin as standin

STORAGE = {"image": "gcr.io/kfserving/storage-initializer:v0.4.0", "cpuRequest": "100m", "cpuLimit": "1",
           "memoryRequest": "100Mi", "memoryLimit": "1Gi"}
RCLONE = "seldonio/rclone-storage-initializer:1.17.1"
MODEL = "iris-default-0-classifier"
EXPLAINER = "iris-default-explainer"


class FakeCluster:  # pylint: disable=unused-argument
    """Just the calls StandIn makes; resourceVersion and generation move as on the API server."""

    def __init__(self, version):
        self.rv = 100
        self.config = {"storageInitializer": json.dumps(STORAGE)}
        self.controller = {"metadata": {"name": "seldon-controller-manager", "labels": {}},
                           "spec": {"template": {"spec": {"containers": [
                               {"name": "manager", "image": "docker.io/seldonio/seldon-core-operator:" + version,
                                "env": []}]}}}}
        self.sdeps = {}
        self.deployments = {}
        self.writes = []

    def next_rv(self):
        self.rv += 1
        return str(self.rv)

    # what the stand-in calls
    def refresh_identity(self):
        pass

    def get_deployment(self, namespace, name):
        return copy.deepcopy(self.controller) if name == standin.CONTROLLER_DEPLOYMENT else None

    def list_sdeps(self, namespace=None):
        return copy.deepcopy(list(self.sdeps.values()))

    def list_model_deployments(self, namespace=None):
        return copy.deepcopy(list(self.deployments.values()))

    def namespaces_with_controller_id(self):
        return set()

    def service_accounts(self, namespace):
        return {}

    def secrets_without_values(self, namespace):
        return {}

    def get_config_map_data(self, namespace, name):
        return dict(self.config)

    def create_deployment(self, namespace, body):
        obj = json.loads(json.dumps(body))
        obj["metadata"].update(resourceVersion=self.next_rv(), generation=1)
        obj["spec"]["replicas"] = 1 if obj["spec"].get("replicas") is None else obj["spec"]["replicas"]
        obj["status"] = {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}
        self.deployments[obj["metadata"]["name"]] = obj
        self.writes.append(("create", obj["metadata"]["name"]))
        return copy.deepcopy(obj)

    def replace_deployment(self, namespace, name, body):
        old = self.deployments[name]
        assert body["metadata"]["resourceVersion"] == old["metadata"]["resourceVersion"], "stale write"
        obj = json.loads(json.dumps(body))
        generation = old["metadata"]["generation"]
        if obj["spec"] != old["spec"] or obj["metadata"].get("annotations") != old["metadata"].get("annotations"):
            generation += 1
        obj["metadata"].update(resourceVersion=self.next_rv(), generation=generation)
        obj["status"] = dict(old["status"], observedGeneration=generation)
        self.deployments[name] = obj
        self.writes.append(("replace", name))
        return copy.deepcopy(obj)

    def delete_deployment(self, namespace, name, propagation="Background"):
        self.deployments.pop(name)
        self.writes.append(("delete", name))

    def patch_sdep_status(self, namespace, name, status):
        self.sdeps[name]["status"] = {k: v for k, v in status.items() if v is not None}
        self.sdeps[name]["metadata"]["resourceVersion"] = self.next_rv()

    # what the tests do
    def apply_sdep(self, sdep):
        sdep = copy.deepcopy(sdep)
        sdep["metadata"]["resourceVersion"] = self.next_rv()
        self.sdeps[sdep["metadata"]["name"]] = sdep

    def edit_deployment(self, name, edit):
        edit(self.deployments[name])
        self.deployments[name]["metadata"]["resourceVersion"] = self.next_rv()


def iris(explainer=False, **graph):
    node = {"name": "classifier", "implementation": "SKLEARN_SERVER", "modelUri": "s3://sklearn/iris"}
    node.update(graph)
    predictor = {"name": "default", "replicas": 1, "graph": node}
    if explainer:
        predictor["explainer"] = {"type": "AnchorTabular", "modelUri": "s3://sklearn/explainer"}
    return {"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment",
            "metadata": {"name": "iris", "namespace": "ns", "uid": "uid-iris"}, "spec": {"predictors": [predictor]}}


def settle(operator, passes=6):
    """Run passes until one reconciles nothing; returns every summary."""
    summaries = []
    for _pass in range(passes):
        summaries.append(operator.run_pass())
        if not summaries[-1]["reconciled"]:
            return summaries
    raise AssertionError("no quiet pass: %s" % summaries[-1])


def scene(version, explainer=False, loop=False):
    cluster = FakeCluster(version)
    cluster.apply_sdep(iris(explainer=explainer))
    operator = standin.StandIn(cluster, "seldon-system", "ns", explainer_update_loop=loop)
    settle(operator)
    return cluster, operator


def init_image(cluster, name=MODEL):
    return cluster.deployments[name]["spec"]["template"]["spec"]["initContainers"][0]["image"]


def restart(cluster, name=MODEL):
    def _edit(deployment):
        deployment["spec"]["template"]["metadata"].setdefault("annotations", {})[
            "kubectl.kubernetes.io/restartedAt"] = "2024-01-01T00:00:00Z"
    cluster.edit_deployment(name, _edit)


def restarted_at(cluster, name=MODEL):
    return (cluster.deployments[name]["spec"]["template"]["metadata"].get("annotations") or {}).get(
        "kubectl.kubernetes.io/restartedAt")


def test_version_is_read_from_the_controller_image():
    cluster, operator = scene("1.13.1")
    assert operator.settings.version == (1, 13, 1)
    assert cluster.writes == [("create", MODEL)]


def test_quiet_cluster_is_not_reconciled_and_seldon_config_is_not_watched():
    cluster, operator = scene("1.17.1")
    cluster.config["storageInitializer"] = json.dumps(dict(STORAGE, image=RCLONE))
    assert operator.run_pass()["reconciled"] == []
    assert init_image(cluster) == STORAGE["image"]


@pytest.mark.parametrize("change", ["metadata", "owned deployment"])
def test_any_sdep_or_owned_deployment_change_reconciles_with_fresh_config(change):
    cluster, operator = scene("1.17.1")
    cluster.config["storageInitializer"] = json.dumps(dict(STORAGE, image=RCLONE))
    if change == "metadata":
        sdep = cluster.sdeps["iris"]
        sdep["metadata"]["annotations"] = {"touched": "1"}
        cluster.apply_sdep(sdep)
    else:
        cluster.edit_deployment(MODEL, lambda d: d["metadata"]["labels"].update(team="a"))
    summary = operator.run_pass()
    assert [r["why"] for r in summary["reconciled"]] == [
        "SeldonDeployment changed" if change == "metadata" else "owned Deployment changed"]
    assert init_image(cluster) == RCLONE


def test_controller_restart_is_a_full_resync():
    cluster, operator = scene("1.17.1")
    cluster.config["storageInitializer"] = json.dumps(dict(STORAGE, image=RCLONE))
    cluster.controller["spec"]["template"]["metadata"] = {"annotations": {"kubectl.kubernetes.io/restartedAt": "x"}}
    summary = operator.run_pass()
    assert summary["resync"] is True
    assert init_image(cluster) == RCLONE
    writes = len(cluster.writes)
    settle(operator)
    assert len(cluster.writes) == writes


@pytest.mark.parametrize("version, kept", [("1.15.1", True), ("1.17.1", False)])
def test_rollout_restart_of_a_model_deployment(version, kept):
    cluster, operator = scene(version)
    restart(cluster)
    settle(operator)
    assert (restarted_at(cluster) is not None) is kept
    # Any release writes its spec over a changed pod spec, and restartedAt goes with it.
    restart(cluster)
    cluster.edit_deployment(MODEL, lambda d: d["spec"]["template"]["spec"]["initContainers"][0].update(
        image="someone/else:1"))
    settle(operator)
    assert init_image(cluster) == STORAGE["image"]
    assert restarted_at(cluster) is None


def test_controller_upgrade_switches_rules():
    cluster, operator = scene("1.15.1")
    restart(cluster)
    settle(operator)
    assert restarted_at(cluster)
    cluster.controller["spec"]["template"]["spec"]["containers"][0]["image"] = "seldonio/seldon-core-operator:1.17.1"
    settle(operator)
    assert operator.settings.version == (1, 17, 1)
    assert restarted_at(cluster) is None


@pytest.mark.parametrize("version, loop, climbs", [
    ("1.17.1", True, True), ("1.17.0", True, False), ("1.17.1", False, False)])
def test_explainer_update_loop(version, loop, climbs):
    cluster, operator = scene(version, explainer=True, loop=loop)
    sdep = cluster.sdeps["iris"]
    sdep["spec"]["predictors"][0]["explainer"]["modelUri"] = "s3://sklearn/explainer-v2"
    cluster.apply_sdep(sdep)
    generations = []
    for _pass in range(4):
        operator.run_pass()
        generations.append(cluster.deployments[EXPLAINER]["metadata"]["generation"])
        # The deployment controller answers every generation change with a status update.
        cluster.edit_deployment(EXPLAINER, lambda d: d["status"].update(
            observedGeneration=d["metadata"]["generation"]))
    if climbs:
        assert generations == sorted(set(generations)) and len(generations) == 4
    else:
        assert len(set(generations)) == 1
    assert cluster.deployments[MODEL]["metadata"]["generation"] == 1
