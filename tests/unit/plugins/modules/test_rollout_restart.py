# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""rollout_restart's flow against an in-memory API: which requests it sends and what it reports.

The fake answers at the REST level (the same ``request`` call kube_access makes on
kubernetes.core's dynamic client), so the request counts here are the module's real ones.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

import pytest

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_access
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils.rollout import RESTARTED_AT_ANNOTATION
from ansible_collections.seldon_ops.rclone_migration.plugins.modules import rollout_restart

STAMP = "2024-05-01T12:00:00Z"


class ApiError(Exception):
    def __init__(self, status, reason, body):
        super(ApiError, self).__init__("{0} {1}\nHTTP response body: {2}".format(status, reason, body))
        self.status, self.reason, self.body = status, reason, body


def _matches(labels, selector):
    for term in (selector or "").split(","):
        if not term:
            continue
        if "!=" in term:
            key, value = term.split("!=")
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = term.split("=")
            if labels.get(key) != value:
                return False
        elif term not in labels:
            return False
    return True


def _merge(target, patch):
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class FakeApi:
    """Deployments in memory; PATCH honours resourceVersion preconditions like the API server."""

    def __init__(self, objects):
        self.objects = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in objects}
        self.calls = []
        self.before_patch = None  # hook: simulate a concurrent writer
        self.patch_status = None  # hook: make PATCH fail with this status
        self.on_list = None  # hook: let the controller progress between polls

    def request(self, method, path, body=None, serialize=False, **params):
        parts = path.strip("/").split("/")
        namespace = parts[parts.index("namespaces") + 1] if "namespaces" in parts else None
        name = parts[-1] if parts[-1] != "deployments" else None
        self.calls.append((method, path, copy.deepcopy(body), dict(params)))
        if method == "GET" and name is None:
            if self.on_list:
                self.on_list(self)
            items = []
            field = params.get("field_selector")
            for (obj_namespace, obj_name), obj in sorted(self.objects.items()):
                if namespace and obj_namespace != namespace:
                    continue
                if field and field != "metadata.name=" + obj_name:
                    continue
                if not _matches(obj["metadata"].get("labels") or {}, params.get("label_selector")):
                    continue
                items.append(copy.deepcopy(obj))
            return {"kind": "DeploymentList", "metadata": {}, "items": items}
        obj = self.objects.get((namespace, name))
        if obj is None:
            raise ApiError(404, "Not Found", '{"message": "deployments %s not found"}' % name)
        if method == "GET":
            return copy.deepcopy(obj)
        assert method == "PATCH"
        assert params["content_type"] == kube_access.MERGE_PATCH
        if self.before_patch:
            self.before_patch(self, obj)
        if self.patch_status:
            raise ApiError(self.patch_status, "Forbidden", json.dumps({"message": "echo " + json.dumps(body)}))
        wanted_version = (body.get("metadata") or {}).get("resourceVersion")
        if wanted_version and wanted_version != obj["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", '{"message": "the object has been modified"}')
        body = copy.deepcopy(body)
        body.pop("metadata", None)
        before = copy.deepcopy(obj["spec"])
        _merge(obj, body)
        if obj["spec"] != before:
            obj["metadata"]["generation"] += 1
        obj["metadata"]["resourceVersion"] = str(int(obj["metadata"]["resourceVersion"]) + 1)
        return copy.deepcopy(obj)

    def verbs(self):
        return [(call[0], "list" if call[1].endswith("deployments") else "one") for call in self.calls]

    def patches(self):
        return [call for call in self.calls if call[0] == "PATCH"]


def deployment(name, namespace="roles-test", labels=None, restarted_at=None, paused=False, ready=True):
    annotations = {"keep": "me"}
    if restarted_at:
        annotations[RESTARTED_AT_ANNOTATION] = restarted_at
    spec = {"replicas": 1, "template": {"metadata": {"annotations": annotations}, "spec": {}}}
    if paused:
        spec["paused"] = True
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": "model"},
                     "generation": 1, "resourceVersion": "10"},
        "spec": spec,
        "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1,
                   "availableReplicas": 1 if ready else 0},
    }


def controller_catches_up(api):
    """What the Deployment controller does: observe the generation and roll the pods."""
    for obj in api.objects.values():
        if obj["metadata"].get("name") == "stuck":
            obj["status"]["observedGeneration"] = obj["metadata"]["generation"]
            continue
        obj["status"].update(observedGeneration=obj["metadata"]["generation"], replicas=1,
                             updatedReplicas=1, availableReplicas=1)


class Exit(Exception):
    def __init__(self, failed, result):
        super(Exit, self).__init__(result.get("msg"))
        self.failed, self.result = failed, result


class FakeModule:
    def __init__(self, check_mode=False, diff=False, **params):
        self.params = dict(kind="Deployment", namespace=None, name=None, label_selectors=None,
                           restarted_at=None, wait=False, wait_timeout=300, wait_sleep=2,
                           fail_on_incomplete=True)
        self.params.update(params)
        self.check_mode = check_mode
        self._diff = diff

    def exit_json(self, **result):
        raise Exit(False, result)

    def fail_json(self, **result):
        raise Exit(True, result)


@pytest.fixture
def no_real_time(monkeypatch):
    clock = {"now": 0.0}

    def sleep(seconds):
        clock["now"] += seconds

    monkeypatch.setattr(rollout_restart.time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(rollout_restart.time, "sleep", sleep)
    return clock


def run(api, check_mode=False, diff=False, **params):
    module = FakeModule(check_mode=check_mode, diff=diff, **params)
    access = kube_access.KubeAccess(api, check_mode=check_mode)
    with pytest.raises(Exit) as caught:
        rollout_restart.run(module, access)
    return caught.value.failed, caught.value.result


def actions(result):
    return {(e["namespace"], e["name"]): e["action"] for e in result["resources"]}


def test_restarts_every_selected_object_with_one_list_and_one_patch_each():
    api = FakeApi([deployment("a"), deployment("b"), deployment("other", labels={"app": "web"})])
    failed, result = run(api, namespace="roles-test", label_selectors=["app=model"], restarted_at=STAMP)
    assert not failed and result["changed"]
    assert actions(result) == {("roles-test", "a"): "restarted", ("roles-test", "b"): "restarted"}
    assert api.verbs() == [("GET", "list"), ("PATCH", "one"), ("PATCH", "one")]
    assert result["api_requests"] == {"list": 1, "patch": 2}
    list_call = api.calls[0]
    assert list_call[1] == "/apis/apps/v1/namespaces/roles-test/deployments"
    assert list_call[3]["label_selector"] == "app=model"
    for obj in (api.objects[("roles-test", "a")], api.objects[("roles-test", "b")]):
        annotations = obj["spec"]["template"]["metadata"]["annotations"]
        assert annotations == {"keep": "me", RESTARTED_AT_ANNOTATION: STAMP}
    assert api.objects[("roles-test", "other")]["metadata"]["resourceVersion"] == "10"
    # The patch touches only the annotation and carries the version it was planned from.
    assert api.patches()[0][2] == {
        "metadata": {"resourceVersion": "10"},
        "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT_ANNOTATION: STAMP}}}},
    }


def test_same_restarted_at_twice_writes_nothing_the_second_time():
    api = FakeApi([deployment("a"), deployment("b")])
    run(api, label_selectors=["app=model"], restarted_at=STAMP)
    api.calls = []
    failed, result = run(api, label_selectors=["app=model"], restarted_at=STAMP)
    assert not failed and not result["changed"]
    assert set(actions(result).values()) == {"unchanged"}
    assert api.patches() == []


def test_without_restarted_at_every_run_restarts_with_one_shared_timestamp():
    api = FakeApi([deployment("a"), deployment("b")])
    failed, result = run(api, label_selectors=["app=model"])
    assert result["changed"]
    values = {p[2]["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT_ANNOTATION] for p in api.patches()}
    assert values == {result["restarted_at"]}


def test_all_namespaces_and_name_use_one_list_with_a_field_selector():
    api = FakeApi([deployment("ctl", namespace="seldon-system"), deployment("ctl", namespace="other")])
    failed, result = run(api, name="ctl", restarted_at=STAMP)
    assert api.calls[0][1] == "/apis/apps/v1/deployments"
    assert api.calls[0][3]["field_selector"] == "metadata.name=ctl"
    assert "label_selector" not in api.calls[0][3]
    assert actions(result) == {("other", "ctl"): "restarted", ("seldon-system", "ctl"): "restarted"}


def test_check_mode_sends_no_write_and_reports_would_restart():
    api = FakeApi([deployment("a"), deployment("b", restarted_at=STAMP)])
    failed, result = run(api, check_mode=True, label_selectors=["app=model"], restarted_at=STAMP, wait=True)
    assert not failed and result["changed"]
    assert actions(result) == {("roles-test", "a"): "would_restart", ("roles-test", "b"): "unchanged"}
    assert [c[0] for c in api.calls] == ["GET"]
    assert all(e["complete"] is None for e in result["resources"])


def test_check_mode_with_nothing_to_do_is_not_changed():
    api = FakeApi([deployment("a", restarted_at=STAMP)])
    failed, result = run(api, check_mode=True, name="a", restarted_at=STAMP)
    assert not result["changed"]


def test_diff_shows_previous_and_new_value():
    api = FakeApi([deployment("a", restarted_at="2024-01-01T00:00:00Z"), deployment("b")])
    failed, result = run(api, diff=True, label_selectors=["app=model"], restarted_at=STAMP)
    assert result["diff"]["before"] == ("Deployment roles-test/a: 2024-01-01T00:00:00Z\n"
                                        "Deployment roles-test/b: (none)\n")
    assert result["diff"]["after"] == "Deployment roles-test/a: {0}\nDeployment roles-test/b: {0}\n".format(STAMP)


def test_conflict_rereads_and_retries_with_the_new_version():
    api = FakeApi([deployment("a")])

    def concurrent_edit(fake, obj):
        fake.before_patch = None
        obj["metadata"]["resourceVersion"] = "11"
        obj["metadata"]["labels"]["edited"] = "yes"

    api.before_patch = concurrent_edit
    failed, result = run(api, name="a", namespace="roles-test", restarted_at=STAMP)
    assert not failed and actions(result) == {("roles-test", "a"): "restarted"}
    assert api.verbs() == [("GET", "list"), ("PATCH", "one"), ("GET", "one"), ("PATCH", "one")]
    assert api.patches()[1][2]["metadata"] == {"resourceVersion": "11"}
    assert api.objects[("roles-test", "a")]["metadata"]["labels"]["edited"] == "yes"


def test_conflict_where_someone_else_already_restarted_with_the_same_value():
    api = FakeApi([deployment("a")])

    def concurrent_restart(fake, obj):
        fake.before_patch = None
        obj["metadata"]["resourceVersion"] = "11"
        obj["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT_ANNOTATION] = STAMP

    api.before_patch = concurrent_restart
    failed, result = run(api, name="a", namespace="roles-test", restarted_at=STAMP)
    assert actions(result) == {("roles-test", "a"): "unchanged"}
    assert len(api.patches()) == 1


def test_patch_error_is_reported_per_object_without_the_response_body():
    api = FakeApi([deployment("a"), deployment("b")])
    api.patch_status = 403
    failed, result = run(api, label_selectors=["app=model"], restarted_at=STAMP, fail_on_incomplete=False)
    assert not failed
    for entry in result["resources"]:
        assert entry["action"] == "failed"
        assert entry["reason"] == "PATCH Deployment roles-test/{0}: 403 Forbidden".format(entry["name"])
    assert len(result["incomplete"]) == 2
    assert "echo" not in json.dumps(result)


def test_failures_fail_the_task_by_default_after_processing_everything():
    api = FakeApi([deployment("a"), deployment("b")])
    api.patch_status = 403
    failed, result = run(api, label_selectors=["app=model"], restarted_at=STAMP)
    assert failed
    assert result["msg"].startswith("2 of 2 objects did not finish: roles-test/a (failed: PATCH")
    assert len(api.patches()) == 2


def test_paused_deployment_is_skipped_and_incomplete():
    api = FakeApi([deployment("a", paused=True), deployment("b")])
    failed, result = run(api, label_selectors=["app=model"], restarted_at=STAMP, fail_on_incomplete=False)
    assert actions(result) == {("roles-test", "a"): "skipped", ("roles-test", "b"): "restarted"}
    assert [e["name"] for e in result["incomplete"]] == ["a"]
    assert "paused" in result["incomplete"][0]["reason"]
    assert len(api.patches()) == 1


def test_named_object_that_does_not_exist_is_reported():
    api = FakeApi([])
    failed, result = run(api, name="seldon-controller-manager", namespace="seldon-system")
    assert failed
    assert result["resources"] == [dict(kind="Deployment", namespace="seldon-system", name="seldon-controller-manager",
                                        action="failed", reason="not found", complete=None)]


def test_empty_selection_is_not_an_error():
    failed, result = run(FakeApi([]), label_selectors=["seldon-deployment-id"])
    assert not failed and not result["changed"] and result["resources"] == []


def test_list_error_fails_without_body():
    class Broken(FakeApi):
        def request(self, method, path, body=None, serialize=False, **params):
            raise ApiError(403, "Forbidden", '{"message": "secret stuff"}')

    module = FakeModule(label_selectors=["app=model"])
    access = kube_access.KubeAccess(Broken([]))
    with pytest.raises(kube_access.KubeAccessError) as caught:
        rollout_restart.run(module, access)
    assert str(caught.value) == "LIST Deployment: 403 Forbidden"


def test_wait_polls_the_selection_until_complete(no_real_time):
    api = FakeApi([deployment("a"), deployment("b")])
    polls = []

    def progress(fake):
        polls.append(1)
        if len(polls) == 3:  # the controller catches up before the third LIST
            controller_catches_up(fake)

    api.on_list = progress
    failed, result = run(api, label_selectors=["app=model"], restarted_at=STAMP, wait=True)
    assert not failed
    assert all(e["complete"] is True and e["reason"] is None for e in result["resources"])
    assert result["incomplete"] == []
    # One LIST to select, then one LIST per poll; no per-object GET.
    assert api.verbs() == [("GET", "list"), ("PATCH", "one"), ("PATCH", "one"), ("GET", "list"), ("GET", "list")]
    assert no_real_time["now"] == 2


def test_wait_reports_the_one_that_did_not_finish(no_real_time):
    api = FakeApi([deployment("a"), deployment("stuck")])
    api.on_list = controller_catches_up
    api.objects[("roles-test", "stuck")]["status"]["availableReplicas"] = 0
    failed, result = run(api, label_selectors=["app=model"], restarted_at=STAMP, wait=True, wait_timeout=10,
                         fail_on_incomplete=False)
    assert not failed
    by_name = {e["name"]: e for e in result["resources"]}
    assert by_name["a"]["complete"] is True
    assert by_name["stuck"]["complete"] is False
    assert by_name["stuck"]["reason"] == "not complete after 10s: 0 of 1 updated replicas are available"
    assert [e["name"] for e in result["incomplete"]] == ["stuck"]
    assert no_real_time["now"] == 10


def test_wait_timeout_fails_by_default_with_the_names(no_real_time):
    api = FakeApi([deployment("stuck", ready=False)])
    failed, result = run(api, name="stuck", restarted_at=STAMP, wait=True, wait_timeout=4)
    assert failed
    assert result["msg"] == ("1 of 1 object did not finish: roles-test/stuck "
                             "(restarted: not complete after 4s: waiting for the Deployment spec update to be observed)")


def test_wait_includes_unchanged_objects(no_real_time):
    api = FakeApi([deployment("a", restarted_at=STAMP, ready=False)])
    failed, result = run(api, name="a", restarted_at=STAMP, wait=True, wait_timeout=2, fail_on_incomplete=False)
    entry = result["resources"][0]
    assert entry["action"] == "unchanged" and entry["complete"] is False


def test_argument_spec_extends_kubernetes_core_auth():
    spec = rollout_restart.argument_spec()
    assert spec["kubeconfig"]["no_log"] is True
    assert spec["kind"]["choices"] == ["Deployment", "StatefulSet", "DaemonSet"]
    assert spec["wait"]["default"] is False
