# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

import jsonpatch
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible.errors import AnsibleFilterError
from ansible_collections.seldon_ops.rclone_migration.plugins.filter import migration_report as mr

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


def apply_merge_patch(obj, patch):
    """RFC 7386, as the API server applies application/merge-patch+json."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(obj) if isinstance(obj, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


def deployment(name, sdep_name, init_containers, generation=2, observed=2, replicas=1, updated=1, available=1):
    return {
        "metadata": {"name": name, "namespace": "models", "generation": generation,
                     "labels": {"seldon-deployment-id": sdep_name}},
        "spec": {"replicas": replicas, "template": {"spec": {
            "initContainers": [{"name": n, "image": i} for n, i in init_containers],
            "containers": [{"name": "x", "image": "y"}]}}},
        "status": {"observedGeneration": observed, "replicas": updated, "updatedReplicas": updated,
                   "availableReplicas": available},
    }


# --- storage_initializer_image ------------------------------------------------------------------

def config_map(image):
    return [{"data": {"storageInitializer": json.dumps({"image": image, "cpuRequest": "100m"})}}]


def controller(env_value=None):
    env = [{"name": "RELATED_IMAGE_STORAGE_INITIALIZER", "value": env_value}] if env_value is not None else []
    return [{"spec": {"template": {"spec": {"containers": [{"name": "manager", "env": env}]}}}}]


def test_image_from_seldon_config():
    result = mr.storage_initializer_image(config_map(KFSERVING), controller(""))
    assert (result["image"], result["source"]) == (KFSERVING, "seldon-config storageInitializer")
    assert result["operator_found"] is True


def test_controller_env_wins_over_seldon_config():
    result = mr.storage_initializer_image(config_map(RCLONE), controller(KFSERVING))
    assert result["image"] == KFSERVING
    assert result["controller_env_image"] == KFSERVING
    assert result["configmap_image"] == RCLONE


def test_operator_default_without_config():
    result = mr.storage_initializer_image([], [])
    assert result["image"] == mr.OPERATOR_DEFAULT_INITIALIZER
    assert result["operator_found"] is False


def test_invalid_seldon_config_json_is_a_clear_error():
    with pytest.raises(AnsibleFilterError, match="not valid JSON"):
        mr.storage_initializer_image([{"data": {"storageInitializer": "{nope"}}])


# --- storage_summary / conversion_outcome --------------------------------------------------------

INFO = {
    "nodes": [
        {"namespace": "m", "deployment": "a", "predictor": "p", "node": "n1", "status": "migrated", "reason": "ok"},
        {"namespace": "m", "deployment": "a", "predictor": "p", "node": "n2", "status": "convertible", "reason": "c"},
        {"namespace": "m", "deployment": "b", "predictor": "p", "node": "n", "status": "needs_secret_ref", "reason": "sa"},
        {"namespace": "m", "deployment": "c", "predictor": "p", "node": ".explainer", "status": "blocked",
         "reason": "secret s3-creds missing"},
    ],
    "secrets": [
        {"namespace": "m", "name": "az", "status": "blocked", "reason": "Azure service principal"},
        {"namespace": "m", "name": "ok", "status": "convertible", "reason": ""},
    ],
    "summary": {"deployments": 4},
    "ready_for_upgrade": False,
}


def test_storage_summary_counts_and_findings():
    summary = mr.storage_summary(INFO)
    assert summary["counts"] == {"migrated": 1, "convertible": 1, "needs_secret_ref": 1, "blocked": 1,
                                 "no_credentials": 0, "deployments": 4, "nodes": 4}
    assert [f["text"] for f in summary["blocked"]] == [
        "m/c p/.explainer: secret s3-creds missing", "secret m/az: Azure service principal"]
    assert [f["where"] for f in summary["not_ready"]] == ["m/a p/n2", "m/b p/n", "m/c p/.explainer"]
    assert summary["ready_for_upgrade"] is False


def test_storage_summary_counts_deployments_without_summary():
    info = dict(INFO, summary={})
    assert mr.storage_summary(info)["counts"]["deployments"] == 3


def test_storage_summary_of_nothing():
    summary = mr.storage_summary({})
    assert summary["counts"]["nodes"] == 0 and summary["blocked"] == [] and summary["ready_for_upgrade"] is False


def test_conversion_outcome():
    outcome = mr.conversion_outcome(
        [{"namespace": "m", "name": "s1", "action": "converted", "added_keys": ["RCLONE_CONFIG_S3_TYPE"]},
         {"namespace": "m", "name": "s2", "action": "unchanged"},
         {"namespace": "m", "name": "s3", "action": "conflict", "reason": "RCLONE_CONFIG_S3_ENDPOINT differs"},
         {"namespace": "m", "name": "s4", "action": "skipped", "reason": "no credentials"}],
        [{"namespace": "m", "name": "d1", "action": "patched", "nodes": [{"ref": "p/n", "action": "set", "secret": "s1"}]},
         {"namespace": "m", "name": "d2", "action": "unchanged", "nodes": []},
         {"namespace": "m", "name": "d3", "action": "blocked", "reason": "service account lists no S3 secret"}])
    assert outcome["secret_actions"] == {"converted": 1, "unchanged": 1, "conflict": 1, "skipped": 1}
    assert [s["name"] for s in outcome["converted"]] == ["s1"]
    assert [d["name"] for d in outcome["refs_added"]] == ["d1"]
    assert outcome["problems"] == [
        "secret m/s3: conflict: RCLONE_CONFIG_S3_ENDPOINT differs",
        "SeldonDeployment m/d3: blocked: service account lists no S3 secret"]
    assert outcome["changed"] is True


def test_conversion_outcome_nothing_changed():
    outcome = mr.conversion_outcome([{"action": "unchanged"}], [{"action": "unchanged"}])
    assert outcome["changed"] is False and outcome["problems"] == []


# --- canary_pin / canary_unpin -------------------------------------------------------------------

def test_canary_pin_sets_unpinned_model_nodes_at_any_depth_and_marks_them():
    obj = sdep(graph=nested_graph(), explainer={"type": "AnchorTabular", "modelUri": "s3://explainer/x"})
    plan = mr.canary_pin(obj, RCLONE, MARK)
    assert plan["changed"] is True
    assert sorted(plan["pinned"]) == ["default/.explainer", "default/a", "default/c"]
    assert plan["kept"] == [{"ref": "default/b", "reason": "pins its own image example.org/own:1"}]
    assert plan["patch"]["metadata"]["resourceVersion"] == "7"
    after = apply_merge_patch(obj, plan["patch"])
    graph = after["spec"]["predictors"][0]["graph"]
    assert "storageInitializerImage" not in graph  # RANDOM_ABTEST loads no model
    assert graph["children"][0]["storageInitializerImage"] == RCLONE
    assert graph["children"][1]["storageInitializerImage"] == "example.org/own:1"
    assert graph["children"][1]["children"][0]["storageInitializerImage"] == RCLONE
    assert "storageInitializerImage" not in graph["children"][2]  # custom container
    assert after["spec"]["predictors"][0]["explainer"]["storageInitializerImage"] == RCLONE
    assert json.loads(after["metadata"]["annotations"][MARK]) == ["default/.explainer", "default/a", "default/c"]
    # the input is never modified
    assert "storageInitializerImage" not in obj["spec"]["predictors"][0]["graph"]["children"][0]


def test_canary_pin_twice_is_a_no_op():
    obj = sdep(graph=nested_graph())
    after = apply_merge_patch(obj, mr.canary_pin(obj, RCLONE, MARK)["patch"])
    again = mr.canary_pin(after, RCLONE, MARK)
    assert again == {"changed": False, "patch": {}, "pinned": [], "kept": again["kept"]}


def test_canary_pin_leaves_hand_written_initializers():
    obj = sdep()
    obj["spec"]["predictors"][0]["componentSpecs"] = [{"spec": {
        "containers": [{"name": "classifier"}],
        "initContainers": [{"name": "classifier-model-initializer", "image": KFSERVING}]}}]
    plan = mr.canary_pin(obj, RCLONE, MARK)
    assert plan["changed"] is False
    assert plan["kept"][0]["reason"] == "hand-written init container classifier-model-initializer"


def test_canary_unpin_removes_exactly_what_pin_added():
    obj = sdep(graph=nested_graph(), explainer={"type": "AnchorTabular", "modelUri": "s3://explainer/x"},
               annotations={"keep": "me"})
    pinned = apply_merge_patch(obj, mr.canary_pin(obj, RCLONE, MARK)["patch"])
    plan = mr.canary_unpin(pinned, MARK)
    assert sorted(plan["unpinned"]) == ["default/.explainer", "default/a", "default/c"]
    restored = apply_merge_patch(pinned, plan["patch"])
    restored["metadata"]["resourceVersion"] = obj["metadata"]["resourceVersion"]
    assert restored == obj
    assert mr.canary_unpin(restored, MARK) == {"changed": False, "patch": {}, "unpinned": []}


def test_canary_unpin_keeps_a_value_somebody_changed():
    obj = sdep()
    pinned = apply_merge_patch(obj, mr.canary_pin(obj, RCLONE, MARK)["patch"])
    pinned["spec"]["predictors"][0]["graph"]["storageInitializerImage"] = "example.org/other:2"
    plan = mr.canary_unpin(pinned, MARK, image=RCLONE)
    assert plan["unpinned"] == []
    after = apply_merge_patch(pinned, plan["patch"])
    assert after["spec"]["predictors"][0]["graph"]["storageInitializerImage"] == "example.org/other:2"
    assert MARK not in after["metadata"].get("annotations", {})


def test_canary_annotation_must_be_json():
    with pytest.raises(AnsibleFilterError, match="not valid JSON"):
        mr.canary_unpin(sdep(annotations={MARK: "not json"}), MARK)


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
    pin = mr.canary_pin(obj, RCLONE, MARK)
    pinned = apply_merge_patch(obj, pin["patch"]) if pin["changed"] else obj
    assert mr.canary_pin(pinned, RCLONE, MARK)["changed"] is False
    unpin = mr.canary_unpin(pinned, MARK)
    restored = apply_merge_patch(pinned, unpin["patch"]) if unpin["changed"] else pinned
    restored["metadata"] = obj["metadata"]
    if "annotations" in restored["metadata"] and not restored["metadata"]["annotations"]:
        del restored["metadata"]["annotations"]
    assert restored == obj
    # every change is confined to storageInitializerImage values and the annotation
    ops = jsonpatch.make_patch(obj["spec"], pinned["spec"]).patch
    assert all(op["path"].endswith("/storageInitializerImage") and op["op"] == "add" for op in ops)


# --- model_rollout_state -------------------------------------------------------------------------

def test_rollout_state_expects_the_target_except_own_pins():
    obj = sdep(graph=nested_graph())
    deployments = [deployment("iris-default-0-a-b-c", "iris", [
        ("a-model-initializer", RCLONE), ("b-model-initializer", "example.org/own:1"),
        ("c-model-initializer", KFSERVING)])]
    state = mr.model_rollout_state(deployments, [obj], RCLONE)
    assert state["mismatches"] == [{"namespace": "models", "deployment": "iris-default-0-a-b-c",
                                    "container": "c-model-initializer", "image": KFSERVING, "expected": RCLONE}]
    assert state["incomplete"] == [] and state["done"] is False


def test_rollout_state_explainer_and_progress():
    obj = sdep(explainer={"type": "AnchorTabular", "modelUri": "s3://e/x", "storageInitializerImage": KFSERVING})
    deployments = [
        deployment("iris-default-explainer", "iris", [("explainer-model-initializer", KFSERVING)]),
        deployment("iris-default-0-classifier", "iris", [("classifier-model-initializer", RCLONE)], generation=3),
    ]
    state = mr.model_rollout_state(deployments, [obj], RCLONE)
    assert state["mismatches"] == []
    assert [i["deployment"] for i in state["incomplete"]] == ["iris-default-0-classifier"]
    assert state["deployments"] == ["models/iris-default-explainer", "models/iris-default-0-classifier"]


def test_rollout_state_done():
    state = mr.model_rollout_state(
        [deployment("d", "iris", [("classifier-model-initializer", RCLONE)])], [sdep()], RCLONE)
    assert state["done"] is True


def test_rollout_problems_are_sentences():
    problems = mr.rollout_problems(
        [{"kind": "Deployment", "namespace": "m", "name": "d", "reason": "not complete after 5s"}],
        {"mismatches": [{"namespace": "m", "deployment": "d", "container": "c-model-initializer",
                         "image": KFSERVING, "expected": RCLONE}]})
    assert problems == [
        "rollout of Deployment m/d not complete: not complete after 5s",
        "m/d init container c-model-initializer runs {0}, expected {1}".format(KFSERVING, RCLONE)]


# --- fleet_summary -------------------------------------------------------------------------------

def test_fleet_summary_rows_totals_and_missing_reports():
    reports = {
        "prod": {"cluster": "prod", "context": "prod-ctx", "status": "blocked",
                 "counts": {"deployments": 3, "nodes": 4, "migrated": 1, "blocked": 1},
                 "blocked": [{"text": "m/a p/n: secret missing"}], "problems": [],
                 "storage_initializer": {"before": KFSERVING}},
        "stage": {"cluster": "stage", "status": "failed", "error": "API unreachable",
                  "counts": {}, "blocked": [], "problems": ["x"]},
    }
    summary = mr.fleet_summary(reports, ["stage", "prod", "dev"])
    assert [r["cluster"] for r in summary["rows"]] == ["stage", "prod", "dev"]
    prod = summary["rows"][1]
    assert (prod["deployments"], prod["migrated"], prod["blocked"], prod["reasons"], prod["image"]) == (
        3, 1, 1, ["m/a p/n: secret missing"], KFSERVING)
    assert summary["rows"][0]["problems"] == ["API unreachable", "x"]
    assert summary["rows"][2]["status"] == "no report" and summary["rows"][2]["reasons"] == []
    assert summary["totals"] == {"clusters": 3, "deployments": 3, "nodes": 4, "migrated": 1, "blocked": 1, "failed": 2}


def test_fleet_summary_accepts_a_list():
    summary = mr.fleet_summary([{"cluster": "a", "status": "migrated", "counts": {"nodes": 2, "migrated": 2}}])
    assert summary["rows"][0]["migrated"] == 2 and summary["totals"]["clusters"] == 1
