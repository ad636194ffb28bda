# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Walking SeldonDeployment (machinelearning.seldon.io/v1) graphs (pure).

Which nodes get a storage-initializer init container, and with which credentials, follows the
Seldon Core v1 operator (operator/controllers/seldondeployment_prepackaged_servers.go,
seldondeployment_explainers.go, model_initializer_injector.go):

* every graph node, at any depth, whose ``implementation`` is a prepackaged server (anything but
  SIMPLE_MODEL, SIMPLE_ROUTER, RANDOM_ABTEST, AVERAGE_COMBINER, UNKNOWN_IMPLEMENTATION or empty)
  and that has a ``modelUri``; plus ``predictors[].explainer`` when it has a ``modelUri``;
* env secret: the node's ``envSecretRefName``, else the controller's ``defaultEnvSecretRefName``
  (graph nodes only: the explainer code passes its own field without the default);
* service account: the node's ``serviceAccountName``, else the pod's (``componentSpecs`` entry
  holding the node's container), else ``default``; explainer pods are built fresh, so theirs is
  the explainer's own or ``default``;
* an init container named ``<container>-model-initializer`` already present in componentSpecs is
  left alone by the operator (image, env and all).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import json_patch

NON_MODEL_IMPLEMENTATIONS = frozenset([
    "SIMPLE_MODEL", "SIMPLE_ROUTER", "RANDOM_ABTEST", "AVERAGE_COMBINER", "UNKNOWN_IMPLEMENTATION",
])
TENSORFLOW_SERVER = "TENSORFLOW_SERVER"
TFSERVING_CONTAINER = "tfserving"
INITIALIZER_SUFFIX = "-model-initializer"
DEFAULT_SERVICE_ACCOUNT = "default"
EXPLAINER_REF = ".explainer"  # node names are DNS labels, so a leading dot never clashes

KIND_GRAPH = "graph"
KIND_EXPLAINER = "explainer"

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


def walk_graph(graph, pointer):
    """Yield ``(node, pointer, depth)`` for a graph node and all its children, depth first."""
    stack = [(graph, pointer, 0)]
    while stack:
        node, path, depth = stack.pop()
        if not isinstance(node, dict):
            continue
        yield node, path, depth
        children = node.get("children") or []
        for index in range(len(children) - 1, -1, -1):
            stack.append((children[index], "{0}/children/{1}".format(path, index), depth + 1))


def loads_model(node):
    """``(True, "")`` when the operator injects an init container for this graph node.

    >>> loads_model({"implementation": "SKLEARN_SERVER", "modelUri": "s3://b/p"})
    (True, '')
    >>> loads_model({"implementation": "SIMPLE_MODEL", "modelUri": "s3://b/p"})[0]
    False
    """
    implementation = node.get("implementation") or ""
    model_uri = (node.get("modelUri") or "").strip()
    if not model_uri:
        return False, "no modelUri"
    if not implementation:
        return False, "no implementation (custom container): the operator injects no storage initializer"
    if implementation in NON_MODEL_IMPLEMENTATIONS:
        return False, "implementation {0} is not a prepackaged server: no storage initializer".format(implementation)
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


def _graph_entries(base, predictor, p_index, p_name, protocol):
    """``(nodes, ignored)`` of one predictor's graph (see model_loading_nodes)."""
    nodes, ignored = [], []
    for node, path, depth in walk_graph(predictor.get("graph"), json_patch.pointer("spec", "predictors", p_index, "graph")):
        name = node.get("name") or ""
        entry = dict(base, predictor=p_name, node=name, ref=node_ref(p_name, name), path=path,
                     kind=KIND_GRAPH, depth=depth, implementation=node.get("implementation") or "",
                     model_uri=node.get("modelUri") or "")
        loads, reason = loads_model(node)
        if not loads:
            if entry["model_uri"]:
                ignored.append(dict(entry, reason=reason))
            continue
        pod_spec = component_spec_for(predictor, name) or {}
        entry.update(
            env_secret_ref_name=node.get("envSecretRefName") or "",
            service_account_name=node.get("serviceAccountName") or "",
            pod_service_account_name=pod_spec.get("serviceAccountName") or "",
            storage_initializer_image=node.get("storageInitializerImage") or "",
            custom_initializer=hand_written_initializer(predictor, node, protocol),
        )
        nodes.append(entry)
    return nodes, ignored


def _explainer_entry(base, predictor, p_index, p_name):
    """The predictor's explainer as a model-loading node, or None when it loads no model."""
    explainer = predictor.get("explainer")
    if not isinstance(explainer, dict) or not (explainer.get("modelUri") or "").strip():
        return None
    return dict(
        base, predictor=p_name, node=EXPLAINER_REF, ref=node_ref(p_name, EXPLAINER_REF),
        path=json_patch.pointer("spec", "predictors", p_index, "explainer"), kind=KIND_EXPLAINER,
        depth=0, implementation=explainer.get("type") or "", model_uri=explainer.get("modelUri"),
        env_secret_ref_name=explainer.get("envSecretRefName") or "",
        service_account_name=explainer.get("serviceAccountName") or "",
        pod_service_account_name="",
        storage_initializer_image=explainer.get("storageInitializerImage") or "",
        custom_initializer=None,
    )


def model_loading_nodes(sdep):
    """Every node of a SeldonDeployment that gets a storage initializer, and the ones that don't.

    Returns ``(nodes, ignored)``. Each node is a dict with ``namespace``, ``deployment``,
    ``predictor``, ``node``, ``ref``, ``path`` (JSON pointer), ``kind`` (graph | explainer),
    ``depth``, ``implementation``, ``model_uri``, ``env_secret_ref_name``,
    ``service_account_name`` (the node's own), ``pod_service_account_name``,
    ``storage_initializer_image``, ``custom_initializer``. ``ignored`` lists graph nodes with a
    modelUri that get no init container, with the reason.
    """
    metadata = sdep.get("metadata") or {}
    spec = sdep.get("spec") or {}
    base = {"namespace": metadata.get("namespace"), "deployment": metadata.get("name")}
    nodes, ignored = [], []
    for p_index, predictor in enumerate(spec.get("predictors") or []):
        if not isinstance(predictor, dict):
            continue
        p_name = predictor.get("name") or str(p_index)
        graph_nodes, graph_ignored = _graph_entries(base, predictor, p_index, p_name, spec.get("protocol") or "")
        nodes.extend(graph_nodes)
        ignored.extend(graph_ignored)
        explainer = _explainer_entry(base, predictor, p_index, p_name)
        if explainer:
            nodes.append(explainer)
    return nodes, ignored


def effective_env_secret(node, default_env_secret_ref_name=""):
    """``(secret name, source)`` the init container gets through envFrom; ``("", "")`` if none."""
    if node.get("env_secret_ref_name"):
        return node["env_secret_ref_name"], SOURCE_NODE
    if node.get("kind") == KIND_GRAPH and default_env_secret_ref_name:
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
    spec = (sdep or {}).get("spec") or {}
    for p_index, predictor in enumerate(spec.get("predictors") or []):
        if not isinstance(predictor, dict):
            continue
        p_name = predictor.get("name") or str(p_index)
        if ref == node_ref(p_name, EXPLAINER_REF):
            if isinstance(predictor.get("explainer"), dict):
                return json_patch.pointer("spec", "predictors", p_index, "explainer")
            return None
        graph_pointer = json_patch.pointer("spec", "predictors", p_index, "graph")
        for node, path, _depth in walk_graph(predictor.get("graph"), graph_pointer):
            if ref == node_ref(p_name, node.get("name") or ""):
                return path
    return None
