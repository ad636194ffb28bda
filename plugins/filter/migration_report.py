# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the rclone_migration role and the fleet playbooks use to read cluster state and
shape reports. Pure functions over data the modules returned; none of them sees a secret value
(the modules never return one), and a URL the user gives is shown without its credentials."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from urllib.parse import urlsplit

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import model_rollout
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import operator_rules
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_settings
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import rollout
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import status as st

# The fallback an operator whose release is unknown uses (the newest release read).
OPERATOR_DEFAULT_INITIALIZER = operator_rules.rules_for().fallback_image


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


def operator_initializer(seldon):
    """The same record as storage_initializer_image, from the ``seldon`` settings a collection
    module returned (seldon_storage_info): those carry no object, so no value of the controller's
    pod template, even in debug output. ``configmap_image`` is known when seldon-config decides (the
    controller env wins over it); ``operator_found``: the operator's release could be read from its
    controller.

    >>> operator_initializer({"storage_initializer_image": "kf:1", "storage_initializer_image_source":
    ...                       "seldon-config storageInitializer", "operator": {"source": "controller image tag"}})["configmap_image"]
    'kf:1'
    """
    seldon = _dict(seldon)
    image = seldon.get("storage_initializer_image") or ""
    source = seldon.get("storage_initializer_image_source") or ""
    return {
        "image": image,
        "source": source,
        "configmap_image": image if source == seldon_settings.SOURCE_SELDON_CONFIG else "",
        "controller_env_image": image if source == seldon_settings.SOURCE_CONTROLLER_ENV else "",
        "operator_found": bool(_dict(seldon.get("operator")).get("source"))
        and _dict(seldon.get("operator")).get("source") != operator_rules.SOURCE_ASSUMED,
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


# --- the gate: what the switch reaches, whatever namespaces the run converts ---------------------

def _namespaces(namespaces):
    """The namespaces a run converts, sorted; [] means all of them."""
    if isinstance(namespaces, str):
        namespaces = [namespaces]
    return sorted(set(name for name in _list(namespaces) if isinstance(name, str) and name))


def _in_scope(item, namespaces):
    return not namespaces or _dict(item).get("namespace") in namespaces


def _count(items, statuses):
    counts = dict((status, 0) for status in statuses)
    for item in items:
        status = _dict(item).get("status")
        counts[status] = counts.get(status, 0) + 1
    return counts


def storage_scope(info, namespaces=None):
    """A seldon_storage_info result limited to ``namespaces`` (all of it when empty): nodes, ignored
    nodes, secrets and unwatched SeldonDeployments of those namespaces, the summary counted again
    (``deployments``: those with a model node or an ignored one) and ``ready_for_upgrade`` for them
    (false too while the operator settings have problems).

    >>> info = {"nodes": [{"namespace": "a", "status": "migrated"}, {"namespace": "b", "status": "blocked"}]}
    >>> scoped = storage_scope(info, ["a"])
    >>> [node["namespace"] for node in scoped["nodes"]], scoped["ready_for_upgrade"]
    (['a'], True)
    """
    info = _dict(info)
    namespaces = _namespaces(namespaces)
    if not namespaces:
        return info
    nodes = [_dict(node) for node in _list(info.get("nodes")) if _in_scope(node, namespaces)]
    ignored = [_dict(node) for node in _list(info.get("ignored_nodes")) if _in_scope(node, namespaces)]
    secrets = [_dict(secret) for secret in _list(info.get("secrets")) if _in_scope(secret, namespaces)]
    unwatched = [_dict(item) for item in _list(info.get("unwatched_deployments")) if _in_scope(item, namespaces)]
    summary = dict(_dict(info.get("summary")))
    summary.update(
        deployments=len(set((item.get("namespace"), item.get("deployment")) for item in nodes + ignored)),
        nodes=len(nodes), nodes_by_status=_count(nodes, st.NODE_STATUSES),
        secrets=len(secrets), secrets_by_status=_count(secrets, st.SECRET_STATUSES),
        ignored_nodes=len(ignored), custom_initializers=sum(1 for node in nodes if node.get("custom_initializer")),
        unwatched_deployments=len(unwatched))
    ready = not _list(_dict(info.get("seldon")).get("problems")) and all(
        node.get("status") in st.READY_STATUSES for node in nodes)
    return dict(info, nodes=nodes, ignored_nodes=ignored, secrets=secrets, unwatched_deployments=unwatched,
                summary=summary, ready_for_upgrade=ready)


def _node_finding(node, note=""):
    """A finding about one node that also says where it is as data (namespace, deployment, ref)."""
    node = _dict(node)
    label = node_label(node)
    finding = _finding(node, "{0} [{1}]".format(label, note) if note else label)
    finding.update(where=label, namespace=node.get("namespace"), deployment=node.get("deployment"),
                   ref=node.get("ref") or "{0}/{1}".format(node.get("predictor"), node.get("node")),
                   status=node.get("status"))
    if node.get("custom_initializer"):
        finding["initializer"] = node["custom_initializer"]
    return finding


OUTSIDE_NOTE = "{0}, outside rclone_migration_namespaces: the switch reaches it, this run does not convert it"


def switch_gate(info, namespaces=None):
    """What the operator's global switch reaches and what stops it, from seldon_storage_info run over
    the operator's whole watch scope (no ``namespaces``); ``namespaces`` are the ones the run converts.

    ``stops``: blocked nodes and secrets in those namespaces, and every node outside them that would
    break under the rclone initializer (this run does not convert it: ``outside``). ``not_ready``:
    every node of the watch scope that would break now; ``ready``: none would (the module's
    ``ready_for_upgrade``). Reported apart, never stopping the switch and never counted as
    migrated: ``hand_written`` nodes (the switch does not reach them), ``failing_before`` nodes
    (the operator fails them already) and ``unwatched_deployments``. ``outside_deployments``: the
    SeldonDeployments outside those namespaces that have model nodes (verified after the switch).
    """
    info = _dict(info)
    namespaces = _namespaces(namespaces)
    seldon = _dict(info.get("seldon"))
    watch = _dict(seldon.get("watch"))
    operator = _dict(seldon.get("operator"))
    nodes = [_dict(node) for node in _list(info.get("nodes"))]
    outside = [_node_finding(node, OUTSIDE_NOTE.format(node.get("status")))
               for node in nodes if not _in_scope(node, namespaces) and node.get("status") in st.NOT_READY_STATUSES]
    scoped = storage_scope(info, namespaces)
    blocked = [_node_finding(node) for node in _list(scoped.get("nodes")) if _dict(node).get("status") == st.BLOCKED]
    texts = set(finding["text"] for finding in blocked)
    # blocked secrets (storage_summary words them) after the nodes
    blocked += [finding for finding in storage_summary(scoped)["blocked"] if finding["text"] not in texts]
    outside_deployments = sorted(set((node.get("namespace"), node.get("deployment"))
                                     for node in nodes if not _in_scope(node, namespaces)), key=str)
    return {
        "operator": {"version": operator.get("version") or "", "source": operator.get("source") or ""},
        "watch": {"namespace": watch.get("namespace") or "", "controller_id": watch.get("controller_id") or ""},
        "watched": seldon_settings.describe_watch(watch.get("namespace") or ""),
        "converted_namespaces": namespaces or "all",
        "ready": bool(info.get("ready_for_upgrade", False)),
        # the operator cannot render any model as configured (seldon-config): nothing converts that
        "stops": blocked + outside + [{"where": "seldon-config", "reason": str(problem), "text": "seldon-config: " + str(problem)}
                                      for problem in _list(seldon.get("problems"))],
        "outside": outside,
        "not_ready": [_node_finding(node) for node in nodes if node.get("status") in st.NOT_READY_STATUSES],
        "outside_deployments": [{"namespace": namespace, "name": name} for namespace, name in outside_deployments],
        "unwatched_deployments": [_dict(item) for item in _list(info.get("unwatched_deployments"))],
        "hand_written": [_node_finding(node) for node in nodes if node.get("status") == st.HAND_WRITTEN],
        "failing_before": [_node_finding(node) for node in nodes if node.get("status") == st.FAILING_BEFORE],
        "settings_problems": [str(problem) for problem in _list(seldon.get("problems"))],
    }


def survey(info, namespaces=None):
    """What the run records from a seldon_storage_info result over the operator's watch scope:
    ``info`` (the result limited to ``namespaces``: storage_scope), ``storage`` (its storage_summary,
    whose ``blocked`` are the gate's ``stops``: what this run cannot fix) and ``gate`` (switch_gate).
    """
    gate = switch_gate(info, namespaces)
    scoped = storage_scope(info, namespaces)
    storage = storage_summary(scoped)
    storage["blocked"] = gate["stops"]
    return {"info": scoped, "storage": storage, "gate": gate}


# --- model rollouts (seldon_model_rollout) ---------------------------------------------------------

# The start of model_rollout.generation_finding's note (a unit test keeps the two in step).
def _rollout_results(results):
    """seldon_model_rollout results: one result, a registered loop (``results``) or a list of them."""
    if isinstance(results, dict):
        results = results.get("results") if "results" in results else [results]
    return [result for result in _list(results) if isinstance(result, dict) and isinstance(result.get("deployments"), list)]


def rollout_report(results, gate=None, check_mode=False):
    """Per model Deployment, what seldon_model_rollout verified from the live objects, and what that
    means for the run.

    ``results``: seldon_model_rollout results (one, or a registered loop); ``gate``: switch_gate's
    record (its ``failing_before`` and ``hand_written`` nodes). Each entry: ``namespace``, ``name``,
    ``seldon_deployment``, ``action`` (``restarted`` when this run's restart wrote to its
    SeldonDeployment or to it, ``would_restart`` in check mode, else ``unchanged``), ``restart_method``,
    ``verified``, ``complete`` (verified but for a climbing generation), ``findings``,
    ``generation`` and ``failing_before``.

    ``problems``: Deployments not verified, except those of SeldonDeployments the operator failed
    before the run (neither blamed nor credited: ``warnings``) and in check mode (nothing was
    written, so nothing was expected to move). A generation that keeps climbing once the rollout is
    complete (the operator keeps rewriting it) is named in ``generation_climbing`` and ``warnings``.
    """
    gate = _dict(gate)
    check_mode = boolean(check_mode, strict=False)
    failing = set((item.get("namespace"), item.get("deployment")) for item in map(_dict, _list(gate.get("failing_before"))))
    report = {"rollouts": [], "problems": [], "warnings": [], "generation_climbing": [], "restarted": [],
              "restart_method": "", "operator_version": ""}
    for result in _rollout_results(results):
        method = result.get("restart_method") or ""
        patched = set(str(item) for item in _list(result.get("restarted")))
        report["restarted"].extend(sorted(patched))
        report["restart_method"] = method or report["restart_method"]
        report["operator_version"] = result.get("operator_version") or report["operator_version"]
        for item in map(_dict, result["deployments"]):
            namespace, name, owner = item.get("namespace"), item.get("name"), item.get("seldon_deployment")
            target = owner if method == model_rollout.RESTART_THROUGH_SELDON_DEPLOYMENT else name
            action = st.ACTION_UNCHANGED
            if "{0}/{1}".format(namespace, target) in patched:
                action = rollout.WOULD_RESTART if check_mode else rollout.RESTARTED
            other = [str(finding) for finding in _list(item.get("findings"))]
            climbing = [item["generation_note"]] if item.get("generation_note") else []
            entry = {"namespace": namespace, "name": name, "seldon_deployment": owner, "action": action,
                     "restart_method": method, "verified": not other and not climbing, "complete": not other,
                     "findings": other + climbing, "generation": item.get("generation"),
                     "failing_before": (namespace, owner) in failing}
            report["rollouts"].append(entry)
            label = "{0}/{1}".format(namespace, name)
            if climbing:
                report["generation_climbing"].append(label)
                report["warnings"].append("model Deployment {0}: {1}".format(label, "; ".join(climbing)))
            if not other or check_mode:
                continue
            if entry["failing_before"]:
                report["warnings"].append(
                    "model Deployment {0}: not verified, but the operator failed SeldonDeployment {1} before this run: "
                    "{2}".format(label, owner, "; ".join(other)))
            else:
                report["problems"].append("model Deployment {0} (SeldonDeployment {1}) not verified: {2}".format(
                    label, owner, "; ".join(other)))
    report["incomplete"] = [entry for entry in report["rollouts"]
                            if not entry["complete"] and not entry["failing_before"] and not check_mode]
    report["mismatches"] = [dict(namespace=entry["namespace"], deployment=entry["name"], finding=finding)
                            for entry in report["incomplete"] for finding in entry["findings"]
                            if finding.startswith("init container ")]
    return report


# --- rclone_access_check --------------------------------------------------------------------------

_ACCESS_FAILURES = ("failed", "timeout")


def access_check_report(result):
    """What rclone_access_check found, for the report: per check the namespace, secret, remote,
    bucket, nodes, status and rclone's error (values already masked by the module; the Job
    manifests are left out), the nodes no check covered, counts, and one ``problems`` sentence per
    check that failed or timed out (naming nodes, secret and rclone's error).
    """
    result = _dict(result)
    keys = ("namespace", "secret", "secret_source", "remote", "bucket", "model_uri", "nodes", "service_account",
            "image", "status", "error", "reason")
    checks = [dict((key, _dict(check).get(key)) for key in keys) for check in _list(result.get("checks"))]
    return {
        "checks": checks,
        "not_checked": [_dict(item) for item in _list(result.get("not_checked"))],
        "summary": _dict(result.get("summary")),
        "problems": ["access check: {0}".format(check.get("reason") or "{0}/{1}: {2}".format(
            check.get("namespace"), check.get("secret"), check.get("error")))
            for check in checks if check.get("status") in _ACCESS_FAILURES],
    }


# --- URLs the user gives --------------------------------------------------------------------------

def redact_url(url):
    """A URL as a report may show it: user info replaced by ``<redacted>``, every query value too
    (a parameter without ``=`` entirely), no fragment - tokens travel in all three.

    >>> redact_url("https://u:p@host:8443/api/v1.0/predictions?token=abc&x")
    'https://<redacted>@host:8443/api/v1.0/predictions?token=<redacted>&<redacted>'
    >>> redact_url("http://127.0.0.1:9000/api/v1.0/predictions")
    'http://127.0.0.1:9000/api/v1.0/predictions'
    """
    text = url.strip() if isinstance(url, str) else ""
    if not text:
        return ""
    try:
        parts = urlsplit(text)
    except ValueError:
        return st.REDACTED
    userinfo = st.REDACTED + "@" if "@" in parts.netloc else ""
    host = parts.netloc.rsplit("@", 1)[-1]
    redacted = "{0}://{1}{2}{3}".format(parts.scheme, userinfo, host, parts.path) if parts.scheme else (
        userinfo + host + parts.path)
    if parts.query:
        redacted += "?" + "&".join(
            "{0}={1}".format(part.split("=", 1)[0], st.REDACTED) if "=" in part else st.REDACTED
            for part in parts.query.split("&") if part)
    return redacted


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
            "operator_initializer": operator_initializer,
            "storage_summary": storage_summary,
            "conversion_outcome": conversion_outcome,
            "storage_scope": storage_scope,
            "switch_gate": switch_gate,
            "survey": survey,
            "rollout_report": rollout_report,
            "access_check_report": access_check_report,
            "redact_url": redact_url,
            "fleet_summary": fleet_summary,
        }
