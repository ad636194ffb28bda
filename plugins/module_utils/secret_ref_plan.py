# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What seldon_deployment_secret_ref does to one SeldonDeployment (pure): which model nodes get an
``envSecretRefName``, the record of them for the rollback, the JSON patch and the diff.

Nodes whose credentials came through their service account (status needs_secret_ref) get that
account's converted secret as ``envSecretRefName``; ``serviceAccountName`` stays (it is also the
pod's identity). The values set are recorded in the annotation
``rclone-migration.seldon-ops.io/secret-refs`` (JSON ``{"<predictor>/<node>": "<secret>"}``) so that
state=absent removes exactly those, and only while they still hold the recorded value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from collections import namedtuple

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import canary_pins
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import hand_written
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import json_patch
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_objects
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import node_evaluation
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_graph as sg
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_settings
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import status as st

SECRET_REFS_ANNOTATION = "rclone-migration.seldon-ops.io/secret-refs"
# What a node entry changes: the node's envSecretRefName, or its hand-written init container.
TARGET_REF = "envSecretRefName"
TARGET_INITIALIZER = "initContainer"

RefPlan = namedtuple("RefPlan", "nodes patch diff")
RefPlan.__doc__ = """Per-node entries (dicts with ref, predictor, node, path, action, secret, reason),
the JSON patch (None: nothing to write) and the ``(before, after)`` diff of changed nodes."""


def recorded_refs(sdep):
    """The ``{ref: secret}`` map in our SeldonDeployment annotation ({} when absent or unreadable)."""
    raw = kube_objects.annotations_of(sdep).get(SECRET_REFS_ANNOTATION)
    try:
        parsed = json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        return {}
    return dict((str(k), str(v)) for k, v in parsed.items()) if isinstance(parsed, dict) else {}


def _entry(node, action, secret, reason, target=TARGET_REF):
    return {"ref": node["ref"], "predictor": node["predictor"], "node": node["node"], "path": node["path"],
            "action": action, "secret": secret, "reason": reason, "target": target}


def _wanted_secret(plan, secret_name):
    """The envSecretRefName this node should get ("" for none)."""
    outcome = plan.outcome
    if outcome.status == st.NEEDS_SECRET_REF:
        return secret_name or outcome.target_secret
    if secret_name and outcome.status == st.BLOCKED and outcome.credentials == st.VIA_NONE and plan.remote:
        return secret_name
    return ""


def _node_entry(node, inventory, recorded, secret_name):
    """Does one node get an envSecretRefName, which, and why: action set | unchanged | blocked | skipped."""
    plan = node_evaluation.evaluate_node(node, inventory)
    own = node["env_secret_ref_name"]
    wants = _wanted_secret(plan, secret_name)
    if own and recorded.get(node["ref"]) == own:
        return _entry(node, st.ACTION_UNCHANGED, own, "envSecretRefName {0} set by this collection".format(own))
    if wants and inventory.decoded(node["namespace"], wants) is None:
        return _entry(node, st.ACTION_BLOCKED, wants, "secret {0} not found in namespace {1}".format(
            wants, node["namespace"]))
    if wants:
        return _entry(node, st.ACTION_SET, wants, "envSecretRefName: {0}".format(wants))
    if own:
        return _entry(node, st.ACTION_UNCHANGED, own, "has its own envSecretRefName")
    if plan.status == st.BLOCKED:
        # nothing this module can set would fix it; say so instead of staying silent
        return _entry(node, st.ACTION_BLOCKED, plan.outcome.secret, plan.report()["reason"])
    return _entry(node, st.ACTION_SKIPPED, "", plan.report()["reason"])


def desired_refs(sdep, inventory, secret_name=""):
    """Per model-loading node of one SeldonDeployment, the entry ``_node_entry`` gives.

    With ``secret_name``, that secret instead of the service account's, also for nodes that have
    no credentials at all (blocked, none configured).
    """
    nodes, _ignored = sg.model_loading_nodes(sdep, inventory.rules)
    recorded = recorded_refs(sdep)
    return [_node_entry(node, inventory, recorded, secret_name) for node in nodes]


def set_patch(sdep, nodes, initializer_ops=(), initializer_record=None):
    """JSON patch setting envSecretRefName on nodes whose action is ``set``, plus the hand-written
    init container edits (hand_written.change), recording both, guarded. None when nothing changes."""
    to_set = [entry for entry in nodes if entry["action"] == st.ACTION_SET and entry["target"] == TARGET_REF]
    if not to_set and not initializer_ops:
        return None
    recorded = recorded_refs(sdep)
    ops = [json_patch.guard(sdep)]
    for entry in to_set:
        ops.append({"op": "add", "path": entry["path"] + "/envSecretRefName", "value": entry["secret"]})
        recorded[entry["ref"]] = entry["secret"]
    ops.extend(initializer_ops)
    records = {}
    if to_set:
        records[SECRET_REFS_ANNOTATION] = json.dumps(recorded, sort_keys=True)
    if initializer_ops:
        records[hand_written.ANNOTATION] = json.dumps(initializer_record, sort_keys=True)
    ops.extend(json_patch.set_keys(kube_objects.metadata_of(sdep).get("annotations"), "/metadata/annotations", records))
    return ops


def removal_nodes(sdep):
    """For state=absent: per recorded node, remove its envSecretRefName or leave it (and why).

    A node that keeps the rclone initializer after the rollback (its own rclone
    storageInitializerImage, not a canary pin) keeps the reference: rclone reads that secret.
    """
    entries = []
    canary_refs = canary_pins.recorded_refs(sdep)[0]
    for ref, secret in sorted(recorded_refs(sdep).items()):
        path = sg.pointer_for_ref(sdep, ref)
        node = {"ref": ref, "predictor": ref.split("/", 1)[0], "node": ref.split("/", 1)[-1], "path": path or ""}
        current = json_patch.value_at(sdep, path + "/envSecretRefName") if path else None
        pinned = json_patch.value_at(sdep, path + "/storageInitializerImage") if path else None
        if path is None:
            entries.append(_entry(node, st.ACTION_SKIPPED, secret, "node no longer exists"))
        elif seldon_settings.is_rclone_image(pinned) and ref not in canary_refs:
            entries.append(_entry(node, st.ACTION_SKIPPED, secret, "node pins the rclone initializer {0}: keeps "
                                  "its envSecretRefName".format(pinned)))
        elif current != secret:
            entries.append(_entry(node, st.ACTION_SKIPPED, secret,
                                  "envSecretRefName changed since this collection set it: left as is"))
        else:
            entries.append(_entry(node, st.ACTION_REMOVED, secret, "removes envSecretRefName {0}".format(secret)))
    return entries


def removal_patch(sdep, nodes, initializer_ops=()):
    """JSON patch removing recorded envSecretRefName values, putting back hand-written init containers
    and removing our annotations, guarded (None: nothing recorded)."""
    annotations = kube_objects.annotations_of(sdep)
    ours = [key for key in (SECRET_REFS_ANNOTATION, hand_written.ANNOTATION) if key in annotations]
    if not ours:
        return None
    ops = [json_patch.guard(sdep)]
    ops.extend({"op": "remove", "path": entry["path"] + "/envSecretRefName"}
               for entry in nodes if entry["action"] == st.ACTION_REMOVED and entry["target"] == TARGET_REF)
    ops.extend(initializer_ops)
    for key in ours:
        ops.extend(json_patch.remove_annotation(key))
    return ops


def diff(nodes):
    """``(before, after)`` envSecretRefName per changed node ref, for --diff (hand-written init
    containers: the reason in words)."""
    before, after = {}, {}
    for entry in nodes:
        if entry["target"] == TARGET_INITIALIZER and entry["action"] in (st.ACTION_SET, st.ACTION_REMOVED):
            before[entry["ref"]], after[entry["ref"]] = {"initContainer": "as it was"}, {"initContainer": entry["reason"]}
        elif entry["action"] == st.ACTION_SET:
            before[entry["ref"]], after[entry["ref"]] = {"envSecretRefName": None}, {"envSecretRefName": entry["secret"]}
        elif entry["action"] == st.ACTION_REMOVED:
            before[entry["ref"]], after[entry["ref"]] = {"envSecretRefName": entry["secret"]}, {"envSecretRefName": None}
    return before, after


def _hand_written(sdep, inventory, nodes, image):
    """Replace the entries of nodes with a hand-written init container by hand_written.change's;
    returns ``(entries, patch ops, record)``."""
    ops, record = [], hand_written.recorded(sdep)
    by_ref = dict((entry["ref"], index) for index, entry in enumerate(nodes))
    for node in sg.model_loading_nodes(sdep, inventory.rules)[0]:
        plan = node_evaluation.evaluate_node(node, inventory)
        if plan.status != st.HAND_WRITTEN or node["ref"] not in by_ref:
            continue
        action, reason, node_ops, entry = hand_written.change(sdep, node, plan.outcome.secret, image)
        nodes[by_ref[node["ref"]]] = _entry(node, action, plan.outcome.secret, reason, TARGET_INITIALIZER)
        ops.extend(node_ops)
        if entry:
            record[node["ref"]] = entry
    return nodes, ops, record


def plan_refs(sdep, inventory, secret_name="", hand_written_image=""):
    """The RefPlan of state=present for one SeldonDeployment as read; with ``hand_written_image``
    hand-written init containers are moved to that image too (hand_written)."""
    nodes = desired_refs(sdep, inventory, secret_name)
    ops, record = [], {}
    if hand_written_image:
        nodes, ops, record = _hand_written(sdep, inventory, nodes, hand_written_image)
    patch = set_patch(sdep, nodes, ops, record)
    return RefPlan(nodes, patch, diff(nodes) if patch else None)


def plan_ref_removal(sdep):
    """The RefPlan of state=absent for one SeldonDeployment as read."""
    nodes = removal_nodes(sdep)
    ops = []
    for ref, entry in sorted(hand_written.recorded(sdep).items()):
        action, reason, node_ops = hand_written.removal(sdep, ref, entry)
        node = {"ref": ref, "predictor": ref.split("/", 1)[0], "node": ref.split("/", 1)[-1], "path": ""}
        nodes.append(_entry(node, action, entry.get("secret") or "", reason, TARGET_INITIALIZER))
        ops.extend(node_ops)
    patch = removal_patch(sdep, nodes, ops)
    return RefPlan(nodes, patch, diff(nodes) if patch else None)


def deployment_entry(sdep, plan, removing, error=""):
    """The module's result entry for one SeldonDeployment: action patched | removed | blocked |
    unchanged | failed, a reason naming the nodes, and the per-node entries."""
    namespace, name = kube_objects.object_key(sdep)
    entry = {"namespace": namespace, "name": name, "action": st.ACTION_UNCHANGED, "reason": "nothing to change",
             "nodes": plan.nodes}
    changed = [node["ref"] for node in plan.nodes if node["action"] in (st.ACTION_SET, st.ACTION_REMOVED)]
    blocked = [node for node in plan.nodes if node["action"] == st.ACTION_BLOCKED]
    if error:
        entry.update(action=st.ACTION_FAILED, reason=error)
    elif plan.patch is not None:
        entry.update(action=st.ACTION_REMOVED if removing else st.ACTION_PATCHED,
                     reason="{0} node(s): {1}".format(len(changed), ", ".join(changed)) if changed
                     else "removes the annotation")
    elif blocked:
        entry.update(action=st.ACTION_BLOCKED,
                     reason="; ".join("{0}: {1}".format(node["ref"], node["reason"]) for node in blocked))
    return entry
