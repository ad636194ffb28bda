# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime

import pytest

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import rollout
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils.rollout import (
    COMPLETE,
    PROGRESSING,
    RESTARTED,
    RESTARTED_AT_ANNOTATION,
    SKIPPED,
    STALLED,
    UNCHANGED,
    WOULD_RESTART,
)


def deployment(name="model", namespace="models", generation=2, observed=2, replicas=1,
               updated=1, current=1, available=1, restarted_at=None, paused=False, conditions=None):
    annotations = {"prometheus.io/scrape": "true"}
    if restarted_at:
        annotations[RESTARTED_AT_ANNOTATION] = restarted_at
    spec = {"replicas": replicas, "template": {"metadata": {"annotations": annotations}}}
    if paused:
        spec["paused"] = True
    return {
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "generation": generation, "resourceVersion": "7"},
        "spec": spec,
        "status": {
            "observedGeneration": observed,
            "replicas": current,
            "updatedReplicas": updated,
            "availableReplicas": available,
            "conditions": conditions or [],
        },
    }


def statefulset(generation=3, observed=3, replicas=2, ready=2, updated=2, revision_current="r2",
                revision_update="r2", strategy="RollingUpdate", partition=None, available=None):
    update_strategy = {"type": strategy}
    if partition is not None:
        update_strategy["rollingUpdate"] = {"partition": partition}
    status = {
        "observedGeneration": observed,
        "replicas": replicas,
        "readyReplicas": ready,
        "updatedReplicas": updated,
        "currentRevision": revision_current,
        "updateRevision": revision_update,
    }
    if available is not None:
        status["availableReplicas"] = available
    return {
        "metadata": {"name": "db", "namespace": "data", "generation": generation},
        "spec": {"replicas": replicas, "updateStrategy": update_strategy, "template": {}},
        "status": status,
    }


def daemonset(generation=4, observed=4, desired=3, updated=3, available=3, strategy="RollingUpdate"):
    return {
        "metadata": {"name": "agent", "namespace": "kube-system", "generation": generation},
        "spec": {"updateStrategy": {"type": strategy}, "template": {}},
        "status": {
            "observedGeneration": observed,
            "desiredNumberScheduled": desired,
            "updatedNumberScheduled": updated,
            "numberAvailable": available,
        },
    }


class TestFormatRestartedAt:
    def test_utc_seconds_with_z(self):
        moment = datetime.datetime(2024, 5, 1, 12, 0, 3, 999, tzinfo=datetime.timezone.utc)
        assert rollout.format_restarted_at(moment) == "2024-05-01T12:00:03Z"

    def test_other_offsets_are_converted_to_utc(self):
        plus_two = datetime.timezone(datetime.timedelta(hours=2))
        moment = datetime.datetime(2024, 5, 1, 1, 30, 0, tzinfo=plus_two)
        assert rollout.format_restarted_at(moment) == "2024-04-30T23:30:00Z"

    def test_now_parses_back_as_rfc3339(self):
        value = rollout.format_restarted_at()
        parsed = datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        assert abs((now - parsed).total_seconds()) < 60


class TestSelectors:
    @pytest.mark.parametrize(
        "selectors, expected",
        [
            (None, None),
            ([], None),
            (["app=model"], "app=model"),
            (["app=model", " tier in (a,b) "], "app=model,tier in (a,b)"),
            (["", "  "], None),
        ],
    )
    def test_label_selector_joins_with_and(self, selectors, expected):
        assert rollout.label_selector(selectors) == expected

    def test_field_selector_for_name(self):
        assert rollout.field_selector_for_name("seldon-controller-manager") == "metadata.name=seldon-controller-manager"
        assert rollout.field_selector_for_name(None) is None


class TestRestartPatch:
    def test_sets_only_the_annotation_and_carries_resource_version(self):
        assert rollout.restart_patch("2024-05-01T12:00:03Z", "123") == {
            "metadata": {"resourceVersion": "123"},
            "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT_ANNOTATION: "2024-05-01T12:00:03Z"}}}},
        }

    def test_without_resource_version(self):
        assert "metadata" not in rollout.restart_patch("x")


class TestPlanRestart:
    def test_same_value_is_unchanged(self):
        obj = deployment(restarted_at="2024-05-01T12:00:03Z")
        assert rollout.plan_restart("Deployment", obj, "2024-05-01T12:00:03Z") == (UNCHANGED, None)
        assert rollout.plan_restart("Deployment", obj, "2024-05-01T12:00:03Z", check_mode=True) == (UNCHANGED, None)

    @pytest.mark.parametrize("existing", [None, "2024-05-01T12:00:02Z"])
    def test_other_value_restarts(self, existing):
        obj = deployment(restarted_at=existing)
        assert rollout.plan_restart("Deployment", obj, "2024-05-01T12:00:03Z") == (RESTARTED, None)
        assert rollout.plan_restart("Deployment", obj, "2024-05-01T12:00:03Z", check_mode=True) == (WOULD_RESTART, None)

    def test_paused_deployment_is_skipped_with_reason(self):
        action, reason = rollout.plan_restart("Deployment", deployment(paused=True), "t")
        assert action == SKIPPED
        assert "paused" in reason

    def test_paused_is_only_a_deployment_field(self):
        obj = statefulset()
        obj["spec"]["paused"] = True
        assert rollout.plan_restart("StatefulSet", obj, "t")[0] == RESTARTED

    def test_missing_template_metadata(self):
        assert rollout.current_restarted_at({"spec": {"template": {}}}) is None
        assert rollout.current_restarted_at({}) is None
        assert rollout.plan_restart("DaemonSet", {"spec": {}}, "t")[0] == RESTARTED


class TestDeploymentStatus:
    def test_complete(self):
        assert rollout.rollout_status("Deployment", deployment()) == (COMPLETE, None)

    def test_generation_not_observed(self):
        state, message = rollout.rollout_status("Deployment", deployment(generation=3, observed=2))
        assert state == PROGRESSING and "observed" in message

    def test_observed_newer_than_listed_generation_is_fine(self):
        assert rollout.rollout_status("Deployment", deployment(generation=2, observed=3))[0] == COMPLETE

    def test_new_replicas_not_updated(self):
        state, message = rollout.rollout_status("Deployment", deployment(replicas=3, updated=1, current=3, available=3))
        assert (state, message) == (PROGRESSING, "1 out of 3 new replicas have been updated")

    def test_old_replicas_pending_termination(self):
        state, message = rollout.rollout_status("Deployment", deployment(replicas=2, updated=2, current=3, available=2))
        assert (state, message) == (PROGRESSING, "1 old replicas are pending termination")

    def test_updated_not_available(self):
        state, message = rollout.rollout_status("Deployment", deployment(replicas=2, updated=2, current=2, available=1))
        assert (state, message) == (PROGRESSING, "1 of 2 updated replicas are available")

    def test_progress_deadline_is_final(self):
        conditions = [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]
        state, message = rollout.rollout_status("Deployment", deployment(available=0, conditions=conditions))
        assert state == STALLED and "deadline" in message

    def test_progress_deadline_before_observation_waits(self):
        # The condition belongs to the old template until the controller observes the new one.
        conditions = [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]
        obj = deployment(generation=5, observed=4, conditions=conditions)
        assert rollout.rollout_status("Deployment", obj)[0] == PROGRESSING

    def test_scaled_to_zero(self):
        obj = deployment(replicas=0, updated=0, current=0, available=0)
        del obj["status"]["replicas"]
        assert rollout.rollout_status("Deployment", obj) == (COMPLETE, None)

    def test_empty_status(self):
        obj = deployment()
        obj["status"] = {}
        assert rollout.rollout_status("Deployment", obj)[0] == PROGRESSING

    def test_replicas_default_to_one(self):
        obj = deployment(updated=0, current=0, available=0)
        del obj["spec"]["replicas"]
        assert rollout.rollout_status("Deployment", obj) == (PROGRESSING, "0 out of 1 new replicas have been updated")


class TestStatefulSetStatus:
    def test_complete(self):
        assert rollout.rollout_status("StatefulSet", statefulset()) == (COMPLETE, None)

    def test_observed_zero_waits(self):
        assert rollout.rollout_status("StatefulSet", statefulset(generation=0, observed=0))[0] == PROGRESSING

    def test_not_observed(self):
        assert rollout.rollout_status("StatefulSet", statefulset(generation=4))[0] == PROGRESSING

    def test_not_ready(self):
        assert rollout.rollout_status("StatefulSet", statefulset(ready=1)) == (PROGRESSING, "waiting for 1 pods to be ready")

    def test_not_available(self):
        assert rollout.rollout_status("StatefulSet", statefulset(available=1))[0] == PROGRESSING
        assert rollout.rollout_status("StatefulSet", statefulset(available=2))[0] == COMPLETE

    def test_revision_not_switched(self):
        state, message = rollout.rollout_status("StatefulSet", statefulset(updated=1, revision_update="r3"))
        assert state == PROGRESSING and "r3" in message

    def test_partition_zero_still_needs_every_pod(self):
        assert rollout.rollout_status("StatefulSet", statefulset(partition=0, updated=1, revision_update="r3"))[0] == PROGRESSING
        assert rollout.rollout_status("StatefulSet", statefulset(partition=0))[0] == COMPLETE

    def test_partitioned_rollout(self):
        waiting = statefulset(replicas=4, ready=4, partition=2, updated=1, revision_update="r3")
        assert rollout.rollout_status("StatefulSet", waiting)[0] == PROGRESSING
        done = statefulset(replicas=4, ready=4, partition=2, updated=2, revision_update="r3")
        assert rollout.rollout_status("StatefulSet", done) == (COMPLETE, None)

    def test_on_delete_is_final(self):
        state, message = rollout.rollout_status("StatefulSet", statefulset(strategy="OnDelete"))
        assert state == STALLED and "OnDelete" in message


class TestDaemonSetStatus:
    def test_complete(self):
        assert rollout.rollout_status("DaemonSet", daemonset()) == (COMPLETE, None)

    def test_not_observed(self):
        assert rollout.rollout_status("DaemonSet", daemonset(generation=5))[0] == PROGRESSING

    def test_not_updated(self):
        assert rollout.rollout_status("DaemonSet", daemonset(updated=2)) == (PROGRESSING, "2 out of 3 new pods have been updated")

    def test_not_available(self):
        assert rollout.rollout_status("DaemonSet", daemonset(available=1)) == (PROGRESSING, "1 of 3 updated pods are available")

    def test_no_nodes_scheduled_is_complete(self):
        assert rollout.rollout_status("DaemonSet", daemonset(desired=0, updated=0, available=0))[0] == COMPLETE

    def test_on_delete_is_final(self):
        assert rollout.rollout_status("DaemonSet", daemonset(strategy="OnDelete"))[0] == STALLED


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class TestWaitForRollouts:
    def test_polls_one_list_per_round_until_complete(self):
        clock = FakeClock()
        a_progress = deployment(name="a", updated=0)
        b_done = deployment(name="b")
        rounds = [[a_progress, b_done], [a_progress, b_done], [deployment(name="a"), b_done]]
        calls = []

        def list_objects():
            calls.append(1)
            return copy.deepcopy(rounds[min(len(calls), len(rounds)) - 1])

        keys = [("models", "a"), ("models", "b")]
        states = rollout.wait_for_rollouts(list_objects, "Deployment", keys, 60, 2, clock.clock, clock.sleep)
        assert states == {("models", "a"): (COMPLETE, None), ("models", "b"): (COMPLETE, None)}
        assert len(calls) == 3
        assert clock.sleeps == [2, 2]

    def test_timeout_reports_what_is_missing(self):
        clock = FakeClock()
        stuck = deployment(name="stuck", updated=1, available=0)
        states = rollout.wait_for_rollouts(lambda: [stuck], "Deployment", [("models", "stuck")], 5, 2,
                                           clock.clock, clock.sleep)
        state, message = states[("models", "stuck")]
        assert state == PROGRESSING
        assert message == "not complete after 5s: 0 of 1 updated replicas are available"
        # Never sleeps past the deadline.
        assert sum(clock.sleeps) == 5
        assert clock.sleeps[-1] == 1

    def test_final_states_stop_polling_for_that_object(self):
        clock = FakeClock()
        conditions = [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]
        stalled = deployment(name="s", available=0, conditions=conditions)
        calls = []

        def list_objects():
            calls.append(1)
            return [stalled]

        states = rollout.wait_for_rollouts(list_objects, "Deployment", [("models", "s")], 300, 2, clock.clock, clock.sleep)
        assert states[("models", "s")][0] == STALLED
        assert len(calls) == 1

    def test_vanished_object(self):
        clock = FakeClock()
        states = rollout.wait_for_rollouts(lambda: [], "Deployment", [("models", "gone")], 30, 2, clock.clock, clock.sleep)
        assert states == {("models", "gone"): (STALLED, "the object no longer exists")}

    def test_nothing_to_wait_for_sends_no_request(self):
        clock = FakeClock()
        calls = []
        assert rollout.wait_for_rollouts(lambda: calls.append(1) or [], "Deployment", [], 30, 2,
                                         clock.clock, clock.sleep) == {}
        assert calls == [] and clock.sleeps == []

    def test_zero_timeout_looks_once(self):
        clock = FakeClock()
        states = rollout.wait_for_rollouts(lambda: [deployment(name="a", updated=0)], "Deployment",
                                           [("models", "a")], 0, 2, clock.clock, clock.sleep)
        assert states[("models", "a")][0] == PROGRESSING
        assert clock.sleeps == []
