# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""E2E: faults during a migration on the real local cluster.

* The kube-apiserver is stopped (SIGKILL, as a crash or a lost control-plane node) in the middle of
  playbooks/migrate.yml over 40 Secrets and 40 SeldonDeployments: the run fails naming every Secret
  it did not convert and why, and what it did convert; once the apiserver is back (hack/cluster.sh
  up starts only what is not running), a rerun converges to exactly the state an uninterrupted run
  gives a twin namespace. Each namespace has its own scratch operator release that watches it only
  (chart value watchNamespace), as the gate reads the operator's whole watch scope.
  The apiserver is down for about 5-8 s: every other client of the cluster sees that window.
* A fleet inventory (tests/fleet) with one cluster behind a closed port: the local cluster
  migrates (its scratch operator watches the test's namespace only), the unreachable one fails with
  the reason, and the fleet summary names it.
* Another client edits the same Secrets (adds keys) and SeldonDeployments (replicas, a label) in
  a loop while the migration runs: afterwards every edit and every key of the migration is there,
  and every PATCH the edits made fail (409) was followed by a GET of that object (docs/rbac's
  `get` on Secrets and SeldonDeployments).

Run: .cache/venv/bin/python -m pytest -q tests/e2e/test_faults.py   (after make cluster-up)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from e2e_support import REPO, wait_for
from playbook_support import (ADDED_KEYS_ANNOTATION, COLLECTIONS, KFSERVING_IMAGE, SDEP_GROUP, SDEP_PLURAL, SDEP_VERSION,
                              OperatorRelease, b64, create_objects, finish_playbook, many_models, run_playbook,
                              sdeps_of, secrets_of, start_playbook, unb64, write_inventory)

if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)

# pylint: disable=wrong-import-position
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_access, secret_plan  # noqa: E402

# The clone whose binaries run the cluster (a copy of the repo may link .cache to it).
BIN_DIR = os.path.realpath(os.path.join(REPO, ".cache", "bin"))
CLUSTER_ROOT = os.path.dirname(os.path.dirname(BIN_DIR))
APISERVER_PID = os.path.join(CLUSTER_ROOT, ".cache", "cluster", "pids", "kube-apiserver.pid")
CLUSTER_SH = os.path.join(CLUSTER_ROOT, "hack", "cluster.sh")
FLEET_INVENTORY = os.path.join(REPO, "tests", "fleet", "hosts.yml")
# Canary credentials of the scenes (no S3 server is read here): they must appear in no output.
KEY_ID = "AKIAFAULTCANARY00042"
SECRET_KEY = "fault-canary-secret-7c1e55d0"
MODELS = 20             # per namespace: 40 Secrets, 40 SeldonDeployments, 20 ServiceAccounts
STOP_AFTER_PATCHES = 3  # the apiserver stops once this many Secrets were patched
RCLONE_IMAGE = "docker.io/seldonio/rclone-storage-initializer:1.17.1"  # the role's default target
# The model restart of a run (operator 1.16.0 and later): its value is the run's start time.
RESTART_ANNOTATION = "rclone-migration.seldon-ops.io/restarted-at"
VOLATILE = ("resourceVersion", "managedFields", "uid", "creationTimestamp", "generation", "namespace",
            "selfLink")


RUN_VARS = {"rclone_migration_rollout_wait_timeout": 60, "rclone_migration_rerender_timeout": 30}


def migrate_vars(operator, namespace, **extra):
    variables = dict(operator.role_vars(), rclone_migration_namespaces=[namespace], **RUN_VARS)
    variables.update(extra)
    return variables


def admin_inventory(tmp_path, kubeconfig, name):
    return write_inventory(str(tmp_path / ("%s.json" % name)), {name: {"cluster_kubeconfig": kubeconfig}})


def hosts_inventory(tmp_path, kubeconfig, name, hosts):
    """One inventory host per (operator release, namespace) of the local cluster: each migrates its
    namespace with its own operator (host vars; the run's extra vars must not override them)."""
    return write_inventory(str(tmp_path / ("%s.json" % name)), dict(
        (host, dict(operator.role_vars(), cluster_kubeconfig=kubeconfig, rclone_migration_namespaces=[namespace]))
        for host, (operator, namespace) in hosts.items()))


def no_credential(text):
    return all(value not in text for value in (KEY_ID, SECRET_KEY, b64(KEY_ID), b64(SECRET_KEY)))


# --------------------------------------------------------------------------- state, as compared

def record_checked(secret):
    """The added-keys record with each digest replaced by whether it is the digest of the value the
    secret holds (digests are keyed with the secret's uid, which differs between twins)."""
    raw = (secret["metadata"].get("annotations") or {}).get(ADDED_KEYS_ANNOTATION)
    if raw is None:
        return None
    salt = secret_plan.digest_salt(secret)
    checked = {}
    for key, digest in json.loads(raw).items():
        value = unb64(secret["data"][key]) if key in secret["data"] else None
        checked[key] = "digest of its value" if value is not None and digest == secret_plan.value_digest(
            salt, key, value) else "digest %r does not match" % digest
    return checked


def comparable(obj):
    """An object without what the API server sets per object (resourceVersion, managedFields, uid,
    timestamps, namespace), and the record's digests checked against the values."""
    plain = copy.deepcopy(obj)
    for key in VOLATILE:
        plain["metadata"].pop(key, None)
    annotations = plain["metadata"].get("annotations") or {}
    if ADDED_KEYS_ANNOTATION in annotations:
        annotations[ADDED_KEYS_ANNOTATION] = record_checked(obj)
    plain.pop("status", None)
    # the restart of the run that migrated it: the run's start time, which differs between runs
    spec_annotations = (plain.get("spec") or {}).get("annotations") or {}
    if RESTART_ANNOTATION in spec_annotations:
        assert len(spec_annotations[RESTART_ANNOTATION]) == len("2024-01-01T00:00:00Z"), spec_annotations
        spec_annotations[RESTART_ANNOTATION] = "<the start time of the run>"
    return plain


def scene_state(kube, namespace):
    return {"secrets": dict((name, comparable(obj)) for name, obj in secrets_of(kube, namespace).items()
                            if not name.startswith("default-token")),
            "seldondeployments": dict((name, comparable(obj)) for name, obj in sdeps_of(kube, namespace).items())}


def operator_state(kube, namespace):
    data = {}
    for name in ("seldon-config", "rclone-migration-state"):
        config_map = kube.plain(kube.core.read_namespaced_config_map(name, namespace))
        data[name] = config_map.get("data")
    return data


def converted(kube, namespace):
    """Names of the Secrets that carry rclone keys now."""
    return sorted(name for name, obj in secrets_of(kube, namespace).items()
                  if "RCLONE_CONFIG_S3_TYPE" in (obj.get("data") or {}))


# --------------------------------------------------------------------------- the apiserver

def apiserver_pid():
    with open(APISERVER_PID, encoding="utf-8") as handle:
        pid = int(handle.read().strip())
    with open("/proc/%d/cmdline" % pid, "rb") as handle:
        command = handle.read().split(b"\0")[0].decode()
    assert command == os.path.join(BIN_DIR, "kube-apiserver"), \
        "pid %d is not this clone's kube-apiserver (%s)" % (pid, command)
    return pid


def apiserver_answers():
    try:
        with socket.create_connection(("127.0.0.1", 6443), timeout=1):
            return True
    except OSError:
        return False


class PatchWatcher(threading.Thread):
    """Follows the audit log from an offset and stops the apiserver (SIGKILL) as soon as ``count``
    successful PATCHes of Secrets in ``namespace`` are logged (the log is written before the
    response: --audit-log-mode=blocking)."""

    def __init__(self, path, offset, namespace, count):
        super(PatchWatcher, self).__init__(daemon=True)
        self.path, self.offset, self.namespace, self.count = path, offset, namespace, count
        self.seen = []
        self.stopped_pid = None
        self.stopped_at = None
        self.done = threading.Event()
        self.cancel = threading.Event()

    def run(self):
        buffered = b""
        with open(self.path, "rb") as log:
            log.seek(self.offset)
            while not self.cancel.is_set():
                chunk = log.read()
                if not chunk:
                    time.sleep(0.005)
                    continue
                buffered += chunk
                lines = buffered.split(b"\n")
                buffered = lines.pop()
                for line in lines:
                    if b'"patch"' not in line or self.namespace.encode() not in line:
                        continue
                    event = json.loads(line)
                    ref = event.get("objectRef") or {}
                    if (event.get("stage") == "ResponseComplete" and event.get("verb") == "patch"
                            and ref.get("resource") == "secrets" and ref.get("namespace") == self.namespace
                            and (event.get("responseStatus") or {}).get("code") == 200):
                        self.seen.append(ref["name"])
                if len(self.seen) >= self.count:
                    self.stopped_pid = apiserver_pid()
                    os.kill(self.stopped_pid, 9)
                    self.stopped_at = time.monotonic()
                    break
        self.done.set()


def start_apiserver(env):
    completed = subprocess.run([CLUSTER_SH, "up"], text=True, capture_output=True, check=False, env=env,
                               timeout=300)
    assert completed.returncode == 0, "hack/cluster.sh up failed: %s" % completed.stderr[-2000:]


def descendants(pid):
    """Command lines of every process below ``pid``."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, encoding="utf-8") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append((int(entry), command))
    found, queue = [], [pid]
    while queue:
        for child, command in children.get(queue.pop(), []):
            found.append(command)
            queue.append(child)
    return found


@pytest.fixture(scope="module", name="interruption")
def interruption_fixture(kube, kubeconfig, cluster_env, audit, tmp_path_factory):
    """Twin namespaces A and B with the same 40 Secrets and 40 SeldonDeployments, each with a
    scratch operator release that watches it only. A's migration loses the apiserver after
    STOP_AFTER_PATCHES Secret patches; the apiserver is started again as soon as the module that
    lost it has exited; then one run migrates A again (host cut) and B for the first time (host
    twin): B's is the uninterrupted result A must equal."""
    tmp_path = tmp_path_factory.mktemp("interruption")
    namespaces = [kube.create_namespace("e2e-fault-a"), kube.create_namespace("e2e-fault-b")]
    operators = []
    result = {"namespace": namespaces[0], "twin": namespaces[1]}
    inventory = admin_inventory(tmp_path, kubeconfig, "cut")
    try:
        operators = [OperatorRelease(kube, "e2e-fault-sys", watch_namespace=namespace) for namespace in namespaces]
        operator = result["operator"] = operators[0]
        for namespace in namespaces:
            create_objects(kube, namespace, many_models(MODELS, KEY_ID, SECRET_KEY))
        result["before"] = scene_state(kube, namespaces[0])

        # rclone_secret runs with no_log unless rclone_migration_secure_logging is false; its message
        # reaches the report either way (test_least_privilege), false and -v print its result too:
        # every Secret's entry, read below.
        since = audit.mark()
        watcher = PatchWatcher(audit.path, since, namespaces[0], STOP_AFTER_PATCHES)
        watcher.start()
        process = start_playbook(cluster_env, tmp_path, "migrate.yml", inventory,
                                 migrate_vars(operator, namespaces[0], rclone_migration_secure_logging=False),
                                 args=("-v",))
        try:
            watcher.done.wait(300)
            # The apiserver stays down only while the module that lost it still runs.
            wait_for(lambda: process.poll() is not None or not any(
                "AnsiballZ_rclone_secret" in command for command in descendants(process.pid)),
                timeout=120, interval=0.05, what="rclone_secret to give up")
        finally:
            watcher.cancel.set()
            watcher.join(10)
            if not apiserver_answers():
                start_apiserver(cluster_env)
            if watcher.stopped_at:
                print("the apiserver was down for %.1fs" % (time.monotonic() - watcher.stopped_at))
        interrupted = finish_playbook(process, timeout=600)
        assert watcher.stopped_pid, "the apiserver was never stopped: %d Secret patches seen, run:\n%s" % (
            len(watcher.seen), interrupted.tail())
        result["interrupted"] = interrupted
        result["patched_before_stop"] = watcher.seen
        result["after_interruption"] = converted(kube, namespaces[0])
        rerun = run_playbook(cluster_env, tmp_path, "migrate.yml", hosts_inventory(
            tmp_path, kubeconfig, "rerun", {"cut": (operators[0], namespaces[0]), "twin": (operators[1], namespaces[1])}),
            RUN_VARS)
        result["rerun"] = rerun
        result["state"] = scene_state(kube, namespaces[0])
        result["twin_state"] = scene_state(kube, namespaces[1])
        result["operator_state"] = operator_state(kube, operator.namespace)
        yield result
    finally:
        for namespace in namespaces:
            kube.delete_namespace(namespace)
        for operator in operators:
            operator.delete()


def failed_secrets(result, namespace):
    """``{name: reason}`` of the Secrets the failed rclone_secret result names as failed, and each
    is named in its message too."""
    prefix = "PATCH Secret %s/" % namespace
    named = {}
    for entry in result.get("secrets", []):
        if entry["action"] == "failed" and entry["reason"].startswith(prefix):
            named[entry["name"]] = entry["reason"][len(prefix):].split(": ", 1)[1]
            assert "%s/%s" % (namespace, entry["name"]) in result["msg"], (entry["name"], result["msg"])
    return named


def module_result(output):
    """The result of the rclone_secret task that failed, as ansible-playbook printed it at -v (the
    role registers it with failed_when: false and fails in the task after it, with its message)."""
    for line in output.splitlines():
        for prefix in ("changed: [cut] => ", "ok: [cut] => "):
            if line.startswith(prefix) and '"secrets": [' in line and "PATCH Secret" in line:
                return json.loads(line[len(prefix):])
    return {}


def test_stopped_apiserver_fails_the_run_naming_what_was_not_done(interruption):
    run, namespace = interruption["interrupted"], interruption["namespace"]
    done, all_secrets = interruption["after_interruption"], sorted(interruption["before"]["secrets"])
    print("patched before the stop: %s; converted after it: %s" % (interruption["patched_before_stop"], done))
    assert interruption["patched_before_stop"], "no Secret was patched before the stop"
    assert 0 < len(done) < len(all_secrets), "the stop did not fall in the middle: %s converted" % done
    assert run.rc != 0, run.tail()
    assert "Traceback" not in run.output
    assert no_credential(run.output)
    # the module's message names every Secret it did not convert, and why; a PATCH whose connection
    # broke after it was sent (the apiserver killed mid-request) may have been committed, and says so
    named = failed_secrets(module_result(run.output), namespace)
    print("named as failed: %s" % named)
    refused = "MaxRetryError: cannot reach 127.0.0.1:6443 (Connection refused)"
    assert all(reason.startswith(refused) or reason.endswith(kube_access.UNKNOWN_OUTCOME)
               for reason in named.values()), named
    assert [name for name in all_secrets if name not in done and name not in named] == [], (done, named)
    assert [name for name in done if name in named and not named[name].endswith(kube_access.UNKNOWN_OUTCOME)] == [], \
        (done, named)
    # the report and the fleet summary say the cluster failed, and why
    report = run.report("migrate", "cut")
    assert report["status"] == "failed", report
    assert "PATCH Secret: " in report["error"] and "%s/" % namespace in report["error"], report["error"]
    assert "cannot reach 127.0.0.1:6443 (Connection refused)" in report["error"]
    fleet = run.fleet_markdown("migrate")
    assert "| cut | failed |" in fleet, fleet


def test_stopped_apiserver_failure_names_what_was_done(interruption):
    report, namespace = interruption["interrupted"].report("migrate", "cut"), interruption["namespace"]
    for name in interruption["after_interruption"]:
        assert "%s/%s" % (namespace, name) in report["error"], (name, report["error"])


def test_rerun_after_the_apiserver_is_back_converges_to_an_uninterrupted_run(interruption):
    rerun = interruption["rerun"]
    assert rerun.rc == 0, rerun.tail()
    assert rerun.report("migrate", "cut")["status"] == "migrated"
    assert rerun.report("migrate", "twin")["status"] == "migrated"
    assert no_credential(rerun.output)
    state, twin = interruption["state"], interruption["twin_state"]
    assert sorted(state["secrets"]) == sorted(twin["secrets"])
    assert sorted(state["seldondeployments"]) == sorted(twin["seldondeployments"])
    for kind in ("secrets", "seldondeployments"):
        for name in state[kind]:
            assert state[kind][name] == twin[kind][name], (kind, name)
    # every secret converted, every service-account node referenced, in both
    assert len([s for s in state["secrets"].values() if "RCLONE_CONFIG_S3_TYPE" in s["data"]]) == 2 * MODELS
    assert sorted(name for name, obj in state["seldondeployments"].items()
                  if obj["spec"]["predictors"][0]["graph"].get("envSecretRefName") == name) == sorted(state["seldondeployments"])
    operator = interruption["operator_state"]
    assert json.loads(operator["seldon-config"]["storageInitializer"])["image"] == RCLONE_IMAGE
    assert operator["rclone-migration-state"]["previous_storage_initializer_image"] == KFSERVING_IMAGE


# --------------------------------------------------------------------------- a fleet run, an unreachable cluster, an editor

class Editor(threading.Thread):
    """Another client: in a loop, adds a key to each Secret and sets replicas and a label on each
    SeldonDeployment (JSON patches without resourceVersion: the latest object is edited)."""

    def __init__(self, kubeconfig, namespace, secrets, sdeps, pause=0.01):
        super(Editor, self).__init__(daemon=True)
        from kubernetes import config  # pylint: disable=import-outside-toplevel
        self.api_client = config.new_client_from_config(config_file=kubeconfig)
        self.api_client.user_agent = "concurrent-editor"
        self.namespace, self.secret_names, self.sdep_names, self.pause = namespace, secrets, sdeps, pause
        self.keys = dict((name, {}) for name in secrets)
        self.replicas = {}
        self.labels = {}
        self.rounds = 0
        self.halt = threading.Event()
        self.error = None

    def json_patch(self, path, operations):
        self.api_client.call_api(path, "PATCH", body=operations, auth_settings=["BearerToken"],
                                 header_params={"Content-Type": "application/json-patch+json"},
                                 _preload_content=False, _request_timeout=30)

    def run(self):
        try:
            while not self.halt.is_set():
                self.rounds += 1
                for name in self.secret_names:
                    key, value = "EDITOR_%03d" % self.rounds, "edit-%d" % self.rounds
                    self.json_patch("/api/v1/namespaces/%s/secrets/%s" % (self.namespace, name),
                                    [{"op": "add", "path": "/data/" + key, "value": b64(value)}])
                    self.keys[name][key] = value
                    time.sleep(self.pause)
                for name in self.sdep_names:
                    replicas = self.rounds % 3 + 1
                    self.json_patch("/apis/%s/%s/namespaces/%s/%s/%s" % (
                        SDEP_GROUP, SDEP_VERSION, self.namespace, SDEP_PLURAL, name), [
                        {"op": "replace", "path": "/spec/predictors/0/replicas", "value": replicas},
                        {"op": "add", "path": "/metadata/labels", "value": {"edited-round": str(self.rounds)}}])
                    self.replicas[name] = replicas
                    self.labels[name] = str(self.rounds)
                    time.sleep(self.pause)
        except Exception as exc:  # pylint: disable=broad-except
            self.error = "%s: %s" % (type(exc).__name__, getattr(exc, "status", ""))
        finally:
            self.api_client.close()


@pytest.fixture(scope="module", name="fleet")
def fleet_fixture(kube, kubeconfig, cluster_env, audit, tmp_path_factory):
    """playbooks/migrate.yml over tests/fleet: the local cluster (scratch namespace with 20 Secrets
    and 20 SeldonDeployments, scratch operator release) and closed-port, whose kubeconfig names a
    loopback port nothing listens on. While it runs, the Editor edits the local namespace."""
    with open(os.path.join(REPO, "tests", "fleet", "closed-port.kubeconfig"), encoding="utf-8") as handle:
        port = int(handle.read().split("https://127.0.0.1:")[1].split()[0])
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "port %d is open: tests/fleet needs it closed" % port
    namespace = kube.create_namespace("e2e-fleet")
    operator = None
    try:
        operator = OperatorRelease(kube, "e2e-fleet-sys", watch_namespace=namespace)
        objects = many_models(10, KEY_ID, SECRET_KEY)
        create_objects(kube, namespace, objects)
        editor = Editor(kubeconfig, namespace, sorted(o["metadata"]["name"] for o in objects if o["kind"] == "Secret"),
                        sorted(o["metadata"]["name"] for o in objects if o["kind"] == "SeldonDeployment"))
        since = audit.mark()
        editor.start()
        wait_for(lambda: editor.rounds >= 2 or editor.error, timeout=30, what="the editor's first round")
        try:
            run = run_playbook(cluster_env, tmp_path_factory.mktemp("fleet"), "migrate.yml", FLEET_INVENTORY, {
                "fleet_test_namespace": namespace, "fleet_test_operator_namespace": operator.namespace,
                "rclone_migration_rollout_wait_timeout": 60, "rclone_migration_rerender_timeout": 30})
        finally:
            editor.halt.set()
            editor.join(30)
        # PATCHes of the collection that met an edit (409) and were re-planned on the object as it was then.
        conflicts = [event for event in audit.events(since, verb="patch", namespace=namespace)
                     if event["responseStatus"].get("code") == 409]
        reads = [event for event in audit.events(since, verb="get", namespace=namespace)
                 if not event["userAgent"].startswith("concurrent-editor")]
        print("editor rounds: %d; the collection's PATCHes answered 409 and re-planned: %d (%s); its GETs there: %d"
              % (editor.rounds, len(conflicts), ", ".join(sorted(set(e["objectRef"]["resource"] for e in conflicts))),
                 len(reads)))
        yield {"run": run, "port": port, "namespace": namespace, "editor": editor, "conflicts": conflicts,
               "reads": reads,
               "originals": dict((o["metadata"]["name"], o["data"]) for o in objects if o["kind"] == "Secret"),
               "secrets": secrets_of(kube, namespace), "sdeps": sdeps_of(kube, namespace)}
    finally:
        kube.delete_namespace(namespace)
        if operator:
            operator.delete()


def test_fleet_with_an_unreachable_cluster_migrates_the_others(fleet):
    run, port = fleet["run"], fleet["port"]
    assert run.rc != 0, run.tail()
    assert "Traceback" not in run.output
    assert no_credential(run.output)
    local = run.report("migrate", "local-cluster")
    assert local["status"] == "migrated", local
    assert all("RCLONE_CONFIG_S3_TYPE" in obj["data"] for obj in fleet["secrets"].values())
    unreachable = run.report("migrate", "closed-port")
    assert unreachable["status"] == "failed", unreachable
    assert "127.0.0.1" in unreachable["error"] and "Connection refused" in unreachable["error"], unreachable
    markdown = run.fleet_markdown("migrate")
    assert "| local-cluster | migrated |" in markdown, markdown
    assert "| closed-port | failed |" in markdown, markdown
    assert "port=%d" % port in markdown or "127.0.0.1:%d" % port in markdown, markdown
    assert "closed-port failed" in run.output, run.tail()


def test_unreachable_cluster_reason_is_described_like_other_transport_errors(fleet):
    error = fleet["run"].report("migrate", "closed-port")["error"]
    assert "cannot reach 127.0.0.1:%d (Connection refused)" % fleet["port"] in error, error
    assert "HTTPSConnectionPool" not in error, error


def test_concurrent_edits_and_the_migration_both_land(fleet):
    editor = fleet["editor"]
    assert editor.error is None, editor.error
    assert editor.rounds >= 3, "the editor hardly ran: %d rounds" % editor.rounds
    assert fleet["run"].report("migrate", "local-cluster")["status"] == "migrated"
    assert all(not event["userAgent"].startswith("concurrent-editor") for event in fleet["conflicts"])
    # each PATCH that met an edit read its object again (kube_access.write_planned) before the next
    # plan: the `get` docs/rbac grants on Secrets and SeldonDeployments (sent only then)
    for conflict in fleet["conflicts"]:
        ref = conflict["objectRef"]
        assert any(read["objectRef"]["resource"] == ref["resource"] and read["objectRef"].get("name") == ref["name"]
                   and read["stageTimestamp"] >= conflict["stageTimestamp"] for read in fleet["reads"]), ref
    for name, data in fleet["originals"].items():
        secret = fleet["secrets"][name]
        held = secret["data"]
        assert dict((key, held.get(key)) for key in data) == data, name  # original bytes kept
        for key, value in editor.keys[name].items():
            assert unb64(held[key]) == value, (name, key)
        assert "RCLONE_CONFIG_S3_TYPE" in held and "RCLONE_CONFIG_S3_SECRET_ACCESS_KEY" in held, name
        assert record_checked(secret) and all(
            check == "digest of its value" for check in record_checked(secret).values()), name
    for name, sdep in fleet["sdeps"].items():
        predictor = sdep["spec"]["predictors"][0]
        assert predictor["replicas"] == editor.replicas[name], name
        assert sdep["metadata"]["labels"]["edited-round"] == editor.labels[name], name
        if name.startswith("sa-"):
            assert predictor["graph"]["envSecretRefName"] == name, name
