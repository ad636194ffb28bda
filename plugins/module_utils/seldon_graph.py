# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Walking SeldonDeployment (machinelearning.seldon.io/v1) graphs (pure).

Which nodes get a storage-initializer init container, and with which credentials, follows the
Seldon Core v1 operator release in use (operator_rules; docs/operator-versions.md names file and
tag of each rule: controllers/seldondeployment_prepackaged_servers.go,
seldondeployment_explainers.go, model_initializer_injector.go):

* every graph node, at any depth, whose ``implementation`` is a prepackaged server (anything but
  SIMPLE_MODEL, SIMPLE_ROUTER, RANDOM_ABTEST, AVERAGE_COMBINER, UNKNOWN_IMPLEMENTATION or empty)
  and that has a ``modelUri``; from 1.17.1 also the other nodes with a ``modelUri`` (into the
  componentSpecs container named like the node); from 1.15.0 not TRITON_SERVER nodes of a
  SeldonDeployment whose ``spec.annotations`` say ``seldon.io/no-storage-initializer: "true"``;
  plus ``predictors[].explainer`` when it has a ``modelUri``;
* env secret: the node's ``envSecretRefName``, else the controller's ``defaultEnvSecretRefName``
  (explainers only from 1.14.0);
* service account: the node's ``serviceAccountName``, else the pod's (``componentSpecs`` entry
  holding the node's container), else ``default``; explainer pods are built fresh, so theirs is
  the explainer's own or ``default``;
* an init container named ``<container>-model-initializer`` already present in componentSpecs is
  left alone by the operator (image, env and all).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import json_patch
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_objects
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import model_uri
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import operator_rules

NON_MODEL_IMPLEMENTATIONS = frozenset([
    "SIMPLE_MODEL", "SIMPLE_ROUTER", "RANDOM_ABTEST", "AVERAGE_COMBINER", "UNKNOWN_IMPLEMENTATION",
])
TENSORFLOW_SERVER = "TENSORFLOW_SERVER"
TRITON_SERVER = "TRITON_SERVER"
# Read from the SeldonDeployment's spec.annotations (seldondeployment_types.go, from v1.15.0).
NO_STORAGE_INITIALIZER_ANNOTATION = "seldon.io/no-storage-initializer"
TFSERVING_CONTAINER = "tfserving"
INITIALIZER_SUFFIX = "-model-initializer"
DEFAULT_SERVICE_ACCOUNT = "default"
EXPLAINER_REF = ".explainer"  # node names are DNS labels, so a leading dot never clashes

KIND_GRAPH = "graph"
KIND_EXPLAINER = "explainer"

# What an ignored node (one that loads nothing) is reported with, besides its reason.
IGNORED_FIELDS = ("namespace", "deployment", "predictor", "node", "ref", "path", "kind", "depth", "implementation",
                  "model_uri")
# Fields the operator reads as strings from graph nodes and explainers.
TEXT_FIELDS = ("name", "type", "implementation", "modelUri", "envSecretRefName", "serviceAccountName",
               "storageInitializerImage")

SOURCE_NODE = "node"
SOURCE_DEFAULT = "defaultEnvSecretRefName"
SOURCE_POD = "pod"
SOURCE_IMPLICIT = "implicit default"


def node_ref(predictor_name, node_name):
    """Stable name of a node inside one SeldonDeployment: ``<predictor>/<node>``.

    >>> node_ref("default", "classifier"), node_ref("default", EXPLAINER_REF)
    ('default/classifier', 'default/.explainer')
    """
    return "{0}/{1}".format(predictor_name, node_name)


def text(value):
    """A field the operator reads as a string: the value when it is one, else ""."""
    return value if isinstance(value, str) else ""


def malformed(node):
    """Why a graph node or explainer cannot be read as the operator reads it ("" when it can).

    >>> malformed({"name": 3, "children": {}})
    'name is not a string; children is not a list'
    """
    problems = ["{0} is not a string".format(field) for field in TEXT_FIELDS
                if node.get(field) is not None and not isinstance(node[field], str)]
    children = node.get("children")
    if children is not None and not isinstance(children, list):
        problems.append("children is not a list")
    elif any(not isinstance(child, dict) for child in children or []):
        problems.append("children holds an entry that is not an object")
    return "; ".join(problems)


def walk_graph(graph, pointer):
    """Yield ``(node, pointer, depth)`` for a graph node and all its children, depth first.

    Iterative, so a graph of any depth is walked; children that are not objects are skipped
    (``malformed`` names them on their parent).
    """
    stack = [(graph, pointer, 0)]
    while stack:
        node, path, depth = stack.pop()
        if not isinstance(node, dict):
            continue
        yield node, path, depth
        children = node.get("children") if isinstance(node.get("children"), list) else []
        for index in range(len(children) - 1, -1, -1):
            stack.append((children[index], "{0}/children/{1}".format(path, index), depth + 1))


def loads_model(node, rules=None, sdep_annotations=None):
    """``(True, "")`` when the operator release of ``rules`` (default: the newest read) injects an
    init container for this graph node, else ``(False, why)``.

    >>> loads_model({"implementation": "SKLEARN_SERVER", "modelUri": "s3://b/p"})
    (True, '')
    >>> loads_model({"implementation": "SIMPLE_MODEL", "modelUri": "s3://b/p"}, operator_rules.rules_for((1, 17, 0)))[0]
    False
    """
    rules = rules or operator_rules.rules_for()
    implementation = text(node.get("implementation"))
    if not text(node.get("modelUri")).strip():
        return False, "no modelUri"
    if not implementation or implementation in NON_MODEL_IMPLEMENTATIONS:
        if rules.custom_node_model_uri:
            return True, ""
        what = implementation or "none (custom container)"
        return False, "implementation {0} is not a prepackaged server: operator {1} injects no storage " \
                      "initializer".format(what, rules.version_text)
    if (implementation == TRITON_SERVER and rules.no_storage_initializer_annotation
            and text((sdep_annotations or {}).get(NO_STORAGE_INITIALIZER_ANNOTATION)).lower() == "true"):
        return False, "{0} is true: Triton loads the model itself, with the secret as envFrom".format(
            NO_STORAGE_INITIALIZER_ANNOTATION)
    return True, ""


def initializer_container_name(container_name):
    """The init container name the operator uses: ``<container>-model-initializer``, cut to 63."""
    name = container_name + INITIALIZER_SUFFIX
    if len(name) > 63:
        name = name[:63].rstrip("-")
    return name


def component_spec_for(predictor, container_name):
    """The ``componentSpecs[].spec`` that holds a container with this name (the node's pod)."""
    for component in predictor.get("componentSpecs") or []:
        spec = (component or {}).get("spec") or {}
        for container in spec.get("containers") or []:
            if (container or {}).get("name") == container_name:
                return spec
    return None


def hand_written_initializer(predictor, node, protocol):
    """Name of an init container in componentSpecs that the operator would keep as written."""
    pod_spec = component_spec_for(predictor, node.get("name") or "")
    if pod_spec is None:
        return None
    candidates = [initializer_container_name(node.get("name") or "")]
    if node.get("implementation") == TENSORFLOW_SERVER and protocol != "tensorflow":
        candidates.append(initializer_container_name(TFSERVING_CONTAINER))
    for init in pod_spec.get("initContainers") or []:
        if (init or {}).get("name") in candidates:
            return init["name"]
    return None


def initializer_pointer(sdep, node):
    """JSON pointer of the hand-written init container of a node entry (model_loading_nodes), or None."""
    if not node.get("custom_initializer") or node.get("kind") != KIND_GRAPH:
        return None
    p_index = int(node["path"].split("/")[3])
    predictor = json_patch.value_at(sdep, json_patch.pointer("spec", "predictors", p_index))
    for c_index, component in enumerate(kube_objects.as_list(kube_objects.as_dict(predictor).get("componentSpecs"))):
        spec = kube_objects.as_dict(kube_objects.as_dict(component).get("spec"))
        if not any(kube_objects.as_dict(c).get("name") == node["node"] for c in kube_objects.as_list(spec.get("containers"))):
            continue
        for i_index, init in enumerate(kube_objects.as_list(spec.get("initContainers"))):
            if kube_objects.as_dict(init).get("name") == node["custom_initializer"]:
                return json_patch.pointer("spec", "predictors", p_index, "componentSpecs", c_index, "spec",
                                          "initContainers", i_index)
    return None


def node_name(node, path):
    """A node's name, or ``#<pointer>`` when it has none a reference could use."""
    return text(node.get("name")) or "#" + path


def _node_entry(base, p_name, node, path, kind, depth, name):
    """The fields every node entry has, read tolerantly (see model_loading_nodes)."""
    return dict(base, predictor=p_name, node=name, ref=node_ref(p_name, name), path=path, kind=kind, depth=depth,
                gets_default_env_secret=kind == KIND_GRAPH,
                implementation=text(node.get("type" if kind == KIND_EXPLAINER else "implementation")),
                model_uri=text(node.get("modelUri")), env_secret_ref_name=text(node.get("envSecretRefName")),
                service_account_name=text(node.get("serviceAccountName")), pod_service_account_name="",
                storage_initializer_image=text(node.get("storageInitializerImage")), custom_initializer=None,
                problem=malformed(node))


def _problem_entry(base, p_name, path, problem):
    """A stand-in node for a part of the spec that cannot be read, so the object is reported blocked."""
    return dict(_node_entry(base, p_name, {}, path, KIND_GRAPH, 0, "#" + path), problem=problem)


def _custom_container_problem(predictor, node, rules):
    """Why the release cannot render a non-prepackaged node with a modelUri ("" when it can): it
    injects the init container into the componentSpecs container named like the node."""
    implementation = text(node.get("implementation"))
    if implementation and implementation not in NON_MODEL_IMPLEMENTATIONS:
        return ""
    if component_spec_for(predictor, text(node.get("name"))) is not None:
        return ""
    message = ("componentSpecs has no container named {0}: operator {1} injects this custom node's init container "
               "there and fails to render the SeldonDeployment without it")
    return message.format(text(node.get("name")), rules.version_text)


def _graph_entries(base, predictor, p_index, p_name, spec, rules):
    """``(nodes, ignored)`` of one predictor's graph (see model_loading_nodes)."""
    nodes, ignored = [], []
    graph_pointer = json_patch.pointer("spec", "predictors", p_index, "graph")
    if not isinstance(predictor.get("graph"), dict):
        return [_problem_entry(base, p_name, graph_pointer, "graph is missing or not an object")], []
    for node, path, depth in walk_graph(predictor["graph"], graph_pointer):
        entry = _node_entry(base, p_name, node, path, KIND_GRAPH, depth, node_name(node, path))
        loads, reason = loads_model(node, rules, kube_objects.as_dict(spec.get("annotations")))
        if loads and not entry["problem"]:
            entry["problem"] = _custom_container_problem(predictor, node, rules)
        if not loads and not entry["problem"]:
            if entry["model_uri"]:
                ignored.append(dict([(key, entry[key]) for key in IGNORED_FIELDS], reason=reason))
            continue
        pod_spec = component_spec_for(predictor, entry["node"]) or {}
        entry.update(pod_service_account_name=text(pod_spec.get("serviceAccountName")),
                     custom_initializer=hand_written_initializer(predictor, node, text(spec.get("protocol"))))
        nodes.append(entry)
    return nodes, ignored


def _explainer_entry(base, predictor, p_index, p_name, rules):
    """The predictor's explainer as a model-loading node, or None when it loads no model."""
    explainer = predictor.get("explainer")
    if not isinstance(explainer, dict):
        return None
    entry = _node_entry(base, p_name, explainer, json_patch.pointer("spec", "predictors", p_index, "explainer"),
                        KIND_EXPLAINER, 0, EXPLAINER_REF)
    entry["gets_default_env_secret"] = rules.explainer_default_env_secret
    return entry if entry["model_uri"].strip() or entry["problem"] else None


def failing_before(sdep):
    """Why the operator fails to render this SeldonDeployment already ("" when it does not): its
    ``status.state`` is ``Failed``; the description is cut to its first line, 160 characters."""
    status = kube_objects.as_dict(sdep.get("status"))
    if status.get("state") != "Failed":
        return ""
    description = text(status.get("description")).strip().splitlines()
    return "status Failed: " + (model_uri.redact_words(description[0][:160]) if description else "no description")


def _predictors(spec):
    """``(index, predictor name, predictor)`` for each predictor; names fall back to the index."""
    predictors = spec.get("predictors")
    for p_index, predictor in enumerate(predictors if isinstance(predictors, list) else []):
        predictor = predictor if isinstance(predictor, dict) else None
        yield p_index, text((predictor or {}).get("name")) or str(p_index), predictor


def _mark_shared_refs(nodes):
    """Nodes whose references collide (a predictor or node name used twice) are blocked: a record
    keyed by reference could not tell them apart."""
    counts = {}
    for entry in nodes:
        counts[entry["ref"]] = counts.get(entry["ref"], 0) + 1
    for entry in nodes:
        if counts[entry["ref"]] > 1 and not entry["problem"]:
            entry["problem"] = "{0} names {1} nodes (a predictor or node name is used twice)".format(
                entry["ref"], counts[entry["ref"]])


def model_loading_nodes(sdep, rules=None):
    """Every node of a SeldonDeployment that the operator release of ``rules`` (default: the newest
    read, operator_rules) gives a storage initializer, and the ones it does not.

    Returns ``(nodes, ignored)``. Each node is a dict with ``namespace``, ``deployment``,
    ``predictor``, ``node``, ``ref``, ``path`` (JSON pointer), ``kind`` (graph | explainer),
    ``depth``, ``implementation``, ``model_uri``, ``env_secret_ref_name``,
    ``service_account_name`` (the node's own), ``pod_service_account_name``,
    ``storage_initializer_image``, ``custom_initializer``, ``failing_before`` (seldon_graph.failing_before
    of the SeldonDeployment), ``gets_default_env_secret`` (the release
    gives it defaultEnvSecretRefName when it names none) and ``problem`` (why the node cannot be
    read as the operator reads it, "" when it can: such nodes are listed whatever they load, so
    that they are reported). ``ignored`` lists graph nodes with a modelUri that get no init
    container, with the reason.
    """
    sdep = sdep if isinstance(sdep, dict) else {}
    metadata = sdep.get("metadata") if isinstance(sdep.get("metadata"), dict) else {}
    spec = sdep.get("spec") if isinstance(sdep.get("spec"), dict) else {}
    base = {"namespace": metadata.get("namespace"), "deployment": metadata.get("name"),
            "failing_before": failing_before(sdep)}
    rules = rules or operator_rules.rules_for()
    nodes, ignored = [], []
    for p_index, p_name, predictor in _predictors(spec):
        if predictor is None:
            nodes.append(_problem_entry(base, p_name, json_patch.pointer("spec", "predictors", p_index),
                                        "predictor is not an object"))
            continue
        graph_nodes, graph_ignored = _graph_entries(base, predictor, p_index, p_name, spec, rules)
        nodes.extend(graph_nodes)
        ignored.extend(graph_ignored)
        explainer = _explainer_entry(base, predictor, p_index, p_name, rules)
        if explainer:
            nodes.append(explainer)
    _mark_shared_refs(nodes)
    return nodes, ignored


def effective_env_secret(node, default_env_secret_ref_name=""):
    """``(secret name, source)`` the init container gets through envFrom; ``("", "")`` if none."""
    if node.get("env_secret_ref_name"):
        return node["env_secret_ref_name"], SOURCE_NODE
    if node.get("gets_default_env_secret") and default_env_secret_ref_name:
        return default_env_secret_ref_name, SOURCE_DEFAULT
    return "", ""


def effective_service_account(node):
    """``(service account, source)`` whose secrets the operator's credential builder reads."""
    if node.get("service_account_name"):
        return node["service_account_name"], SOURCE_NODE
    if node.get("pod_service_account_name"):
        return node["pod_service_account_name"], SOURCE_POD
    return DEFAULT_SERVICE_ACCOUNT, SOURCE_IMPLICIT


def pointer_for_ref(sdep, ref):
    """JSON pointer of the node named ``ref`` in this version of the object, or None."""
    spec = (sdep or {}).get("spec") if isinstance((sdep or {}).get("spec"), dict) else {}
    for p_index, p_name, predictor in _predictors(spec):
        if predictor is None:
            continue
        if ref == node_ref(p_name, EXPLAINER_REF):
            if isinstance(predictor.get("explainer"), dict):
                return json_patch.pointer("spec", "predictors", p_index, "explainer")
            return None
        graph_pointer = json_patch.pointer("spec", "predictors", p_index, "graph")
        for node, path, _depth in walk_graph(predictor.get("graph"), graph_pointer):
            if ref == node_ref(p_name, node_name(node, path)):
                return path
    return None
