# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes access for this collection, built on kubernetes.core's client.

Authentication, kubeconfig and proxy handling all come from kubernetes.core
(``get_api_client``); this file only adds what our modules need on top:

* LIST per namespace (or once cluster-wide), following ``continue`` tokens, so a module pays one
  request per namespace and kind, never one GET per object;
* GET of one object, PATCH with an explicit patch type (custom resources reject strategic merge);
* a bounded re-read-and-retry loop for 409 Conflict;
* error messages that carry the HTTP status, the reason and the object's name, never the response
  body: the API server echoes request bodies (which hold secret data) in its error bodies.
* a write that failed in transport says whether it may still have been applied: only a connection
  never made proves it was not (``never_sent``), so a rerun, not the message, decides what is done.

Requests go to fixed REST paths through the dynamic client's ``request`` method, which skips API
discovery: the counts in the audit log are the requests the module needed and nothing else.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import sys
from collections import namedtuple

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_objects

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

    HAS_KUBERNETES_CORE = True
    KUBERNETES_CORE_IMPORT_ERROR = None
except ImportError as import_error:  # pragma: no cover - reported by the module
    HAS_KUBERNETES_CORE = False
    KUBERNETES_CORE_IMPORT_ERROR = import_error

    class CoreException(Exception):
        pass


JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"

# kind -> (API prefix, plural). Fixed paths: these APIs are stable and needing no discovery keeps
# each module's request count to the LIST/PATCH calls it really makes.
RESOURCES = {
    "Secret": ("/api/v1", "secrets"),
    "ServiceAccount": ("/api/v1", "serviceaccounts"),
    "ConfigMap": ("/api/v1", "configmaps"),
    "Namespace": ("/api/v1", "namespaces"),
    "Pod": ("/api/v1", "pods"),
    "Deployment": ("/apis/apps/v1", "deployments"),
    "StatefulSet": ("/apis/apps/v1", "statefulsets"),
    "DaemonSet": ("/apis/apps/v1", "daemonsets"),
    "ReplicaSet": ("/apis/apps/v1", "replicasets"),
    "Job": ("/apis/batch/v1", "jobs"),
    "SeldonDeployment": ("/apis/machinelearning.seldon.io/v1", "seldondeployments"),
}
CLUSTER_SCOPED = frozenset(["Namespace"])

DEFAULT_PAGE_SIZE = 500
DEFAULT_CONFLICT_ATTEMPTS = 4
DEEP_JSON_RECURSION_LIMIT = 20000
_HOST_PORT_RE = re.compile(r"host='([^']*)', port=(\d+)")
_ERRNO_RE = re.compile(r"\[Errno -?\d+\] ([A-Za-z ,-]+)")
# Errors raised before a request is sent (urllib3's NewConnectionError is a ConnectTimeoutError).
_CONNECT_FAILURES = frozenset(["ConnectTimeoutError", "ConnectionRefusedError", "gaierror"])
WRITE_VERBS = frozenset(["create", "patch", "delete"])
UNKNOWN_OUTCOME = " (the connection was lost after the request was sent: it may have been applied)"


class KubeAccessError(Exception):
    """A failed API request, described without the response body."""

    def __init__(self, verb, kind, namespace=None, name=None, status=None, reason=None):
        self.verb = verb
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.status = status
        self.reason = reason
        super(KubeAccessError, self).__init__(
            describe_api_error(verb, kind, namespace, name, status, reason)
        )

    @property
    def is_conflict(self):
        return self.status == 409

    @property
    def is_not_found(self):
        return self.status == 404


def describe_api_error(verb, kind, namespace, name, status, reason):
    """One line naming the request and its outcome, e.g. ``PATCH Secret ns/name: 409 Conflict``.

    Only the verb, kind, object name, HTTP status and reason phrase are used: never a body.
    """
    target = kind
    if namespace and name:
        target = "{0} {1}/{2}".format(kind, namespace, name)
    elif name:
        target = "{0} {1}".format(kind, name)
    elif namespace:
        target = "{0} in namespace {1}".format(kind, namespace)
    outcome = " ".join(str(part) for part in (status, reason) if part not in (None, ""))
    return "{0} {1}: {2}".format(verb.upper(), target, outcome or "failed")


def error_from_exception(exc, verb, kind, namespace=None, name=None):
    """Turn any client exception into a KubeAccessError that is safe to print.

    ApiException (and the dynamic client's subclasses) carry ``status`` and ``reason``; their body
    is dropped. A transport error (connection refused, TLS, timeout) is described by its class, the
    host and port and the system's error text; its own message is not kept, since client messages
    can quote request URLs and arguments.
    """
    status = getattr(exc, "status", None)
    if status is not None:
        return KubeAccessError(verb, kind, namespace, name, status, getattr(exc, "reason", None))
    reason = describe_transport_error(exc)
    if verb.lower() in WRITE_VERBS and not never_sent(exc):
        reason += UNKNOWN_OUTCOME
    return KubeAccessError(verb, kind, namespace, name, None, reason)


def never_sent(exc):
    """Whether a transport error happened before the request left (no connection was made): only
    then is a failed write known not to be applied. A connection lost after sending (the apiserver
    killed mid-request, a read timeout) may have been committed with its answer lost.

    >>> never_sent(ConnectionRefusedError(111, "Connection refused"))
    True
    >>> never_sent(ConnectionResetError(104, "Connection reset by peer"))
    False
    """
    # urllib3 wraps a connect failure that used up its retries in MaxRetryError(reason=...)
    cause = getattr(exc, "reason", None) if type(exc).__name__ == "MaxRetryError" else exc
    return any(cls.__name__ in _CONNECT_FAILURES for cls in type(cause).__mro__)


def describe_transport_error(exc):
    """``MaxRetryError: cannot reach 127.0.0.1:6443 (Connection refused)``, from known parts only.

    >>> describe_transport_error(OSError("HTTPSConnectionPool(host='h', port=6443): ... [Errno 111] Connection refused"))
    'OSError: cannot reach h:6443 (Connection refused)'
    """
    text = str(exc)
    where = _HOST_PORT_RE.search(text)
    why = _ERRNO_RE.search(text)
    parts = [type(exc).__name__ + ":"]
    parts.append("cannot reach {0}:{1}".format(*where.groups()) if where else "request failed")
    if why:
        parts.append("({0})".format(why.group(1).strip()))
    return " ".join(parts)


def describe_connect_error(exc):
    """A transport error as describe_transport_error tells it (its text may quote URLs); a kubeconfig
    error by its class and first line, which name the file or context at fault."""
    text = str(exc)
    if _HOST_PORT_RE.search(text) or isinstance(exc, OSError):
        return describe_transport_error(exc)
    return "{0}: {1}".format(type(exc).__name__, text.splitlines()[0][:200] if text else "")


def loads(text):
    """JSON text to Python; a SeldonDeployment graph may nest deeper than the default recursion
    limit lets ``json`` parse, so a RecursionError is retried once with a higher limit."""
    try:
        return json.loads(text)
    except RecursionError:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, DEEP_JSON_RECURSION_LIMIT))
        try:
            return json.loads(text)
        finally:
            sys.setrecursionlimit(limit)


def resource_path(kind, namespace=None, name=None):
    """REST path of a collection or of one object.

    >>> resource_path("Secret", "team-a", "s3-creds")
    '/api/v1/namespaces/team-a/secrets/s3-creds'
    >>> resource_path("SeldonDeployment")
    '/apis/machinelearning.seldon.io/v1/seldondeployments'
    """
    prefix, plural = RESOURCES[kind]
    parts = [prefix]
    if namespace and kind not in CLUSTER_SCOPED:
        parts.append("namespaces/{0}".format(namespace))
    parts.append(plural)
    if name:
        parts.append(name)
    return "/".join(parts)


def unique_namespaces(namespaces):
    """Namespaces in the order given, without repeats or empties; None means cluster-wide."""
    if namespaces is None:
        return None
    seen = []
    for namespace in namespaces:
        if namespace and namespace not in seen:
            seen.append(namespace)
    return seen


class KubeAccess:
    """LIST, GET and PATCH through kubernetes.core's API client.

    ``client`` is the dynamic client kubernetes.core builds (``get_api_client(module).client``);
    tests may pass any object with the same ``request(method, path, body=None, **params)``.
    ``check_mode`` makes every write raise: callers decide what to write, this class guarantees
    that check mode writes nothing even if a caller forgets.
    """

    def __init__(self, client, check_mode=False, page_size=DEFAULT_PAGE_SIZE):
        self._client = client
        self.check_mode = check_mode
        self.page_size = page_size
        self.requests = {}

    def _count(self, verb):
        self.requests[verb] = self.requests.get(verb, 0) + 1

    def _request(self, verb, method, kind, namespace, name, path, body=None, **params):
        self._count(verb)
        try:
            response = self._client.request(method, path, body=body, serialize=False, **params)
        except Exception as exc:  # every client error leaves here without its body
            # "from None": a traceback must not show the original exception, whose text has the body
            raise error_from_exception(exc, verb, kind, namespace, name) from None
        data = getattr(response, "data", response)
        if isinstance(data, bytes):
            data = data.decode("utf-8")
        if isinstance(data, str):
            return loads(data) if data else {}
        return data

    def list(self, kind, namespaces=None, label_selector=None, field_selector=None):
        """Every object of ``kind`` in ``namespaces`` (None: the whole cluster, one LIST).

        Returns plain dicts. One request per namespace, plus one per extra page of
        ``page_size`` objects.
        """
        scopes = unique_namespaces(namespaces)
        if scopes is None or kind in CLUSTER_SCOPED:
            scopes = [None]
        items = []
        for namespace in scopes:
            path = resource_path(kind, namespace)
            token = None
            while True:
                params = {"limit": self.page_size}
                if label_selector:
                    params["label_selector"] = label_selector
                if field_selector:
                    params["field_selector"] = field_selector
                if token:
                    params["_continue"] = token
                page = self._request("list", "GET", kind, namespace, None, path, **params)
                items.extend(page.get("items") or [])
                token = (page.get("metadata") or {}).get("continue")
                if not token:
                    break
        return items

    def get(self, kind, namespace, name):
        """One object as a dict, or None when it does not exist."""
        try:
            return self._request("get", "GET", kind, namespace, name, resource_path(kind, namespace, name))
        except KubeAccessError as exc:
            if exc.is_not_found:
                return None
            raise

    def create(self, kind, namespace, body):
        """POST one object; returns the object the server answered with."""
        name = kube_objects.object_name(body)
        if self.check_mode:
            raise RuntimeError("refusing to create {0} {1}/{2} in check mode".format(kind, namespace, name))
        return self._request("create", "POST", kind, namespace, name, resource_path(kind, namespace), body=body,
                             content_type="application/json")

    def delete(self, kind, namespace, name, resource_version=None, propagation_policy=None):
        """DELETE one object; with ``resource_version`` only while it is that version (409 otherwise)."""
        if self.check_mode:
            raise RuntimeError("refusing to delete {0} {1}/{2} in check mode".format(kind, namespace, name))
        body = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if resource_version:
            body["preconditions"] = {"resourceVersion": resource_version}
        if propagation_policy:
            body["propagationPolicy"] = propagation_policy
        return self._request("delete", "DELETE", kind, namespace, name, resource_path(kind, namespace, name),
                             body=body, content_type="application/json")

    def patch(self, kind, namespace, name, patch, patch_type=JSON_PATCH):
        """Send one PATCH; returns the object the server answered with."""
        if self.check_mode:
            raise RuntimeError("refusing to PATCH {0} {1}/{2} in check mode".format(kind, namespace, name))
        return self._request(
            "patch", "PATCH", kind, namespace, name, resource_path(kind, namespace, name),
            body=patch, content_type=patch_type,
        )


Written = namedtuple("Written", "plan obj error")
Written.__doc__ = """What ``write_planned`` did: the last plan, the object the server returned (None
when nothing was sent) and the error that stopped the write ("" when none)."""


def write_planned(access, kind, obj, plan_for, patch_type=JSON_PATCH, attempts=DEFAULT_CONFLICT_ATTEMPTS):
    """Plan ``obj`` and send the plan's patch; on 409 Conflict re-read the object and plan again.

    ``plan_for(obj)`` returns a plan with a ``patch`` attribute: None when nothing is to be
    written, else a patch that carries ``obj``'s resourceVersion (json_patch.guard), so that a
    concurrent edit answers 409 instead of being overwritten. Nothing is sent in check mode.
    Returns ``Written``; an API error (retries used up, object deleted, 403...) is returned in
    ``error`` with the plan it interrupted, so one object's failure never stops the others.
    """
    namespace, name = kube_objects.object_key(obj)
    current = obj
    for attempt in range(1, attempts + 1):
        plan = plan_for(current)
        if plan.patch is None or access.check_mode:
            return Written(plan, None, "")
        try:
            return Written(plan, access.patch(kind, namespace, name, plan.patch, patch_type), "")
        except KubeAccessError as exc:
            if not exc.is_conflict or attempt == attempts:
                return Written(plan, None, str(exc))
        try:
            current = access.get(kind, namespace, name)
        except KubeAccessError as exc:
            return Written(plan, None, str(exc))
        if current is None:
            return Written(plan, None, str(KubeAccessError("get", kind, namespace, name, 404,
                                                           "Not Found (deleted during the update)")))
    raise AssertionError("unreachable")  # pragma: no cover


def create_planned(access, kind, plan):
    """POST ``plan.body`` (nothing in check mode, or when the plan has no body). Returns Written."""
    if plan.body is None or access.check_mode:
        return Written(plan, None, "")
    try:
        return Written(plan, access.create(kind, kube_objects.object_namespace(plan.body), plan.body), "")
    except KubeAccessError as exc:
        return Written(plan, None, str(exc))


def delete_planned(access, kind, obj, plan):
    """DELETE ``obj`` when ``plan.delete`` says so, only while it is the version planned from. Returns Written."""
    if not plan.delete or access.check_mode:
        return Written(plan, None, "")
    namespace, name = kube_objects.object_key(obj)
    try:
        return Written(plan, access.delete(kind, namespace, name, kube_objects.resource_version(obj)), "")
    except KubeAccessError as exc:
        return Written(plan, None, str(exc))


def connect(module):
    """A KubeAccess for an AnsibleK8SModule, authenticated the kubernetes.core way.

    Fails the module with a clear message when kubernetes.core or the client is missing or the
    connection settings are unusable.
    """
    if not HAS_KUBERNETES_CORE:
        module.fail_json(
            msg="kubernetes.core is required: ansible-galaxy collection install kubernetes.core",
            error=str(KUBERNETES_CORE_IMPORT_ERROR),
        )
    try:
        client = get_api_client(module=module)
    except CoreException as exc:
        module.fail_json(msg="Cannot connect to Kubernetes: {0}".format(exc))
    except Exception as exc:  # kubeconfig and transport errors come in many types
        module.fail_json(msg="Cannot connect to Kubernetes: {0}".format(describe_connect_error(exc)))
    return KubeAccess(client.client, check_mode=module.check_mode)


def run_connected(module, run):
    """Connect (see ``connect``) and call ``run(module, access)``. An API error that ``run`` lets
    through fails the task with its message (status, reason, object - never a body) and the
    requests sent so far."""
    access = connect(module)
    try:
        run(module, access)
    except KubeAccessError as error:
        module.fail_json(msg=str(error), api_requests=dict(access.requests))
