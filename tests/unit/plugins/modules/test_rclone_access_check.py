# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""rclone_access_check's flow against the in-memory API (conftest.FakeCluster), extended with
Jobs, their pods and a tiny Job controller that decides each outcome from the Secret the Job
references - the integration target runs the real thing (real rclone through tests/standin/job_runner.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import importlib.util
import json
import os

import pytest

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import access_check as ac
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_access
from ansible_collections.seldon_ops.rclone_migration.plugins.modules import rclone_access_check as module_py

NS = "access-ns"
IMAGE = "docker.io/seldonio/rclone-storage-initializer:1.17.1"
RIGHT = "right-secret-key-0c4f9a"
WRONG = "wrong-secret-key-77d1e2"
KEY_ID = "AKIAFLOWTEST00000001"

# The in-memory API of this folder's conftest.py, loaded by path: "conftest" names several modules.
_SPEC = importlib.util.spec_from_file_location("rclone_access_check_fake_api",
                                               os.path.join(os.path.dirname(os.path.abspath(__file__)), "conftest.py"))
fake_api = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(fake_api)
ApiError = fake_api.ApiError
FakeCluster = fake_api.FakeCluster
FakeModule = fake_api.FakeModule
ModuleExit = fake_api.ModuleExit
Response = fake_api.Response


def b64(value):
    return base64.b64encode(value.encode()).decode()


class JobCluster(FakeCluster):
    """FakeCluster plus Jobs and Pods with label selectors, POST and DELETE, and a Job controller:
    a Job's pod succeeds when the secret it references holds RIGHT, fails with rclone's message
    (which quotes the key it used, to prove the masking) when it holds another key, and stays
    Pending with a waiting reason when the secret has no key at all."""

    def __init__(self):
        super(JobCluster, self).__init__()
        self.jobs, self.pods = {}, {}
        self.forbid_create = False
        self.polls_until_done = 0

    @staticmethod
    def _selected(obj, selector):
        key, _sep, value = (selector or "").partition("=")
        return not key or (obj["metadata"].get("labels") or {}).get(key) == value

    def _outcome(self, job):
        pod_spec = job["spec"]["template"]["spec"]
        (container,) = pod_spec["containers"]
        secret = self.obj("Secret", job["metadata"]["namespace"], container["envFrom"][0]["secretRef"]["name"])
        key = base64.b64decode((secret or {}).get("data", {}).get("RCLONE_CONFIG_S3_SECRET_ACCESS_KEY", "")).decode()
        if not key:
            return "", {"waiting": {"reason": "CreateContainerConfigError", "message": "couldn't find key"}}
        if key == RIGHT:
            return "Complete", {"terminated": {"exitCode": 0, "reason": "Completed"}}
        message = ("2025/01/01 00:00:00 ERROR : error listing: SignatureDoesNotMatch for key {0} ({1})\n"
                   "2025/01/01 00:00:00 NOTICE: Failed to lsf with 2 errors: last error was: SignatureDoesNotMatch: "
                   "signed with {0}".format(key, b64(key)))
        return "Failed", {"terminated": {"exitCode": 1, "reason": "Error", "message": message}}

    def _pod(self, job, state, phase):
        metadata = job["metadata"]
        return {"metadata": {"namespace": metadata["namespace"], "name": metadata["name"] + "-x1y2z",
                             "labels": dict(job["spec"]["template"]["metadata"]["labels"]),
                             "ownerReferences": [{"kind": "Job", "name": metadata["name"]}]},
                "status": {"phase": phase, "containerStatuses": [{"name": ac.CONTAINER_NAME, "state": state}]}}

    def _post_job(self, namespace, body):
        name = body["metadata"]["name"]
        self.calls.append(("create", "Job", namespace, name))
        if self.forbid_create:
            raise ApiError(403, "Forbidden", json.dumps(body))
        job = copy.deepcopy(body)
        condition, state = self._outcome(job)
        phase = {"Complete": "Succeeded", "Failed": "Failed"}.get(condition, "Pending")
        job["status"] = {"final": condition}
        self.jobs[(namespace, name)] = job
        self.pods[(namespace, name)] = self._pod(job, state, phase)
        return Response(job)

    def _job_view(self, job):
        """The Job as listed: its final condition once the controller got to it."""
        job = copy.deepcopy(job)
        final = job.pop("status")["final"]
        conditions = []
        if final and self.polls_until_done <= 0:
            conditions = [{"type": final, "status": "True",
                           "reason": "BackoffLimitExceeded" if final == "Failed" else ""}]
        job["status"] = {"conditions": conditions}
        return job

    def request(self, method, path, body=None, **params):
        parts = path.strip("/").split("/")
        if "jobs" in parts:
            namespace = parts[parts.index("namespaces") + 1] if "namespaces" in parts else None
            name = parts[-1] if parts[-1] != "jobs" else None
            if method == "POST":
                return self._post_job(namespace, body)
            if method == "DELETE":
                self.calls.append(("delete", "Job", namespace, name))
                assert (body or {}).get("propagationPolicy") == "Background"
                self.jobs.pop((namespace, name), None)
                self.pods.pop((namespace, name), None)
                return Response({"kind": "Status", "status": "Success"})
            self.calls.append(("list", "Job", namespace, None))
            self.polls_until_done -= 1
            items = [self._job_view(job) for (ns, _n), job in sorted(self.jobs.items())
                     if (namespace is None or ns == namespace) and self._selected(job, params.get("label_selector"))]
            return Response({"items": items, "metadata": {}})
        if "pods" in parts and method == "GET" and parts[-1] == "pods":
            namespace = parts[parts.index("namespaces") + 1] if "namespaces" in parts else None
            self.calls.append(("list", "Pod", namespace, None))
            items = [copy.deepcopy(pod) for (ns, _n), pod in sorted(self.pods.items())
                     if (namespace is None or ns == namespace) and self._selected(pod, params.get("label_selector"))]
            return Response({"items": items, "metadata": {}})
        return super(JobCluster, self).request(method, path, body=body, **params)


def rclone_secret(name, secret_key):
    data = {"RCLONE_CONFIG_S3_TYPE": "s3", "RCLONE_CONFIG_S3_PROVIDER": "Minio", "RCLONE_CONFIG_S3_ENV_AUTH": "false",
            "RCLONE_CONFIG_S3_ACCESS_KEY_ID": KEY_ID, "RCLONE_CONFIG_S3_ENDPOINT": "http://127.0.0.1:9900"}
    if secret_key:
        data["RCLONE_CONFIG_S3_SECRET_ACCESS_KEY"] = secret_key
    return {"metadata": {"name": name, "namespace": NS}, "data": dict((k, b64(v)) for k, v in data.items())}


def sdep(name, secret, uri="s3://sklearn/iris"):
    graph = {"name": "classifier", "implementation": "SKLEARN_SERVER", "modelUri": uri, "envSecretRefName": secret}
    return {"metadata": {"name": name, "namespace": NS}, "spec": {"predictors": [{"name": "default", "graph": graph}]}}


@pytest.fixture
def jobs_cluster():
    cluster = JobCluster()
    cluster.add("Secret", rclone_secret("good", RIGHT))
    cluster.add("Secret", rclone_secret("wrong-key", WRONG))
    cluster.add("Secret", rclone_secret("no-key", ""))
    cluster.add("ServiceAccount", {"metadata": {"name": "default", "namespace": NS}})
    cluster.add("SeldonDeployment", sdep("iris", "good"))
    cluster.add("SeldonDeployment", sdep("iris-copy", "good"))
    cluster.add("SeldonDeployment", sdep("iris-wrong", "wrong-key"))
    return cluster


def run(cluster, check_mode=False, **params):
    params = dict(dict(namespaces=[NS], image=IMAGE, wait_timeout=30, wait_sleep=0, run_id="flow-1",
                       fail_on_failure=False), **params)
    module = FakeModule(module_py.argument_spec(), check_mode=check_mode, **params)
    access = kube_access.KubeAccess(cluster, check_mode=check_mode)
    with pytest.raises(ModuleExit) as exited:
        module_py.run(module, access)
    return exited.value.result, exited.value.failed, module


def by_secret(result):
    return dict((entry["secret"], entry) for entry in result["checks"])


def assert_no_value(result):
    text = json.dumps(result)
    for value in (RIGHT, WRONG, KEY_ID):
        assert value not in text and b64(value) not in text


def test_creates_waits_reads_and_deletes_one_job_per_secret_and_bucket(jobs_cluster):
    result, failed, _module = run(jobs_cluster)
    assert not failed and result["changed"]
    checks = by_secret(result)
    assert sorted(checks) == ["good", "wrong-key"]
    assert checks["good"]["status"] == "ok" and checks["good"]["error"] == ""
    assert checks["good"]["nodes"] == ["iris-copy/default/classifier", "iris/default/classifier"]
    assert checks["wrong-key"]["status"] == "failed"
    assert checks["wrong-key"]["error"].startswith("exit code 1: Failed to lsf with 2 errors")
    assert "SignatureDoesNotMatch" in checks["wrong-key"]["error"]
    assert "<redacted>" in checks["wrong-key"]["error"]
    assert result["summary"] == {"ok": 1, "failed": 1, "timeout": 0, "planned": 0, "jobs_created": 2, "not_checked": 0}
    assert result["run_id"] == "flow-1"
    assert_no_value(result)
    writes = [call for call in jobs_cluster.writes() if call[0] != "list"]
    assert [call[0] for call in writes] == ["create", "create", "delete", "delete"]
    assert sorted(call[3] for call in writes if call[0] == "create") == sorted(
        call[3] for call in writes if call[0] == "delete")
    assert jobs_cluster.jobs == {} and jobs_cluster.pods == {}
    # settings GETs, 3 inventory LISTs, one LIST of Jobs, one of Pods (a Job failed)
    assert result["api_requests"] == {"get": 2, "list": 5, "create": 2, "delete": 2}


def test_fails_the_task_naming_node_secret_and_rclone_error(jobs_cluster):
    result, failed, _module = run(jobs_cluster, fail_on_failure=True)
    assert failed
    assert result["msg"].startswith("access check failed: {0}/wrong-key s3:sklearn (nodes iris-wrong/default/classifier)"
                                    .format(NS))
    assert "SignatureDoesNotMatch" in result["msg"]
    assert_no_value(result)
    assert jobs_cluster.jobs == {}


def test_check_mode_plans_the_jobs_and_sends_no_write(jobs_cluster):
    result, failed, _module = run(jobs_cluster, check_mode=True)
    assert not failed and result["changed"]
    assert [entry["status"] for entry in result["checks"]] == ["planned", "planned"]
    assert all(entry["manifest"]["metadata"]["name"] == entry["job"] for entry in result["checks"])
    assert jobs_cluster.writes() == [] and jobs_cluster.jobs == {}
    assert result["api_requests"] == {"get": 2, "list": 3}
    assert result["summary"]["jobs_created"] == 0
    assert_no_value(result)


def test_a_job_that_never_finishes_times_out_with_the_pods_reason_and_is_deleted(jobs_cluster):
    jobs_cluster.add("SeldonDeployment", sdep("iris-no-key", "no-key"))
    result, failed, _module = run(jobs_cluster, wait_timeout=0)
    assert not failed
    checks = by_secret(result)
    assert checks["no-key"]["status"] == "timeout"
    assert checks["no-key"]["error"] == "container waiting: CreateContainerConfigError: couldn't find key"
    assert checks["good"]["status"] == "ok"
    assert jobs_cluster.jobs == {}
    assert result["api_requests"]["create"] == result["api_requests"]["delete"] == 3


def test_polls_until_every_job_finished(jobs_cluster):
    jobs_cluster.polls_until_done = 3
    result, failed, _module = run(jobs_cluster)
    assert not failed
    assert [call for call in jobs_cluster.calls if call[:2] == ("list", "Job")] == [("list", "Job", NS, None)] * 3
    assert by_secret(result)["good"]["status"] == "ok"


def test_a_job_the_api_refuses_is_a_failed_check_and_nothing_is_left(jobs_cluster):
    jobs_cluster.forbid_create = True
    result, failed, _module = run(jobs_cluster)
    assert not failed and not result["changed"]
    assert {entry["status"] for entry in result["checks"]} == {"failed"}
    assert all("403 Forbidden" in entry["error"] for entry in result["checks"])
    assert result["api_requests"] == {"get": 2, "list": 3, "create": 2}
    assert_no_value(result)


def test_without_namespaces_one_cluster_wide_list_per_poll(jobs_cluster):
    result, _failed, _module = run(jobs_cluster, namespaces=None)
    assert [call for call in jobs_cluster.calls if call[:2] == ("list", "Job")] == [("list", "Job", None, None)]
    assert len(result["checks"]) == 2
