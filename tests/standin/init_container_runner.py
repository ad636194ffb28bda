#!/usr/bin/env python
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST-ONLY init container runner: plays a model Deployment's storage initializers for real.

The local cluster's pods are simulated by kwok, so no init container ever runs there. This tool
reads a rendered pod template from the cluster (the Deployments of a SeldonDeployment, or one
Deployment), resolves each init container's environment from the real Secrets and ConfigMaps the
way the kubelet does, and for the rclone storage initializer runs the real ``rclone`` binary
exactly as the image's entrypoint would (``rclone copy <args[0]> <dir>``) with ONLY that
environment, the image's own ENV, and PATH/HOME/RCLONE_CONFIG pointing into a temporary
directory, so nothing from this machine's rclone configuration or environment leaks in.

kfserving (and other) initializer images are reported as ``not simulated``.

Output is JSON. Secret values never appear in it: environment variables are listed by name and
source only, and rclone's messages have every value of every Secret the pod references masked
(plain and base64). Exit status: 0 all simulated initializers succeeded, 1 one failed (or could
not even start, e.g. a referenced Secret is missing), 2 nothing to run or the API failed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# pylint: disable=wrong-import-position
import standin_render as render  # noqa: E402

MASK = "***"
MIN_MASKED_LENGTH = 3
RCLONE_IMAGE_NAME = "rclone-storage-initializer"
# ENV lines of seldonio/rclone-storage-initializer's Dockerfile; a container's env overrides them.
RCLONE_IMAGE_ENV = {
    "RCLONE_CONFIG_GS_TYPE": "google cloud storage",
    "RCLONE_CONFIG_GS_ANONYMOUS": "true",
    "RCLONE_VERBOSE": "1",
}
# The kubelet's classic IsEnvVarName rule for envFrom keys (newer kubelets with
# RelaxedEnvironmentVariableValidation accept any printable ASCII but '='); keys failing it are skipped.
ENV_VAR_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


class ContainerConfigError(Exception):
    """What the kubelet reports as CreateContainerConfigError: the container never starts."""


def image_kind(image):
    """'rclone', 'kfserving' or 'other', from the image's repository name."""
    repository = (image or "").split("@", 1)[0]
    last = repository.rsplit("/", 1)[-1]
    name = last.split(":", 1)[0]
    if name == RCLONE_IMAGE_NAME:
        return "rclone"
    if name == "storage-initializer" and ("kfserving" in repository or "kserve" in repository):
        return "kfserving"
    return "other"


def decode_secret_data(secret):
    """Secret .data (base64) -> {key: str}; undecodable bytes are kept as latin-1 text."""
    values = {}
    for key, encoded in ((secret or {}).get("data") or {}).items():
        raw = base64.b64decode(encoded or "")
        try:
            values[key] = raw.decode("utf-8")
        except UnicodeDecodeError:
            values[key] = raw.decode("latin-1")
    for key, value in ((secret or {}).get("stringData") or {}).items():
        values[key] = value
    return values


def expand(value, mapping):
    """Kubernetes $(VAR) expansion: $$ escapes, unknown references stay literally."""
    out = []
    i = 0
    while i < len(value):
        char = value[i]
        if char == "$" and i + 1 < len(value):
            nxt = value[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt == "(":
                end = value.find(")", i + 2)
                if end != -1:
                    name = value[i + 2:end]
                    if name in mapping:
                        out.append(mapping[name])
                    else:
                        out.append(value[i:end + 1])
                    i = end + 1
                    continue
        out.append(char)
        i += 1
    return "".join(out)


def resolve_env(container, get_secret, get_config_map, field_values):
    """The environment the kubelet would give ``container``.

    ``get_secret(name)`` / ``get_config_map(name)`` return the object dict or None.
    Returns (env, sources, skipped_keys, secret_values): env {name: value}; sources {name: text
    naming where the value came from, never the value}; envFrom keys skipped because they are not
    valid variable names; every value of every Secret looked at (for masking).
    Raises ContainerConfigError when the kubelet would refuse to start the container.
    """
    env, sources, skipped, secret_values = {}, {}, [], set()
    for item in container.get("envFrom") or []:
        prefix = item.get("prefix") or ""
        if item.get("secretRef") is not None:
            ref, kind = item["secretRef"], "secret"
            obj = get_secret(ref.get("name"))
            data = decode_secret_data(obj) if obj is not None else None
            if data is not None:
                secret_values.update(data.values())
        elif item.get("configMapRef") is not None:
            ref, kind = item["configMapRef"], "configmap"
            obj = get_config_map(ref.get("name"))
            data = dict((obj or {}).get("data") or {}) if obj is not None else None
        else:
            continue
        if data is None:
            if ref.get("optional"):
                continue
            raise ContainerConfigError('%s "%s" not found' % (kind, ref.get("name")))
        for key in sorted(data):
            name = prefix + key
            if not ENV_VAR_NAME.match(name):
                skipped.append(name)
                continue
            env[name] = data[key]
            sources[name] = "envFrom %s %s" % (kind, ref.get("name"))
    for item in container.get("env") or []:
        name = item.get("name")
        value_from = item.get("valueFrom")
        if not value_from:
            env[name] = expand(item.get("value") or "", env)
            sources[name] = "value"
            continue
        if value_from.get("secretKeyRef") is not None:
            ref = value_from["secretKeyRef"]
            obj = get_secret(ref.get("name"))
            data = decode_secret_data(obj) if obj is not None else None
            if data is not None:
                secret_values.update(data.values())
            if data is None or ref.get("key") not in data:
                if ref.get("optional"):
                    continue
                if data is None:
                    raise ContainerConfigError('secret "%s" not found' % ref.get("name"))
                raise ContainerConfigError("couldn't find key %s in Secret %s" % (ref.get("key"), ref.get("name")))
            env[name] = data[ref["key"]]
            sources[name] = "secret %s key %s" % (ref.get("name"), ref.get("key"))
        elif value_from.get("configMapKeyRef") is not None:
            ref = value_from["configMapKeyRef"]
            obj = get_config_map(ref.get("name"))
            data = (obj or {}).get("data") or {}
            if obj is None or ref.get("key") not in data:
                if ref.get("optional"):
                    continue
                raise ContainerConfigError("couldn't find key %s in ConfigMap %s" % (ref.get("key"), ref.get("name")))
            env[name] = data[ref["key"]]
            sources[name] = "configmap %s key %s" % (ref.get("name"), ref.get("key"))
        elif value_from.get("fieldRef") is not None:
            path = value_from["fieldRef"].get("fieldPath")
            env[name] = field_values.get(path, "")
            sources[name] = "field " + str(path)
        else:
            env[name] = ""
            sources[name] = "not simulated (%s)" % ",".join(sorted(value_from))
    return env, sources, skipped, secret_values


class Masker:
    """Replaces every known secret value (and its base64 form) by ***, longest first."""

    def __init__(self, values):
        needles = set()
        for value in values:
            if not value:
                continue
            for candidate in (value, value.strip()):
                if len(candidate) >= MIN_MASKED_LENGTH:
                    needles.add(candidate)
                    needles.add(base64.b64encode(candidate.encode("utf-8")).decode("ascii"))
        self.needles = sorted(needles, key=len, reverse=True)

    def __call__(self, text):
        for needle in self.needles:
            text = text.replace(needle, MASK)
        return text


def error_line(lines):
    """The line that says why rclone failed, as a person would pick it."""
    for marker in ("Failed to ", "CRITICAL", "ERROR"):
        for line in reversed(lines):
            if marker in line:
                return line
    for line in reversed(lines):
        if line.strip():
            return line
    return ""


def run_rclone(rclone, source, env, timeout, keep_dir=None):
    """``rclone copy <source> <dir>`` with exactly ``env`` (+ PATH/HOME/RCLONE_CONFIG in a temp dir)."""
    work = tempfile.mkdtemp(prefix="init-container-runner-")
    try:
        home = os.path.join(work, "home")
        target = os.path.join(work, "mnt", "models")
        os.makedirs(home)
        empty_config = os.path.join(work, "rclone-empty.conf")
        with open(empty_config, "w", encoding="utf-8"):
            pass
        process_env = {"PATH": os.path.dirname(rclone), "HOME": home, "RCLONE_CONFIG": empty_config}
        process_env.update(RCLONE_IMAGE_ENV)
        process_env.update(env)
        try:
            completed = subprocess.run(  # noqa: S603 - fixed argv, no shell
                [rclone, "copy", source, target], env=process_env, cwd=work, capture_output=True,
                text=True, timeout=timeout, check=False)
            returncode, output = completed.returncode, (completed.stderr or "") + (completed.stdout or "")
        except subprocess.TimeoutExpired as exc:
            returncode = None
            output = ((exc.stderr or b"").decode("utf-8", "replace") if isinstance(exc.stderr, bytes)
                      else (exc.stderr or "")) + "\nrunner: rclone did not finish within %ss" % timeout
        files = []
        if os.path.isdir(target):
            for folder, _dirs, names in os.walk(target):
                for name in sorted(names):
                    path = os.path.join(folder, name)
                    files.append({"path": os.path.relpath(path, target), "size": os.path.getsize(path)})
            if keep_dir:
                os.makedirs(keep_dir, exist_ok=True)
                shutil.copytree(target, keep_dir, dirs_exist_ok=True)
        return returncode, output.splitlines(), sorted(files, key=lambda f: f["path"])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def simulate_init_container(container, namespace, pod_spec, pod_name, get_secret, get_config_map,
                            rclone, timeout, keep_dir=None):
    """Result dict for one init container (never containing a secret value)."""
    image = container.get("image") or ""
    kind = image_kind(image)
    result = {"name": container.get("name"), "image": image, "initializer": kind,
              "args": list(container.get("args") or [])}
    field_values = {
        "metadata.name": pod_name, "metadata.namespace": namespace,
        "spec.serviceAccountName": pod_spec.get("serviceAccountName") or "default",
        "spec.nodeName": "standin-node", "status.podIP": "127.0.0.1", "status.hostIP": "127.0.0.1",
    }
    try:
        env, sources, skipped, secret_values = resolve_env(container, get_secret, get_config_map, field_values)
    except ContainerConfigError as exc:
        result.update(status="failed", reason="CreateContainerConfigError: %s" % exc, error="", env=[], files=[])
        return result
    masker = Masker(secret_values)
    result["env"] = [{"name": name, "from": sources[name]} for name in sorted(env)]
    if skipped:
        result["skipped_env_keys"] = [masker(name) for name in skipped]
    if kind != "rclone":
        result.update(status="not simulated", reason="only the rclone storage initializer is run", files=[])
        return result
    if not result["args"]:
        result.update(status="failed", reason="init container has no args (no model URI)", files=[])
        return result
    if not rclone:
        result.update(status="failed", reason="rclone binary not found on PATH (eval \"$(make -s cluster-env)\")",
                      files=[])
        return result
    returncode, lines, files = run_rclone(rclone, result["args"][0], env, timeout, keep_dir)
    masked = [masker(line) for line in lines]
    result["files"] = files
    result["log"] = masked[-40:]
    result["rclone_exit_code"] = returncode
    if returncode == 0:
        result.update(status="ok", reason="downloaded %d file(s)" % len(files), error="")
    else:
        line = error_line(masked)
        result.update(status="failed", reason=("rclone exited %s" % returncode) if returncode is not None
                      else "rclone timed out", error=line)
    return result


def _load_cluster(kubeconfig, context):
    from kubernetes import client, config  # pylint: disable=import-outside-toplevel
    api_client = config.new_client_from_config(config_file=kubeconfig, context=context)
    api_client.user_agent = "init-container-runner/1.0"
    return api_client, client.CoreV1Api(api_client), client.AppsV1Api(api_client)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--namespace", "-n", required=True)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--seldon-deployment", help="run the init containers of every Deployment of this SDep")
    target.add_argument("--deployment", help="run the init containers of this Deployment")
    parser.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG"))
    parser.add_argument("--context", default=None)
    parser.add_argument("--rclone", default=None, help="rclone binary (default: rclone on PATH)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per rclone run")
    parser.add_argument("--download-dir", default=None,
                        help="keep what each initializer downloaded under DIR/<deployment>/<init container>")
    args = parser.parse_args(argv)

    from kubernetes.client.rest import ApiException  # pylint: disable=import-outside-toplevel
    rclone = args.rclone or shutil.which("rclone")
    if rclone:
        rclone = os.path.abspath(rclone)
    api_client, core, apps = _load_cluster(args.kubeconfig, args.context)
    report = {"namespace": args.namespace, "deployments": [], "ok": False}
    try:
        if args.deployment:
            report["target"] = {"deployment": args.deployment}
            deployments = [apps.read_namespaced_deployment(args.deployment, args.namespace)]
        else:
            report["target"] = {"seldon_deployment": args.seldon_deployment}
            selector = "%s=%s" % (render.LABEL_SELDON_ID, render.seldon_id(args.seldon_deployment))
            deployments = apps.list_namespaced_deployment(args.namespace, label_selector=selector).items
    except ApiException as exc:
        report["reason"] = "reading Deployments: HTTP %s %s" % (exc.status, exc.reason)
        print(json.dumps(report, indent=2, sort_keys=True))
        return 2
    if not deployments:
        report["reason"] = "no Deployment found"
        print(json.dumps(report, indent=2, sort_keys=True))
        return 2

    secrets, config_maps = {}, {}

    def get_secret(name):
        if name not in secrets:
            try:
                secrets[name] = api_client.sanitize_for_serialization(core.read_namespaced_secret(name, args.namespace))
            except ApiException as exc:
                if exc.status != 404:
                    raise
                secrets[name] = None
        return secrets[name]

    def get_config_map(name):
        if name not in config_maps:
            try:
                config_maps[name] = api_client.sanitize_for_serialization(
                    core.read_namespaced_config_map(name, args.namespace))
            except ApiException as exc:
                if exc.status != 404:
                    raise
                config_maps[name] = None
        return config_maps[name]

    failed = 0
    try:
        for deployment in sorted(deployments, key=lambda d: d.metadata.name):
            plain = api_client.sanitize_for_serialization(deployment)
            pod_spec = plain["spec"]["template"].get("spec") or {}
            entry = {"name": plain["metadata"]["name"], "init_containers": []}
            for container in pod_spec.get("initContainers") or []:
                keep = None
                if args.download_dir:
                    keep = os.path.join(args.download_dir, entry["name"], container.get("name"))
                result = simulate_init_container(container, args.namespace, pod_spec, entry["name"] + "-standin",
                                                 get_secret, get_config_map, rclone, args.timeout, keep)
                failed += result["status"] == "failed"
                entry["init_containers"].append(result)
            report["deployments"].append(entry)
    except ApiException as exc:
        report["reason"] = "reading Secrets/ConfigMaps: HTTP %s %s" % (exc.status, exc.reason)
        print(json.dumps(report, indent=2, sort_keys=True))
        return 2
    report["ok"] = failed == 0
    report["failed"] = failed
    print(json.dumps(report, indent=2, sort_keys=True))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
