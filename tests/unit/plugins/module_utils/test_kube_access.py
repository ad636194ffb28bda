# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kube_access against a scripted REST client: request counts, paging, retries, error hygiene."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import json

import pytest

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import json_patch
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_access as ka
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_objects

LEAKY_BODY = '{"kind":"Status","message":"Secret \\"s\\" is invalid: data[AWS_SECRET_ACCESS_KEY]: hunter2-secret-value"}'


class ApiError(Exception):
    """Shaped like kubernetes.client.ApiException: status, reason and a body that echoes the request."""

    def __init__(self, status, reason, body=LEAKY_BODY):
        super(ApiError, self).__init__("({0})\nReason: {1}\nHTTP response body: {2}".format(status, reason, body))
        self.status, self.reason, self.body = status, reason, body


class Response:
    def __init__(self, payload):
        self.data = json.dumps(payload).encode("utf-8")


class ScriptedClient:
    """Answers requests from a list of (predicate, answer) steps; records every call."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = []

    def request(self, method, path, body=None, **params):
        self.calls.append((method, path, params, body))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return Response(answer)


def test_resource_paths():
    assert ka.resource_path("Secret", "ns", "s") == "/api/v1/namespaces/ns/secrets/s"
    assert ka.resource_path("Secret") == "/api/v1/secrets"
    assert ka.resource_path("SeldonDeployment", "ns") == "/apis/machinelearning.seldon.io/v1/namespaces/ns/seldondeployments"
    assert ka.resource_path("Deployment", "ns", "d") == "/apis/apps/v1/namespaces/ns/deployments/d"
    assert ka.resource_path("Namespace", "ignored", "n") == "/api/v1/namespaces/n"


def test_list_is_one_request_per_namespace_and_one_cluster_wide():
    client = ScriptedClient([{"items": [{"metadata": {"name": "a"}}]}, {"items": []}])
    access = ka.KubeAccess(client)
    assert [o["metadata"]["name"] for o in access.list("Secret", ["x", "y", "x", ""])] == ["a"]
    assert [c[1] for c in client.calls] == ["/api/v1/namespaces/x/secrets", "/api/v1/namespaces/y/secrets"]
    client = ScriptedClient([{"items": []}])
    ka.KubeAccess(client).list("Secret", None, field_selector="metadata.name=s")
    assert client.calls[0][1] == "/api/v1/secrets"
    assert client.calls[0][2]["field_selector"] == "metadata.name=s"


def test_list_follows_continue_tokens():
    client = ScriptedClient([{"items": [{"n": 1}], "metadata": {"continue": "t1"}}, {"items": [{"n": 2}], "metadata": {}}])
    access = ka.KubeAccess(client, page_size=1)
    assert access.list("Secret", ["ns"]) == [{"n": 1}, {"n": 2}]
    assert client.calls[1][2]["_continue"] == "t1"
    assert access.requests == {"list": 2}


def test_get_returns_none_on_404_and_raises_otherwise():
    access = ka.KubeAccess(ScriptedClient([ApiError(404, "Not Found"), ApiError(403, "Forbidden")]))
    assert access.get("Secret", "ns", "s") is None
    with pytest.raises(ka.KubeAccessError) as caught:
        access.get("Secret", "ns", "s")
    assert str(caught.value) == "GET Secret ns/s: 403 Forbidden"


def test_error_messages_never_carry_the_body():
    access = ka.KubeAccess(ScriptedClient([ApiError(422, "Unprocessable Entity")]))
    with pytest.raises(ka.KubeAccessError) as caught:
        access.patch("Secret", "ns", "s", [{"op": "add", "path": "/data/X", "value": "aHVudGVyMg=="}])
    message = str(caught.value)
    assert message == "PATCH Secret ns/s: 422 Unprocessable Entity"
    assert "hunter2" not in message and "aHVudGVyMg" not in message
    assert "hunter2" not in repr(caught.value.args)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_transport_errors_name_class_host_and_cause_only():
    error = ConnectionError("HTTPSConnectionPool(host='127.0.0.1', port=6443): Max retries exceeded with url: "
                            "/api/v1/namespaces/ns/secrets?token=hunter2 (Caused by NewConnectionError('...: "
                            "[Errno 111] Connection refused'))\nmore detail")
    access = ka.KubeAccess(ScriptedClient([error]))
    with pytest.raises(ka.KubeAccessError) as caught:
        access.list("Secret", ["ns"])
    assert str(caught.value) == ("LIST Secret in namespace ns: ConnectionError: cannot reach 127.0.0.1:6443 "
                                 "(Connection refused)")
    assert "hunter2" not in str(caught.value) and "more detail" not in str(caught.value)
    with pytest.raises(ka.KubeAccessError) as caught:
        ka.KubeAccess(ScriptedClient([ValueError("password=hunter2 in a message")])).list("Secret", ["ns"])
    assert str(caught.value) == "LIST Secret in namespace ns: ValueError: request failed"


def test_a_graph_nested_deeper_than_the_recursion_limit_is_read():
    levels = 600  # two JSON levels each: beyond what json parses with the default limit of 1000
    graph = '{"name": "n", "children": [' * levels + '{"name": "leaf"}' + "]}" * levels
    text = '{"items": [{"spec": {"predictors": [{"graph": ' + graph + '}]}}]}'
    with pytest.raises(RecursionError):
        json.loads(text)
    assert len(ka.loads(text)["items"]) == 1


class FailingModule:
    """Records fail_json like AnsibleModule, which never returns."""

    check_mode = False

    def __init__(self):
        self.failed_with = None

    def fail_json(self, **result):
        self.failed_with = result
        raise SystemExit(1)


def test_run_connected_fails_the_task_with_the_message_and_the_requests_sent(monkeypatch):
    access = ka.KubeAccess(ScriptedClient([{"items": []}, ApiError(422, "Unprocessable Entity")]))
    monkeypatch.setattr(ka, "connect", lambda module: access)

    def run(module, given):
        assert given is access
        given.list("Secret", ["ns"])
        given.patch("Secret", "ns", "s", [{"op": "add", "path": "/data/X", "value": "aHVudGVyMg=="}])

    module = FailingModule()
    with pytest.raises(SystemExit):
        ka.run_connected(module, run)
    assert module.failed_with == {"msg": "PATCH Secret ns/s: 422 Unprocessable Entity",
                                  "api_requests": {"list": 1, "patch": 1}}
    assert "hunter2" not in json.dumps(module.failed_with) and "aHVudGVyMg" not in json.dumps(module.failed_with)


def test_run_connected_leaves_a_successful_run_alone(monkeypatch):
    monkeypatch.setattr(ka, "connect", lambda module: ka.KubeAccess(ScriptedClient([])))
    module, seen = FailingModule(), []
    ka.run_connected(module, lambda module, access: seen.append(access))
    assert len(seen) == 1 and module.failed_with is None


def test_check_mode_refuses_writes():
    client = ScriptedClient([])
    access = ka.KubeAccess(client, check_mode=True)
    with pytest.raises(RuntimeError):
        access.patch("Secret", "ns", "s", [])
    assert client.calls == []


def test_patch_sends_the_patch_type():
    client = ScriptedClient([{"metadata": {"name": "s"}}])
    ka.KubeAccess(client).patch("SeldonDeployment", "ns", "d", {"a": 1}, ka.MERGE_PATCH)
    method, path, params, body = client.calls[0]
    assert (method, params["content_type"], body) == ("PATCH", "application/merge-patch+json", {"a": 1})


Plan = collections.namedtuple("Plan", "patch")


def guarded(obj):
    return Plan([json_patch.guard(obj)])


def test_write_planned_rereads_and_plans_again_after_a_conflict():
    fresh = {"metadata": {"resourceVersion": "2"}}
    client = ScriptedClient([ApiError(409, "Conflict"), fresh, {"metadata": {"resourceVersion": "3"}}])
    access = ka.KubeAccess(client)
    seen = []

    def plan_for(obj):
        seen.append(kube_objects.resource_version(obj))
        return guarded(obj)

    written = ka.write_planned(access, "Secret", {"metadata": {"resourceVersion": "1"}}, plan_for)
    assert seen == ["1", "2"] and written.error == ""
    assert written.obj["metadata"]["resourceVersion"] == "3"
    assert written.plan.patch == [{"op": "replace", "path": "/metadata/resourceVersion", "value": "2"}]
    assert [c[0] for c in client.calls] == ["PATCH", "GET", "PATCH"]
    assert client.calls[2][3] == [{"op": "replace", "path": "/metadata/resourceVersion", "value": "2"}]
    assert access.requests == {"patch": 2, "get": 1}


def test_write_planned_stops_when_nothing_is_left_to_do():
    client = ScriptedClient([ApiError(409, "Conflict"), {"metadata": {"resourceVersion": "2"}}])
    access = ka.KubeAccess(client)
    written = ka.write_planned(
        access, "Secret", {"metadata": {"resourceVersion": "1"}},
        lambda obj: Plan(None) if kube_objects.resource_version(obj) == "2" else guarded(obj))
    assert written.obj is None and written.error == "" and written.plan.patch is None
    assert access.requests == {"patch": 1, "get": 1}


def test_write_planned_sends_nothing_in_check_mode():
    client = ScriptedClient([])
    written = ka.write_planned(ka.KubeAccess(client, check_mode=True), "Secret", {"metadata": {}}, guarded)
    assert client.calls == [] and written.plan.patch and written.obj is None


def test_write_planned_is_bounded():
    answers = []
    for _attempt in range(3):
        answers.extend([ApiError(409, "Conflict"), {"metadata": {"resourceVersion": "x"}}])
    client = ScriptedClient(answers[:-1])
    access = ka.KubeAccess(client)
    written = ka.write_planned(access, "Secret", {"metadata": {"name": "s", "namespace": "ns"}}, guarded, attempts=3)
    assert written.error == "PATCH Secret ns/s: 409 Conflict"
    assert access.requests == {"patch": 3, "get": 2}


def test_write_planned_reports_an_object_deleted_meanwhile():
    access = ka.KubeAccess(ScriptedClient([ApiError(409, "Conflict"), ApiError(404, "Not Found")]))
    written = ka.write_planned(access, "Secret", {"metadata": {"name": "s", "namespace": "ns"}}, guarded)
    assert "404 Not Found" in written.error and "deleted" in written.error


def test_other_errors_are_not_retried():
    client = ScriptedClient([ApiError(403, "Forbidden")])
    written = ka.write_planned(ka.KubeAccess(client), "Secret", {"metadata": {"name": "s", "namespace": "ns"}}, guarded)
    assert written.error == "PATCH Secret ns/s: 403 Forbidden"
    assert len(client.calls) == 1


def test_json_pointer_escape_and_helpers():
    assert json_patch.escape("a/b~c") == "a~1b~0c"
    obj = {"metadata": {"name": "n", "namespace": "ns", "labels": {"a": "b"}, "annotations": {"c": "d"}}}
    assert (kube_objects.object_name(obj), kube_objects.object_namespace(obj), kube_objects.labels_of(obj),
            kube_objects.annotations_of(obj)) == ("n", "ns", {"a": "b"}, {"c": "d"})
    assert kube_objects.annotations_of(None) == {} and ka.unique_namespaces(None) is None


def test_connect_errors_keep_no_url_of_a_transport_failure():
    transport = ConnectionError("HTTPSConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url: "
                                "/version?token=hunter2 (Caused by NewConnectionError('[Errno 111] Connection refused'))")
    assert ka.describe_connect_error(transport) == "ConnectionError: cannot reach 127.0.0.1:1 (Connection refused)"
    config = ValueError("Invalid kube-config file. No configuration found.\nmore")
    assert ka.describe_connect_error(config) == "ValueError: Invalid kube-config file. No configuration found."


class FakeMaxRetryError(Exception):
    """Named as urllib3's: a connect failure that used up its retries, the cause in ``reason``."""

    def __init__(self, reason):
        super(FakeMaxRetryError, self).__init__("HTTPSConnectionPool(host='127.0.0.1', port=6443): Max retries")
        self.reason = reason


FakeMaxRetryError.__name__ = "MaxRetryError"


@pytest.mark.parametrize("error, unknown", [
    (FakeMaxRetryError(ConnectionRefusedError(111, "Connection refused")), False),
    (ConnectionRefusedError(111, "Connection refused"), False),
    (ConnectionResetError(104, "Connection reset by peer"), True),
    (FakeMaxRetryError(ConnectionResetError(104, "Connection reset by peer")), True),
    (ValueError("no answer"), True),
])
def test_a_write_whose_connection_broke_after_sending_may_have_been_applied(error, unknown):
    access = ka.KubeAccess(ScriptedClient([error]))
    with pytest.raises(ka.KubeAccessError) as caught:
        access.patch("Secret", "ns", "s", [{"op": "add", "path": "/data/X", "value": "aHVudGVyMg=="}])
    assert str(caught.value).endswith(ka.UNKNOWN_OUTCOME) is unknown, str(caught.value)


def test_a_read_never_claims_an_unknown_outcome():
    access = ka.KubeAccess(ScriptedClient([ConnectionResetError(104, "Connection reset by peer")]))
    with pytest.raises(ka.KubeAccessError) as caught:
        access.get("Secret", "ns", "s")
    assert str(caught.value) == "GET Secret ns/s: ConnectionResetError: request failed (Connection reset by peer)"
