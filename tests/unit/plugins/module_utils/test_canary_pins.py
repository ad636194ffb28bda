# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Canary pins: which nodes get storageInitializerImage, the record, and exactly undoing it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

import jsonpatch
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import canary_pins as cp

RCLONE = "docker.io/seldonio/rclone-storage-initializer:1.17.1"
KFSERVING = "gcr.io/kfserving/storage-initializer:v0.4.0"
MARK = "rclone-migration.seldon-ops.io/canary-pinned-nodes"


def sdep(name="iris", namespace="models", graph=None, explainer=None, resource_version="7", annotations=None):
    predictor = {"name": "default", "graph": graph or {
        "name": "classifier", "implementation": "SKLEARN_SERVER", "modelUri": "s3://sklearn/iris"}}
    if explainer:
        predictor["explainer"] = explainer
    metadata = {"name": name, "namespace": namespace, "resourceVersion": resource_version}
    if annotations is not None:
        metadata["annotations"] = annotations
    return {"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment",
            "metadata": metadata, "spec": {"predictors": [predictor]}}


def nested_graph():
    return {
        "name": "router", "implementation": "RANDOM_ABTEST", "modelUri": "s3://ignored/router",
        "children": [
            {"name": "a", "implementation": "SKLEARN_SERVER", "modelUri": "s3://sklearn/a"},
            {"name": "b", "implementation": "XGBOOST_SERVER", "modelUri": "s3://xgb/b",
             "storageInitializerImage": "example.org/own:1",
             "children": [{"name": "c", "implementation": "SKLEARN_SERVER", "modelUri": "s3://sklearn/c"}]},
            {"name": "custom", "modelUri": "s3://custom/x"},
        ],
    }


# Nodes with their own image are left alone. (So are the router and the custom node, which the
# newest operator release would give an init container but cannot render without a componentSpecs
# container: seldon_graph reports them as a problem; other releases give them none.)
OWN_IMAGE_KEPT = {"ref": "default/b", "reason": "pins its own image example.org/own:1"}


def apply(obj, plan):
    """The object as the API server stores it after the plan's JSON patch (the input stays)."""
    return jsonpatch.apply_patch(obj, plan.patch) if plan.patch is not None else copy.deepcopy(obj)


def test_the_annotation_key_is_the_documented_one():
    assert cp.CANARY_ANNOTATION == MARK


def test_pin_sets_unpinned_model_nodes_at_any_depth_and_marks_them():
    obj = sdep(graph=nested_graph(), explainer={"type": "AnchorTabular", "modelUri": "s3://explainer/x"})
    original = copy.deepcopy(obj)
    plan = cp.plan_pin(obj, RCLONE)
    assert plan.patch is not None and plan.problem == ""
    assert sorted(plan.nodes) == ["default/.explainer", "default/a", "default/c"]
    assert OWN_IMAGE_KEPT in plan.kept
    assert plan.patch[0] == {"op": "replace", "path": "/metadata/resourceVersion", "value": "7"}
    after = apply(obj, plan)
    graph = after["spec"]["predictors"][0]["graph"]
    assert "storageInitializerImage" not in graph  # RANDOM_ABTEST loads no model
    assert graph["children"][0]["storageInitializerImage"] == RCLONE
    assert graph["children"][1]["storageInitializerImage"] == "example.org/own:1"
    assert graph["children"][1]["children"][0]["storageInitializerImage"] == RCLONE
    assert "storageInitializerImage" not in graph["children"][2]  # custom container
    assert after["spec"]["predictors"][0]["explainer"]["storageInitializerImage"] == RCLONE
    assert json.loads(after["metadata"]["annotations"][MARK]) == ["default/.explainer", "default/a", "default/c"]
    # the input is never modified
    assert obj == original


def test_pin_edits_single_fields_never_a_list():
    plan = cp.plan_pin(sdep(graph=nested_graph(), annotations={"keep": "me"}), RCLONE)
    assert [op["op"] for op in plan.patch] == ["replace", "add", "add", "add"]
    assert [op["path"] for op in plan.patch[1:]] == [
        "/spec/predictors/0/graph/children/0/storageInitializerImage",
        "/spec/predictors/0/graph/children/1/children/0/storageInitializerImage",
        "/metadata/annotations/rclone-migration.seldon-ops.io~1canary-pinned-nodes"]


def test_pin_twice_is_a_no_op():
    obj = sdep(graph=nested_graph())
    after = apply(obj, cp.plan_pin(obj, RCLONE))
    again = cp.plan_pin(after, RCLONE)
    assert (again.patch, again.nodes, again.diff) == (None, [], None)
    assert OWN_IMAGE_KEPT in again.kept


def test_pin_leaves_hand_written_initializers():
    obj = sdep()
    obj["spec"]["predictors"][0]["componentSpecs"] = [{"spec": {
        "containers": [{"name": "classifier"}],
        "initContainers": [{"name": "classifier-model-initializer", "image": KFSERVING}]}}]
    plan = cp.plan_pin(obj, RCLONE)
    assert plan.patch is None
    assert plan.kept[0]["reason"] == "hand-written init container classifier-model-initializer"


def test_pin_leaves_a_node_it_cannot_read():
    obj = sdep(graph={"name": "classifier", "implementation": "SKLEARN_SERVER", "modelUri": "s3://sklearn/iris",
                      "storageInitializerImage": 5})
    plan = cp.plan_pin(obj, RCLONE)
    assert plan.patch is None and [kept["ref"] for kept in plan.kept] == ["default/classifier"]


def test_pin_keeps_what_an_earlier_pin_recorded():
    obj = sdep(graph=nested_graph(), annotations={MARK: json.dumps(["default/gone"])})
    after = apply(obj, cp.plan_pin(obj, RCLONE))
    assert json.loads(after["metadata"]["annotations"][MARK]) == ["default/a", "default/c", "default/gone"]


def test_unpin_removes_exactly_what_pin_added():
    obj = sdep(graph=nested_graph(), explainer={"type": "AnchorTabular", "modelUri": "s3://explainer/x"},
               annotations={"keep": "me"})
    pinned = apply(obj, cp.plan_pin(obj, RCLONE))
    plan = cp.plan_unpin(pinned)
    assert sorted(plan.nodes) == ["default/.explainer", "default/a", "default/c"]
    assert plan.patch[0] == {"op": "replace", "path": "/metadata/resourceVersion", "value": "7"}
    restored = apply(pinned, plan)
    restored["metadata"]["resourceVersion"] = obj["metadata"]["resourceVersion"]
    assert restored == obj
    again = cp.plan_unpin(restored)
    assert (again.patch, again.nodes, again.kept, again.problem) == (None, [], [], "")


def test_unpin_keeps_a_value_somebody_changed():
    obj = sdep()
    pinned = apply(obj, cp.plan_pin(obj, RCLONE))
    pinned["spec"]["predictors"][0]["graph"]["storageInitializerImage"] = "example.org/other:2"
    plan = cp.plan_unpin(pinned, image=RCLONE)
    assert plan.nodes == []
    assert plan.kept == [{"ref": "default/classifier", "reason":
                          "storageInitializerImage changed to example.org/other:2 since the canary set it: left as is"}]
    after = apply(pinned, plan)
    assert after["spec"]["predictors"][0]["graph"]["storageInitializerImage"] == "example.org/other:2"
    assert MARK not in after["metadata"].get("annotations", {})


def test_unpin_without_an_image_removes_any_recorded_value():
    obj = sdep()
    pinned = apply(obj, cp.plan_pin(obj, RCLONE))
    pinned["spec"]["predictors"][0]["graph"]["storageInitializerImage"] = "example.org/other:2"
    plan = cp.plan_unpin(pinned)
    assert plan.nodes == ["default/classifier"]
    assert plan.diff == ({"default/classifier": {"storageInitializerImage": "example.org/other:2"}},
                         {"default/classifier": {"storageInitializerImage": None}})


def test_unpin_of_a_node_that_is_gone():
    obj = sdep(annotations={MARK: json.dumps(["default/removed"])})
    plan = cp.plan_unpin(obj)
    assert plan.nodes == [] and plan.kept[0]["ref"] == "default/removed"
    assert MARK not in apply(obj, plan)["metadata"]["annotations"]


def test_an_unreadable_annotation_is_a_reason_not_an_exception():
    for broken in ("not json", '{"default/classifier": 1}', ""):
        obj = sdep(annotations={MARK: broken})
        for plan in (cp.plan_unpin(obj), cp.plan_pin(obj, RCLONE)):
            assert plan.patch is None
            assert "is not a JSON list" in plan.problem
        entry = cp.deployment_entry("models", "iris", cp.plan_unpin(obj), removing=True)
        assert entry["action"] == "failed" and "is not a JSON list" in entry["reason"]


def test_diff_shows_the_image_per_node_before_and_after():
    plan = cp.plan_pin(sdep(), RCLONE)
    assert plan.diff == ({"default/classifier": {"storageInitializerImage": None}},
                         {"default/classifier": {"storageInitializerImage": RCLONE}})


def test_deployment_entries():
    obj = sdep(graph=nested_graph())
    pin = cp.plan_pin(obj, RCLONE)
    entry = cp.deployment_entry("models", "iris", pin, removing=False)
    assert (entry["action"], entry["nodes"]) == ("pinned", ["default/a", "default/c"])
    assert entry["reason"] == "2 node(s): default/a, default/c"
    unchanged = cp.deployment_entry("models", "iris", cp.plan_pin(apply(obj, pin), RCLONE), removing=False)
    assert unchanged["action"] == "unchanged" and "default/b: pins its own image example.org/own:1" in unchanged["reason"]
    unpinned = cp.deployment_entry("models", "iris", cp.plan_unpin(apply(obj, pin)), removing=True)
    assert unpinned["action"] == "unpinned"
    failed = cp.deployment_entry("models", "iris", pin, removing=False, error="PATCH SeldonDeployment models/iris: 403 Forbidden")
    assert failed["action"] == "failed" and failed["reason"].endswith("403 Forbidden")
    assert cp.not_found_entry("models", "gone")["action"] == "not_found"


NODE_NAMES = st.text(alphabet="abcdefghij-", min_size=1, max_size=6)


@st.composite
def graphs(draw, depth=0):
    node = {"name": draw(NODE_NAMES),
            "implementation": draw(st.sampled_from(["SKLEARN_SERVER", "SIMPLE_MODEL", "XGBOOST_SERVER", ""]))}
    if draw(st.booleans()):
        node["modelUri"] = "s3://bucket/" + node["name"]
    if draw(st.booleans()):
        node["storageInitializerImage"] = draw(st.sampled_from([RCLONE, "example.org/own:1"]))
    if depth < 2:
        node["children"] = draw(st.lists(graphs(depth=depth + 1), max_size=2))
    return node


@settings(max_examples=150, deadline=None)
@given(graphs())
def test_pin_then_unpin_round_trips(graph):
    # names are unique inside a predictor, as Seldon requires
    seen = set()
    stack = [graph]
    while stack:
        node = stack.pop()
        while node["name"] in seen:
            node["name"] += "x"
        seen.add(node["name"])
        stack.extend(node.get("children", []))
    obj = sdep(graph=graph)
    pin = cp.plan_pin(obj, RCLONE)
    pinned = apply(obj, pin)
    assert cp.plan_pin(pinned, RCLONE).patch is None
    unpin = cp.plan_unpin(pinned)
    restored = apply(pinned, unpin)
    restored["metadata"] = obj["metadata"]
    assert restored == obj
    # every change is confined to storageInitializerImage values and the annotation
    ops = jsonpatch.make_patch(obj["spec"], pinned["spec"]).patch
    assert all(op["path"].endswith("/storageInitializerImage") and op["op"] == "add" for op in ops)
    assert all(op["path"].endswith("/storageInitializerImage") or op["path"].startswith("/metadata/")
               for op in (pin.patch or []) + (unpin.patch or []))
