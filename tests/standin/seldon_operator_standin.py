#!/usr/bin/env python
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST-ONLY STAND-IN for the Seldon Core v1 operator (seldon-controller-manager).

Why it exists: the project's local cluster (kwok nodes, no container runtime) has no Seldon
operator, so SeldonDeployments would never become Deployments and the migration's rollouts and
init containers could not be tested. This controller does, for the parts the migration depends
on, what the operator does (see standin_render.py for the rendering rules and their sources).
It is not shipped with the collection and must never run against a real cluster that has the
real operator.

Behaviour copied from the operator, because the migration's sequence depends on it (the rules
differ per operator release; the release is read from the controller Deployment's image tag,
see standin_render.py and docs/operator-versions.md):
* ``seldon-config`` (storageInitializer image and resources, credentials key names) is read
  again on every reconcile but not watched. A SeldonDeployment is reconciled when it changes in
  any way (spec, metadata, status), when a Deployment it owns changes, and on a full resync;
* a full resync happens when the controller starts and whenever the ``seldon-controller-manager``
  Deployment's pod template changes (a controller restart, an env or image change on this
  cluster, where that pod is simulated by kwok). The controller env (RELATED_IMAGE_STORAGE_INITIALIZER,
  PREDICTIVE_UNIT_DEFAULT_ENV_SECRET_REF_NAME) and release are captured then, like a process start;
* SeldonDeployments whose namespace carries the label ``seldon.io/controller-id`` are left to a
  namespaced operator; the SDep label ``seldon.io/controller-id`` must equal ``--controller-id``;
* a Deployment that differs from the rendering gets the rendered spec written over it: up to
  1.15.x only when the pod spec differs, from 1.16.0 for any spec difference (so a kubectl rollout
  restart's restartedAt is removed within seconds), with the Deployment's labels and annotations.
SeldonDeployment ``status.state`` becomes Available once its Deployments are rolled out.

Run: ``--once`` (reconcile everything once, print a JSON summary) or a loop driven by watches
(plus a slow safety poll) with ``--pid-file``. Like the operator it acts as its own service
account (``system:serviceaccount:seldon-operator-standin:seldon-operator-standin``, RBAC limited
to what it needs), so audit-log counts of the admin user never include its requests; they also
carry the user agent ``seldon-operator-standin/1.0``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# pylint: disable=wrong-import-position
import standin_render as render  # noqa: E402

try:
    from kubernetes import client, config, watch
    from kubernetes.client.rest import ApiException
except ImportError:  # pragma: no cover - the venv has it
    sys.exit("the kubernetes Python client is required (make venv)")

GROUP = "machinelearning.seldon.io"
VERSION = "v1"
PLURAL = "seldondeployments"
CONTROLLER_DEPLOYMENT = "seldon-controller-manager"
CONFIG_MAP = "seldon-config"
LABEL_CONTROLLER_ID = "seldon.io/controller-id"
USER_AGENT = "seldon-operator-standin/1.0"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"

log = logging.getLogger("seldon-operator-standin")


def api_error(exc):
    """Status and reason only: API error bodies can echo request bodies."""
    return "HTTP %s %s" % (getattr(exc, "status", "?"), getattr(exc, "reason", "") or "")


IDENTITY_NAME = "seldon-operator-standin"
TOKEN_SECONDS = 48 * 3600
TOKEN_REFRESH_MARGIN = 3600
# What the stand-in needs, as the operator's own ClusterRole grants it (a subset).
RBAC_RULES = [
    {"apiGroups": [""], "resources": ["configmaps", "secrets", "serviceaccounts", "namespaces"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["apps"], "resources": ["deployments"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
    {"apiGroups": [GROUP], "resources": ["seldondeployments"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [GROUP], "resources": ["seldondeployments/status"], "verbs": ["get", "update", "patch"]},
]


class Identity:
    """The stand-in's own service account, like the operator's: its requests are not the admin's.

    Test helpers count the admin user's requests in the audit log; a controller acting under the
    admin's name would blur every "zero writes" check. With the admin kubeconfig the stand-in
    ensures (first start only) namespace, ServiceAccount, ClusterRole and ClusterRoleBinding
    ``seldon-operator-standin``, then asks for a token (TokenRequest, 48h, renewed an hour early).
    """

    def __init__(self, admin_client, namespace=IDENTITY_NAME):
        self.admin_client = admin_client
        self.namespace = namespace
        self.expires = 0.0

    def _ensure(self, read, create, body):
        try:
            return read()
        except ApiException as exc:
            if exc.status != 404:
                raise
        try:
            return create(body)
        except ApiException as exc:
            if exc.status != 409:  # another stand-in created it meanwhile
                raise
            return read()

    def ensure(self):
        core = client.CoreV1Api(self.admin_client)
        rbac = client.RbacAuthorizationV1Api(self.admin_client)
        self._ensure(lambda: core.read_namespace(self.namespace), core.create_namespace,
                     {"metadata": {"name": self.namespace}})
        self._ensure(lambda: core.read_namespaced_service_account(IDENTITY_NAME, self.namespace),
                     lambda body: core.create_namespaced_service_account(self.namespace, body),
                     {"metadata": {"name": IDENTITY_NAME}})
        role = self._ensure(lambda: rbac.read_cluster_role(IDENTITY_NAME), rbac.create_cluster_role,
                            {"metadata": {"name": IDENTITY_NAME}, "rules": RBAC_RULES})
        if self.admin_client.sanitize_for_serialization(role.rules) != RBAC_RULES:
            rbac.patch_cluster_role(IDENTITY_NAME, {"rules": RBAC_RULES})
        binding_name = "%s-%s" % (IDENTITY_NAME, self.namespace) if self.namespace != IDENTITY_NAME else IDENTITY_NAME
        self._ensure(lambda: rbac.read_cluster_role_binding(binding_name), rbac.create_cluster_role_binding,
                     {"metadata": {"name": binding_name},
                      "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": IDENTITY_NAME},
                      "subjects": [{"kind": "ServiceAccount", "name": IDENTITY_NAME, "namespace": self.namespace}]})

    def token(self):
        core = client.CoreV1Api(self.admin_client)
        response = core.create_namespaced_service_account_token(
            IDENTITY_NAME, self.namespace, {"spec": {"expirationSeconds": TOKEN_SECONDS}})
        self.expires = time.time() + TOKEN_SECONDS
        return response.status.token

    def configuration(self):
        """An API configuration for the service account: same server and CA, no client cert."""
        self.ensure()
        admin = self.admin_client.configuration
        configuration = client.Configuration()
        configuration.host = admin.host
        configuration.ssl_ca_cert = admin.ssl_ca_cert
        configuration.verify_ssl = admin.verify_ssl
        configuration.tls_server_name = getattr(admin, "tls_server_name", None)
        configuration.api_key = {"authorization": "Bearer " + self.token()}
        return configuration

    def refresh(self, configuration):
        if time.time() > self.expires - TOKEN_REFRESH_MARGIN:
            configuration.api_key = {"authorization": "Bearer " + self.token()}

    @property
    def username(self):
        return "system:serviceaccount:%s:%s" % (self.namespace, IDENTITY_NAME)


class Cluster:
    """The handful of API calls the stand-in makes, returning plain (camelCase) dicts."""

    def __init__(self, kubeconfig=None, context=None, own_identity=True, identity_namespace=IDENTITY_NAME):
        admin_client = config.new_client_from_config(config_file=kubeconfig, context=context)
        self.identity = None
        api_client = admin_client
        if own_identity:
            self.identity = Identity(admin_client, identity_namespace)
            api_client = client.ApiClient(self.identity.configuration())
        api_client.user_agent = USER_AGENT
        self.api_client = api_client
        self.core = client.CoreV1Api(api_client)
        self.apps = client.AppsV1Api(api_client)
        self.custom = client.CustomObjectsApi(api_client)

    def refresh_identity(self):
        if self.identity:
            self.identity.refresh(self.api_client.configuration)

    def _plain(self, obj):
        return self.api_client.sanitize_for_serialization(obj)

    def list_sdeps(self, namespace=None):
        if namespace:
            result = self.custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
        else:
            result = self.custom.list_cluster_custom_object(GROUP, VERSION, PLURAL)
        return result.get("items") or []

    def get_deployment(self, namespace, name):
        try:
            return self._plain(self.apps.read_namespaced_deployment(name, namespace))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def list_model_deployments(self, namespace=None):
        selector = render.LABEL_SELDON_ID
        if namespace:
            items = self.apps.list_namespaced_deployment(namespace, label_selector=selector).items
        else:
            items = self.apps.list_deployment_for_all_namespaces(label_selector=selector).items
        return [self._plain(item) for item in items]

    def get_config_map_data(self, namespace, name):
        try:
            return self.core.read_namespaced_config_map(name, namespace).data or {}
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def namespaces_with_controller_id(self):
        """Namespaces a namespaced operator owns (label seldon.io/controller-id set)."""
        items = self.core.list_namespace(label_selector=LABEL_CONTROLLER_ID).items
        return {ns.metadata.name for ns in items if (ns.metadata.labels or {}).get(LABEL_CONTROLLER_ID)}

    def service_accounts(self, namespace):
        items = self.core.list_namespaced_service_account(namespace).items
        return {sa.metadata.name: {"secrets": [{"name": ref.name} for ref in (sa.secrets or [])]} for sa in items}

    def secrets_without_values(self, namespace):
        """Key names and annotations only; the values are dropped right here."""
        items = self.core.list_namespaced_secret(namespace).items
        return {
            s.metadata.name: {"keys": sorted((s.data or {}).keys()), "annotations": dict(s.metadata.annotations or {})}
            for s in items
        }

    def create_deployment(self, namespace, body):
        return self._plain(self.apps.create_namespaced_deployment(namespace, body))

    def replace_deployment(self, namespace, name, body):
        return self._plain(self.apps.replace_namespaced_deployment(name, namespace, body))

    def delete_deployment(self, namespace, name, propagation="Background"):
        self.apps.delete_namespaced_deployment(name, namespace, propagation_policy=propagation)

    def patch_sdep_status(self, namespace, name, status):
        self.custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, namespace, PLURAL, name, {"status": status})


def deployment_rolled_out(deployment):
    """kubectl rollout status: observed, updated, available and no old replicas left."""
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    metadata = deployment.get("metadata") or {}
    want = spec.get("replicas", 1)
    return (
        status.get("observedGeneration", 0) >= metadata.get("generation", 0)
        and status.get("updatedReplicas", 0) >= want
        and status.get("replicas", 0) == status.get("updatedReplicas", 0)
        and status.get("availableReplicas", 0) >= want
    )


class StandIn:
    """Reconcile loop state: what was rendered from which spec, and the controller's "process"."""

    def __init__(self, cluster, controller_namespace="seldon-system", watch_namespace=None, controller_id="",
                 explainer_update_loop=False):
        self.cluster = cluster
        self.controller_namespace = controller_namespace
        self.watch_namespace = watch_namespace
        self.controller_id = controller_id or ""
        self.settings = render.OperatorSettings()
        self.controller_template_hash = None
        self.reconciled = {}  # (namespace, name) -> what the last reconcile saw (SDep and owned Deployments)
        self.rendered_names = {}  # (namespace, name) -> [deployment names]
        self.errors = {}  # (namespace, name) -> reason of the last failed reconcile
        self.resyncs = 0
        self.writes = 0  # Deployment creates/replaces/deletes since start
        self.explainer_update_loop = explainer_update_loop

    # -- controller "process" ------------------------------------------------------------------
    def check_controller(self):
        """True when the controller pod template changed since the last look (= it restarted)."""
        controller = self.cluster.get_deployment(self.controller_namespace, CONTROLLER_DEPLOYMENT)
        template = (controller or {}).get("spec", {}).get("template")
        template_hash = render.stable_hash(template)
        if template_hash == self.controller_template_hash:
            return False
        self.controller_template_hash = template_hash
        self.settings = render.OperatorSettings.from_controller_deployment(controller)
        self.resyncs += 1
        log.info("full resync #%d (controller %s); operator %s from %s; controller env %s", self.resyncs,
                 "found" if controller else "missing", render.format_version(self.settings.version),
                 self.settings.version_source, json.dumps(self.settings.as_dict(), sort_keys=True))
        return True

    # -- which SeldonDeployments are ours --------------------------------------------------------
    def managed(self, sdep, foreign_namespaces):
        metadata = sdep.get("metadata") or {}
        if metadata.get("deletionTimestamp"):
            return False
        if not self.watch_namespace and metadata.get("namespace") in foreign_namespaces:
            return False  # a namespaced operator's namespace
        return ((metadata.get("labels") or {}).get(LABEL_CONTROLLER_ID) or "") == self.controller_id

    # -- one pass ------------------------------------------------------------------------------
    def run_pass(self, force_full=False):
        """Evaluate everything once; returns a summary dict (what was written and why)."""
        summary = {"resync": False, "reconciled": [], "written": [], "deleted": [], "errors": [], "status": []}
        self.cluster.refresh_identity()
        full = self.check_controller() or force_full
        summary["resync"] = full
        sdeps = self.cluster.list_sdeps(self.watch_namespace)
        live = {}
        for deployment in self.cluster.list_model_deployments(self.watch_namespace):
            live[(deployment["metadata"]["namespace"], deployment["metadata"]["name"])] = deployment
        foreign_namespaces = set() if self.watch_namespace else self.cluster.namespaces_with_controller_id()
        namespace_cache = {}
        seen = set()
        for sdep in sdeps:
            if not self.managed(sdep, foreign_namespaces):
                continue
            metadata = sdep["metadata"]
            key = (metadata["namespace"], metadata["name"])
            seen.add(key)
            fingerprint = self.fingerprint(sdep, live)
            previous = self.reconciled.get(key)
            if full or previous != fingerprint:
                why = "resync" if full else self.why(previous, fingerprint)
                if self.reconcile(sdep, live, namespace_cache, summary, why):
                    # What this reconcile left behind: our own writes count as seen (the operator
                    # reconciles once more on their events and finds nothing to do).
                    self.reconciled[key] = self.fingerprint(sdep, live)
                else:
                    self.reconciled.pop(key, None)  # a write conflicted: again next pass
            self.update_status(sdep, live, summary)
        for key in list(self.reconciled):
            if key not in seen:
                self.reconciled.pop(key, None)
                self.rendered_names.pop(key, None)
                self.errors.pop(key, None)
        return summary

    @staticmethod
    def fingerprint(sdep, live):
        """What a reconcile depends on besides seldon-config: the SDep (any change: resourceVersion)
        and the Deployments it owns (controller ownerReference to its uid)."""
        metadata = sdep["metadata"]
        uid = metadata.get("uid")
        owned = sorted(
            (name, deployment["metadata"].get("resourceVersion"))
            for (namespace, name), deployment in live.items()
            if namespace == metadata["namespace"]
            and any(o.get("uid") == uid for o in deployment["metadata"].get("ownerReferences") or []))
        return (uid, metadata.get("resourceVersion"), tuple(owned))

    @staticmethod
    def why(previous, fingerprint):
        if previous is None:
            return "new"
        if previous[:2] != fingerprint[:2]:
            return "SeldonDeployment changed"
        return "owned Deployment changed"

    def _namespace_view(self, namespace, cache):
        if namespace not in cache:
            cache[namespace] = (self.cluster.service_accounts(namespace),
                                self.cluster.secrets_without_values(namespace))
        return cache[namespace]

    def reconcile(self, sdep, live, namespace_cache, summary, why):
        """One reconcile of one SDep; False when a write failed and it should run again."""
        metadata = sdep["metadata"]
        namespace, name = metadata["namespace"], metadata["name"]
        key = (namespace, name)
        summary["reconciled"].append({"namespace": namespace, "name": name, "why": why})
        service_accounts, secrets = self._namespace_view(namespace, namespace_cache)
        ctx = render.InjectionContext(
            self.settings,
            self.cluster.get_config_map_data(self.controller_namespace, CONFIG_MAP),  # fresh, like the operator
            service_accounts.get, secrets.get)
        try:
            desired = render.render_seldon_deployment(sdep, ctx)
        except render.RenderError as exc:
            self.errors[key] = str(exc)
            summary["errors"].append({"namespace": namespace, "name": name, "reason": str(exc)})
            log.warning("%s/%s: %s", namespace, name, exc)
            return True
        self.errors.pop(key, None)
        complete = True
        names = []
        for deployment in desired:
            dep_name = deployment["metadata"]["name"]
            names.append(dep_name)
            try:
                action, written = self.apply_deployment(deployment, live.get((namespace, dep_name)))
            except ApiException as exc:
                # 409: someone wrote in between; the next pass re-reads and tries again.
                self.errors[key] = "writing Deployment %s: %s" % (dep_name, api_error(exc))
                summary["errors"].append({"namespace": namespace, "name": name, "reason": self.errors[key]})
                log.warning("%s/%s: %s", namespace, name, self.errors[key])
                complete = False
                continue
            if action:
                self.writes += 1
                if written is not None:
                    live[(namespace, dep_name)] = written
                summary["written"].append({"namespace": namespace, "deployment": dep_name, "action": action,
                                           "initContainers": render.init_containers_summary(deployment)})
                log.info("%s Deployment %s/%s for %s: %s", action, namespace, dep_name, name,
                         json.dumps(render.init_containers_summary(deployment)))
        self.rendered_names[key] = names
        uid = metadata.get("uid")
        for (live_namespace, live_name), deployment in list(live.items()):
            owners = deployment["metadata"].get("ownerReferences") or []
            if live_namespace == namespace and live_name not in names and any(o.get("uid") == uid for o in owners):
                try:
                    self.cluster.delete_deployment(namespace, live_name)
                    self.writes += 1
                    summary["deleted"].append({"namespace": namespace, "deployment": live_name})
                    live.pop((live_namespace, live_name), None)
                    log.info("deleted Deployment %s/%s no longer rendered for %s", namespace, live_name, name)
                except ApiException as exc:
                    log.warning("deleting Deployment %s/%s: %s", namespace, live_name, api_error(exc))
        return complete

    def apply_deployment(self, desired, existing):
        """Create, or write the rendering over a Deployment that differs, as the operator of
        ``self.settings.version`` does; returns (action or None, the written object or None)."""
        namespace = desired["metadata"]["namespace"]
        name = desired["metadata"]["name"]
        version = self.settings.version
        if existing is None:
            return "created", self.cluster.create_deployment(namespace, desired)
        if existing["metadata"].get("deletionTimestamp"):
            return None, None  # being deleted: created again once it is gone
        if render.selector_changed(desired, existing) and self.settings.has("selector_change_recreates"):
            # The operator deletes (foreground) and creates again; here the create follows once
            # the old one is gone (its deletion is an event of this SDep's Deployments).
            self.cluster.delete_deployment(namespace, name, propagation="Foreground")
            return "deleted (selector changed)", None
        if self.explainer_update_loop and render.explainer_update_loops(desired, existing, version):
            body = render.update_body(desired, existing, version)
            count = int((existing["metadata"].get("annotations") or {}).get(render.LOOP_ANNOTATION) or 0)
            body["metadata"]["annotations"][render.LOOP_ANNOTATION] = str(count + 1)
            return "updated (explainer update loop)", self.cluster.replace_deployment(namespace, name, body)
        reason = render.deployment_difference(desired, existing, version)
        if reason is None:
            return None, None
        body = render.update_body(desired, existing, version)
        if self.explainer_update_loop and render.explainer_update_loops(
                desired, {"metadata": {"annotations": {render.LOOP_ANNOTATION: "0"}}}, version):
            body["metadata"]["annotations"][render.LOOP_ANNOTATION] = "1"
        return "updated (%s)" % reason, self.cluster.replace_deployment(namespace, name, body)

    def update_status(self, sdep, live, summary):
        metadata = sdep["metadata"]
        key = (metadata["namespace"], metadata["name"])
        status = dict(sdep.get("status") or {})
        if key in self.errors:
            state, description = "Failed", self.errors[key]
        else:
            names = self.rendered_names.get(key, [])
            deployments = [live.get((key[0], n)) for n in names]
            ready = all(d is not None and deployment_rolled_out(d) for d in deployments)
            state, description = ("Available" if ready else "Creating"), ""
            status["deploymentStatus"] = {
                n: {"replicas": (d or {}).get("status", {}).get("replicas", 0),
                    "availableReplicas": (d or {}).get("status", {}).get("availableReplicas", 0)}
                for n, d in zip(names, deployments)
            }
        status["state"] = state
        status["description"] = description
        existing = sdep.get("status") or {}
        if status == existing:
            return
        patch = dict(status)
        if "deploymentStatus" in patch:
            # Merge patch keeps map keys it is not told to drop: name the gone Deployments.
            gone = set(existing.get("deploymentStatus") or {}) - set(patch["deploymentStatus"])
            patch["deploymentStatus"] = dict(patch["deploymentStatus"], **{name: None for name in gone})
        try:
            self.cluster.patch_sdep_status(key[0], key[1], patch)
            summary["status"].append({"namespace": key[0], "name": key[1], "state": state})
        except ApiException as exc:
            log.warning("status of %s/%s: %s", key[0], key[1], api_error(exc))


class Watcher(threading.Thread):
    """Sets ``wake`` whenever a watched collection changes; reconnects forever."""

    def __init__(self, label, list_fn, wake, stop, **kwargs):
        super().__init__(name="watch-" + label, daemon=True)
        self.label, self.list_fn, self.wake, self.stop, self.kwargs = label, list_fn, wake, stop, kwargs

    def run(self):
        while not self.stop.is_set():
            try:
                stream = watch.Watch()
                for _event in stream.stream(self.list_fn, timeout_seconds=240, **self.kwargs):
                    self.wake.set()
                    if self.stop.is_set():
                        stream.stop()
                        break
            except Exception as exc:  # pylint: disable=broad-except
                log.debug("watch %s ended (%s); reconnecting", self.label, type(exc).__name__)
                self.stop.wait(2)


def start_watchers(cluster, standin, wake, stop):
    namespace = standin.watch_namespace
    watchers = []
    if namespace:
        watchers.append(Watcher("sdeps", cluster.custom.list_namespaced_custom_object, wake, stop,
                                group=GROUP, version=VERSION, namespace=namespace, plural=PLURAL))
        watchers.append(Watcher("deployments", cluster.apps.list_namespaced_deployment, wake, stop,
                                namespace=namespace, label_selector=render.LABEL_SELDON_ID))
    else:
        watchers.append(Watcher("sdeps", cluster.custom.list_cluster_custom_object, wake, stop,
                                group=GROUP, version=VERSION, plural=PLURAL))
        watchers.append(Watcher("deployments", cluster.apps.list_deployment_for_all_namespaces, wake, stop,
                                label_selector=render.LABEL_SELDON_ID))
    watchers.append(Watcher("controller", cluster.apps.list_namespaced_deployment, wake, stop,
                            namespace=standin.controller_namespace,
                            field_selector="metadata.name=" + CONTROLLER_DEPLOYMENT))
    for watcher in watchers:
        watcher.start()
    return watchers


def write_state(state_file, standin, passes, summary, started):
    """Progress for tests: they wait for a pass that started after their change."""
    if not state_file:
        return
    state = {"passes": passes, "resyncs": standin.resyncs, "writes": standin.writes, "started": started,
             "finished": time.time(), "last": {k: summary.get(k) for k in ("resync", "reconciled", "errors")},
             "controller_settings": standin.settings.as_dict()}
    tmp = state_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(state, handle, sort_keys=True)
    os.replace(tmp, state_file)


def run_loop(standin, cluster, safety_poll, pid_file, state_file=None):
    stop = threading.Event()
    wake = threading.Event()

    def _terminate(_signum, _frame):
        stop.set()
        wake.set()

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    if pid_file:
        with open(pid_file, "w", encoding="utf-8") as handle:
            handle.write("%d\n" % os.getpid())
    try:
        start_watchers(cluster, standin, wake, stop)
        log.info("stand-in running as %s (controller namespace %s, watching %s, controller id %r)",
                 cluster.identity.username if cluster.identity else "the kubeconfig user",
                 standin.controller_namespace, standin.watch_namespace or "all namespaces", standin.controller_id)
        wake.set()
        passes = 0
        while not stop.is_set():
            wake.wait(safety_poll)
            if stop.is_set():
                break
            time.sleep(0.2)  # let a burst of events settle into one pass
            wake.clear()
            try:
                started = time.time()
                summary = standin.run_pass()
                passes += 1
                write_state(state_file, standin, passes, summary, started)
                if summary["written"] or summary["errors"] or summary["deleted"] or summary["resync"]:
                    log.info("pass: %s", json.dumps({k: summary[k] for k in ("resync", "reconciled", "errors")}))
            except ApiException as exc:
                log.warning("pass failed: %s; retrying", api_error(exc))
                stop.wait(1)
                wake.set()
            except Exception as exc:  # pylint: disable=broad-except
                log.warning("pass failed: %s; retrying", type(exc).__name__)
                stop.wait(1)
                wake.set()
    finally:
        if pid_file:
            try:
                os.unlink(pid_file)
            except OSError:
                pass
        log.info("stand-in stopped")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--once", action="store_true", help="reconcile everything once, print JSON, exit")
    parser.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG"))
    parser.add_argument("--context", default=None)
    parser.add_argument("--controller-namespace", default=os.environ.get("POD_NAMESPACE", "seldon-system"),
                        help="where seldon-controller-manager and seldon-config live (default seldon-system)")
    parser.add_argument("--namespace", default=None,
                        help="manage only this namespace (namespaced operator); default: all namespaces")
    parser.add_argument("--controller-id", default=os.environ.get("CONTROLLER_ID", ""),
                        help="reconcile only SeldonDeployments whose seldon.io/controller-id label equals this")
    parser.add_argument("--identity", choices=["service-account", "kubeconfig"], default="service-account",
                        help="act as its own service account seldon-operator-standin (default, like the operator) "
                             "or as the kubeconfig's user")
    parser.add_argument("--identity-namespace", default=IDENTITY_NAME,
                        help="namespace of the stand-in's service account (default %s)" % IDENTITY_NAME)
    parser.add_argument("--explainer-update-loop", action="store_true",
                        default=os.environ.get("STANDIN_EXPLAINER_UPDATE_LOOP", "") in ("1", "true"),
                        help="operator 1.17.1 only: an explainer Deployment without replicas, once updated, is "
                             "updated again on every reconcile (the operator bug seen at 1.17.1); off by default "
                             "(env STANDIN_EXPLAINER_UPDATE_LOOP=1)")
    parser.add_argument("--pid-file", default=None)
    parser.add_argument("--state-file", default=None, help="write pass and resync counts here after each pass")
    parser.add_argument("--safety-poll", type=float, default=30.0, help="seconds between passes without events")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    logging.getLogger("kubernetes").setLevel(logging.WARNING)
    try:
        cluster = Cluster(args.kubeconfig, args.context, own_identity=args.identity == "service-account",
                          identity_namespace=args.identity_namespace)
    except ApiException as exc:
        log.error("setting up the stand-in's identity failed: %s", api_error(exc))
        return 2
    standin = StandIn(cluster, args.controller_namespace, args.namespace, args.controller_id,
                      explainer_update_loop=args.explainer_update_loop)
    if args.once:
        try:
            summary = standin.run_pass(force_full=True)
        except ApiException as exc:
            print(json.dumps({"failed": api_error(exc)}))
            return 2
        summary["controller_settings"] = standin.settings.as_dict()
        print(json.dumps(summary, indent=2, sort_keys=True))
        return 1 if summary["errors"] else 0
    run_loop(standin, cluster, args.safety_poll, args.pid_file, args.state_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
