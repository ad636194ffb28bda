# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No credential in any output, report or result, at any verbosity (issue 8).

A scratch operator release (the local chart) and a namespaced stand-in; the rehearsal's scene plus
SeldonDeployments that hold credentials themselves (tests/scene/scene-secrets.yaml.tmpl): a literal
credential in a pod template env (componentSpecs) and an rclone connection string with a key pair
in the modelUri. More credentials where a platform team keeps them: a value of the helm release
(kubernetes.core.helm_info and helm return the values), a literal env value on the controller
Deployment (the operator's objects are read whole), a token in the prediction URL's query and one
in its headers (answered by a local endpoint).

Runs, all with -vvvv:
  1. playbooks/rehearsal.yml with --diff (rollback of nothing, scene, probes played by the init
     container runner, preflight, migrate with the prediction check, the downloads checked);
  2. playbooks/rollback.yml, removing the added rclone keys;
  3. playbooks/migrate.yml with --diff and ANSIBLE_DEBUG=1 (a real migration again: every path).
Every byte of their output, every file of the reports directory and every task result as the
callbacks get it (what AWX or a JSON log would store), plus the facts and the registered results
of every task that is not no_log, are searched for each value, plain and base64: zero hits.

One limit is Ansible's own: ANSIBLE_DEBUG prints every module's raw result "despite no_log settings"
(its documented caveat, DEFAULT_DEBUG in ansible/config/base.yml). The role reads the cluster
through the collection's modules, which return no value, so that holds no credential of the scene
or the controller; but kubernetes.core.helm and helm_info return the release's values, and
ansible.builtin.uri returns the prediction URL and headers. The debug run therefore has no
prediction check ("run only what is needed under it"), and the helm value is checked in the other
two runs only.

The check catches an unprotected task: the controller carries a literal env value, so an operator
read that returned the Deployment (kubernetes.core.k8s_info where the roles use seldon_storage_info,
which returns no object) would show it at -v and fail this test. About 3 minutes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import re
import subprocess
import threading
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import yaml

from e2e_support import REPO, Kube, StandInProcess

CHART = os.path.join(REPO, "tests", "chart", "seldon-core-operator")
INVENTORY = os.path.join(REPO, "inventories", "local")
PLAYBOOKS = os.path.join(REPO, "playbooks")
ANSIBLE_PLAYBOOK = os.path.join(REPO, ".cache", "venv", "bin", "ansible-playbook")
KFSERVING = "gcr.io/kfserving/storage-initializer:v0.4.0"

# Written at run time into the test's scratch directory: hands every task result the callbacks get
# (no_log ones already censored) and, at the end, the facts and registered results of every task
# that was not no_log to a JSON-lines file. no_log results of the collection's own modules are kept
# too: they never hold a value.
RESULT_DUMP_CALLBACK = '''
from __future__ import absolute_import, division, print_function
__metaclass__ = type
import json
import os
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "result_dump"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._path = os.environ["RESULT_DUMP"]
        self._hidden = set()
        self._variable_manager = None

    def _write(self, kind, data):
        with open(self._path, "a") as handle:
            handle.write(json.dumps({"kind": kind, "data": data}, default=str) + "\\n")

    def _result(self, result):
        task, data = result._task, result._result
        items = data.get("results") if isinstance(data.get("results"), list) else []
        censored = "censored" in data or any(isinstance(item, dict) and "censored" in item for item in items)
        if censored and task.register and not str(task.action).startswith("seldon_ops.rclone_migration."):
            self._hidden.add(task.register)
        self._write("result", {"task": task.get_name(), "action": task.action, "result": data})

    def v2_runner_on_ok(self, result):
        self._result(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result)

    def v2_runner_on_skipped(self, result):
        self._result(result)

    def v2_runner_on_unreachable(self, result):
        self._result(result)

    def v2_runner_item_on_ok(self, result):
        self._result(result)

    def v2_runner_item_on_failed(self, result):
        self._result(result)

    def v2_runner_retry(self, result):
        self._result(result)

    def v2_playbook_on_play_start(self, play):
        self._variable_manager = play.get_variable_manager()

    def v2_playbook_on_stats(self, stats):
        if self._variable_manager is None:
            return
        for cache_name in ("_nonpersistent_fact_cache", "_fact_cache"):
            cache = getattr(self._variable_manager, cache_name, None) or {}
            for host in list(cache.keys()):
                facts = dict((name, value) for name, value in dict(cache[host]).items() if name not in self._hidden)
                self._write("facts", {"host": host, "cache": cache_name, "hidden": sorted(self._hidden), "facts": facts})
'''


def token(prefix):
    """A value that occurs nowhere else: the prefix, then 24 random hex digits."""
    return prefix + uuid.uuid4().hex[:24]


class PredictionEndpoint:
    """A local prediction endpoint that answers like Seldon (data the same every time, meta not)."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # pylint: disable=invalid-name
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.dumps({"data": {"names": ["t:0", "t:1", "t:2"], "ndarray": [[0.9, 0.05, 0.05]]},
                                   "meta": {"puid": uuid.uuid4().hex}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # pylint: disable=arguments-differ
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def run_playbook(env, tmp_path, name, playbook, args, extra_env=None):
    """ansible-playbook -vvvv; returns (exit code, output). Output and results stay in files."""
    dump = tmp_path / (name + ".results.jsonl")
    run_env = dict(env, ANSIBLE_NOCOLOR="1", ANSIBLE_CALLBACK_PLUGINS=str(tmp_path / "callback_plugins"),
                   ANSIBLE_CALLBACKS_ENABLED="result_dump", RESULT_DUMP=str(dump))
    run_env.update(extra_env or {})
    completed = subprocess.run(
        [ANSIBLE_PLAYBOOK, "-vvvv", "-i", INVENTORY, os.path.join(PLAYBOOKS, playbook)] + args,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=run_env, check=False, timeout=900)
    output = completed.stdout.decode("utf-8", "replace")
    (tmp_path / (name + ".log")).write_text(output)
    return completed.returncode, output


def hits(text, secrets):
    """Which secrets (by name) occur in ``text``, plain or base64."""
    found = []
    for name, value in secrets.items():
        for form, needle in (("plain", value), ("base64", base64.b64encode(value.encode()).decode())):
            if needle in text:
                found.append("%s (%s)" % (name, form))
    return found


def tail(output, lines=60):
    return "\n".join(output.splitlines()[-lines:])


@pytest.fixture(scope="module", name="scratch")
def scratch_fixture(kubeconfig, cluster_env, tmp_path_factory, model_in_s3, s3):  # pylint: disable=unused-argument
    """Release, scene namespace, stand-in, endpoint and every credential of the scene."""
    tmp_path = tmp_path_factory.mktemp("no-secret")
    (tmp_path / "callback_plugins").mkdir()
    (tmp_path / "callback_plugins" / "result_dump.py").write_text(RESULT_DUMP_CALLBACK)
    env = dict(cluster_env, KUBECONFIG=kubeconfig)
    kube = Kube(kubeconfig, env)
    secrets = {
        "S3 access key id": s3["access_key_id"],
        "S3 secret access key": s3["secret_access_key"],
        "literal pod template credential": token("literal-"),
        "connection string key id": token("AKIACONN"),
        "connection string secret": token("connsecret-"),
        "prediction URL token": token("urltoken-"),
        "prediction header token": token("headertoken-"),
        "helm release value": token("helmvalue-"),
        "controller env value": token("controllerenv-"),
    }
    system = kube.create_namespace("e2e-nosecret-sys")
    scene = "e2e-nosecret-" + uuid.uuid4().hex[:6]
    endpoint, standin = None, None
    try:
        values = tmp_path / "values.yaml"
        values.write_text(yaml.safe_dump({"storageInitializer": {"image": KFSERVING}, "watchNamespace": scene,
                                          "platform": {"apiToken": secrets["helm release value"]}}))
        values.chmod(0o600)
        completed = subprocess.run(["helm", "install", "seldon-core", CHART, "-n", system, "-f", str(values),
                                    "--wait", "--timeout", "120s"], text=True, capture_output=True, check=False, env=env)
        assert completed.returncode == 0, "helm install failed: %s" % completed.stderr[-2000:]
        kube.apps.patch_namespaced_deployment("seldon-controller-manager", system, {"spec": {"template": {"spec": {
            "containers": [{"name": "manager", "env": [
                {"name": "PLATFORM_API_TOKEN", "value": secrets["controller env value"]}]}]}}}})
        standin = StandInProcess(tmp_path, scene, system, env)
        endpoint = PredictionEndpoint()
        variables = {
            "cluster_kubeconfig": kubeconfig,
            "scene_namespace": scene, "scene_namespace_labels": {"seldon.io/controller-id": scene},
            "rehearsal_deployments": ["sklearn-env", "sklearn-sa", "sklearn-literal"],
            "rclone_migration_namespaces": [scene],
            "seldon_core_namespace": system, "seldon_core_release_name": "seldon-core", "seldon_core_chart_ref": CHART,
            "seldon_core_chart_repo_url": "", "seldon_core_wait_timeout": 120,
            "rclone_migration_report_dir": str(tmp_path / "reports"),
            "rclone_migration_rollout_wait_timeout": 120, "rclone_migration_rerender_timeout": 90, "rclone_migration_rollout_wait_sleep": 2,
            "rclone_migration_prediction_url": "http://127.0.0.1:%d/api/v1.0/predictions?token=%s" % (
                endpoint.port, secrets["prediction URL token"]),
            "rclone_migration_prediction_headers": {"Authorization": "Bearer " + secrets["prediction header token"]},
        }
        vars_file = tmp_path / "vars.json"
        vars_file.write_text(json.dumps(variables))
        vars_file.chmod(0o600)
        debug_vars = dict((name, value) for name, value in variables.items() if "prediction" not in name)
        debug_vars_file = tmp_path / "debug-vars.json"
        debug_vars_file.write_text(json.dumps(debug_vars))
        debug_vars_file.chmod(0o600)
        yield {"tmp": tmp_path, "env": env, "kube": kube, "scene": scene, "system": system, "secrets": secrets,
               "vars": "@" + str(vars_file), "debug_vars": "@" + str(debug_vars_file), "standin": standin}
    finally:
        if endpoint:
            endpoint.close()
        if standin:
            standin.stop()
        kube.delete_namespace(scene)
        kube.delete_namespace(system)


@pytest.fixture(scope="module", name="runs")
def runs_fixture(scratch):
    """The three runs, in order; each one's exit code and output."""
    secrets = scratch["secrets"]
    # The scene's credentials reach tests/scene/scene.sh through the environment only; S3_* are
    # left out (scene.sh reads them from hack/cluster.sh itself), so ANSIBLE_DEBUG's run has none.
    env = dict((name, value) for name, value in scratch["env"].items() if not name.startswith("S3_"))
    scene_env = {"SCENE_SECRETS": "1", "SCENE_LITERAL_CREDENTIAL": secrets["literal pod template credential"],
                 "SCENE_CONNECTION_KEY_ID": secrets["connection string key id"],
                 "SCENE_CONNECTION_SECRET": secrets["connection string secret"]}
    results = {}
    results["rehearsal"] = run_playbook(env, scratch["tmp"], "rehearsal", "rehearsal.yml",
                                        ["--diff", "-e", scratch["vars"]], scene_env)
    assert results["rehearsal"][0] == 0, "rehearsal.yml failed:\n" + tail(results["rehearsal"][1])
    # the last migration writes the same report file: keep this one's (it checked the prediction)
    (scratch["tmp"] / "rehearsal-migrate.json").write_text((scratch["tmp"] / "reports" / "migrate" / "local.json").read_text())
    results["rollback"] = run_playbook(env, scratch["tmp"], "rollback", "rollback.yml",
                                       ["-e", scratch["vars"], "-e", "rclone_migration_rollback_remove_rclone_keys=true"])
    assert results["rollback"][0] == 0, "rollback.yml failed:\n" + tail(results["rollback"][1])
    results["migrate-debug"] = run_playbook(env, scratch["tmp"], "migrate-debug", "migrate.yml",
                                            ["--diff", "-e", scratch["debug_vars"]], {"ANSIBLE_DEBUG": "1"})
    assert results["migrate-debug"][0] == 0, "migrate.yml (ANSIBLE_DEBUG=1) failed:\n" + tail(results["migrate-debug"][1])
    return results


def test_the_runs_did_what_they_say(scratch, runs):
    reports = scratch["tmp"] / "reports"
    migrate = json.loads((scratch["tmp"] / "rehearsal-migrate.json").read_text())
    rollback = json.loads((reports / "rollback" / "local.json").read_text())
    again = json.loads((reports / "migrate" / "local.json").read_text())
    assert migrate["status"] == "migrated" and rollback["status"] == "rolled_back" and again["status"] == "migrated"
    assert again["conversion"]["changed"], "the debug run did not migrate again"
    # the credentials sat where the runs had to handle them
    assert {"sklearn-literal", "sklearn-connection-string"} <= set(node["deployment"] for node in migrate["nodes"])
    assert migrate["prediction"]["result"] == "match"
    assert migrate["prediction"]["url"].endswith("/api/v1.0/predictions?token=<redacted>")
    # ANSIBLE_DEBUG's lines: "<pid> <time>: ..."
    assert re.search(r"^ *\d+ \d+\.\d+: RUNNING CLEANUP$", runs["migrate-debug"][1], re.M), "ANSIBLE_DEBUG=1 did not apply"
    assert not re.search(r"^ *\d+ \d+\.\d+: RUNNING CLEANUP$", runs["rollback"][1], re.M)
    assert "censored" in runs["rehearsal"][1], "no task ran with no_log: the scene did not reach those tasks"


# ANSIBLE_DEBUG prints kubernetes.core.helm's raw result, values and all, no_log or not (see above).
DEBUG_SHOWS = ("helm release value",)


@pytest.mark.parametrize("name", ["rehearsal", "rollback", "migrate-debug"])
def test_no_secret_in_the_output(scratch, runs, name):
    secrets = dict((key, value) for key, value in scratch["secrets"].items()
                   if not (name == "migrate-debug" and key in DEBUG_SHOWS))
    found = hits(runs[name][1], secrets)
    assert not found, "%s output holds %s (full output: %s)" % (name, ", ".join(found), scratch["tmp"] / (name + ".log"))


def test_no_secret_in_any_report(scratch, runs):  # pylint: disable=unused-argument
    files = [os.path.join(root, name) for root, _dirs, names in os.walk(scratch["tmp"] / "reports") for name in names]
    assert any(path.endswith("fleet.html") for path in files) and len(files) >= 9
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as handle:
            found = hits(handle.read(), scratch["secrets"])
        assert not found, "%s holds %s" % (path, ", ".join(found))


@pytest.mark.parametrize("name", ["rehearsal", "rollback", "migrate-debug"])
def test_no_secret_in_any_result_or_fact(scratch, runs, name):  # pylint: disable=unused-argument
    lines = (scratch["tmp"] / (name + ".results.jsonl")).read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert sum(1 for record in records if record["kind"] == "result") > 50
    facts = [record["data"] for record in records if record["kind"] == "facts"]
    assert any("__rclone_migration_run" in item["facts"] for item in facts), "the run's record was not dumped"
    for record in records:
        found = hits(json.dumps(record), scratch["secrets"])
        where = record["data"].get("task") or "facts of %s" % record["data"].get("host")
        assert not found, "%s: %s holds %s" % (name, where, ", ".join(found))
