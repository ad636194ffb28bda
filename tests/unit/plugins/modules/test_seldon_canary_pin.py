# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""seldon_canary_pin's flow against the in-memory API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import canary_pins
from ansible_collections.seldon_ops.rclone_migration.plugins.modules import seldon_canary_pin as canary

RCLONE = "docker.io/seldonio/rclone-storage-initializer:1.17.1"
NAMESPACE = "canary-ns"


def model(name, **extra):
    out = {"name": name, "implementation": "SKLEARN_SERVER", "modelUri": "s3://models/" + name}
    out.update(extra)
    return out


def seed(cluster):
    graph = {"name": "router", "implementation": "RANDOM_ABTEST", "children": [
        model("a", env=[{"name": "LITERAL", "value": "#env-canary-0001"}]),
        model("b", storageInitializerImage="example.org/own:1"),
    ]}
    cluster.add("SeldonDeployment", {"metadata": {"name": "nested", "namespace": NAMESPACE}, "spec": {"predictors": [
        {"name": "main", "graph": graph, "explainer": {"type": "AnchorTabular", "modelUri": "s3://models/explainer"}}]}})
    cluster.add("SeldonDeployment", {"metadata": {"name": "other", "namespace": NAMESPACE}, "spec": {"predictors": [
        {"name": "main", "graph": model("m")}]}})


def canaries(*names):
    return [{"namespace": NAMESPACE, "name": name} for name in names]


def test_pin_then_nothing_then_unpin_restores_the_object(cluster, run_module):
    seed(cluster)
    original = copy.deepcopy(cluster.obj("SeldonDeployment", NAMESPACE, "nested"))
    result, failed, _module = run_module(canary, deployments=canaries("nested"), image=RCLONE)
    assert not failed and result["changed"]
    assert result["deployments"] == [{
        "namespace": NAMESPACE, "name": "nested", "action": "pinned", "nodes": ["main/a", "main/.explainer"],
        "kept": [{"ref": "main/b", "reason": "pins its own image example.org/own:1"}],
        "reason": "2 node(s): main/a, main/.explainer"}]
    assert result["summary"] == {"pinned": 1}
    assert result["api_requests"] == {"get": 1, "patch": 1}
    assert [call[:2] for call in cluster.writes()] == [("patch", "SeldonDeployment")]
    stored = cluster.obj("SeldonDeployment", NAMESPACE, "nested")
    predictor = stored["spec"]["predictors"][0]
    assert predictor["graph"]["children"][0]["storageInitializerImage"] == RCLONE
    assert predictor["graph"]["children"][1]["storageInitializerImage"] == "example.org/own:1"
    assert predictor["explainer"]["storageInitializerImage"] == RCLONE
    assert json.loads(stored["metadata"]["annotations"][canary_pins.CANARY_ANNOTATION]) == ["main/.explainer", "main/a"]
    assert result["diff"]["after"]["{0}/nested".format(NAMESPACE)] == {
        "main/a": {"storageInitializerImage": RCLONE}, "main/.explainer": {"storageInitializerImage": RCLONE}}
    # names, refs and images only: never the object (its env may hold literal values)
    assert "#env-canary" not in json.dumps(result)

    cluster.calls[:] = []
    result, _failed, _module = run_module(canary, deployments=canaries("nested"), image=RCLONE)
    assert not result["changed"] and cluster.writes() == []
    assert result["deployments"][0]["action"] == "unchanged"

    cluster.calls[:] = []
    result, failed, _module = run_module(canary, namespaces=[NAMESPACE], image=RCLONE, state="absent")
    assert not failed and result["changed"]
    assert [(e["name"], e["action"], e["nodes"]) for e in result["deployments"]] == [
        ("nested", "unpinned", ["main/.explainer", "main/a"])]
    assert result["api_requests"] == {"list": 1, "patch": 1}
    assert result["diff"]["before"]["{0}/nested".format(NAMESPACE)]["main/a"] == {"storageInitializerImage": RCLONE}
    restored = cluster.obj("SeldonDeployment", NAMESPACE, "nested")
    assert restored["metadata"].pop("annotations") == {}
    restored["metadata"].pop("resourceVersion")
    original["metadata"].pop("resourceVersion")
    assert restored == original

    cluster.calls[:] = []
    result, _failed, _module = run_module(canary, state="absent")
    assert not result["changed"] and result["deployments"] == [] and cluster.writes() == []


def test_check_mode_writes_nothing_and_shows_the_diff(cluster, run_module):
    seed(cluster)
    result, failed, _module = run_module(canary, check_mode=True, deployments=canaries("nested", "other"), image=RCLONE)
    assert not failed and result["changed"] and cluster.writes() == []
    assert [e["action"] for e in result["deployments"]] == ["pinned", "pinned"]
    assert set(result["diff"]["after"]) == {NAMESPACE + "/nested", NAMESPACE + "/other"}
    assert canary_pins.CANARY_ANNOTATION not in cluster.obj("SeldonDeployment", NAMESPACE, "nested")["metadata"].get(
        "annotations", {})


def test_a_missing_canary_is_reported_and_the_others_are_pinned(cluster, run_module):
    seed(cluster)
    result, failed, module = run_module(canary, deployments=canaries("gone", "other", "other"), image=RCLONE)
    assert not failed
    assert [(e["name"], e["action"]) for e in result["deployments"]] == [("gone", "not_found"), ("other", "pinned")]
    assert module.warnings == ["SeldonDeployment {0}/gone not found".format(NAMESPACE)]


def test_conflict_is_retried_on_a_fresh_read(cluster, run_module):
    seed(cluster)
    cluster.conflicts_to_inject[("SeldonDeployment", NAMESPACE, "nested")] = 2
    result, failed, _module = run_module(canary, deployments=canaries("nested"), image=RCLONE)
    assert not failed
    assert [call[0] for call in cluster.calls] == ["get", "patch", "get", "patch", "get", "patch"]
    assert result["deployments"][0]["action"] == "pinned"
    stored = cluster.obj("SeldonDeployment", NAMESPACE, "nested")
    assert stored["metadata"]["labels"] == {"touched": "yes"}  # the concurrent edit stays
    assert stored["spec"]["predictors"][0]["graph"]["children"][0]["storageInitializerImage"] == RCLONE


def test_unpin_after_a_concurrent_edit_replans(cluster, run_module):
    seed(cluster)
    run_module(canary, deployments=canaries("nested"), image=RCLONE)
    cluster.conflicts_to_inject[("SeldonDeployment", NAMESPACE, "nested")] = 1
    cluster.calls[:] = []
    result, failed, _module = run_module(canary, namespaces=[NAMESPACE], state="absent")
    assert not failed and result["deployments"][0]["action"] == "unpinned"
    assert [call[0] for call in cluster.calls] == ["list", "patch", "get", "patch"]
    stored = cluster.obj("SeldonDeployment", NAMESPACE, "nested")
    assert "storageInitializerImage" not in stored["spec"]["predictors"][0]["graph"]["children"][0]


def test_failed_patch_is_reported_per_object_and_fails_the_task(cluster, run_module):
    seed(cluster)
    cluster.forbidden_writes.add(("SeldonDeployment", NAMESPACE, "nested"))
    result, failed, _module = run_module(canary, deployments=canaries("nested", "other"), image=RCLONE)
    assert failed
    assert [(e["name"], e["action"]) for e in result["deployments"]] == [("nested", "failed"), ("other", "pinned")]
    assert result["msg"] == ("1 of 2 deployments failed - PATCH SeldonDeployment: 403 Forbidden ({0}/nested). "
                             "Done: pinned 1 ({0}/other).".format(NAMESPACE))
    assert "secret-bearing" not in json.dumps(result) and "#env-canary" not in json.dumps(result)


def test_an_unreadable_annotation_fails_that_object_only(cluster, run_module):
    seed(cluster)
    cluster.bump("SeldonDeployment", NAMESPACE, "other",
                 lambda obj: obj["metadata"].update(annotations={canary_pins.CANARY_ANNOTATION: "oops"}))
    result, failed, _module = run_module(canary, deployments=canaries("nested", "other"), image=RCLONE)
    assert failed and cluster.writes() == [("patch", "SeldonDeployment", NAMESPACE, "nested")]
    assert "is not a JSON list" in result["deployments"][1]["reason"]
