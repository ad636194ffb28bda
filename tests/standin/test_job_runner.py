# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The job runner's kubelet rules, its webhook and a Job spec of rclone_access_check played with a
stand-in ``rclone`` (no cluster). Run: pytest tests/standin"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import ssl
import stat
import urllib.request

import pytest

import job_runner as jr

ACCESS = "AKIAJOBRUNNER0000001"
SECRET = "job-runner-s3cr3t/Value+x"
SA_SECRET = "job-runner-sa-secret-77"


def b64(value):
    return base64.b64encode(value.encode()).decode()


SECRETS = {
    "good": {"data": {"RCLONE_CONFIG_S3_TYPE": b64("s3"), "RCLONE_CONFIG_S3_ACCESS_KEY_ID": b64(ACCESS),
                      "RCLONE_CONFIG_S3_SECRET_ACCESS_KEY": b64(SECRET)}},
    "sa-secret": {"data": {"awsAccessKeyID": b64(ACCESS), "awsSecretAccessKey": b64(SA_SECRET)}},
}

# A stand-in for rclone: writes its argv and environment to the file named by its last argument,
# prints a log line quoting the secret key it got, and exits with FAKE_EXIT (0 when unset).
FAKE_RCLONE = """#!/bin/sh
out="$(eval echo \\${$#})"
printf '%s\\n' "$@" > "$out.argv"
/usr/bin/env > "$out.env"
echo "2025/01/01 00:00:00 ERROR : error listing: bad key $RCLONE_CONFIG_S3_SECRET_ACCESS_KEY" >&2
echo "2025/01/01 00:00:00 NOTICE: Failed to lsf with 2 errors: last error was: SignatureDoesNotMatch" >&2
exit "${FAKE_EXIT:-0}"
"""


@pytest.fixture
def fake_rclone(tmp_path):
    path = tmp_path / "bin" / "rclone"
    path.parent.mkdir()
    path.write_text(FAKE_RCLONE)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def pod(containers, gates=None, phase="Pending"):
    spec = {"containers": containers, "restartPolicy": "Never"}
    if gates is not None:
        spec["schedulingGates"] = gates
    return {"metadata": {"name": "check-x1y2z", "namespace": "ns", "uid": "uid-1",
                         "labels": {jr.RUN_LABEL: "run-1"}, "ownerReferences": [{"kind": "Job", "name": "check"}]},
            "spec": spec, "status": {"phase": phase}}


def lsf(out, **extra):
    container = {"name": "rclone-lsf", "image": "docker.io/seldonio/rclone-storage-initializer:1.17.1",
                 "command": ["rclone", "lsf", "s3://sklearn/iris", out], "envFrom": [{"secretRef": {"name": "good"}}],
                 "terminationMessagePolicy": "FallbackToLogsOnError"}
    container.update(extra)
    return container


def play(container, rclone, secrets=None):
    return jr.run_container(container, "ns", pod([container]), (secrets or SECRETS).get, {}.get, rclone, 10)


# --------------------------------------------------------------------------- webhook


def review(spec):
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "u-1", "object": {"metadata": {"labels": {jr.RUN_LABEL: "r"}}, "spec": spec}}}


def decoded_patch(response):
    return json.loads(base64.b64decode(response["response"]["patch"]))


def test_the_webhook_gates_every_labelled_pod():
    answer = jr.admission_response(review({"containers": []}))
    assert answer["response"]["uid"] == "u-1" and answer["response"]["allowed"] is True
    assert decoded_patch(answer) == [{"op": "add", "path": "/spec/schedulingGates", "value": [{"name": jr.GATE}]}]
    answer = jr.admission_response(review({"schedulingGates": [{"name": "other/gate"}]}))
    assert decoded_patch(answer) == [{"op": "add", "path": "/spec/schedulingGates/-", "value": {"name": jr.GATE}}]
    answer = jr.admission_response(review({"schedulingGates": [{"name": jr.GATE}]}))
    assert "patch" not in answer["response"]


def test_webhook_configuration_only_touches_labelled_pods_and_fails_closed():
    config = jr.webhook_configuration(4443, b"PEM")
    (hook,) = config["webhooks"]
    assert hook["clientConfig"] == {"url": "https://127.0.0.1:4443/mutate", "caBundle": b64("PEM")}
    assert hook["objectSelector"] == {"matchExpressions": [{"key": jr.RUN_LABEL, "operator": "Exists"}]}
    assert hook["rules"][0]["resources"] == ["pods"] and hook["rules"][0]["operations"] == ["CREATE"]
    assert hook["failurePolicy"] == "Fail" and hook["sideEffects"] == "None"


def test_the_label_is_the_modules():
    from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import access_check
    assert jr.RUN_LABEL == access_check.RUN_LABEL


def test_webhook_server_answers_over_tls_with_its_own_ca(tmp_path):
    ca_pem, cert_file, key_file = jr.generate_certificates(str(tmp_path))
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    server = jr.start_webhook_server(cert_file, key_file)
    try:
        context = ssl.create_default_context(cadata=ca_pem.decode())
        request = urllib.request.Request("https://127.0.0.1:%d/mutate" % server.server_port,
                                         data=json.dumps(review({})).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, context=context, timeout=10) as response:  # noqa: S310
            answer = json.loads(response.read())
    finally:
        server.shutdown()
    assert decoded_patch(answer)[0]["value"] == [{"name": jr.GATE}]


# --------------------------------------------------------------------------- the kubelet's rules


def test_termination_message_is_the_log_tail_on_failure_only():
    lines = "\n".join("line %03d" % index for index in range(100))
    assert jr.termination_message(lines, 1, "File") == ""
    assert jr.termination_message(lines, 0, "FallbackToLogsOnError") == ""
    tail = jr.termination_message(lines, 1, "FallbackToLogsOnError")
    assert tail.splitlines()[0] == "line 020" and len(tail.splitlines()) == jr.MESSAGE_LINES
    long_line = "x" * 5000 + "END"
    assert jr.termination_message(long_line, 2, "FallbackToLogsOnError").endswith("END")
    assert len(jr.termination_message(long_line, 2, "FallbackToLogsOnError").encode()) == jr.MESSAGE_BYTES


@pytest.mark.parametrize("container, expected", [
    ({"command": ["rclone", "lsf", "s3://b/p"]}, ["/bin/rclone", "lsf", "s3://b/p"]),
    ({"command": ["/usr/local/bin/rclone"], "args": ["lsf", "s3://b"]}, ["/bin/rclone", "lsf", "s3://b"]),
    ({"args": ["s3://b/p", "/mnt/models"]}, ["/bin/rclone", "copy", "s3://b/p", "/mnt/models"]),
    ({"command": ["sh", "-c", "rclone lsf s3://b"]}, None),
])
def test_container_argv(container, expected):
    assert jr.container_argv(container, "/bin/rclone") == expected


def test_a_succeeding_container_runs_with_exactly_the_resolved_environment(tmp_path, fake_rclone):
    out = str(tmp_path / "run")
    state, exit_code, line = play(lsf(out), fake_rclone)
    assert exit_code == 0 and line == "ok"
    assert state["terminated"]["exitCode"] == 0 and state["terminated"]["reason"] == "Completed"
    assert "message" not in state["terminated"]
    env = dict(entry.split("=", 1) for entry in open(out + ".env", encoding="utf-8").read().splitlines() if "=" in entry)
    assert env["RCLONE_CONFIG_S3_SECRET_ACCESS_KEY"] == SECRET
    assert env["RCLONE_CONFIG_GS_ANONYMOUS"] == "true" and env["RCLONE_VERBOSE"] == "1"
    assert env["PATH"] == os.path.dirname(fake_rclone) and env["RCLONE_CONFIG"].endswith("rclone-empty.conf")
    assert not [name for name in env if name.startswith(("AWS_", "KUBECONFIG", "S3_"))]
    assert open(out + ".argv", encoding="utf-8").read().splitlines() == ["lsf", "s3://sklearn/iris", out]


def test_a_failing_container_gets_the_log_tail_and_the_runner_log_masks_it(tmp_path, fake_rclone):
    container = lsf(str(tmp_path / "run"), env=[{"name": "FAKE_EXIT", "value": "1"}])
    state, exit_code, line = play(container, fake_rclone)
    assert exit_code == 1 and state["terminated"]["reason"] == "Error"
    # the kubelet writes rclone's log as it is; masking is the reader's job (rclone_access_check)
    assert SECRET in state["terminated"]["message"]
    assert "Failed to lsf" in state["terminated"]["message"]
    assert "Failed to lsf" in line and SECRET not in line and ACCESS not in line


def test_a_missing_key_is_a_create_container_config_error_and_the_pod_stays_pending(tmp_path, fake_rclone):
    container = lsf(str(tmp_path / "run"), env=[{"name": "AWS_SECRET_ACCESS_KEY", "valueFrom": {
        "secretKeyRef": {"name": "sa-secret", "key": "nope"}}}])
    state, exit_code, _line = play(container, fake_rclone)
    assert exit_code is None
    assert state == {"waiting": {"reason": "CreateContainerConfigError",
                                 "message": "couldn't find key nope in Secret sa-secret"}}
    status = jr.pod_status(pod([container]), [(container, state, exit_code)])["status"]
    assert "phase" not in status and status["containerStatuses"][0]["state"] == state
    assert not os.path.exists(str(tmp_path / "run.env"))


def test_other_images_and_commands_are_not_run(tmp_path, fake_rclone):
    for container in (lsf(str(tmp_path / "a"), image="busybox"), lsf(str(tmp_path / "b"), command=["sh", "-c", "x"])):
        state, exit_code, _line = play(container, fake_rclone)
        assert exit_code == 127 and "only rclone commands" in state["terminated"]["message"]
    assert not os.listdir(str(tmp_path)) or all(not name.endswith(".env") for name in os.listdir(str(tmp_path)))


def test_pod_status_phase():
    container = {"name": "c", "image": "i"}
    ok = {"terminated": {"exitCode": 0, "startedAt": "2025-01-01T00:00:01Z"}}
    bad = {"terminated": {"exitCode": 3, "startedAt": "2025-01-01T00:00:00Z"}}
    status = jr.pod_status(pod([container]), [(container, ok, 0)])["status"]
    assert status["phase"] == "Succeeded" and status["startTime"] == "2025-01-01T00:00:01Z"
    assert status["containerStatuses"][0]["name"] == "c" and status["containerStatuses"][0]["ready"] is False
    status = jr.pod_status(pod([container, container]), [(container, ok, 0), (container, bad, 3)])["status"]
    assert status["phase"] == "Failed" and status["startTime"] == "2025-01-01T00:00:00Z"


def test_only_gated_pods_of_jobs_are_played():
    assert jr.is_gated(pod([], gates=[{"name": jr.GATE}]))
    assert not jr.is_gated(pod([], gates=[{"name": "other"}])) and not jr.is_gated(pod([]))
    assert jr.job_owner(pod([])) == "check"


# --------------------------------------------------------------------------- a Job of the module, played


def test_a_job_planned_by_rclone_access_check_runs_with_its_env_secret_and_service_account_env(tmp_path, fake_rclone):
    from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import access_check
    from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import inventory

    def secret(name, data, annotations=None):
        return {"metadata": {"name": name, "namespace": "ns", "annotations": annotations or {}},
                "data": SECRETS[data]["data"]}

    graph = {"name": "classifier", "implementation": "SKLEARN_SERVER", "modelUri": "s3://sklearn/iris",
             "envSecretRefName": "good", "serviceAccountName": "s3-sa"}
    cluster = inventory.Inventory(
        secrets=[secret("good", "good"), secret("sa-secret", "sa-secret",
                                                {"machinelearning.seldon.io/s3-endpoint": "127.0.0.1:9900",
                                                 "machinelearning.seldon.io/s3-usehttps": "0"})],
        service_accounts=[{"metadata": {"name": "s3-sa", "namespace": "ns"}, "secrets": [{"name": "sa-secret"}]}],
        deployments=[{"metadata": {"name": "iris", "namespace": "ns"},
                      "spec": {"predictors": [{"name": "default", "graph": graph}]}}])
    image = "docker.io/seldonio/rclone-storage-initializer:1.17.1"
    (check,), _not_checked = access_check.plan_checks(cluster, image, "run-1", 60)
    (container,) = check.job["spec"]["template"]["spec"]["containers"]
    out = str(tmp_path / "job")
    container["command"] = container["command"] + [out]  # where the stand-in rclone reports
    state, exit_code, _line = play(container, fake_rclone)
    assert exit_code == 0, state
    env = dict(entry.split("=", 1) for entry in open(out + ".env", encoding="utf-8").read().splitlines() if "=" in entry)
    assert env["RCLONE_CONFIG_S3_SECRET_ACCESS_KEY"] == SECRET
    assert env["AWS_SECRET_ACCESS_KEY"] == SA_SECRET and env["AWS_ACCESS_KEY_ID"] == ACCESS
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9900" and env["S3_USE_HTTPS"] == "0"
