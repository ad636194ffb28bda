# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runbook's decisions: report status, restart, prediction comparison, canary entries, helm time."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.seldon_ops.rclone_migration.plugins.filter import runbook
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import status as st

BLOCKED = {"storage": {"blocked": [{"text": "m/broken default/classifier: secret no-such-secret missing"}]}}


def run(**fields):
    """A run record as discover.yml starts it, with ``fields`` set."""
    record = {"check_mode": False, "info": {}, "storage": {}, "upgrade_needed": False, "converted": {},
              "canaries": [], "unpinned": [], "image_changed": False, "problems": []}
    record.update(fields)
    return record


# --- cluster_status: the six-deep ternary of report.yml and report_failure.yml's rule -------------

@pytest.mark.parametrize("record, mode, force, expected", [
    # blocked nodes stop a preflight and a migration, not a rollback, not a forced migration
    (run(**BLOCKED), "preflight", False, "blocked"),
    (run(**BLOCKED), "preflight", True, "blocked"),
    (run(**BLOCKED), "migrate", False, "blocked"),
    (run(**BLOCKED), "migrate", True, "migrated"),
    (run(check_mode=True, **BLOCKED), "migrate", True, "would_migrate"),
    (run(**BLOCKED), "rollback", False, "rolled_back"),
    # problems (rollouts, prediction) make it incomplete, whatever the mode
    (run(problems=["rollout of Deployment m/d not complete"]), "migrate", False, "incomplete"),
    (run(problems=["x"], check_mode=True), "rollback", False, "incomplete"),
    (run(problems=["x"], **BLOCKED), "migrate", True, "incomplete"),
    # a migration or a rollback says what it did, or would do
    (run(), "migrate", False, "migrated"),
    (run(check_mode=True), "migrate", False, "would_migrate"),
    (run(), "rollback", False, "rolled_back"),
    (run(check_mode=True), "rollback", False, "would_roll_back"),
    # a preflight says how far the cluster is
    (run(upgrade_needed=False, info={"ready_for_upgrade": True}), "preflight", False, "migrated"),
    (run(upgrade_needed=True, info={"ready_for_upgrade": True}), "preflight", False, "ready"),
    (run(upgrade_needed=True, info={"ready_for_upgrade": False}), "preflight", False, "convertible"),
    (run(upgrade_needed=False, info={"ready_for_upgrade": False}), "preflight", False, "convertible"),
])
def test_cluster_status(record, mode, force, expected):
    assert runbook.cluster_status(record, mode, force) == expected
    assert expected in st.CLUSTER_STATUSES


@pytest.mark.parametrize("record, force, expected", [
    (run(**BLOCKED), False, "blocked"),
    (run(**BLOCKED), True, "failed"),
    (run(), False, "failed"),
    ({}, False, "failed"),  # the run stopped before its record was started
    (None, "false", "failed"),
])
def test_cluster_status_of_a_run_that_stopped(record, force, expected):
    for mode in ("preflight", "migrate", "rollback"):
        assert runbook.cluster_status(record, mode, force, failed=True) == expected


def test_force_may_come_as_a_string():
    assert runbook.cluster_status(run(**BLOCKED), "migrate", "true") == "migrated"
    assert runbook.cluster_status(run(**BLOCKED), "migrate", "no") == "blocked"


# --- restart_models ------------------------------------------------------------------------------

@pytest.mark.parametrize("fields, expected", [
    ({}, False),
    ({"image_changed": True}, True),
    ({"converted": {"changed": True}}, True),
    ({"converted": {"changed": False}}, False),
    ({"canaries": [{"action": "unchanged"}]}, False),
    ({"canaries": [{"action": "pinned"}]}, True),
    ({"canaries": [{"action": "would_pin"}]}, True),
    ({"unpinned": [{"action": "unchanged"}, {"action": "unpinned"}]}, True),
])
def test_restart_models_when_the_run_changed_something(fields, expected):
    assert runbook.restart_models(run(**fields), "changed") is expected
    assert runbook.restart_models(run(**fields)) is expected


def test_restart_models_always_and_never():
    assert runbook.restart_models(run(), "always") is True
    assert runbook.restart_models(run(image_changed=True), "never") is False


# --- prediction_answer / prediction_check: the rule prediction.yml wrote twice -------------------

def response(status=200, body=None, failed=False, content=None):
    registered = {"status": status, "failed": failed}
    if body is not None:
        registered["json"] = body
    if content is not None:
        registered["content"] = content
    return registered


def test_prediction_answer_compares_one_key_of_the_body():
    answer = runbook.prediction_answer(response(body={"data": {"ndarray": [[0]]}, "meta": {"puid": "a"}}), "data")
    assert answer == {"status": 200, "ok": True, "answer": {"ndarray": [[0]]}}


def test_prediction_answer_whole_body_or_content():
    assert runbook.prediction_answer(response(body={"a": 1}))["answer"] == {"a": 1}
    assert runbook.prediction_answer(response(content="plain text"))["answer"] == "plain text"
    assert runbook.prediction_answer(response(content="plain text"), "data")["answer"] is None


def test_prediction_answer_of_a_failed_request():
    answer = runbook.prediction_answer({"failed": True, "msg": "Connection refused"}, "data")
    assert answer == {"status": -1, "ok": False, "answer": None}


def test_prediction_check_match_and_mismatch():
    before = runbook.prediction_answer(response(body={"data": [1], "meta": {"puid": "a"}}), "data")
    same = runbook.prediction_answer(response(body={"data": [1], "meta": {"puid": "b"}}), "data")
    other = runbook.prediction_answer(response(body={"data": [2]}), "data")
    broken = runbook.prediction_answer(response(status=503, body={"data": [1]}, failed=True), "data")
    matched = runbook.prediction_check({"before": before, "after": same})
    assert matched == {"prediction": {"before": before, "after": same, "result": "match"}, "problems": []}
    mismatched = runbook.prediction_check({"before": before, "after": other})
    assert mismatched["prediction"]["result"] == "mismatch"
    assert mismatched["problems"] == [
        "prediction check: the answer after the migration (HTTP 200) differs from the one before"]
    # the same answer from a request that failed is no match
    assert runbook.prediction_check({"before": before, "after": broken})["problems"] == [
        "prediction check: the answer after the migration (HTTP 503) differs from the one before"]


def test_prediction_check_before_the_second_answer_and_without_any():
    before = {"status": 200, "ok": True, "answer": [1]}
    assert runbook.prediction_check({"before": before}) == {"prediction": {"before": before}, "problems": []}
    assert runbook.prediction_check({}) == {"prediction": {"result": "skipped"}, "problems": []}
    # checking a finished record again changes nothing
    done = runbook.prediction_check({"before": before, "after": before})["prediction"]
    assert runbook.prediction_check(done) == {"prediction": done, "problems": []}


# --- canary_report ---------------------------------------------------------------------------------

PINS = [
    {"namespace": "m", "name": "a", "action": "pinned", "nodes": ["default/classifier"],
     "kept": [{"ref": "default/b", "reason": "pins its own image x"}], "reason": "1 node(s): default/classifier"},
    {"namespace": "m", "name": "b", "action": "unchanged", "nodes": [], "kept": [], "reason": "nothing to change"},
]


def test_canary_report_of_pins():
    assert runbook.canary_report(PINS, "present", False) == [
        {"namespace": "m", "name": "a", "action": "pinned", "pinned_nodes": ["default/classifier"],
         "kept_own_image": [{"ref": "default/b", "reason": "pins its own image x"}]},
        {"namespace": "m", "name": "b", "action": "unchanged", "pinned_nodes": [], "kept_own_image": []}]
    assert [e["action"] for e in runbook.canary_report(PINS, "present", True)] == ["would_pin", "unchanged"]


def test_canary_report_of_unpins():
    unpins = [{"namespace": "m", "name": "a", "action": "unpinned", "nodes": ["default/classifier"], "kept": []}]
    assert runbook.canary_report(unpins, "absent") == [
        {"namespace": "m", "name": "a", "action": "unpinned", "nodes": ["default/classifier"]}]
    assert runbook.canary_report(unpins, "absent", True)[0]["action"] == "would_unpin"
    assert runbook.canary_report(None, "absent") == []


# --- release_deployed_at: helm's updated time as the controller's restartedAt ---------------------

@pytest.mark.parametrize("updated, expected", [
    ("2024-05-01 12:00:03.123456789 +0000 UTC", "2024-05-01T12:00:03Z"),
    ("2024-05-01 14:00:03.5 +0200 CEST", "2024-05-01T14:00:03+02:00"),
    ("2024-05-01 07:00:03 -0500 EST", "2024-05-01T07:00:03-05:00"),
    ("", ""),
    (None, ""),
    ("2024-05-01", ""),
])
def test_helm_time_rfc3339(updated, expected):
    assert runbook.helm_time_rfc3339(updated) == expected


def test_release_deployed_at_takes_the_time_of_the_revision_that_runs():
    before = {"status": {"updated": "2024-05-01 12:00:03.1 +0000 UTC", "revision": "1"}}
    # after a real run helm's status has the time
    assert runbook.release_deployed_at(
        {"changed": True, "status": {"updated": "2024-05-02 08:30:00.9 +0000 UTC"}}, before) == "2024-05-02T08:30:00Z"
    # helm changed nothing and returned no status: the revision before still runs
    assert runbook.release_deployed_at({"changed": False}, before) == "2024-05-01T12:00:03Z"
    # an upgrade check mode only predicts has no time yet
    assert runbook.release_deployed_at({"changed": True}, before) == ""
    # a dry run of a first install: no release at all
    assert runbook.release_deployed_at({"changed": True}, {}) == ""
    assert runbook.release_deployed_at({"changed": False}, None) == ""


# --- rollout_plan -----------------------------------------------------------------------------------

@pytest.mark.parametrize("fields, policy, expected", [
    # a switch: restart (after the re-render rolled out) and verify
    ({"image_changed": True}, "changed", (True, True, True)),
    # a switch in check mode: nothing moves, nothing to wait for
    ({"image_changed": True, "check_mode": True}, "changed", (True, True, False)),
    # a switch with restarts off: still verified
    ({"image_changed": True}, "never", (False, True, False)),
    # a conversion without a switch: restart and verify, no re-render to wait for
    ({"converted": {"changed": True}}, "changed", (True, True, False)),
    # a rerun that changed nothing: neither
    ({}, "changed", (False, False, False)),
    ({}, "always", (True, True, False)),
])
def test_rollout_plan(fields, policy, expected):
    plan = runbook.rollout_plan(run(**fields), policy)
    assert (plan["restart"], plan["verify"], plan["wait_for_rerender"]) == expected


# --- forced_breaks ---------------------------------------------------------------------------------

GATE = {"gate": {"stops": [{"text": "team-b/iris p/n: convertible"}],
                 "not_ready": [{"text": "team-b/iris p/n: convertible"}, {"text": "models/a p/n: convertible"}]}}


def test_forced_breaks_only_when_forced():
    assert runbook.forced_breaks(run(**GATE), False) == []
    assert runbook.forced_breaks(run(**GATE), "no") == []


def test_forced_breaks_are_what_is_not_ready_at_the_switch():
    # after the conversion was read again: everything still not ready
    assert runbook.forced_breaks(run(**GATE), True) == GATE["gate"]["not_ready"]
    # a dry run converted nothing: what the conversion cannot fix
    assert runbook.forced_breaks(run(check_mode=True, **GATE), "true") == GATE["gate"]["stops"]
    assert runbook.forced_breaks({}, True) == []


# --- rollback_record: the original is written once, never overwritten ------------------------------

KF = "gcr.io/kfserving/storage-initializer:v0.4.0"
RC1 = "docker.io/seldonio/rclone-storage-initializer:1.17.1"
RC2 = "docker.io/seldonio/rclone-storage-initializer:1.18.0"


def record(data=None, version="11"):
    config_map = {"metadata": {"name": "rclone-migration-state", "resourceVersion": version}}
    if data is not None:
        config_map["data"] = data
    return [config_map]


def test_rollback_record_first_migration_creates_then_fills():
    planned = runbook.rollback_record([], KF, RC1)
    assert planned == {"recorded": "", "previous_image": KF, "create": True, "data": {}, "resource_version": ""}
    # planned again from the object the create returned (no data)
    filled = runbook.rollback_record(record(), KF, RC1)
    assert filled["create"] is False and filled["resource_version"] == "11"
    assert filled["data"] == {runbook.STATE_ORIGINAL_KEY: KF, runbook.STATE_TARGET_KEY: RC1}


def test_rollback_record_second_migration_keeps_the_original():
    existing = record({runbook.STATE_ORIGINAL_KEY: KF, runbook.STATE_TARGET_KEY: RC1}, "17")
    # the image in use is the first migration's rclone image; the original stays the kfserving one
    planned = runbook.rollback_record(existing, RC1, RC2)
    assert planned["recorded"] == KF and planned["previous_image"] == KF
    assert planned["data"] == {runbook.STATE_TARGET_KEY: RC2} and planned["resource_version"] == "17"
    # the same target again: nothing to write
    assert runbook.rollback_record(existing, RC1, RC1)["data"] == {}


def test_rollback_record_another_run_created_it_in_between():
    # the create found one another run filled: its original is kept, only the target is set
    theirs = record({runbook.STATE_ORIGINAL_KEY: "gcr.io/kfserving/storage-initializer:v0.6.1"}, "5")
    planned = runbook.rollback_record(theirs, KF, RC1)
    assert planned["previous_image"] == "gcr.io/kfserving/storage-initializer:v0.6.1"
    assert planned["data"] == {runbook.STATE_TARGET_KEY: RC1}


def test_rollback_record_without_a_record():
    # already on the target, nothing recorded: nothing known to return to
    assert runbook.rollback_record([], RC1, RC1)["previous_image"] == ""
    # a record without the original (written by hand) gets it from the image in use
    planned = runbook.rollback_record(record({"note": "x"}), KF, RC1)
    assert planned["data"] == {runbook.STATE_ORIGINAL_KEY: KF, runbook.STATE_TARGET_KEY: RC1}
    # the object itself, as kubernetes.core.k8s returns it, works too
    assert runbook.rollback_record(record()[0], KF, RC1)["resource_version"] == "11"


def test_every_filter_is_registered():
    assert set(runbook.FilterModule().filters()) == {
        "cluster_status", "restart_models", "rollout_plan", "forced_breaks", "rollback_record", "prediction_answer",
        "prediction_check", "canary_report", "release_deployed_at", "watch_scope_change"}


def _after(namespace="", controller_id=""):
    return {"watch": {"namespace": namespace, "controller_id": controller_id}}


@pytest.mark.parametrize("before, after, words", [
    # a live WATCH_NAMESPACE edit the chart's rendering reset: the operator now reconciles everything
    ({"namespace": "models", "controller_id": ""}, _after(), ["namespace models before", "all namespaces now"]),
    # a CONTROLLER_ID edit reset
    ({"namespace": "", "controller_id": "team-a"}, _after(),
     ["all namespaces with CONTROLLER_ID team-a before", "all namespaces now"]),
    # narrowed: still a change the gate did not judge
    ({"namespace": "", "controller_id": ""}, _after("models"), ["all namespaces before", "namespace models now"]),
])
def test_a_switch_that_changed_the_watch_scope_is_named(before, after, words):
    message = runbook.watch_scope_change({"watch": before}, after)
    for word in words + ["seldon_core_values", "preflight"]:
        assert word in message


@pytest.mark.parametrize("gate, after", [
    ({"watch": {"namespace": "models", "controller_id": "a"}}, _after("models", "a")),
    ({"watch": {"namespace": "", "controller_id": ""}}, {"watch": {"namespace": None}}),
    ({}, _after()),                                   # no gate read (a rollback before any gate)
    ({"watch": {"namespace": "models"}}, {}),         # no read after (the module failed)
    ("not a dict", None),
])
def test_an_unchanged_or_unread_watch_scope_is_no_change(gate, after):
    assert runbook.watch_scope_change(gate, after) == ""
