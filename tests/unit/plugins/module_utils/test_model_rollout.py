# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verifying model Deployments from the live objects, and the restart each operator release keeps."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import jsonpatch
import pytest

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import model_rollout as mr
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import operator_rules

RCLONE = "docker.io/seldonio/rclone-storage-initializer:1.17.1"
KFSERVING = "kfserving/storage-initializer:v0.6.1"
RULES = operator_rules.rules_for((1, 17, 1))


def sdep(graph, explainer=None, specs=None, annotations=None):
    predictor = {"name": "default", "graph": graph}
    if explainer:
        predictor["explainer"] = explainer
    if specs:
        predictor["componentSpecs"] = specs
    spec = {"predictors": [predictor]}
    if annotations is not None:
        spec["annotations"] = annotations
    return {"metadata": {"name": "iris", "namespace": "models", "resourceVersion": "4"}, "spec": spec}


def model(name="classifier", **extra):
    node = {"name": name, "implementation": "SKLEARN_SERVER", "modelUri": "s3://b/m"}
    node.update(extra)
    return node


def deployment(name, inits, generation=2, observed=2, replicas=1, updated=1, available=1, uid="dep-uid"):
    return {"metadata": {"name": name, "namespace": "models", "uid": uid, "generation": generation,
                         "labels": {"seldon-deployment-id": "iris"}},
            "spec": {"replicas": replicas, "template": {"spec": {"initContainers": inits}}},
            "status": {"observedGeneration": observed, "replicas": updated, "updatedReplicas": updated,
                       "availableReplicas": available}}


def init(name, image, secret=None):
    container = {"name": name, "image": image}
    if secret:
        container["envFrom"] = [{"secretRef": {"name": secret}}]
    return container


def replica_set(name, revision, ready, owner="dep-uid", replicas=1):
    return {"metadata": {"name": name, "namespace": "models", "uid": name,
                         "annotations": {mr.REVISION_ANNOTATION: str(revision)}, "ownerReferences": [{"uid": owner}]},
            "spec": {"replicas": replicas}, "status": {"readyReplicas": ready}}


def pod(owner):
    return {"metadata": {"name": "p-" + owner, "namespace": "models", "ownerReferences": [{"uid": owner}]}}


def test_expectations_follow_pins_hand_written_containers_tfserving_and_explainers():
    specs = [{"spec": {"containers": [{"name": "hand"}], "initContainers": [{"name": "hand-model-initializer"}]}}]
    graph = model("router", implementation="RANDOM_ABTEST", modelUri="", children=[
        model("a", envSecretRefName="s3-secret"), model("b", storageInitializerImage="own:1"), model("hand"),
        model("tf", implementation="TENSORFLOW_SERVER")])
    expected = mr.expectations(sdep(graph, {"type": "AnchorTabular", "modelUri": "s3://b/e"}, specs), RULES, RCLONE,
                               "default-secret")
    assert expected[(None, "a-model-initializer")] == mr.Expectation("default/a", RCLONE, "s3-secret")
    assert expected[(None, "b-model-initializer")].image == "own:1"
    assert expected[(None, "hand-model-initializer")].image is None
    assert expected[(None, "tfserving-model-initializer")].ref == "default/tf"
    explainer = expected[("iris-default-explainer", "iris-default-explainer-model-initializer")]
    assert (explainer.image, explainer.secret) == (RCLONE, "default-secret")  # 1.17.1: explainers get the default


def test_template_findings_name_image_and_missing_env_secret():
    expected = mr.expectations(sdep(model(envSecretRefName="s3-secret")), RULES, RCLONE)
    good = deployment("iris-default-0-classifier", [init("classifier-model-initializer", RCLONE, "s3-secret")])
    assert mr.template_findings(good, expected) == []
    old = deployment("d", [init("classifier-model-initializer", KFSERVING)])
    assert mr.template_findings(old, expected) == [
        "init container classifier-model-initializer runs {0}, expected {1}".format(KFSERVING, RCLONE),
        "init container classifier-model-initializer does not read secret s3-secret (envFrom)"]


def test_rollout_findings_need_the_newest_replica_set_ready_and_no_old_pods():
    dep = deployment("d", [])
    assert mr.rollout_findings(dep, [replica_set("old", 1, 1), replica_set("new", 2, 1)], [pod("new")]) == []
    assert mr.rollout_findings(dep, [replica_set("old", 1, 1), replica_set("new", 2, 1)],
                               [pod("new"), pod("old")]) == ["1 pod(s) of older ReplicaSets left"]
    assert mr.rollout_findings(dep, [replica_set("new", 2, 0)], []) == ["newest ReplicaSet new: 0 of 1 pods ready"]
    assert mr.rollout_findings(deployment("d", [], generation=3, observed=2), [], []) == [
        "waiting for the Deployment spec update to be observed"]
    assert mr.rollout_findings(dep, [replica_set("other", 1, 1, owner="someone-else")], []) == ["no ReplicaSet found"]


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_verify_until_waits_for_the_operator_and_names_a_climbing_generation():
    expected = {("models", "iris"): mr.expectations(sdep(model()), RULES, RCLONE)}
    rounds = [
        # the operator has not re-rendered yet, then has, then keeps rewriting the Deployment
        ([deployment("d", [init("classifier-model-initializer", KFSERVING)])], [replica_set("a", 1, 1)], []),
        ([deployment("d", [init("classifier-model-initializer", RCLONE)], generation=3, observed=3)],
         [replica_set("a", 1, 1), replica_set("b", 2, 1)], [pod("b")]),
        ([deployment("d", [init("classifier-model-initializer", RCLONE)], generation=5, observed=5)],
         [replica_set("b", 2, 1)], [pod("b")]),
        ([deployment("d", [init("classifier-model-initializer", RCLONE)], generation=7, observed=7)],
         [replica_set("b", 2, 1)], [pod("b")]),
    ]
    clock = Clock()
    snapshots = iter(rounds)
    (entry,) = mr.verify_until(lambda: next(snapshots), expected, 60, 5, 2, clock, clock.sleep)
    assert not entry.verified and entry.generation == 7 and entry.findings == []
    assert "generation climbed from 3 to 7" in entry.generation_note


def test_verify_until_gives_up_at_the_timeout_with_the_last_findings():
    expected = {("models", "iris"): mr.expectations(sdep(model()), RULES, RCLONE)}
    stuck = ([deployment("d", [init("classifier-model-initializer", KFSERVING)])], [replica_set("a", 1, 1)], [])
    clock = Clock()
    (entry,) = mr.verify_until(lambda: stuck, expected, 30, 5, 2, clock, clock.sleep)
    assert not entry.verified and "runs kfserving" in entry.findings[0] and clock.now == 30


@pytest.mark.parametrize("version,method", [((1, 15, 1), mr.RESTART_THROUGH_DEPLOYMENT),
                                            ((1, 16, 0), mr.RESTART_THROUGH_SELDON_DEPLOYMENT)])
def test_the_restart_that_lasts_depends_on_the_release(version, method):
    assert mr.restart_method(operator_rules.rules_for(version)) == method


def test_seldon_restart_sets_one_annotation_once():
    obj = sdep(model(), annotations={"keep": "me"})
    plan = mr.plan_seldon_restart(obj, "2026-12-02T10:00:00Z")
    after = jsonpatch.apply_patch(obj, plan.patch)
    assert after["spec"]["annotations"] == {"keep": "me", mr.RESTART_ANNOTATION: "2026-12-02T10:00:00Z"}
    assert mr.plan_seldon_restart(after, "2026-12-02T10:00:00Z").patch is None
    bare = sdep(model())
    assert jsonpatch.apply_patch(bare, mr.plan_seldon_restart(bare, "t").patch)["spec"]["annotations"] == {
        mr.RESTART_ANNOTATION: "t"}


def test_a_restart_counts_only_once_the_pod_template_carries_it_and_a_moving_deployment_starts_over():
    expected = {("models", "iris"): mr.expectations(sdep(model()), RULES, RCLONE)}

    def with_restart(value, generation):
        dep = deployment("d", [init("classifier-model-initializer", RCLONE)], generation=generation, observed=generation)
        if value:
            dep["spec"]["template"]["metadata"] = {"annotations": {mr.RESTART_ANNOTATION: value}}
        return [dep], [replica_set("b", 2, 1)], [pod("b")]

    rounds = iter([with_restart(None, 2), with_restart("t1", 3), with_restart("t1", 3), with_restart("t1", 3)])
    clock = Clock()
    (entry,) = mr.verify_until(lambda: next(rounds), expected, 60, 5, 2, clock, clock.sleep,
                               restart=mr.restart_annotation(mr.RESTART_THROUGH_SELDON_DEPLOYMENT, "t1"))
    assert entry.verified and entry.generation == 3 and clock.now == 15


def test_a_hand_written_init_container_is_not_expected_to_read_a_secret():
    specs = [{"spec": {"containers": [{"name": "classifier"}], "initContainers": [{"name": "classifier-model-initializer"}]}}]
    expected = mr.expectations(sdep(model(envSecretRefName="s3"), specs=specs), RULES, RCLONE)
    assert expected[(None, "classifier-model-initializer")] == mr.Expectation("default/classifier", None, "")
