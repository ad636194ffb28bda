# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restart and rollout-readiness rules for Deployments, StatefulSets and DaemonSets (pure).

The restart is the one ``kubectl rollout restart`` performs: a new value for the pod template
annotation ``kubectl.kubernetes.io/restartedAt``. The readiness rules are the ones
``kubectl rollout status`` applies (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go),
so "complete" here means what it means to an operator at the shell.
Nothing in this file talks to the API server; the module passes listed objects in.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
from collections import namedtuple

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_objects

RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")

# Actions reported per object.
RESTARTED = "restarted"
UNCHANGED = "unchanged"
WOULD_RESTART = "would_restart"
SKIPPED = "skipped"
FAILED = "failed"

# Rollout states: COMPLETE and STALLED are final, PROGRESSING is worth another look.
COMPLETE = "complete"
PROGRESSING = "progressing"
STALLED = "stalled"


def format_restarted_at(moment=None):
    """RFC 3339 timestamp in UTC with seconds, as kubectl writes it (kubectl uses local time).

    >>> format_restarted_at(datetime.datetime(2024, 5, 1, 12, 0, 3, 999, tzinfo=datetime.timezone.utc))
    '2024-05-01T12:00:03Z'
    """
    if moment is None:
        moment = datetime.datetime.now(datetime.timezone.utc)
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def label_selector(label_selectors):
    """Join selectors the way kubernetes.core does: every one must match (comma is AND)."""
    parts = [selector.strip() for selector in (label_selectors or []) if selector and selector.strip()]
    return ",".join(parts) or None


def field_selector_for_name(name):
    """A LIST restricted to one name, so a named object costs the same request as a selection."""
    return "metadata.name={0}".format(name) if name else None


def object_ref(kind, obj):
    namespace, name = kube_objects.object_key(obj)
    return {"kind": kind, "namespace": namespace, "name": name}


def current_restarted_at(obj):
    """The restartedAt annotation of the pod template, or None."""
    template = (obj.get("spec") or {}).get("template") or {}
    annotations = (template.get("metadata") or {}).get("annotations") or {}
    return annotations.get(RESTARTED_AT_ANNOTATION)


def restart_patch(restarted_at, resource_version=None):
    """Merge patch that sets only the restartedAt key (other annotations stay).

    With a resourceVersion the API server rejects the patch with 409 when the object changed
    after it was read, which is how every write of this collection detects concurrent edits.
    """
    patch = {
        "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT_ANNOTATION: restarted_at}}}}
    }
    if resource_version:
        patch["metadata"] = {"resourceVersion": resource_version}
    return patch


def plan_restart(kind, obj, restarted_at, check_mode=False):
    """Decide what to do with one listed object.

    Returns ``(action, reason)``: UNCHANGED when the template already carries ``restarted_at``
    (so a rerun with the same value writes nothing), SKIPPED for a paused Deployment (kubectl
    refuses those too: the new template would not roll out until resumed), else RESTARTED
    (WOULD_RESTART in check mode).
    """
    if current_restarted_at(obj) == restarted_at:
        return UNCHANGED, None
    if kind == "Deployment" and (obj.get("spec") or {}).get("paused"):
        return SKIPPED, "Deployment is paused: resume it (kubectl rollout resume) before restarting"
    return (WOULD_RESTART if check_mode else RESTARTED), None


RestartPlan = namedtuple("RestartPlan", "action reason patch")
RestartPlan.__doc__ = """plan_restart's decision and the guarded merge patch (None unless RESTARTED)."""


def restart_plan(kind, obj, restarted_at, check_mode=False):
    """The RestartPlan for one object as read (kube_access.write_planned sends its patch)."""
    action, reason = plan_restart(kind, obj, restarted_at, check_mode)
    patch = restart_patch(restarted_at, kube_objects.resource_version(obj)) if action == RESTARTED else None
    return RestartPlan(action, reason, patch)


def restart_diff(entries, previous, restarted_at):
    """One line per patched object with the annotation value before and after."""
    changed = [e for e in entries if e["action"] in (RESTARTED, WOULD_RESTART)]
    header = "pod template annotation {0}".format(RESTARTED_AT_ANNOTATION)
    line = "{kind} {namespace}/{name}: {value}\n"
    return dict(
        before_header=header,
        after_header=header,
        before="".join(line.format(value=previous.get((e["namespace"], e["name"])) or "(none)", **e) for e in changed),
        after="".join(line.format(value=restarted_at, **e) for e in changed),
    )


def incomplete_message(incomplete, total):
    shown = "; ".join(
        "{namespace}/{name} ({action}: {reason})".format(**e) for e in incomplete[:10]
    )
    more = " and {0} more".format(len(incomplete) - 10) if len(incomplete) > 10 else ""
    return "{0} of {1} {2} did not finish: {3}{4}".format(
        len(incomplete), total, "object" if total == 1 else "objects", shown, more
    )


def _int(value):
    return int(value or 0)


def _deployment_status(obj):
    metadata, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    name = metadata.get("name")
    if _int(metadata.get("generation")) > _int(status.get("observedGeneration")):
        return PROGRESSING, "waiting for the Deployment spec update to be observed"
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded":
            return STALLED, "Deployment {0} exceeded its progress deadline".format(name)
    wanted = _int(spec.get("replicas", 1))
    updated, replicas, available = (
        _int(status.get("updatedReplicas")),
        _int(status.get("replicas")),
        _int(status.get("availableReplicas")),
    )
    if updated < wanted:
        return PROGRESSING, "{0} out of {1} new replicas have been updated".format(updated, wanted)
    if replicas > updated:
        return PROGRESSING, "{0} old replicas are pending termination".format(replicas - updated)
    if available < updated:
        return PROGRESSING, "{0} of {1} updated replicas are available".format(available, updated)
    return COMPLETE, None


def _update_strategy(spec):
    return (spec.get("updateStrategy") or {}).get("type") or "RollingUpdate"


def _statefulset_status(obj):
    metadata, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    if _update_strategy(spec) != "RollingUpdate":
        return STALLED, "updateStrategy {0}: pods are replaced only when deleted".format(_update_strategy(spec))
    observed = _int(status.get("observedGeneration"))
    if observed == 0 or _int(metadata.get("generation")) > observed:
        return PROGRESSING, "waiting for the StatefulSet spec update to be observed"
    wanted = _int(spec.get("replicas", 1))
    ready = _int(status.get("readyReplicas"))
    if ready < wanted:
        return PROGRESSING, "waiting for {0} pods to be ready".format(wanted - ready)
    if "availableReplicas" in status and _int(status.get("availableReplicas")) < wanted:
        return PROGRESSING, "{0} of {1} pods are available".format(_int(status.get("availableReplicas")), wanted)
    partition = _int(((spec.get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition"))
    updated = _int(status.get("updatedReplicas"))
    if partition:
        if updated < wanted - partition:
            return PROGRESSING, "partitioned roll out: {0} out of {1} new pods have been updated".format(
                updated, wanted - partition
            )
        return COMPLETE, None
    if updated < wanted or status.get("updateRevision") != status.get("currentRevision"):
        return PROGRESSING, "{0} of {1} pods are at revision {2}".format(updated, wanted, status.get("updateRevision"))
    return COMPLETE, None


def _daemonset_status(obj):
    metadata, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    if _update_strategy(spec) != "RollingUpdate":
        return STALLED, "updateStrategy {0}: pods are replaced only when deleted".format(_update_strategy(spec))
    if _int(metadata.get("generation")) > _int(status.get("observedGeneration")):
        return PROGRESSING, "waiting for the DaemonSet spec update to be observed"
    desired = _int(status.get("desiredNumberScheduled"))
    updated = _int(status.get("updatedNumberScheduled"))
    available = _int(status.get("numberAvailable"))
    if updated < desired:
        return PROGRESSING, "{0} out of {1} new pods have been updated".format(updated, desired)
    if available < desired:
        return PROGRESSING, "{0} of {1} updated pods are available".format(available, desired)
    return COMPLETE, None


_STATUS_RULES = {
    "Deployment": _deployment_status,
    "StatefulSet": _statefulset_status,
    "DaemonSet": _daemonset_status,
}


def rollout_status(kind, obj):
    """``(state, message)`` of one object's rollout; message says what is still missing."""
    return _STATUS_RULES[kind](obj)


def wait_for_rollouts(list_objects, kind, keys, timeout, interval, clock, sleep):
    """Poll until every object in ``keys`` has a final rollout state or ``timeout`` seconds pass.

    ``list_objects()`` returns the current objects of the whole selection (one LIST per poll,
    never a GET per object); ``clock`` and ``sleep`` are injected so tests need no real time.
    Returns ``{key: (state, message)}``; objects that vanished are STALLED.
    """
    pending = set(keys)
    states = {}
    if not pending:
        return states
    deadline = clock() + timeout
    while True:
        current = {kube_objects.object_key(obj): obj for obj in list_objects()}
        for key in sorted(pending, key=lambda k: (k[0] or "", k[1] or "")):
            if key not in current:
                states[key] = (STALLED, "the object no longer exists")
            else:
                states[key] = rollout_status(kind, current[key])
            if states[key][0] != PROGRESSING:
                pending.discard(key)
        remaining = deadline - clock()
        if not pending or remaining <= 0:
            break
        sleep(min(interval, remaining))
    for key in pending:
        state, message = states[key]
        states[key] = (state, "not complete after {0}s: {1}".format(timeout, message))
    return states
