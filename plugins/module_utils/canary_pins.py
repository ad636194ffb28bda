# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Canary pins (pure): what seldon_canary_pin does to one SeldonDeployment.

A canary gets the rclone initializer before the operator's global switch through the node field
``storageInitializerImage``, which the operator prefers to every global setting
(seldon_settings.initializer_image). Pinning sets it on every model-loading node
(seldon_graph.model_loading_nodes: graph nodes at any depth, explainers) that names no image of
its own and has no hand-written init container, and records the pinned nodes in the annotation
``rclone-migration.seldon-ops.io/canary-pinned-nodes`` (a JSON list of ``<predictor>/<node>``
refs). Unpinning removes exactly the recorded values (only while they still hold the pinned image,
when one is given) and the annotation; values somebody set by hand are never touched.

Both write single fields through a JSON patch that starts with the resourceVersion guard
(json_patch.guard), so a concurrent edit answers 409 and kube_access.write_planned plans again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from collections import namedtuple

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import json_patch
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_objects
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_graph
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import status as st

CANARY_ANNOTATION = "rclone-migration.seldon-ops.io/canary-pinned-nodes"
IMAGE_FIELD = "storageInitializerImage"

# Per-SeldonDeployment actions of seldon_canary_pin (besides status.ACTION_UNCHANGED and ACTION_FAILED).
PINNED = "pinned"
UNPINNED = "unpinned"
NOT_FOUND = "not_found"
CHANGE_ACTIONS = (PINNED, UNPINNED)
# The same actions as the rclone_migration report words them for a dry run.
WOULD = {PINNED: "would_pin", UNPINNED: "would_unpin"}

CanaryPlan = namedtuple("CanaryPlan", "patch nodes kept problem diff")
CanaryPlan.__doc__ = """What pinning or unpinning one SeldonDeployment as read does: the guarded JSON
patch (None: nothing to write), the node refs pinned or unpinned, the nodes left alone
(``{"ref", "reason"}``), ``problem`` ("" or why nothing can be planned, e.g. an annotation that
is not a JSON list) and the ``(before, after)`` storageInitializerImage per changed node ref
(None when nothing changes)."""


def recorded_refs(sdep):
    """``(refs, problem)``: the node refs our annotation records ([] when absent) and "" or why it
    cannot be read.

    >>> recorded_refs({"metadata": {"annotations": {CANARY_ANNOTATION: '["default/a"]'}}})
    (['default/a'], '')
    >>> recorded_refs({"metadata": {"annotations": {CANARY_ANNOTATION: "oops"}}})[1]
    'annotation rclone-migration.seldon-ops.io/canary-pinned-nodes is not a JSON list of node refs: left as is'
    """
    raw = kube_objects.annotations_of(sdep).get(CANARY_ANNOTATION)
    if raw is None:
        return [], ""
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        parsed = None
    if not isinstance(parsed, list):
        return [], "annotation {0} is not a JSON list of node refs: left as is".format(CANARY_ANNOTATION)
    return [ref for ref in parsed if isinstance(ref, str)], ""


def _kept(ref, reason):
    return {"ref": ref, "reason": reason}


def plan_pin(sdep, image):
    """The CanaryPlan that pins ``image`` on one SeldonDeployment's model nodes.

    A node that already names ``image`` needs nothing; one that names another image, has a
    hand-written init container the operator keeps, or cannot be read (seldon_graph's ``problem``)
    is left alone and listed in ``kept``.
    """
    sdep = kube_objects.as_dict(sdep)
    marked, problem = recorded_refs(sdep)
    if problem:
        return CanaryPlan(None, [], [], problem, None)
    nodes, _ignored = seldon_graph.model_loading_nodes(sdep)
    ops, pinned, kept = [], [], []
    for node in nodes:
        current = node.get("storage_initializer_image")
        if node.get("problem"):
            kept.append(_kept(node["ref"], "cannot be read as the operator reads it: {0}".format(node["problem"])))
        elif node.get("custom_initializer"):
            kept.append(_kept(node["ref"], "hand-written init container {0}".format(node["custom_initializer"])))
        elif current and current != image:
            kept.append(_kept(node["ref"], "pins its own image {0}".format(current)))
        elif not current:
            ops.append({"op": "add", "path": node["path"] + "/" + IMAGE_FIELD, "value": image})
            pinned.append(node["ref"])
    if not pinned:
        return CanaryPlan(None, [], kept, "", None)
    record = json.dumps(sorted(set(marked) | set(pinned)))
    patch = [json_patch.guard(sdep)] + ops + json_patch.set_annotation(sdep, CANARY_ANNOTATION, record)
    return CanaryPlan(patch, pinned, kept, "", _diff(dict((ref, None) for ref in pinned), image))


def plan_unpin(sdep, image=None):
    """The CanaryPlan that removes the values plan_pin recorded, and the record.

    With ``image``, a recorded node whose value is no longer ``image`` (somebody changed it) keeps
    it; so does a recorded node that is gone or lost its value. An unreadable record is reported as
    the plan's problem and left as it is.
    """
    sdep = kube_objects.as_dict(sdep)
    marked, problem = recorded_refs(sdep)
    if problem:
        return CanaryPlan(None, [], [], problem, None)
    if CANARY_ANNOTATION not in kube_objects.annotations_of(sdep):
        return CanaryPlan(None, [], [], "", None)
    ops, unpinned, kept = [json_patch.guard(sdep)], {}, []
    for ref in sorted(set(marked)):
        pointer = seldon_graph.pointer_for_ref(sdep, ref)
        node = json_patch.value_at(sdep, pointer) if pointer else None
        if not isinstance(node, dict) or IMAGE_FIELD not in node:
            kept.append(_kept(ref, "node or its {0} no longer exists".format(IMAGE_FIELD)))
        elif image and node[IMAGE_FIELD] != image:
            kept.append(_kept(ref, "{0} changed to {1} since the canary set it: left as is".format(
                IMAGE_FIELD, node[IMAGE_FIELD])))
        else:
            ops.append({"op": "remove", "path": pointer + "/" + IMAGE_FIELD})
            unpinned[ref] = node[IMAGE_FIELD]
    return CanaryPlan(ops + json_patch.remove_annotation(CANARY_ANNOTATION), sorted(unpinned), kept, "",
                      _diff(unpinned, None))


def _diff(before, image):
    """``(before, after)`` storageInitializerImage per node ref, from ``{ref: value before}``.

    >>> _diff({"p/a": None}, "img")
    ({'p/a': {'storageInitializerImage': None}}, {'p/a': {'storageInitializerImage': 'img'}})
    """
    return (dict((ref, {IMAGE_FIELD: value}) for ref, value in before.items()),
            dict((ref, {IMAGE_FIELD: image}) for ref in before))


def deployment_entry(namespace, name, plan, removing, error=""):
    """The module's result entry for one SeldonDeployment: action pinned | unpinned | unchanged |
    failed, the node refs changed, the nodes kept and a reason."""
    entry = {"namespace": namespace, "name": name, "action": st.ACTION_UNCHANGED, "nodes": list(plan.nodes),
             "kept": list(plan.kept), "reason": "nothing to change"}
    if error or plan.problem:
        entry.update(action=st.ACTION_FAILED, reason=error or plan.problem)
    elif plan.patch is not None:
        entry.update(action=UNPINNED if removing else PINNED,
                     reason="{0} node(s): {1}".format(len(plan.nodes), ", ".join(plan.nodes)) if plan.nodes
                     else "removes the annotation")
    elif plan.kept:
        entry["reason"] = "; ".join("{0}: {1}".format(kept["ref"], kept["reason"]) for kept in plan.kept)
    return entry


def not_found_entry(namespace, name):
    return {"namespace": namespace, "name": name, "action": NOT_FOUND, "nodes": [], "kept": [],
            "reason": "SeldonDeployment {0}/{1} not found".format(namespace, name)}
