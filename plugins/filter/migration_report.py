# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the rclone_migration role and the fleet playbooks use to read cluster state and
shape reports. Pure functions over data the modules and kubernetes.core.k8s_info returned;
none of them sees a secret value (the modules never return one)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import operator_rules
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_graph
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_settings
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import status as st
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils.rollout import (
    COMPLETE,
    rollout_status,
)

# The fallback an operator whose release is unknown uses (the newest release read).
OPERATOR_DEFAULT_INITIALIZER = operator_rules.rules_for().fallback_image
INITIALIZER_SUFFIX = seldon_graph.INITIALIZER_SUFFIX


def _dict(value):
    return value if isinstance(value, dict) else {}


def _list(value):
    return value if isinstance(value, list) else []


def _first(resources):
    return _list(resources)[0] if _list(resources) else None


# --- where things are ------------------------------------------------------------------------


def node_label(item):
    """``namespace/deployment predictor/node`` for a storage-info node (explainers included)."""
    item = _dict(item)
    where = "{0}/{1}".format(item.get("namespace", "?"), item.get("deployment", "?"))
    inner = "/".join(str(part) for part in (item.get("predictor"), item.get("node")) if part)
    return "{0} {1}".format(where, inner) if inner else where


def _finding(item, label):
    reason = item.get("reason") or item.get("status") or "no reason given"
    return {"where": label, "reason": reason, "text": "{0}: {1}".format(label, reason)}


# --- the operator's storage initializer ----------------------------------------------------


def storage_initializer_image(config_maps, controller_deployments=None):
    """The image the operator injects into new init containers, and where it comes from
    (seldon_settings.initializer_image, the one home of that rule).

    ``config_maps`` and ``controller_deployments`` are k8s_info ``resources`` lists (0 or 1 item).
    """
    image = seldon_settings.initializer_image(_first(controller_deployments), _first(config_maps))
    if image.problem:
        raise AnsibleFilterError(image.problem)
    return {
        "image": image.image,
        "source": image.source,
        "configmap_image": image.configmap_image,
        "controller_env_image": image.controller_env_image,
        "operator_found": bool(_list(controller_deployments)),
    }


# --- seldon_storage_info / rclone_secret / seldon_deployment_secret_ref results -------------


def storage_summary(info):
    """Counts and findings a person reads first, from a seldon_storage_info result.

    ``blocked`` lists what conversion cannot fix (blocked nodes and blocked secrets);
    ``not_ready`` lists every node that would break under the rclone initializer now.
    """
    info = _dict(info)
    nodes = [_dict(node) for node in _list(info.get("nodes"))]
    counts = dict((status, 0) for status in st.NODE_STATUSES)
    for node in nodes:
        counts[node.get("status")] = counts.get(node.get("status"), 0) + 1
    summary = _dict(info.get("summary"))
    deployments = summary.get("deployments")
    if not isinstance(deployments, int):
        deployments = len(set((node.get("namespace"), node.get("deployment")) for node in nodes))
    counts["deployments"] = deployments
    counts["nodes"] = len(nodes)
    blocked = [_finding(node, node_label(node)) for node in nodes if node.get("status") == st.BLOCKED]
    seen = set(finding["text"] for finding in blocked)
    for secret in _list(info.get("secrets")):
        secret = _dict(secret)
        if secret.get("status") == st.BLOCKED:
            finding = _finding(secret, "secret {0}/{1}".format(secret.get("namespace"), secret.get("name")))
            if finding["text"] not in seen:
                blocked.append(finding)
                seen.add(finding["text"])
    not_ready = [
        _finding(node, node_label(node))
        for node in nodes
        if node.get("status") in st.NOT_READY_STATUSES
    ]
    return {
        "counts": counts,
        "ready_for_upgrade": bool(info.get("ready_for_upgrade", False)),
        "blocked": blocked,
        "not_ready": not_ready,
    }


def conversion_outcome(secrets, deployments=None):
    """What rclone_secret and seldon_deployment_secret_ref did (or would do in check mode):
    action counts, the secrets and SeldonDeployments written, and problems that stop a migration."""
    actions = {}
    problems, converted, refs = [], [], []
    for secret in _list(secrets):
        secret = _dict(secret)
        action = secret.get("action") or "unknown"
        actions[action] = actions.get(action, 0) + 1
        label = "secret {0}/{1}".format(secret.get("namespace"), secret.get("name"))
        if action in st.SECRET_PROBLEM_ACTIONS:
            problems.append("{0}: {1}: {2}".format(label, action, secret.get("reason") or "no reason given"))
        elif action in st.SECRET_CHANGE_ACTIONS:
            converted.append({
                "namespace": secret.get("namespace"),
                "name": secret.get("name"),
                "action": action,
                "added_keys": sorted(_list(secret.get("added_keys"))),
            })
    for deployment in _list(deployments):
        deployment = _dict(deployment)
        action = deployment.get("action") or "unknown"
        label = "SeldonDeployment {0}/{1}".format(deployment.get("namespace"), deployment.get("name"))
        if action in st.DEPLOYMENT_PROBLEM_ACTIONS:
            problems.append("{0}: {1}: {2}".format(label, action, deployment.get("reason") or "no reason given"))
        elif action in st.DEPLOYMENT_CHANGE_ACTIONS:
            refs.append({
                "namespace": deployment.get("namespace"),
                "name": deployment.get("name"),
                "action": action,
                "nodes": [
                    {"ref": _dict(node).get("ref"), "action": _dict(node).get("action"), "secret": _dict(node).get("secret")}
                    for node in _list(deployment.get("nodes"))
                ],
            })
    return {
        "secret_actions": actions,
        "converted": converted,
        "refs_added": refs,
        "problems": problems,
        "changed": bool(converted or refs),
    }


# --- SeldonDeployment graphs (the walk itself is seldon_graph's) -----------------------------


def _expected_images(sdep, image):
    """``(init container name -> image, explainer deployment name -> image)`` the operator should
    render for one SeldonDeployment: a node's own pin, else ``image``; a hand-written init
    container keeps whatever it says (no expectation)."""
    nodes, _ignored = seldon_graph.model_loading_nodes(_dict(sdep))
    by_container, by_explainer = {}, {}
    for node in nodes:
        wanted = node.get("storage_initializer_image") or image
        if node.get("kind") == seldon_graph.KIND_EXPLAINER:
            by_explainer["{0}-{1}-explainer".format(node.get("deployment"), node.get("predictor"))] = wanted
        elif not node.get("custom_initializer"):
            by_container[seldon_graph.initializer_container_name(node.get("node") or "")] = wanted
            if node.get("implementation") == seldon_graph.TENSORFLOW_SERVER:
                by_container.setdefault(seldon_graph.initializer_container_name(seldon_graph.TFSERVING_CONTAINER), wanted)
        else:
            by_container[node["custom_initializer"]] = None
    return by_container, by_explainer


def model_rollout_state(deployments, seldon_deployments, image):
    """Whether the operator rendered ``image`` into every model Deployment and the rollouts finished.

    ``deployments``: k8s_info resources labelled seldon-deployment-id; ``seldon_deployments``:
    their SeldonDeployments (for per-node and hand-written images, which keep their own).
    Returns ``mismatches`` (init containers not on the image they should have), ``incomplete``
    (rollouts still in progress) and ``done``.
    """
    by_name = {}
    for sdep in _list(seldon_deployments):
        metadata = _dict(_dict(sdep).get("metadata"))
        by_name[(metadata.get("namespace"), metadata.get("name"))] = sdep
    mismatches, incomplete, seen = [], [], []
    for deployment in _list(deployments):
        deployment = _dict(deployment)
        metadata = _dict(deployment.get("metadata"))
        namespace, name = metadata.get("namespace"), metadata.get("name")
        sdep_name = _dict(metadata.get("labels")).get("seldon-deployment-id")
        by_container, by_explainer = _expected_images(by_name.get((namespace, sdep_name), {}), image)
        pod_spec = _dict(_dict(_dict(deployment.get("spec")).get("template")).get("spec"))
        for container in _list(pod_spec.get("initContainers")):
            container_name = _dict(container).get("name") or ""
            if not container_name.endswith(INITIALIZER_SUFFIX):
                continue
            wanted = by_explainer[name] if name in by_explainer else by_container.get(container_name, image)
            if wanted is not None and container.get("image") != wanted:
                mismatches.append({
                    "namespace": namespace,
                    "deployment": name,
                    "container": container_name,
                    "image": container.get("image"),
                    "expected": wanted,
                })
        state, message = rollout_status("Deployment", deployment)
        if state != COMPLETE:
            incomplete.append({"namespace": namespace, "deployment": name, "state": state, "reason": message})
        seen.append("{0}/{1}".format(namespace, name))
    return {
        "deployments": seen,
        "mismatches": mismatches,
        "incomplete": incomplete,
        "done": not mismatches and not incomplete,
    }


def rollout_problems(incomplete, model_state=None):
    """Sentences for rollouts that did not finish (rollout_restart's ``incomplete``) and init
    containers the operator did not move to the expected image (model_rollout_state)."""
    problems = []
    for item in _list(incomplete):
        item = _dict(item)
        problems.append("rollout of {0} {1}/{2} not complete: {3}".format(
            item.get("kind", "Deployment"), item.get("namespace"), item.get("name"),
            item.get("reason") or "no reason given"))
    for item in _list(_dict(model_state).get("mismatches")):
        problems.append("{0}/{1} init container {2} runs {3}, expected {4}".format(
            item.get("namespace"), item.get("deployment"), item.get("container"),
            item.get("image"), item.get("expected")))
    return problems


# --- fleet summary ---------------------------------------------------------------------------


def _tone(status):
    """How the fleet table marks a cluster status: ``ok``, ``warn`` or ``bad``."""
    if status in st.CLUSTER_OK_STATUSES:
        return "ok"
    return "warn" if status in st.CLUSTER_WARN_STATUSES else "bad"


def fleet_summary(reports, hosts=None):
    """Rows for the fleet table, one per cluster, from the per-cluster reports (statuses:
    status.CLUSTER_STATUSES; ``tone`` says how the table marks each).

    ``reports`` is a list of report dicts (or a dict host -> report); ``hosts`` lists clusters
    that must appear even without a report (a run that failed before writing one).
    """
    if isinstance(reports, dict):
        by_cluster = dict((name, _dict(report)) for name, report in reports.items())
    else:
        by_cluster = dict(
            (_dict(report).get("cluster"), _dict(report)) for report in _list(reports) if _dict(report).get("cluster")
        )
    names = list(hosts or []) + sorted(name for name in by_cluster if name not in (hosts or []))
    rows = []
    totals = {"clusters": 0, "deployments": 0, "nodes": 0, "migrated": 0, "blocked": 0, "failed": 0}
    for name in names:
        report = by_cluster.get(name)
        totals["clusters"] += 1
        if not report:
            rows.append({
                "cluster": name, "context": "", "status": st.CLUSTER_NO_REPORT, "tone": _tone(st.CLUSTER_NO_REPORT),
                "deployments": None, "nodes": None, "migrated": None, "blocked": None, "reasons": [],
                "image": "", "problems": ["the run stopped before this cluster's report was written"],
            })
            totals["failed"] += 1
            continue
        counts = _dict(report.get("counts"))
        reasons = [finding.get("text") for finding in _list(report.get("blocked")) if isinstance(finding, dict)]
        problems = [str(problem) for problem in _list(report.get("problems"))]
        if report.get("error"):
            problems.insert(0, str(report["error"]))
        initializer = _dict(report.get("storage_initializer"))
        status = report.get("status") or "unknown"
        rows.append({
            "cluster": name,
            "context": report.get("context") or "",
            "status": status,
            "tone": _tone(status),
            "deployments": counts.get("deployments"),
            "nodes": counts.get("nodes"),
            "migrated": counts.get("migrated"),
            "blocked": counts.get("blocked"),
            "reasons": reasons,
            "image": initializer.get("after") or initializer.get("before") or "",
            "problems": problems,
        })
        for key in ("deployments", "nodes", "migrated", "blocked"):
            totals[key] += int(counts.get(key) or 0)
        if status == st.CLUSTER_FAILED:
            totals["failed"] += 1
    return {"rows": rows, "totals": totals}


class FilterModule(object):
    def filters(self):
        return {
            "storage_initializer_image": storage_initializer_image,
            "storage_summary": storage_summary,
            "conversion_outcome": conversion_outcome,
            "model_rollout_state": model_rollout_state,
            "rollout_problems": rollout_problems,
            "fleet_summary": fleet_summary,
        }
