# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the stand-in/runner e2e tests: cluster access, the stand-in process, the runner.

Subprocesses (kubectl, rclone via the runner, the stand-in) get the environment of the shared
``cluster_env`` fixture (tests/conftest.py), so the tests reach the local cluster even from a
shell that never ran ``eval "$(make -s cluster-env)"``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys
import time
import uuid

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STANDIN_DIR = os.path.join(REPO, "tests", "standin")
SCENE_DIR = os.path.join(REPO, "tests", "scene")
for _path in (STANDIN_DIR, SCENE_DIR):
    if _path not in sys.path:
        sys.path.insert(0, _path)

# pylint: disable=wrong-import-position
import render_scene  # noqa: E402,F401  pylint: disable=unused-import
import standin_render  # noqa: E402,F401  pylint: disable=unused-import

KFSERVING_IMAGE = "gcr.io/kfserving/storage-initializer:v0.4.0"
RCLONE_IMAGE = "seldonio/rclone-storage-initializer:1.17.1"
STORAGE_RESOURCES = {"cpuRequest": "100m", "cpuLimit": "1", "memoryRequest": "100Mi", "memoryLimit": "1Gi"}


def wait_for(predicate, timeout=60.0, interval=0.25, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %ss waiting for %s (last: %r)" % (timeout, what, last))


class Kube:
    """Small helpers over the kubernetes client (plain camelCase dicts out) and kubectl."""

    def __init__(self, kubeconfig, env):
        from kubernetes import client, config  # pylint: disable=import-outside-toplevel
        self.env = env
        self.api_client = config.new_client_from_config(config_file=kubeconfig)
        self.core = client.CoreV1Api(self.api_client)
        self.apps = client.AppsV1Api(self.api_client)
        self.custom = client.CustomObjectsApi(self.api_client)

    def kubectl(self, *args, stdin=None):
        completed = subprocess.run(["kubectl"] + list(args), input=stdin, text=True, capture_output=True,
                                   check=False, env=self.env)
        assert completed.returncode == 0, "kubectl %s failed: %s" % (args[0], completed.stderr[-2000:])
        return completed.stdout

    def plain(self, obj):
        return self.api_client.sanitize_for_serialization(obj)

    def deployment(self, namespace, name):
        from kubernetes.client.rest import ApiException  # pylint: disable=import-outside-toplevel
        try:
            return self.plain(self.apps.read_namespaced_deployment(name, namespace))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def sdep(self, namespace, name):
        return self.custom.get_namespaced_custom_object("machinelearning.seldon.io", "v1", namespace,
                                                        "seldondeployments", name)

    def apply(self, objects):
        """kubectl apply of a list of dicts (JSON on stdin: no values on a command line)."""
        self.kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))

    def create_namespace(self, prefix, labels=None):
        name = "%s-%s" % (prefix, uuid.uuid4().hex[:6])
        self.core.create_namespace({"metadata": {"name": name, "labels": labels or {}}})
        return name

    def delete_namespace(self, name):
        from kubernetes.client.rest import ApiException  # pylint: disable=import-outside-toplevel
        try:
            self.core.delete_namespace(name)
        except ApiException as exc:
            if exc.status != 404:
                raise


def controller_objects(namespace, image=KFSERVING_IMAGE, related_image="", default_secret="", version="1.17.1"):
    """What the operator's chart installs, for our purposes: controller Deployment + seldon-config.
    ``version`` is the operator release (the controller image's tag), which the stand-in follows."""
    storage = dict(STORAGE_RESOURCES, image=image)
    return [
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "seldon-config", "namespace": namespace},
         "data": {"storageInitializer": json.dumps(storage),
                  "credentials": json.dumps({"gcs": {"gcsCredentialFileName": "gcloud-application-credentials.json"},
                                             "s3": {"s3AccessKeyIDName": "awsAccessKeyID",
                                                    "s3SecretAccessKeyName": "awsSecretAccessKey"}})}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "seldon-controller-manager", "namespace": namespace,
                      "labels": {"control-plane": "seldon-controller-manager"}},
         "spec": {"replicas": 1,
                  "selector": {"matchLabels": {"control-plane": "seldon-controller-manager"}},
                  "template": {"metadata": {"labels": {"control-plane": "seldon-controller-manager"}},
                               "spec": {"containers": [{
                                   "name": "manager", "image": "seldonio/seldon-core-operator:" + version,
                                   "env": [{"name": "RELATED_IMAGE_STORAGE_INITIALIZER", "value": related_image},
                                           {"name": "PREDICTIVE_UNIT_DEFAULT_ENV_SECRET_REF_NAME",
                                            "value": default_secret},
                                           {"name": "POD_NAMESPACE",
                                            "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}]}]}}}},
    ]


def standin_python():
    python = os.path.join(REPO, ".cache", "venv", "bin", "python")
    return python if os.path.exists(python) else sys.executable


class StandInProcess:
    """One loop-mode stand-in, namespaced to a scene namespace; stopped by pid at teardown."""

    def __init__(self, tmp_path, namespace, controller_namespace, env, extra_args=()):
        self.namespace = namespace
        self.state_file = str(tmp_path / "standin-state.json")
        self.pid_file = str(tmp_path / "standin.pid")
        self.log_file = str(tmp_path / "standin.log")
        python = standin_python()
        with open(self.log_file, "w", encoding="utf-8") as log:
            self.process = subprocess.Popen(  # pylint: disable=consider-using-with
                [python, os.path.join(STANDIN_DIR, "seldon_operator_standin.py"), "--namespace", namespace,
                 "--controller-namespace", controller_namespace, "--pid-file", self.pid_file,
                 "--state-file", self.state_file, "--safety-poll", "5"] + list(extra_args),
                stdout=log, stderr=subprocess.STDOUT, env=env)

    def state(self):
        try:
            with open(self.state_file, encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return None

    def wait_for_pass_after(self, moment, timeout=30):
        """Wait until a pass that started after ``moment`` has finished; returns its state."""
        def _done():
            assert self.process.poll() is None, "stand-in exited:\n" + self.log()
            state = self.state()
            return state if state and state["started"] > moment else None
        return wait_for(_done, timeout=timeout, what="a stand-in pass")

    def wait_for_quiet_pass_after(self, moment, timeout=60):
        """Wait for a pass that started after ``moment`` and reconciled nothing (no event was
        pending: the SDeps and their Deployments have settled); returns its state."""
        def _quiet():
            state = self.wait_for_pass_after(moment, timeout=timeout)
            return state if not state["last"]["reconciled"] else None
        return wait_for(_quiet, timeout=timeout, what="a stand-in pass with nothing to reconcile")

    def log(self):
        with open(self.log_file, encoding="utf-8") as handle:
            return handle.read()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run_runner(env, namespace, sdep=None, deployment=None, download_dir=None):
    """The init container runner as a process; returns (exit code, parsed JSON, raw output)."""
    args = [sys.executable, os.path.join(STANDIN_DIR, "init_container_runner.py"), "--namespace", namespace]
    args += ["--seldon-deployment", sdep] if sdep else ["--deployment", deployment]
    if download_dir:
        args += ["--download-dir", str(download_dir)]
    completed = subprocess.run(args, text=True, capture_output=True, check=False, timeout=600, env=env)
    raw = completed.stdout + completed.stderr
    try:
        report = json.loads(completed.stdout)
    except ValueError:
        report = None
    return completed.returncode, report, raw
