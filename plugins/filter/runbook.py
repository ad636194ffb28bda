# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decisions the rclone_migration and seldon_core roles take, as filters (pure, unit-tested).

The rclone_migration role keeps one state object per run, the fact ``__rclone_migration_run``
(its keys are listed in roles/rclone_migration/tasks/discover.yml), and asks these filters what
it means: the cluster's status for the report, whether the model Deployments need a restart,
whether the prediction answers agree, how the canary pins read in the report, what a forced switch
breaks, and how the rollback record (the state ConfigMap) is written without losing the original
image. The seldon_core role asks which restartedAt value belongs to the release revision it left
running.
Words come from module_utils/status.py and module_utils/canary_pins.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import canary_pins
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_settings
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import status as st

# The role's entry points, as the report's ``mode`` names them.
MODE_PREFLIGHT = "preflight"
MODE_MIGRATE = "migrate"
MODE_ROLLBACK = "rollback"

# rclone_migration_rollout_restart
RESTART_CHANGED = "changed"
RESTART_ALWAYS = "always"
RESTART_NEVER = "never"

# The rollback record (rclone_migration_state_config_map): the image the first migration replaced,
# written once, and the image the latest migration switched to.
STATE_ORIGINAL_KEY = "previous_storage_initializer_image"
STATE_TARGET_KEY = "storage_initializer_image"

# The report's prediction.result
PREDICTION_MATCH = "match"
PREDICTION_MISMATCH = "mismatch"
PREDICTION_SKIPPED = "skipped"


def _dict(value):
    return value if isinstance(value, dict) else {}


def _list(value):
    return value if isinstance(value, list) else []


def cluster_status(run, mode, force=False, failed=False):
    """The cluster's status in its report (status.CLUSTER_STATUSES), from the run state.

    Reads ``storage.blocked`` (what preflight found blocked), ``problems``, ``check_mode``,
    ``upgrade_needed`` and ``info.ready_for_upgrade`` (the latest seldon_storage_info). Blocked
    nodes stop every run but a rollback, and a forced migration; then problems make it
    incomplete; a migration or rollback says what it did (or would do); a preflight says how far
    the cluster is. A run that stopped (``failed``) is blocked when blocked nodes stopped it.

    >>> cluster_status({"storage": {"blocked": [{"text": "m/a p/n: secret missing"}]}}, "migrate")
    'blocked'
    >>> cluster_status({"check_mode": True}, "migrate")
    'would_migrate'
    >>> cluster_status({"upgrade_needed": True, "info": {"ready_for_upgrade": True}}, "preflight")
    'ready'
    """
    run = _dict(run)
    force = boolean(force, strict=False)
    blocked = bool(_list(_dict(run.get("storage")).get("blocked")))
    check_mode = bool(run.get("check_mode"))
    if failed:
        return st.CLUSTER_BLOCKED if blocked and not force else st.CLUSTER_FAILED
    if blocked and mode != MODE_ROLLBACK and not (force and mode == MODE_MIGRATE):
        return st.CLUSTER_BLOCKED
    if _list(run.get("problems")):
        return st.CLUSTER_INCOMPLETE
    if mode == MODE_MIGRATE:
        return st.CLUSTER_WOULD_MIGRATE if check_mode else st.CLUSTER_MIGRATED
    if mode == MODE_ROLLBACK:
        return st.CLUSTER_WOULD_ROLL_BACK if check_mode else st.CLUSTER_ROLLED_BACK
    ready = bool(_dict(run.get("info")).get("ready_for_upgrade"))
    if ready and not run.get("upgrade_needed"):
        return st.CLUSTER_MIGRATED
    return st.CLUSTER_READY if ready else st.CLUSTER_CONVERTIBLE


def restart_models(run, policy=RESTART_CHANGED):
    """Whether the model Deployments get restarted: always, never, or (``changed``) when this run
    moved the operator's image, converted a secret or added a reference, or pinned or unpinned a
    canary - so a rerun that changed nothing restarts nothing.

    >>> restart_models({"image_changed": False, "converted": {"changed": False},
    ...                 "canaries": [{"action": "unchanged"}], "unpinned": [{"action": "unpinned"}]})
    True
    """
    run = _dict(run)
    if policy == RESTART_ALWAYS:
        return True
    if policy != RESTART_CHANGED:
        return False
    moved = [entry for entry in _list(run.get("canaries")) + _list(run.get("unpinned"))
             if _dict(entry).get("action") != st.ACTION_UNCHANGED]
    return bool(run.get("image_changed") or _dict(run.get("converted")).get("changed") or moved)


def rollout_plan(run, policy=RESTART_CHANGED):
    """What rollouts.yml does: ``restart`` (restart_models), ``verify`` (after a switch that moved
    the operator's image, and after a restart: the live objects are checked either way) and
    ``wait_for_rerender`` (before a restart that follows a switch: below operator 1.16.0 the
    operator's re-render writes its whole spec over the Deployment and would drop a restart made
    before it; never in check mode, where nothing moves).

    >>> rollout_plan({"image_changed": True})
    {'restart': True, 'verify': True, 'wait_for_rerender': True}
    >>> rollout_plan({"image_changed": False}, "always")["wait_for_rerender"]
    False
    """
    run = _dict(run)
    restart = restart_models(run, policy)
    image_changed = bool(run.get("image_changed"))
    return {"restart": restart, "verify": restart or image_changed,
            "wait_for_rerender": restart and image_changed and not run.get("check_mode")}


def forced_breaks(run, force=False):
    """What a forced switch breaks, as the gate's findings (``[]`` unless ``force`` and something
    would break): after the conversion was read again, every node of the operator's watch scope
    that still would not load its model (the gate's ``not_ready``); in check mode, where nothing
    was converted, what the conversion cannot fix (``stops``).

    >>> forced_breaks({"gate": {"stops": [{"text": "x"}], "not_ready": []}}, True)
    []
    >>> forced_breaks({"check_mode": True, "gate": {"stops": [{"text": "x"}]}}, True)
    [{'text': 'x'}]
    """
    run = _dict(run)
    if not boolean(force, strict=False):
        return []
    gate = _dict(run.get("gate"))
    return _list(gate.get("stops" if run.get("check_mode") else "not_ready"))


def rollback_record(config_maps, image_in_use="", target=""):
    """The rollback record (ConfigMap ``rclone_migration_state_config_map``) as read, and how this
    run writes it without ever losing the first original.

    ``config_maps``: k8s_info ``resources`` of the ConfigMap (0 or 1 item, or the object itself);
    ``image_in_use``: the image the operator injects now; ``target``: the image this run switches to.

    * ``recorded``: the original a migration recorded ("" when none);
    * ``previous_image``: where a rollback returns to - the recorded original, else the image in
      use when it is not the target ("" when neither is known);
    * ``create``: the ConfigMap does not exist (created without data first, then written as
      planned again from the object the create returned);
    * ``data``: the keys to set - the original only where none is recorded, and the target ({}
      when nothing would change); ``resource_version``: the version they were planned on, which
      the patch carries (the API server refuses it with 409 once the object changed).

    >>> rollback_record([{"metadata": {"resourceVersion": "7"}, "data": {
    ...     "previous_storage_initializer_image": "kf:1", "storage_initializer_image": "rclone:1"}}], "rclone:1", "rclone:2")
    {'recorded': 'kf:1', 'previous_image': 'kf:1', 'create': False, 'data': {'storage_initializer_image': 'rclone:2'}, 'resource_version': '7'}
    """
    if isinstance(config_maps, dict):
        config_maps = [config_maps]
    config_map = _dict(_list(config_maps)[0]) if _list(config_maps) else None
    data = _dict(_dict(config_map).get("data"))
    recorded = data.get(STATE_ORIGINAL_KEY) if isinstance(data.get(STATE_ORIGINAL_KEY), str) else ""
    in_use = image_in_use if isinstance(image_in_use, str) else ""
    previous = recorded or (in_use if in_use and in_use != target else "")
    record = {"recorded": recorded, "previous_image": previous, "create": config_map is None, "data": {},
              "resource_version": _dict(_dict(config_map).get("metadata")).get("resourceVersion") or ""}
    if config_map is None or not target:
        return record
    if not recorded and previous:
        record["data"][STATE_ORIGINAL_KEY] = previous
    if data.get(STATE_TARGET_KEY) != target:
        record["data"][STATE_TARGET_KEY] = target
    return record


def prediction_answer(response, compare_key=""):
    """What one prediction request answered: HTTP ``status`` (-1 when none), ``ok`` and the
    ``answer`` compared (the ``compare_key`` part of the JSON body; the whole body, or the raw
    content when it is not JSON, when ``compare_key`` is empty). ``response`` is what
    ansible.builtin.uri registered.

    >>> prediction_answer({"status": 200, "json": {"data": [1], "meta": {"puid": "x"}}}, "data")
    {'status': 200, 'ok': True, 'answer': [1]}
    """
    response = _dict(response)
    body = response.get("json")
    if compare_key:
        answer = body.get(compare_key) if isinstance(body, dict) else None
    else:
        answer = body if "json" in response else response.get("content")
    return {"status": response.get("status", -1), "ok": not response.get("failed", False), "answer": answer}


def prediction_check(prediction):
    """The prediction record with its ``result`` and the problems it makes.

    ``prediction`` holds the ``before`` and ``after`` answers (prediction_answer) seen so far.
    With both, ``result`` is ``match`` when the answers are equal and the request after the
    migration succeeded, else ``mismatch`` with one problem; with neither, ``skipped``.
    Returns ``{"prediction": ..., "problems": [...]}``.

    >>> prediction_check({})["prediction"]
    {'result': 'skipped'}
    """
    prediction = dict(_dict(prediction))
    if "before" not in prediction and "after" not in prediction:
        return {"prediction": dict(prediction, result=PREDICTION_SKIPPED), "problems": []}
    if "after" not in prediction:
        return {"prediction": prediction, "problems": []}
    after = _dict(prediction["after"])
    if _dict(prediction.get("before")).get("answer") == after.get("answer") and after.get("ok"):
        return {"prediction": dict(prediction, result=PREDICTION_MATCH), "problems": []}
    return {"prediction": dict(prediction, result=PREDICTION_MISMATCH), "problems": [
        "prediction check: the answer after the migration (HTTP {0}) differs from the one before".format(
            after.get("status"))]}


def canary_report(deployments, state="present", check_mode=False):
    """The report's entries for seldon_canary_pin's ``deployments``: ``namespace``, ``name``,
    ``action`` (``would_pin``/``would_unpin`` for a dry run's changes), and ``pinned_nodes`` and
    ``kept_own_image`` (state present) or ``nodes`` (state absent).

    >>> canary_report([{"namespace": "m", "name": "a", "action": "unpinned", "nodes": ["p/n"]}], "absent", True)
    [{'namespace': 'm', 'name': 'a', 'action': 'would_unpin', 'nodes': ['p/n']}]
    """
    entries = []
    for deployment in _list(deployments):
        deployment = _dict(deployment)
        action = deployment.get("action")
        if boolean(check_mode, strict=False):
            action = canary_pins.WOULD.get(action, action)
        entry = {"namespace": deployment.get("namespace"), "name": deployment.get("name"), "action": action}
        if state == "absent":
            entry["nodes"] = _list(deployment.get("nodes"))
        else:
            entry.update(pinned_nodes=_list(deployment.get("nodes")), kept_own_image=_list(deployment.get("kept")))
        entries.append(entry)
    return entries


def helm_time_rfc3339(updated):
    """Helm's ``updated`` time (Go's time format, ``2024-05-01 12:00:03.5 +0200 CEST``) as RFC 3339
    with seconds, keeping the offset (``Z`` for UTC); "" when it is not such a time.

    >>> helm_time_rfc3339("2024-05-01 12:00:03.123456789 +0000 UTC")
    '2024-05-01T12:00:03Z'
    >>> helm_time_rfc3339("2024-05-01 14:00:03.5 +0200 CEST")
    '2024-05-01T14:00:03+02:00'
    """
    parts = str(updated or "").split(" ")
    if len(parts) < 3 or len(parts[2]) != 5:
        return ""
    offset = "Z" if parts[2] == "+0000" else parts[2][:3] + ":" + parts[2][3:]
    return "{0}T{1}{2}".format(parts[0], parts[1][:8], offset)


def release_deployed_at(helm, release_before=None):
    """The time (RFC 3339) helm deployed the release revision that runs after kubernetes.core.helm
    ran: its status after a real run; the revision before when helm changed nothing; "" when an
    upgrade would happen (check mode: that revision has no time yet) or no release exists.

    >>> release_deployed_at({"changed": True}, {"status": {"updated": "2024-05-01 12:00:03 +0000 UTC"}})
    ''
    >>> release_deployed_at({"changed": False}, {"status": {"updated": "2024-05-01 12:00:03 +0000 UTC"}})
    '2024-05-01T12:00:03Z'
    """
    helm = _dict(helm)
    status = _dict(helm.get("status"))
    if "updated" in status:
        return helm_time_rfc3339(status["updated"])
    if helm.get("changed"):
        return ""
    return helm_time_rfc3339(_dict(_dict(release_before).get("status")).get("updated"))


def watch_scope_change(gate, operator_after):
    """What the switch changed in the operator's watch scope, as a sentence ("" when nothing).

    ``gate``: the run's gate (switch_gate), whose ``watch`` is the scope the gate judged, read
    before the switch; ``operator_after``: the operator settings (seldon_storage_info's ``seldon``)
    read after it, as role seldon_core returns them in ``seldon_core_result.operator_after``. A helm
    upgrade renders the controller's WATCH_NAMESPACE, ``--namespace`` and CONTROLLER_ID from the
    chart's values (the real chart always renders WATCH_NAMESPACE, empty), so an edit made on the
    live Deployment is undone by the switch, and the operator then reconciles SeldonDeployments the
    gate never read.

    >>> watch_scope_change({'watch': {'namespace': 'models', 'controller_id': ''}},
    ...                    {'watch': {'namespace': '', 'controller_id': ''}})[:75]
    'the switch changed what the operator watches: namespace models before, all '
    >>> watch_scope_change({'watch': {'namespace': 'models'}}, {'watch': {'namespace': 'models'}})
    ''
    >>> watch_scope_change({}, {'watch': {'namespace': ''}})
    ''
    """
    before = _dict(_dict(gate).get("watch"))
    after = _dict(_dict(operator_after).get("watch"))
    if "namespace" not in before or "namespace" not in after:
        return ""
    before, after = [seldon_settings.WatchScope(watch.get("namespace") or "", watch.get("controller_id") or "")
                     for watch in (before, after)]
    if before == after:
        return ""
    return ("the switch changed what the operator watches: {0} before, {1} now (the helm upgrade renders "
            "WATCH_NAMESPACE, --namespace and CONTROLLER_ID from the chart's values and undoes an edit of the live "
            "controller); the gate did not judge the SeldonDeployments it reconciles now. Run preflight, then set the "
            "scope through the chart's values (seldon_core_values: singleNamespace, controllerId) or roll back"
            ).format(seldon_settings.describe_watch(*before), seldon_settings.describe_watch(*after))


class FilterModule(object):
    def filters(self):
        return {
            "cluster_status": cluster_status,
            "restart_models": restart_models,
            "rollout_plan": rollout_plan,
            "forced_breaks": forced_breaks,
            "rollback_record": rollback_record,
            "prediction_answer": prediction_answer,
            "prediction_check": prediction_check,
            "canary_report": canary_report,
            "release_deployed_at": release_deployed_at,
            "watch_scope_change": watch_scope_change,
        }
