#!/usr/bin/env python
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST-ONLY job runner: plays the kubelet for rclone_access_check's Jobs on the local cluster.

The local cluster's nodes are kwok's: no container ever runs, and kwok's built-in "fast" stages
would mark every pod a Job owns ``Succeeded`` at once (stage ``pod-complete``), whatever its
command - an access check would always pass. This tool makes the Jobs' outcome real and
deterministic:

* it registers a mutating admission webhook (HTTPS on 127.0.0.1, its own CA) for pods carrying the
  label ``rclone-migration.seldon-ops.io/access-check``; the webhook adds a scheduling gate, so the
  scheduler never binds such a pod and kwok never plays it (kwok only plays pods bound to its
  nodes). ``failurePolicy: Fail``: without the runner no such pod is created, so a check times out
  instead of passing;
* it watches (polls) those pods; for each gated, pending pod a Job owns it resolves every
  container's environment from the real Secrets and ConfigMaps exactly as the kubelet does
  (init_container_runner.resolve_env: envFrom, then env with secretKeyRef and $(VAR) expansion; a
  missing Secret or key is a CreateContainerConfigError), runs the container's command with the
  real ``rclone`` from PATH, with only that environment plus the image's own ENV and
  PATH/HOME/RCLONE_CONFIG in a temporary directory;
* it writes the outcome into the pod's status the way the kubelet would: phase Succeeded/Failed and
  ``containerStatuses[].state.terminated`` (exit code, reason, and with
  ``terminationMessagePolicy: FallbackToLogsOnError`` the log tail - last 80 lines, at most 2048
  bytes - as the message on failure), or ``waiting`` with CreateContainerConfigError. The real
  kube-controller-manager then marks the Job Complete or Failed.

Like the operator stand-in it acts as its own service account
(``system:serviceaccount:rclone-job-runner:rclone-job-runner``: get Secrets/ConfigMaps, list pods,
patch pods/status), so audit-log counts of the admin user never include its requests; only the
webhook configuration is written with the kubeconfig's (admin) rights, at start and stop.

Its own log never holds a value: every value of the Secrets a pod references is masked (plain and
base64). The termination message it writes is what the kubelet would write (rclone's own log);
masking it is the job of the module that reads it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import base64
import datetime
import http.server
import json
import logging
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# pylint: disable=wrong-import-position
import init_container_runner as icr  # noqa: E402

RUN_LABEL = "rclone-migration.seldon-ops.io/access-check"
GATE = "seldon-ops.test/job-runner"
WEBHOOK_NAME = "rclone-job-runner.seldon-ops.test"
IDENTITY_NAME = "rclone-job-runner"
USER_AGENT = "rclone-job-runner/1.0"
TOKEN_SECONDS = 48 * 3600
# The kubelet's FallbackToLogsOnError: the last 80 lines of the log, at most 2048 bytes
# (kubelet kuberuntime MaxContainerTerminationMessageLogLines / ...LogLength).
MESSAGE_LINES = 80
MESSAGE_BYTES = 2048
RBAC_RULES = [
    {"apiGroups": [""], "resources": ["secrets", "configmaps"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods/status"], "verbs": ["get", "patch", "update"]},
]

log = logging.getLogger("rclone-job-runner")


def now_text():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- the webhook (pure parts)

def admission_response(review):
    """The AdmissionReview answer for one pod: allowed, with a JSON patch adding the gate."""
    request = review.get("request") or {}
    pod = request.get("object") or {}
    gates = (pod.get("spec") or {}).get("schedulingGates")
    if any((gate or {}).get("name") == GATE for gate in gates or []):
        patch = []
    elif gates:
        patch = [{"op": "add", "path": "/spec/schedulingGates/-", "value": {"name": GATE}}]
    else:
        patch = [{"op": "add", "path": "/spec/schedulingGates", "value": [{"name": GATE}]}]
    response = {"uid": request.get("uid", ""), "allowed": True}
    if patch:
        response.update(patchType="JSONPatch", patch=base64.b64encode(json.dumps(patch).encode()).decode())
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}


def webhook_configuration(port, ca_pem):
    """MutatingWebhookConfiguration: pods with the access-check label, on CREATE, through this runner."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": WEBHOOK_NAME, "labels": {"app.kubernetes.io/name": IDENTITY_NAME}},
        "webhooks": [{
            "name": WEBHOOK_NAME,
            "clientConfig": {"url": "https://127.0.0.1:%d/mutate" % port,
                             "caBundle": base64.b64encode(ca_pem).decode()},
            "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"],
                       "scope": "Namespaced"}],
            "objectSelector": {"matchExpressions": [{"key": RUN_LABEL, "operator": "Exists"}]},
            # Without the runner no such pod is created (the check times out) instead of kwok passing it.
            "failurePolicy": "Fail",
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
            "timeoutSeconds": 5,
            "reinvocationPolicy": "Never",
        }],
    }


def generate_certificates(directory):
    """A CA and a server certificate for 127.0.0.1 (2 days), as files in ``directory``.

    Returns ``(ca_pem, cert_file, key_file)``.
    """
    # pylint: disable=import-outside-toplevel
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    end = start + datetime.timedelta(days=2)

    def build(subject, issuer, public_key, signing_key, ca, san=None):
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
                   .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(signing_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rclone-job-runner test CA")])
    ca_cert = build(ca_name, ca_name, ca_key.public_key(), ca_key, True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = build(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), ca_name, key.public_key(), ca_key,
                 False, [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    os.makedirs(directory, exist_ok=True)
    cert_file, key_file = os.path.join(directory, "webhook.crt"), os.path.join(directory, "webhook.key")
    with open(cert_file, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return ca_cert.public_bytes(serialization.Encoding.PEM), cert_file, key_file


class _WebhookHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        try:
            review = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            body = json.dumps(admission_response(review)).encode()
            self.send_response(200)
        except ValueError:
            body = b'{"error": "not an AdmissionReview"}'
            self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):  # the API server calls often; keep the log for outcomes
        log.debug("webhook: " + fmt, *args)


def start_webhook_server(cert_file, key_file, port=0):
    """An HTTPS server on 127.0.0.1 answering AdmissionReviews in a thread; returns it (``server_port``)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _WebhookHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, name="webhook", daemon=True).start()
    return server


# --------------------------------------------------------------------------- one container, as the kubelet runs it

def termination_message(output, exit_code, policy):
    """What the kubelet puts in ``state.terminated.message`` when the container wrote no
    termination-log file (rclone never does): the log tail for FallbackToLogsOnError on failure."""
    if policy != "FallbackToLogsOnError" or exit_code == 0:
        return ""
    tail = "\n".join(output.splitlines()[-MESSAGE_LINES:])
    encoded = tail.encode("utf-8")
    if len(encoded) > MESSAGE_BYTES:
        tail = encoded[-MESSAGE_BYTES:].decode("utf-8", "ignore")
    return tail


def container_argv(container, rclone):
    """The argv the image would run: ``command`` + ``args`` (the image's ENTRYPOINT ``rclone copy``
    when there is no command), with ``rclone`` resolved to the real binary. None when it is not an
    rclone command (only the rclone storage initializer is simulated)."""
    command = list(container.get("command") or ["rclone", "copy"])
    argv = command + list(container.get("args") or [])
    if not argv or os.path.basename(argv[0]) != "rclone":
        return None
    return [rclone] + argv[1:]


def run_container(container, namespace, pod, get_secret, get_config_map, rclone, timeout):
    """Run one container of a Job's pod; returns ``(containerStatus state, exit code or None, log line)``.

    The log line is for this runner's log: masked, never a value.
    """
    image = container.get("image") or ""
    field_values = {"metadata.name": pod["metadata"]["name"], "metadata.namespace": namespace,
                    "spec.serviceAccountName": pod["spec"].get("serviceAccountName") or "default",
                    "spec.nodeName": "", "status.podIP": "", "status.hostIP": ""}
    try:
        env, _sources, _skipped, secret_values = icr.resolve_env(container, get_secret, get_config_map, field_values)
    except icr.ContainerConfigError as exc:
        return {"waiting": {"reason": "CreateContainerConfigError", "message": str(exc)}}, None, \
            "CreateContainerConfigError: %s" % exc
    masker = icr.Masker(secret_values)
    argv = container_argv(container, rclone) if icr.image_kind(image) == "rclone" else None
    started = now_text()
    if argv is None or not rclone:
        output = "job runner: only rclone commands of the rclone storage initializer image are run (image %s)" % image
        exit_code = 127
    else:
        work = tempfile.mkdtemp(prefix="rclone-job-runner-")
        try:
            config = os.path.join(work, "rclone-empty.conf")
            open(config, "w", encoding="utf-8").close()  # pylint: disable=consider-using-with
            os.makedirs(os.path.join(work, "home"))
            process_env = {"PATH": os.path.dirname(rclone), "HOME": os.path.join(work, "home"), "RCLONE_CONFIG": config}
            process_env.update(icr.RCLONE_IMAGE_ENV)
            process_env.update(env)
            try:
                completed = subprocess.run(argv, env=process_env, cwd=work, stdout=subprocess.PIPE,  # noqa: S603
                                           stderr=subprocess.STDOUT, timeout=timeout, check=False)
                exit_code, output = completed.returncode, completed.stdout.decode("utf-8", "replace")
            except subprocess.TimeoutExpired as exc:
                exit_code = 124
                output = (exc.stdout or b"").decode("utf-8", "replace") + "\njob runner: killed after %ss" % timeout
        finally:
            shutil.rmtree(work, ignore_errors=True)
    terminated = {"exitCode": exit_code, "reason": "Completed" if exit_code == 0 else "Error",
                  "startedAt": started, "finishedAt": now_text()}
    message = termination_message(output, exit_code, container.get("terminationMessagePolicy") or "File")
    if message:
        terminated["message"] = message
    line = masker(icr.error_line(output.splitlines())) if exit_code else "ok"
    return {"terminated": terminated}, exit_code, line


def pod_status(pod, results):
    """The status patch the kubelet would send once every container ran (restartPolicy Never):
    ``results`` is ``[(container, state, exit code)]``. A container that could not start keeps the
    pod Pending."""
    statuses = []
    for container, state, _exit_code in results:
        statuses.append({"name": container["name"], "image": container.get("image") or "", "imageID": "",
                         "containerID": "jobrunner://%s/%s" % (pod["metadata"].get("uid", ""), container["name"]),
                         "ready": False, "restartCount": 0, "started": False, "state": state})
    codes = [exit_code for _container, _state, exit_code in results]
    status = {"containerStatuses": statuses}
    if all(code is not None for code in codes):
        status["phase"] = "Succeeded" if all(code == 0 for code in codes) else "Failed"
        status["startTime"] = min(state["terminated"]["startedAt"] for _c, state, _e in results)
    return {"status": status}


def job_owner(pod):
    for owner in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if owner.get("kind") == "Job":
            return owner.get("name")
    return None


def is_gated(pod):
    return any((gate or {}).get("name") == GATE for gate in (pod.get("spec") or {}).get("schedulingGates") or [])


# --------------------------------------------------------------------------- the cluster


class Identity:
    """The runner's own service account (like the operator stand-in's): namespace, ServiceAccount,
    ClusterRole and ClusterRoleBinding ``rclone-job-runner`` (created with the admin's rights on the
    first start), then a 48h token."""

    def __init__(self, admin_client):
        self.admin_client = admin_client

    @staticmethod
    def _ensure(read, create, body, api_exception):
        try:
            return read()
        except api_exception as exc:
            if exc.status != 404:
                raise
        try:
            return create(body)
        except api_exception as exc:
            if exc.status != 409:
                raise
            return read()

    def configuration(self):
        # pylint: disable=import-outside-toplevel
        from kubernetes import client
        from kubernetes.client.rest import ApiException

        core, rbac = client.CoreV1Api(self.admin_client), client.RbacAuthorizationV1Api(self.admin_client)
        self._ensure(lambda: core.read_namespace(IDENTITY_NAME), core.create_namespace,
                     {"metadata": {"name": IDENTITY_NAME}}, ApiException)
        self._ensure(lambda: core.read_namespaced_service_account(IDENTITY_NAME, IDENTITY_NAME),
                     lambda body: core.create_namespaced_service_account(IDENTITY_NAME, body),
                     {"metadata": {"name": IDENTITY_NAME}}, ApiException)
        role = self._ensure(lambda: rbac.read_cluster_role(IDENTITY_NAME), rbac.create_cluster_role,
                            {"metadata": {"name": IDENTITY_NAME}, "rules": RBAC_RULES}, ApiException)
        if self.admin_client.sanitize_for_serialization(role.rules) != RBAC_RULES:
            rbac.patch_cluster_role(IDENTITY_NAME, {"rules": RBAC_RULES})
        self._ensure(lambda: rbac.read_cluster_role_binding(IDENTITY_NAME), rbac.create_cluster_role_binding,
                     {"metadata": {"name": IDENTITY_NAME},
                      "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": IDENTITY_NAME},
                      "subjects": [{"kind": "ServiceAccount", "name": IDENTITY_NAME, "namespace": IDENTITY_NAME}]},
                     ApiException)
        token = core.create_namespaced_service_account_token(
            IDENTITY_NAME, IDENTITY_NAME, {"spec": {"expirationSeconds": TOKEN_SECONDS}}).status.token
        admin = self.admin_client.configuration
        configuration = client.Configuration()
        configuration.host, configuration.ssl_ca_cert = admin.host, admin.ssl_ca_cert
        configuration.verify_ssl = admin.verify_ssl
        configuration.api_key = {"authorization": "Bearer " + token}
        return configuration


class Runner:
    """Polls the labelled pods and plays each gated one once, in a thread of its own."""

    def __init__(self, api_client, rclone, timeout, workers=8):
        # pylint: disable=import-outside-toplevel
        from kubernetes import client

        self.api_client = api_client
        self.core = client.CoreV1Api(api_client)
        self.rclone = rclone
        self.timeout = timeout
        self.handled = set()
        self.warned = set()
        self.slots = threading.BoundedSemaphore(workers)

    def _read(self, read, name, namespace):
        from kubernetes.client.rest import ApiException  # pylint: disable=import-outside-toplevel
        try:
            return self.api_client.sanitize_for_serialization(read(name, namespace))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def play(self, pod):
        """Run the pod's containers and write its status, as the kubelet would."""
        from kubernetes.client.rest import ApiException  # pylint: disable=import-outside-toplevel
        namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        try:
            cache = {}

            def get_secret(secret_name):
                key = ("secret", secret_name)
                if key not in cache:
                    cache[key] = self._read(self.core.read_namespaced_secret, secret_name, namespace)
                return cache[key]

            def get_config_map(map_name):
                key = ("configmap", map_name)
                if key not in cache:
                    cache[key] = self._read(self.core.read_namespaced_config_map, map_name, namespace)
                return cache[key]

            results, lines = [], []
            for container in pod["spec"].get("containers") or []:
                state, exit_code, line = run_container(container, namespace, pod, get_secret, get_config_map,
                                                       self.rclone, self.timeout)
                results.append((container, state, exit_code))
                lines.append("%s: %s" % (container.get("name"), line))
            body = pod_status(pod, results)
            self.core.patch_namespaced_pod_status(name, namespace, body)
            log.info("Job %s/%s pod %s: %s; %s", namespace, job_owner(pod), name,
                     body["status"].get("phase", "Pending"), "; ".join(lines))
        except ApiException as exc:
            log.warning("pod %s/%s: HTTP %s %s", namespace, name, exc.status, exc.reason)
        except Exception as exc:  # pylint: disable=broad-except
            log.warning("pod %s/%s: %s", namespace, name, type(exc).__name__)
        finally:
            self.slots.release()

    def poll(self):
        """One LIST of the labelled pods; start a player for every new gated, pending pod a Job owns."""
        pods = self.api_client.sanitize_for_serialization(
            self.core.list_pod_for_all_namespaces(label_selector=RUN_LABEL)).get("items") or []
        for pod in pods:
            uid = pod["metadata"].get("uid")
            if (uid in self.handled or pod["metadata"].get("deletionTimestamp")
                    or (pod.get("status") or {}).get("phase", "Pending") != "Pending" or not job_owner(pod)):
                continue
            if not is_gated(pod):
                if uid not in self.warned:
                    self.warned.add(uid)
                    log.warning("pod %s/%s has no scheduling gate %s (created before the webhook?): left alone",
                                pod["metadata"]["namespace"], pod["metadata"]["name"], GATE)
                continue
            self.handled.add(uid)
            self.slots.acquire()  # pylint: disable=consider-using-with
            threading.Thread(target=self.play, args=(pod,), daemon=True).start()


def register_webhook(admin_client, configuration):
    """Create or replace the MutatingWebhookConfiguration (admin rights)."""
    # pylint: disable=import-outside-toplevel
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    api = client.AdmissionregistrationV1Api(admin_client)
    try:
        live = api.read_mutating_webhook_configuration(WEBHOOK_NAME)
        configuration["metadata"]["resourceVersion"] = live.metadata.resource_version
        api.replace_mutating_webhook_configuration(WEBHOOK_NAME, configuration)
    except ApiException as exc:
        if exc.status != 404:
            raise
        configuration["metadata"].pop("resourceVersion", None)
        api.create_mutating_webhook_configuration(configuration)


def unregister_webhook(admin_client):
    # pylint: disable=import-outside-toplevel
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    try:
        client.AdmissionregistrationV1Api(admin_client).delete_mutating_webhook_configuration(WEBHOOK_NAME)
    except ApiException as exc:
        if exc.status != 404:
            log.warning("deleting the webhook configuration: HTTP %s %s", exc.status, exc.reason)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG"))
    parser.add_argument("--context", default=None)
    parser.add_argument("--rclone", default=None, help="rclone binary (default: rclone on PATH)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per rclone run")
    parser.add_argument("--poll", type=float, default=0.5, help="seconds between two LISTs of the labelled pods")
    parser.add_argument("--state-dir", default=None, help="where the webhook's certificate goes (default: a temp dir)")
    parser.add_argument("--identity", choices=["service-account", "kubeconfig"], default="service-account")
    parser.add_argument("--pid-file", default=None)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("urllib3", "kubernetes"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # pylint: disable=import-outside-toplevel
    from kubernetes import client, config
    from kubernetes.client.rest import ApiException

    rclone = args.rclone or shutil.which("rclone")
    if not rclone:
        log.error("rclone not found on PATH (eval \"$(make -s cluster-env)\")")
        return 2
    admin_client = config.new_client_from_config(config_file=args.kubeconfig, context=args.context)
    api_client = admin_client
    if args.identity == "service-account":
        api_client = client.ApiClient(Identity(admin_client).configuration())
    api_client.user_agent = USER_AGENT
    state_dir = args.state_dir or tempfile.mkdtemp(prefix="rclone-job-runner-")
    ca_pem, cert_file, key_file = generate_certificates(state_dir)
    server = start_webhook_server(cert_file, key_file)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        register_webhook(admin_client, webhook_configuration(server.server_port, ca_pem))
        if args.pid_file:
            with open(args.pid_file, "w", encoding="utf-8") as handle:
                handle.write("%d\n" % os.getpid())
        log.info("job runner running (webhook https://127.0.0.1:%d, rclone %s, pods labelled %s)",
                 server.server_port, rclone, RUN_LABEL)
        runner = Runner(api_client, os.path.abspath(rclone), args.timeout)
        while not stop.is_set():
            try:
                runner.poll()
            except ApiException as exc:
                log.warning("listing pods: HTTP %s %s", exc.status, exc.reason)
            except Exception as exc:  # pylint: disable=broad-except
                log.warning("listing pods: %s", type(exc).__name__)
            stop.wait(args.poll)
    finally:
        unregister_webhook(admin_client)
        server.shutdown()
        if args.pid_file:
            try:
                os.unlink(args.pid_file)
            except OSError:
                pass
        if not args.state_dir:
            shutil.rmtree(state_dir, ignore_errors=True)
        log.info("job runner stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
