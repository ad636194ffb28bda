# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""rclone_access_check: does every converted secret really reach its model? (planning is pure)

Format is not access: a secret with the right ``RCLONE_CONFIG_*`` keys can still hold a wrong key
or name an endpoint the pods cannot reach. Before the operator's global switch, one short-lived
Job per distinct (namespace, env secret, remote, bucket) runs the target rclone image with exactly
the environment the operator will give the rendered init container - ``envFrom`` the node's env
secret (``envSecretRefName``, else the default) plus the env its credential builder adds from the
node's service account (operator/controllers/resources/credentials/, every tag; the same rules as
tests/standin/standin_render.py ``service_account_credentials``) - and lists the model's path with
``rclone lsf <modelUri>``, the modelUri as the init container reads it.

Nodes of one key whose rendered environment or image differ (another service account's S3 secret,
another pod service account, a pinned rclone image) get a Job each: a Job checks one environment.

The Job spec holds references only (secret names and keys, annotation-derived endpoints as the
operator renders them), never a secret value. rclone's error comes back as the container's
termination message (``FallbackToLogsOnError``); before it is returned every value of the secrets
the Job used is masked, then anything that looks like a key or URL credential is removed.

The API calls (POST/LIST/DELETE of Jobs, LIST of Pods) go through the KubeAccess of the module
(kube_access), which counts them and never keeps a response body in an error.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json
import re
import time
from collections import namedtuple

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kfserving_secret as ks
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_access
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import model_uri
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_graph as sg
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_settings
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import status as st
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import storage_report

# The label every Job (and its pod) of one run carries: ``<label>=<run id>``.
RUN_LABEL = "rclone-migration.seldon-ops.io/access-check"
ANNOTATION_PREFIX = "rclone-migration.seldon-ops.io/access-check-"
JOB_NAME_PREFIX = "rclone-access-"
CONTAINER_NAME = "rclone-lsf"
# A Job the module could not delete (the task was killed) is stopped by the cluster
# (activeDeadlineSeconds = wait_timeout + this margin, so the module reads a pod that never
# started before the Job controller removes it) and deleted by the TTL controller.
DEADLINE_MARGIN = 60
TTL_SECONDS_AFTER_FINISHED = 600
RESOURCES = {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}}
# The operator's service-account credentials (credentials/gcs/gcs_secret.go).
GCS_VOLUME_NAME = "user-gcp-sa"
GCS_MOUNT_PATH = "/var/secrets/"

# Check statuses.
CHECK_OK, CHECK_FAILED, CHECK_TIMEOUT, CHECK_PLANNED = st.CHECK_OK, st.CHECK_FAILED, st.CHECK_TIMEOUT, st.CHECK_PLANNED
CHECK_STATUSES = st.CHECK_STATUSES
# Node statuses whose init container will read an env secret the conversion made (or will make):
# the Job spec is the same before and after the conversion, it only references the secret.
CHECKED_NODE_STATUSES = (st.MIGRATED, st.CONVERTIBLE)

ERROR_MAX_LENGTH = 400
_RUN_ID_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,38}[a-z0-9])?$")
_LOG_PREFIX_RE = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(\.\d+)? *((CRITICAL|ERROR|NOTICE|INFO|DEBUG) *: *)?")
_AWS_KEY_ID_RE = re.compile(r"\b(AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}\b")
_TOKEN_RE = re.compile(r"[A-Za-z0-9+/=]{32,}")
_MIN_MASKED = 3

Check = namedtuple("Check", "namespace secret secret_source remote bucket model_uri nodes service_account "
                            "sa_secrets image job_name job")
Check.__doc__ = """One planned access check: the env secret (and how the node gets it), the remote and
bucket, the modelUri listed, the nodes (``<deployment>/<predictor>/<node>``) it stands for, the
service account whose credential env the Job carries and the secrets that env references, the image,
and the Job (a dict, references only)."""


# --------------------------------------------------------------------------- planning (pure)

def new_run_id(now=None, salt=None):
    """A label value naming one run: ``<UTC time>-<6 hex>``.

    >>> new_run_id(0, b"x")[:16]
    '19700101t000000-'
    """
    now = time.time() if now is None else now
    salt = salt if salt is not None else repr(time.time()).encode("ascii")
    stamp = time.strftime("%Y%m%dt%H%M%S", time.gmtime(now))
    return "{0}-{1}".format(stamp, hashlib.sha256(salt).hexdigest()[:6])


def run_id_problem(run_id):
    """Why ``run_id`` cannot be a label value and part of a Job name ("" when it can).

    >>> run_id_problem("gate-1"), bool(run_id_problem("Gate 1"))
    ('', True)
    """
    if _RUN_ID_RE.match(run_id or ""):
        return ""
    return "run_id must be 1-40 lowercase letters, digits, '-' or '.', starting and ending with a letter or digit"


def bucket_of(uri):
    """The bucket (first path element) of a remote modelUri, as rclone reads ``remote:path``.

    >>> bucket_of("s3://sklearn/iris"), bucket_of("minio:models/iris/v1"), bucket_of("gs:bucket")
    ('sklearn', 'models', 'bucket')
    """
    path = uri.split(":", 1)[1] if ":" in uri else ""
    return path.lstrip("/").split("/", 1)[0]


def pod_service_account(node, inventory):
    """The service account the model pod runs as, when it exists ("" for the namespace default).

    The operator copies a prepackaged node's (and an explainer's) ``serviceAccountName`` to the pod;
    otherwise the componentSpecs pod's own applies. It only matters for credentials the pod's
    identity gives (IAM roles for service accounts with ``ENV_AUTH``).
    """
    implementation = node.get("implementation") or ""
    own = node.get("kind") == sg.KIND_EXPLAINER or (implementation and implementation not in sg.NON_MODEL_IMPLEMENTATIONS)
    name = (node.get("service_account_name") if own else "") or node.get("pod_service_account_name") or ""
    if name == sg.DEFAULT_SERVICE_ACCOUNT or (node["namespace"], name) not in inventory.service_accounts:
        return ""
    return name


def _s3_annotation_env(annotations, config):
    """BuildEnvFromAnnotations (credentials/s3/s3_secret.go): endpoint, https, region, verifyssl."""
    env = []
    endpoint = ks.annotation_value(annotations, "s3-endpoint")
    if endpoint is not None:
        use_https = ks.annotation_value(annotations, "s3-usehttps")
        url = ("http://" if use_https == "0" else "https://") + endpoint
        if use_https is not None:
            env.append({"name": "S3_USE_HTTPS", "value": use_https})
        env.extend([{"name": "S3_ENDPOINT", "value": endpoint}, {"name": "AWS_ENDPOINT_URL", "value": url}])
    elif config.get("s3_endpoint"):
        endpoint, use_https = config["s3_endpoint"], config.get("s3_use_https")
        url = ("http://" if use_https == "0" else "https://") + endpoint
        if use_https == "0":
            env.append({"name": "S3_USE_HTTPS", "value": use_https})
        env.extend([{"name": "S3_ENDPOINT", "value": endpoint}, {"name": "AWS_ENDPOINT_URL", "value": url}])
    for annotation, name in (("s3-region", "AWS_REGION"), ("s3-verifyssl", "S3_VERIFY_SSL")):
        value = ks.annotation_value(annotations, annotation)
        if value is not None:
            env.append({"name": name, "value": value})
    return env


def service_account_env(namespace, sa_name, inventory):
    """``(env, volume_mounts, volumes, secret names)`` the operator's credential builder adds for a
    service account (CreateSecretVolumeAndEnv): per listed S3 secret (one holding the secret-key
    key) the two keys as secretKeyRef plus the annotation env; a GCS secret as a volume and
    ``GOOGLE_APPLICATION_CREDENTIALS``. A missing service account or secret adds nothing."""
    config = inventory.config
    env, mounts, volumes, names = [], [], [], []
    sa = inventory.service_accounts.get((namespace, sa_name))
    for ref in (sa or {}).get("secrets") or []:
        name = (ref or {}).get("name") if isinstance(ref, dict) else None
        decoded = inventory.decoded(namespace, name) if isinstance(name, str) and name else None
        if decoded is None:
            continue
        if ks.is_s3_service_account_secret(decoded, config):
            env.append({"name": "AWS_ACCESS_KEY_ID", "valueFrom": {"secretKeyRef": {
                "name": name, "key": config["s3_access_key_id_name"]}}})
            env.append({"name": "AWS_SECRET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {
                "name": name, "key": config["s3_secret_access_key_name"]}}})
            env.extend(_s3_annotation_env(inventory.annotations(namespace, name), config))
        elif ks.is_gcs_secret(decoded, config):
            volumes.append({"name": GCS_VOLUME_NAME, "secret": {"secretName": name}})
            mounts.append({"name": GCS_VOLUME_NAME, "mountPath": GCS_MOUNT_PATH, "readOnly": True})
            env.append({"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": GCS_MOUNT_PATH + config["gcs_credential_file_name"]})
        else:
            continue
        names.append(name)
    return env, mounts, volumes, names


def job_name(key, run_id):
    """``rclone-access-<digest of the check>-<digest of the run>``: 31 characters, stable per run."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode("utf-8")).hexdigest()[:10]
    return "{0}{1}-{2}".format(JOB_NAME_PREFIX, digest, hashlib.sha256(run_id.encode("utf-8")).hexdigest()[:6])


def job_manifest(namespace, name, run_id, image, uri, env_secret, env, mounts, volumes, pod_sa, wait_timeout,
                 annotations):
    """The batch/v1 Job of one check: references only, never a value."""
    container = {
        "name": CONTAINER_NAME, "image": image, "imagePullPolicy": "IfNotPresent",
        "command": ["rclone", "lsf", uri],
        "envFrom": [{"secretRef": {"name": env_secret}}],
        "resources": json.loads(json.dumps(RESOURCES)),
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    }
    if env:
        container["env"] = env
    if mounts:
        container["volumeMounts"] = mounts
    pod_spec = {"restartPolicy": "Never", "containers": [container]}
    if pod_sa:
        pod_spec["serviceAccountName"] = pod_sa
    if volumes:
        pod_spec["volumes"] = volumes
    labels = {RUN_LABEL: run_id, "app.kubernetes.io/managed-by": "seldon_ops.rclone_migration"}
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels), "annotations": annotations},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": int(wait_timeout) + DEADLINE_MARGIN,
            "ttlSecondsAfterFinished": TTL_SECONDS_AFTER_FINISHED,
            "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec},
        },
    }


def _user(plan):
    return "{0}/{1}".format(plan.node["deployment"], plan.node["ref"])


def _skip_reason(plan):
    """Why a node is not checked ("" when it is)."""
    if plan.status not in CHECKED_NODE_STATUSES:
        return "status {0}: {1}".format(plan.status, plan.report()["reason"])
    own = plan.node.get("storage_initializer_image") or ""
    if own and not seldon_settings.is_rclone_image(own):
        return "pins storageInitializerImage {0}: the switch does not change its initializer".format(own)
    uri = plan.node["model_uri"]
    if model_uri.sanitize(uri) != uri:
        return "modelUri carries rclone parameters or credentials: not copied into a Job"
    if not bucket_of(uri):
        return "modelUri names no bucket"
    if not plan.outcome.secret:
        return "no env secret to check"
    return ""


def plan_checks(inventory, image, run_id, wait_timeout):
    """``(checks, not_checked)`` for the inventory: one Check per distinct rendered environment of
    (namespace, env secret, remote, bucket), and a report entry for every other model-loading node."""
    plans, _ignored = storage_report.node_plans(inventory)
    groups, not_checked = {}, []
    for plan in plans:
        node = plan.node
        reason = _skip_reason(plan)
        if reason:
            not_checked.append({"namespace": node["namespace"], "deployment": node["deployment"],
                                "ref": node["ref"], "status": plan.status, "reason": reason})
            continue
        secret, source = sg.effective_env_secret(node, inventory.default_env_secret_ref_name)
        source = st.VIA_ENV_SECRET if source == sg.SOURCE_NODE else st.VIA_DEFAULT_SECRET
        node_image = node.get("storage_initializer_image") or image
        env, mounts, volumes, sa_secrets = service_account_env(node["namespace"], plan.service_account, inventory)
        pod_sa = pod_service_account(node, inventory)
        key = (node["namespace"], secret, plan.remote, bucket_of(node["model_uri"]), node_image, pod_sa,
               json.dumps([env, mounts, volumes], sort_keys=True))
        group = groups.setdefault(key, {"source": source, "sa": plan.service_account if sa_secrets else "",
                                        "sa_secrets": sa_secrets, "env": (env, mounts, volumes), "uris": set(),
                                        "nodes": []})
        group["uris"].add(node["model_uri"])
        group["nodes"].append(_user(plan))
    checks = []
    for key in sorted(groups):
        namespace, secret, remote, bucket, node_image, pod_sa, _env = key
        group = groups[key]
        uri = sorted(group["uris"])[0]
        name = job_name(list(key), run_id)
        annotations = {ANNOTATION_PREFIX + "secret": secret, ANNOTATION_PREFIX + "remote": remote,
                       ANNOTATION_PREFIX + "bucket": bucket}
        job = job_manifest(namespace, name, run_id, node_image, uri, secret, group["env"][0], group["env"][1],
                           group["env"][2], pod_sa, wait_timeout, annotations)
        checks.append(Check(namespace, secret, group["source"], remote, bucket, uri, sorted(group["nodes"]),
                            group["sa"], group["sa_secrets"], node_image, name, job))
    return checks, sorted(not_checked, key=lambda entry: (entry["namespace"], entry["deployment"], entry["ref"]))


# --------------------------------------------------------------------------- reading the outcome (pure)

def redact(text, values=()):
    """rclone's text without a value: every one of ``values`` (and its base64 form) masked, then
    anything that looks like a key or URL credential removed (model_uri.redact_words).

    >>> redact("Failed: bad key s3cr3t-value for http://u:p@h/b?X-Amz-Signature=1", ["s3cr3t-value"])
    'Failed: bad key <redacted> for http://h/b'
    """
    text = text if isinstance(text, str) else ""
    needles = set()
    for value in values:
        for candidate in (value, (value or "").strip()):
            if candidate and len(candidate) >= _MIN_MASKED:
                needles.add(candidate)
                needles.add(base64.b64encode(candidate.encode("utf-8")).decode("ascii"))
    for needle in sorted(needles, key=len, reverse=True):
        text = text.replace(needle, st.REDACTED)
    text = model_uri.redact_words(text)
    text = _AWS_KEY_ID_RE.sub(st.REDACTED, text)
    return _TOKEN_RE.sub(_token, text)


def _token(match):
    """A long run of base64 characters with letters and digits (a key or a token) is redacted."""
    word = match.group(0)
    if any(char.isdigit() for char in word) and any(char.isalpha() for char in word):
        return st.REDACTED
    return word


def error_line(message):
    """The line of a termination message (rclone's log tail) that says why rclone failed, without
    its timestamp: ``Failed to ...`` first, then CRITICAL, then ERROR, then the last line.

    >>> error_line("2024/01/02 03:04:05 ERROR : x: directory not found\\n"
    ...            "2024/01/02 03:04:05 NOTICE: Failed to lsf with 2 errors: last error was: directory not found")
    'Failed to lsf with 2 errors: last error was: directory not found'
    """
    lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
    for marker in ("Failed to ", "CRITICAL", "ERROR"):
        for line in reversed(lines):
            if marker in line:
                return _LOG_PREFIX_RE.sub("", line)
    return _LOG_PREFIX_RE.sub("", lines[-1]) if lines else ""


def _condition(obj, kind):
    for condition in ((obj or {}).get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind and condition.get("status") == "True":
            return condition
    return None


def job_state(job):
    """``(status, condition)`` of a Job as listed: ok (Complete), failed, timeout (DeadlineExceeded)
    or "" while it runs."""
    if _condition(job, "Complete"):
        return CHECK_OK, _condition(job, "Complete")
    failed = _condition(job, "Failed")
    if failed:
        return (CHECK_TIMEOUT if failed.get("reason") == "DeadlineExceeded" else CHECK_FAILED), failed
    return "", None


def pod_error(pod):
    """What the Job's pod says about its container: the terminated message's error line (with the
    exit code), else the waiting reason and message, else why the pod is not scheduled."""
    status = (pod or {}).get("status") or {}
    for container in status.get("containerStatuses") or []:
        if container.get("name") != CONTAINER_NAME:
            continue
        state = container.get("state") or {}
        terminated = state.get("terminated")
        if terminated:
            line = error_line(terminated.get("message"))
            return "exit code {0}: {1}".format(terminated.get("exitCode"), line or terminated.get("reason") or "no message")
        waiting = state.get("waiting")
        if waiting:
            return "container waiting: {0}: {1}".format(waiting.get("reason"), waiting.get("message") or "")
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return "pod not scheduled: {0}: {1}".format(condition.get("reason"), condition.get("message") or "")
    if status.get("phase"):
        return "pod {0}".format(status["phase"])
    return ""


def masked_values(check, inventory):
    """Every value of the secrets the Job of ``check`` references (to mask in rclone's text)."""
    values = []
    for name in [check.secret] + list(check.sa_secrets):
        values.extend(value for value in (inventory.decoded(check.namespace, name) or {}).values() if value)
    return values


def entry(check, status, error="", values=()):
    """The result entry of one check: names, status, rclone's error redacted, the Job; no value."""
    error = redact(error, values)[:ERROR_MAX_LENGTH] if error else ""
    reasons = {CHECK_OK: "rclone listed {0}".format(model_uri.sanitize(check.model_uri)),
               CHECK_PLANNED: "check mode: Job {0} would run rclone lsf {1}".format(
                   check.job_name, model_uri.sanitize(check.model_uri)),
               CHECK_FAILED: "rclone cannot read {0} with secret {1}: {2}".format(
                   model_uri.sanitize(check.model_uri), check.secret, error or "no message"),
               CHECK_TIMEOUT: "Job {0} did not finish in time{1}".format(check.job_name, ": " + error if error else "")}
    failed = status in (CHECK_FAILED, CHECK_TIMEOUT)
    return {
        "namespace": check.namespace, "secret": check.secret, "secret_source": check.secret_source,
        "remote": check.remote, "bucket": check.bucket, "model_uri": model_uri.sanitize(check.model_uri),
        "nodes": list(check.nodes), "service_account": check.service_account,
        "service_account_secrets": list(check.sa_secrets), "image": check.image, "job": check.job_name,
        "status": status, "error": error,
        "action": st.ACTION_FAILED if failed else status,
        "reason": "{0}/{1} {2}:{3} (nodes {4}): {5}".format(check.namespace, check.secret, check.remote, check.bucket,
                                                            ", ".join(check.nodes), reasons[status]),
        "manifest": check.job,
    }


# --------------------------------------------------------------------------- running (API calls)

def create_job(access, job):
    """POST one Job."""
    return access.create("Job", job["metadata"]["namespace"], job)


def delete_job(access, namespace, name):
    """DELETE one Job; its pods go with it (propagationPolicy Background)."""
    return access.delete("Job", namespace, name, propagation_policy="Background")


def list_jobs(access, scopes, run_id):
    """The run's Jobs: one LIST per scope (None: the whole cluster) with the run's label selector."""
    namespaces = None if None in scopes else scopes
    return access.list("Job", namespaces, label_selector="{0}={1}".format(RUN_LABEL, run_id))


def _key(obj):
    metadata = (obj or {}).get("metadata") or {}
    return metadata.get("namespace"), metadata.get("name")


def _pod_job(pod):
    for owner in ((pod.get("metadata") or {}).get("ownerReferences")) or []:
        if owner.get("kind") == "Job":
            return owner.get("name")
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return labels.get("batch.kubernetes.io/job-name") or labels.get("job-name")


def wait_for_jobs(access, scopes, run_id, names, wait_timeout, wait_sleep, clock=time.monotonic, sleep=time.sleep):
    """LIST the run's Jobs until every one in ``names`` (``(namespace, name)``) finished or
    ``wait_timeout`` passed; ``{(namespace, name): (status, condition)}`` (status "" = unfinished)."""
    deadline = clock() + wait_timeout
    states = dict((key, ("", None)) for key in names)
    while True:
        for job in list_jobs(access, scopes, run_id):
            if _key(job) in states:
                states[_key(job)] = job_state(job)
        if all(state[0] for state in states.values()) or clock() >= deadline:
            return states
        sleep(wait_sleep)


def run_checks(access, inventory, checks, run_id, scopes, wait_timeout, wait_sleep, warn,
               clock=time.monotonic, sleep=time.sleep):
    """Create the Jobs, wait, read each outcome, delete the Jobs; the result entries and the
    number of Jobs created. Check mode: the planned entries, no request."""
    if access.check_mode:
        return [entry(check, CHECK_PLANNED) for check in checks], 0
    created, results = [], {}
    for check in checks:
        try:
            create_job(access, check.job)
            created.append(check)
        except kube_access.KubeAccessError as error:
            results[check.job_name] = (CHECK_FAILED, "cannot create the Job: {0}".format(error))
    try:
        states = {}
        if created:
            states = wait_for_jobs(access, scopes, run_id, [(c.namespace, c.job_name) for c in created],
                                   wait_timeout, wait_sleep, clock, sleep)
        pods = {}
        if any(state[0] != CHECK_OK for state in states.values()):
            for pod in access.list("Pod", [scope for scope in scopes if scope] or None,
                                   label_selector="{0}={1}".format(RUN_LABEL, run_id)):
                pods[(pod["metadata"].get("namespace"), _pod_job(pod))] = pod
        for check in created:
            state, condition = states[(check.namespace, check.job_name)]
            if state == CHECK_OK:
                results[check.job_name] = (CHECK_OK, "")
                continue
            error = pod_error(pods.get((check.namespace, check.job_name)))
            if not error and condition:
                error = "{0}: {1}".format(condition.get("reason"), condition.get("message") or "")
            results[check.job_name] = (state or CHECK_TIMEOUT, error)
    finally:
        for check in created:
            try:
                delete_job(access, check.namespace, check.job_name)
            except kube_access.KubeAccessError as error:
                warn("{0}; the TTL controller deletes it {1}s after it finishes".format(error, TTL_SECONDS_AFTER_FINISHED))
    entries = []
    for check in checks:
        state, error = results[check.job_name]
        entries.append(entry(check, state, error, masked_values(check, inventory)))
    return entries, len(created)


def job_scopes(checks, namespaces, watch_namespace=""):
    """Where the run's Jobs are listed: the namespaces that have checks when the inventory was listed
    per namespace (``namespaces`` given, or a namespaced operator's ``watch_namespace``), else the
    whole cluster (one LIST).

    >>> job_scopes([], None), job_scopes([], None, "models")
    ([None], [])
    """
    if namespaces is None and not watch_namespace:
        return [None]
    return sorted(set(check.namespace for check in checks))


# --------------------------------------------------------------------------- the result

def summary(entries, created, not_checked=0):
    """Checks per status, the Jobs created and the model-loading nodes no check covers."""
    counts = dict((status, 0) for status in CHECK_STATUSES)
    for item in entries:
        counts[item["status"]] += 1
    counts["jobs_created"] = created
    counts["not_checked"] = not_checked
    return counts


def finish(module, access, entries, not_checked, run_id, created, fail_on_failure=True):
    """exit_json, or fail_json naming each failed check when ``fail_on_failure``. ``changed`` is true
    when Jobs were created (they are deleted again), or would be in check mode."""
    result = {"changed": bool(created) or (access.check_mode and bool(entries)), "checks": entries,
              "not_checked": not_checked, "run_id": run_id, "summary": summary(entries, created, len(not_checked)),
              "api_requests": dict(access.requests)}
    failed = [item for item in entries if item["status"] in (CHECK_FAILED, CHECK_TIMEOUT)]
    if failed and fail_on_failure:
        module.fail_json(msg="access check failed: " + "; ".join(item["reason"] for item in failed), **result)
    module.exit_json(**result)
