# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Graph walk: which nodes load models, their credentials, pointers back into the object."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import json_patch
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import operator_rules
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_graph as sg


def sdep(predictors, namespace="models", name="iris", protocol=None):
    spec = {"predictors": predictors}
    if protocol:
        spec["protocol"] = protocol
    return {"metadata": {"namespace": namespace, "name": name}, "spec": spec}


def node(name, implementation="SKLEARN_SERVER", uri="s3://b/p", children=None, **extra):
    out = {"name": name, "implementation": implementation, "modelUri": uri}
    if implementation is None:
        del out["implementation"]
    if uri is None:
        del out["modelUri"]
    if children:
        out["children"] = children
    out.update(extra)
    return out


def test_nested_children_at_any_depth_are_found_with_pointers():
    graph = node("router", implementation="RANDOM_ABTEST", uri=None, children=[
        node("a"),
        node("combiner", implementation="AVERAGE_COMBINER", uri=None, children=[
            node("b", implementation="XGBOOST_SERVER"),
            node("c", implementation="MLFLOW_SERVER", children=[node("d", implementation="TENSORFLOW_SERVER")]),
        ]),
    ])
    nodes, ignored = sg.model_loading_nodes(sdep([{"name": "p", "graph": graph}]))
    assert [(n["node"], n["depth"], n["path"]) for n in nodes] == [
        ("a", 1, "/spec/predictors/0/graph/children/0"),
        ("b", 2, "/spec/predictors/0/graph/children/1/children/0"),
        ("c", 2, "/spec/predictors/0/graph/children/1/children/1"),
        ("d", 3, "/spec/predictors/0/graph/children/1/children/1/children/0"),
    ]
    assert ignored == []


@pytest.mark.parametrize("implementation,loads", [
    ("SKLEARN_SERVER", True), ("XGBOOST_SERVER", True), ("TENSORFLOW_SERVER", True), ("MLFLOW_SERVER", True),
    ("TRITON_SERVER", True), ("HUGGINGFACE_SERVER", True), ("CUSTOM_PREPACKAGED", True),
    ("SIMPLE_MODEL", False), ("SIMPLE_ROUTER", False), ("RANDOM_ABTEST", False),
    ("AVERAGE_COMBINER", False), ("UNKNOWN_IMPLEMENTATION", False), ("", False), (None, False),
])
def test_which_implementations_load_models(implementation, loads):
    """Up to operator 1.17.0 (docs/operator-versions.md, rule 3)."""
    before = operator_rules.rules_for((1, 17, 0))
    nodes, ignored = sg.model_loading_nodes(sdep([{"name": "p", "graph": node("m", implementation=implementation)}]),
                                            before)
    assert bool(nodes) is loads
    assert bool(ignored) is (not loads)
    if not loads:
        assert ignored[0]["reason"]


@pytest.mark.parametrize("implementation", ["SIMPLE_MODEL", "RANDOM_ABTEST", "", None])
def test_from_1_17_1_every_node_with_a_model_uri_loads_into_its_own_container(implementation):
    predictor = {"name": "p", "graph": node("m", implementation=implementation),
                 "componentSpecs": [{"spec": {"containers": [{"name": "m"}]}}]}
    nodes, ignored = sg.model_loading_nodes(sdep([predictor]), operator_rules.rules_for((1, 17, 1)))
    assert [(n["node"], n["problem"]) for n in nodes] == [("m", "")] and ignored == []
    predictor["componentSpecs"] = []
    nodes, _ignored = sg.model_loading_nodes(sdep([predictor]), operator_rules.rules_for((1, 17, 1)))
    assert "componentSpecs has no container named m" in nodes[0]["problem"]


@pytest.mark.parametrize("version,annotation,loads", [
    ((1, 14, 0), "true", True), ((1, 15, 0), "true", False), ((1, 15, 0), "TRUE", False), ((1, 15, 0), "yes", True),
    ((1, 17, 1), None, True),
])
def test_no_storage_initializer_annotation_from_1_15(version, annotation, loads):
    obj = sdep([{"name": "p", "graph": node("triton", implementation="TRITON_SERVER")}])
    if annotation is not None:
        obj["spec"]["annotations"] = {sg.NO_STORAGE_INITIALIZER_ANNOTATION: annotation}
    nodes, ignored = sg.model_loading_nodes(obj, operator_rules.rules_for(version))
    assert bool(nodes) is loads and bool(ignored) is (not loads)
    # only TRITON_SERVER reads it
    obj["spec"]["predictors"][0]["graph"]["implementation"] = "SKLEARN_SERVER"
    assert sg.model_loading_nodes(obj, operator_rules.rules_for(version))[0]


def test_node_without_model_uri_is_neither_loaded_nor_ignored():
    nodes, ignored = sg.model_loading_nodes(sdep([{"name": "p", "graph": node("m", uri=None)}]))
    assert nodes == [] and ignored == []


def test_explainer_with_model_uri_is_a_model_loading_node():
    predictor = {"name": "p", "graph": node("m"), "explainer": {
        "type": "AnchorTabular", "modelUri": "s3://b/explainer", "envSecretRefName": "exp-secret",
        "serviceAccountName": "exp-sa"}}
    nodes, _unused = sg.model_loading_nodes(sdep([predictor]))
    explainer = nodes[-1]
    assert explainer["kind"] == sg.KIND_EXPLAINER
    assert explainer["ref"] == "p/.explainer"
    assert explainer["path"] == "/spec/predictors/0/explainer"
    assert explainer["env_secret_ref_name"] == "exp-secret"
    assert sg.effective_service_account(explainer) == ("exp-sa", sg.SOURCE_NODE)


def test_explainer_without_model_uri_is_skipped():
    predictor = {"name": "p", "graph": node("m"), "explainer": {"type": "AnchorTabular"}}
    nodes, _unused = sg.model_loading_nodes(sdep([predictor]))
    assert [n["kind"] for n in nodes] == [sg.KIND_GRAPH]


@pytest.mark.parametrize("version,explainer_gets_it", [((1, 13, 1), False), ((1, 14, 0), True), ((1, 17, 1), True)])
def test_default_env_secret_applies_to_graph_nodes_and_to_explainers_from_1_14(version, explainer_gets_it):
    predictor = {"name": "p", "graph": node("m"), "explainer": {"type": "AnchorTabular", "modelUri": "s3://b/e"}}
    graph_node, explainer = sg.model_loading_nodes(sdep([predictor]), operator_rules.rules_for(version))[0]
    assert sg.effective_env_secret(graph_node, "default-secret") == ("default-secret", sg.SOURCE_DEFAULT)
    expected = ("default-secret", sg.SOURCE_DEFAULT) if explainer_gets_it else ("", "")
    assert sg.effective_env_secret(explainer, "default-secret") == expected
    graph_node = {"kind": sg.KIND_GRAPH, "env_secret_ref_name": "", "gets_default_env_secret": True}
    assert sg.effective_env_secret({"kind": sg.KIND_GRAPH, "env_secret_ref_name": "own"}, "d") == ("own", sg.SOURCE_NODE)
    assert sg.effective_env_secret(graph_node, "") == ("", "")


def test_service_account_precedence_node_then_pod_then_default():
    predictor = {"name": "p", "graph": node("a", children=[node("b", serviceAccountName="node-sa"), node("c")]),
                 "componentSpecs": [{"spec": {"serviceAccountName": "pod-sa", "containers": [{"name": "a"}]}}]}
    nodes, _unused = sg.model_loading_nodes(sdep([predictor]))
    by_name = dict((n["node"], sg.effective_service_account(n)) for n in nodes)
    assert by_name == {"a": ("pod-sa", sg.SOURCE_POD), "b": ("node-sa", sg.SOURCE_NODE),
                       "c": ("default", sg.SOURCE_IMPLICIT)}


def test_hand_written_initializer_is_reported():
    predictor = {"name": "p", "graph": node("classifier"), "componentSpecs": [{"spec": {
        "containers": [{"name": "classifier"}],
        "initContainers": [{"name": "classifier-model-initializer", "image": "kfserving/storage-initializer:v0.6.1"}]}}]}
    nodes, _unused = sg.model_loading_nodes(sdep([predictor]))
    assert nodes[0]["custom_initializer"] == "classifier-model-initializer"


def test_tfserving_initializer_name_under_seldon_protocol():
    predictor = {"name": "p", "graph": node("tf", implementation="TENSORFLOW_SERVER"), "componentSpecs": [{"spec": {
        "containers": [{"name": "tf"}], "initContainers": [{"name": "tfserving-model-initializer"}]}}]}
    nodes, _unused = sg.model_loading_nodes(sdep([predictor]))
    assert nodes[0]["custom_initializer"] == "tfserving-model-initializer"
    nodes, _unused = sg.model_loading_nodes(sdep([predictor], protocol="tensorflow"))
    assert nodes[0]["custom_initializer"] is None


def test_initializer_container_name_is_cut_to_63_characters():
    name = sg.initializer_container_name("x" * 50 + "-abc")
    assert len(name) <= 63 and not name.endswith("-")
    assert sg.initializer_container_name("classifier") == "classifier-model-initializer"


def test_pointer_for_ref_follows_the_current_object():
    obj = sdep([{"name": "a", "graph": node("m")},
                {"name": "b", "graph": node("r", implementation="SIMPLE_ROUTER", uri=None, children=[node("m2")]),
                 "explainer": {"modelUri": "s3://x"}}])
    assert sg.pointer_for_ref(obj, "b/m2") == "/spec/predictors/1/graph/children/0"
    assert sg.pointer_for_ref(obj, "b/.explainer") == "/spec/predictors/1/explainer"
    assert sg.pointer_for_ref(obj, "a/.explainer") is None
    assert sg.pointer_for_ref(obj, "c/m") is None
    assert json_patch.value_at(obj, "/spec/predictors/1/graph/children/0/modelUri") == "s3://b/p"
    assert json_patch.value_at(obj, "/spec/predictors/9/graph") is None


def test_json_pointer_escapes():
    assert json_patch.pointer("metadata", "annotations", "a/b~c") == "/metadata/annotations/a~1b~0c"


def test_malformed_objects_do_not_raise_and_name_what_is_wrong():
    for obj in ({}, {"spec": {}}, None, {"spec": []}, {"spec": {"predictors": {}}}):
        assert sg.model_loading_nodes(obj) == ([], [])
    obj = {"spec": {"predictors": [None, "x", {"graph": None}, {"graph": {"children": [None]}}]}}
    nodes, ignored = sg.model_loading_nodes(obj)
    assert [(n["path"], n["problem"]) for n in nodes] == [
        ("/spec/predictors/0", "predictor is not an object"),
        ("/spec/predictors/1", "predictor is not an object"),
        ("/spec/predictors/2/graph", "graph is missing or not an object"),
        ("/spec/predictors/3/graph", "children holds an entry that is not an object"),
    ] and ignored == []


def test_a_graph_thousands_of_levels_deep_is_walked_at_the_default_recursion_limit():
    leaf = node("leaf")
    graph = leaf
    for level in range(5000):
        graph = {"name": "r{0}".format(level), "implementation": "RANDOM_ABTEST", "children": [graph]}
    nodes, _ignored = sg.model_loading_nodes(sdep([{"name": "p", "graph": graph}]))
    assert [(n["node"], n["depth"]) for n in nodes] == [("leaf", 5000)]
