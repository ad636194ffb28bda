# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What seldon_storage_info reports (pure): every model-loading node with its status, the
secrets those nodes use, counts, and whether the cluster is ready for the rclone initializer.

Names, statuses and reasons only: nothing here is derived from a secret value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import canary_pins
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_objects
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import model_uri
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import node_evaluation
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import rclone_mapping as rm
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import secret_plan
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_graph as sg
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_settings
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import status as st

SecretUse = namedtuple("SecretUse", "namespace name remotes used_by")
SecretUse.__doc__ = """A secret model nodes read (or need): the remotes they name (as written) and
``<deployment>/<predictor>/<node>`` of each user, both sorted."""

# One secret, several remotes: the worst conversion names the secret's status.
_ROLLUP = ((rm.CONVERSION_BLOCKED, st.BLOCKED), (rm.CONVERSION_CONFLICT, st.SECRET_CONFLICT),
           (rm.CONVERSION_CONVERTIBLE, st.CONVERTIBLE), (rm.CONVERSION_MIGRATED, st.MIGRATED))


def node_plans(inventory):
    """``(NodePlans of every model-loading node, report entries of nodes that load nothing)``."""
    plans, ignored = [], []
    for sdep in inventory.deployments:
        nodes, skipped = sg.model_loading_nodes(sdep, inventory.rules)
        ignored.extend(dict(entry, model_uri=model_uri.sanitize(entry["model_uri"])) for entry in skipped)
        plans.extend(node_evaluation.evaluate_node(node, inventory) for node in nodes)
    return plans, ignored


def secret_uses(plans):
    """The SecretUse of every secret the planned nodes read or need, sorted by namespace and name."""
    uses = {}
    for plan in plans:
        if not plan.outcome.secret or not plan.remote:
            continue
        remotes, users = uses.setdefault((plan.node["namespace"], plan.outcome.secret), (set(), []))
        remotes.add(plan.remote)
        users.append("{0}/{1}".format(plan.node["deployment"], plan.node["ref"]))
    return [SecretUse(namespace, name, sorted(remotes), sorted(users))
            for (namespace, name), (remotes, users) in sorted(uses.items())]


def keeps_rclone(plan, canary_refs):
    """True when the node runs the rclone initializer whatever the operator's global image: its own
    storageInitializerImage is an rclone image that no canary of this collection set."""
    return (seldon_settings.is_rclone_image(plan.node["storage_initializer_image"])
            and plan.node["ref"] not in canary_refs.get((plan.node["namespace"], plan.node["deployment"]), ()))


def rclone_users(inventory):
    """``{(namespace, secret): [users]}`` of the secrets nodes read that keep the rclone initializer
    after a rollback (keeps_rclone): a rollback leaves their rclone keys in place."""
    plans, _ignored = node_plans(inventory)
    canary_refs = dict((kube_objects.object_key(sdep), canary_pins.recorded_refs(sdep)[0])
                       for sdep in inventory.deployments)
    users = secret_uses([plan for plan in plans if keeps_rclone(plan, canary_refs)])
    return dict(((use.namespace, use.name), use.used_by) for use in users)


def _rollup(conversions):
    """One secret status and reason from its per-remote conversions (worst first)."""
    for conversion_status, status in _ROLLUP:
        matching = [conv for conv in conversions if conv.status == conversion_status]
        if matching:
            return status, "; ".join(conv.reason for conv in matching)
    return st.NO_CREDENTIALS, "; ".join(conv.reason for conv in conversions) or "no credentials for its users"


def secret_report(use, inventory):
    """Per-secret facts: format, status, reason, users, remotes, key names to add."""
    report = {"namespace": use.namespace, "name": use.name, "used_by": use.used_by,
              "remotes": sorted(remote.upper() for remote in use.remotes), "format": "",
              "status": st.SECRET_MISSING, "reason": "not found", "keys_to_add": [],
              "conflicting_keys": [], "added_keys": []}
    if inventory.decoded(use.namespace, use.name) is None:
        return report
    conversions = [inventory.conversion(use.namespace, use.name, remote) for remote in use.remotes]
    status, reason = _rollup(conversions)
    report.update(
        format=inventory.secret_format(use.namespace, use.name), status=status, reason=reason,
        keys_to_add=sorted(set(key for conv in conversions for key in conv.to_add)),
        conflicting_keys=sorted(set(key for conv in conversions for key in conv.conflicts)),
        added_keys=secret_plan.added_keys_recorded(inventory.annotations(use.namespace, use.name)),
    )
    return report


def _counts(items, statuses):
    counts = dict((status, 0) for status in statuses)
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


def storage_report(inventory, settings_problems=()):
    """Everything seldon_storage_info returns: ``nodes``, ``ignored_nodes``, ``secrets``,
    ``summary`` and ``ready_for_upgrade`` (False too when the operator settings have problems:
    seldon_settings.Settings.problems)."""
    plans, ignored = node_plans(inventory)
    secrets = [secret_report(use, inventory) for use in secret_uses(plans)]
    summary = {
        "deployments": len(inventory.deployments),
        "nodes": len(plans),
        "nodes_by_status": _counts([plan.status for plan in plans], st.NODE_STATUSES),
        "secrets": len(secrets),
        "secrets_by_status": _counts([secret["status"] for secret in secrets], st.SECRET_STATUSES),
        "ignored_nodes": len(ignored),
        "custom_initializers": sum(1 for plan in plans if plan.node.get("custom_initializer")),
    }
    summary["unwatched_deployments"] = len(inventory.unwatched)
    return {
        "nodes": [plan.report() for plan in plans],
        "ignored_nodes": ignored,
        "unwatched_deployments": inventory.unwatched,
        "secrets": secrets,
        "summary": summary,
        "ready_for_upgrade": not settings_problems and all(plan.status in st.READY_STATUSES for plan in plans),
    }
