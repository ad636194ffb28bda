# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the e2e tests that run the collection's playbooks on the local cluster: a scratch
operator release, scenes of many objects, identities built from docs/rbac, playbook runs, and
reading the audit log per identity.

Every credential a helper handles (service account tokens, scene secret values) goes to files
with mode 0600 or to the API in a request body, never to a command line or to test output.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import json
import os
import socket
import subprocess
import uuid

import yaml

from e2e_support import REPO, wait_for

PLAYBOOKS = os.path.join(REPO, "playbooks")
RBAC_DIR = os.path.join(REPO, "docs", "rbac")
CHART = os.path.join(REPO, "tests", "chart", "seldon-core-operator")
COLLECTIONS = os.path.join(REPO, ".cache", "collections")
KFSERVING_IMAGE = "gcr.io/kfserving/storage-initializer:v0.4.0"
SDEP_GROUP, SDEP_VERSION, SDEP_PLURAL = "machinelearning.seldon.io", "v1", "seldondeployments"
# What a migration writes into objects (secret_plan, secret_ref_plan, canary_pins).
ADDED_KEYS_ANNOTATION = "rclone-migration.seldon-ops.io/added-keys"
SECRET_REFS_ANNOTATION = "rclone-migration.seldon-ops.io/secret-refs"


def b64(text):
    return base64.b64encode(text.encode()).decode()


def unb64(text):
    return base64.b64decode(text).decode()


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- the operator release

class OperatorRelease:
    """The local seldon-core-operator chart as release ``seldon-core`` in a scratch namespace
    (kfserving initializer), so a migration upgrades it and never the cluster's own release.

    A scratch operator never watches the whole shared cluster (its gate would judge every other
    test's namespaces): by default it watches its own namespace (chart value ``singleNamespace``,
    rendered as ``--namespace``, as the real chart does); ``watch_namespace`` makes it watch that
    namespace instead (chart value ``watchNamespace``: env ``WATCH_NAMESPACE``). ``cluster_wide``
    with a ``controller_id`` is the cluster-wide operator of the real chart's defaults, told apart by
    ``CONTROLLER_ID`` (chart value ``controllerId``): it reconciles only SeldonDeployments labelled
    ``seldon.io/controller-id=<controller_id>`` and never one of another test. ``version``: the
    operator release (chart value ``image.tag``) whose rules the collection and the stand-in follow.
    """

    name = "seldon-core"

    def __init__(self, kube, prefix, watch_namespace=None, cluster_wide=False, controller_id="", version=None):
        assert not (cluster_wide and watch_namespace), "a cluster-wide operator watches no one namespace"
        assert controller_id or not cluster_wide, "a cluster-wide scratch operator needs a controller id"
        self.kube = kube
        self.namespace = kube.create_namespace(prefix)
        self.controller_id = controller_id
        if cluster_wide:
            self.watched = None
            scope = []
        elif watch_namespace:
            self.watched = watch_namespace
            scope = ["--set-string", "watchNamespace=" + watch_namespace]
        else:
            self.watched = self.namespace
            scope = ["--set", "singleNamespace=true"]
        if controller_id:
            scope += ["--set-string", "controllerId=" + controller_id]
        if version:
            scope += ["--set-string", "image.tag=" + version]
        completed = subprocess.run(
            ["helm", "upgrade", "--install", self.name, CHART, "-n", self.namespace, "--set",
             "storageInitializer.image=" + KFSERVING_IMAGE] + scope + ["--wait", "--timeout", "120s"],
            text=True, capture_output=True, check=False, env=kube.env)
        assert completed.returncode == 0, "helm install failed: %s" % completed.stderr[-2000:]

    def role_vars(self):
        """Variables that point the roles at this release."""
        return {"seldon_core_namespace": self.namespace, "seldon_core_release_name": self.name,
                "seldon_core_chart_ref": CHART, "seldon_core_chart_repo_url": "", "seldon_core_wait_timeout": 120}

    def delete(self):
        self.kube.delete_namespace(self.namespace)


# --------------------------------------------------------------------------- scenes

def env_secret(name, key_id, secret_key, endpoint="http://minio.minio-system.svc:9000"):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": "Opaque",
            "data": {"AWS_ACCESS_KEY_ID": b64(key_id), "AWS_SECRET_ACCESS_KEY": b64(secret_key),
                     "AWS_ENDPOINT_URL": b64(endpoint)}}


def sa_secret(name, key_id, secret_key, endpoint="minio.minio-system.svc:9000"):
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "annotations": {"machinelearning.seldon.io/s3-endpoint": endpoint,
                                                       "machinelearning.seldon.io/s3-usehttps": "0"}},
            "data": {"awsAccessKeyID": b64(key_id), "awsSecretAccessKey": b64(secret_key)}}


def sdep(name, **node):
    graph = {"name": "classifier", "implementation": "SKLEARN_SERVER", "modelUri": "s3://models/" + name}
    graph.update(node)
    return {"apiVersion": "%s/%s" % (SDEP_GROUP, SDEP_VERSION), "kind": "SeldonDeployment",
            "metadata": {"name": name}, "spec": {"predictors": [{"name": "default", "replicas": 1, "graph": graph}]}}


def many_models(count, key_id, secret_key):
    """``count`` env-secret models and ``count`` service-account models: 2*count Secrets,
    2*count SeldonDeployments, ``count`` ServiceAccounts. The migration patches every Secret and
    the ``count`` service-account SeldonDeployments."""
    objects = []
    for index in range(count):
        objects.append(env_secret("env-%02d" % index, key_id, secret_key))
        objects.append(sdep("env-%02d" % index, envSecretRefName="env-%02d" % index))
        objects.append(sa_secret("sa-%02d" % index, key_id, secret_key))
        objects.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa-%02d" % index},
                        "secrets": [{"name": "sa-%02d" % index}]})
        objects.append(sdep("sa-%02d" % index, serviceAccountName="sa-%02d" % index))
    return objects


def create_objects(kube, namespace, objects):
    """Create through the API (no kubectl: no last-applied annotation copying secret data)."""
    for obj in objects:
        body = copy.deepcopy(obj)
        body["metadata"]["namespace"] = namespace
        if obj["kind"] == "Secret":
            kube.core.create_namespaced_secret(namespace, body)
        elif obj["kind"] == "ServiceAccount":
            kube.core.create_namespaced_service_account(namespace, body)
        elif obj["kind"] == "SeldonDeployment":
            kube.custom.create_namespaced_custom_object(SDEP_GROUP, SDEP_VERSION, namespace, SDEP_PLURAL, body)
        else:
            raise ValueError(obj["kind"])


def secrets_of(kube, namespace):
    return dict((item["metadata"]["name"], item) for item in
                kube.plain(kube.core.list_namespaced_secret(namespace))["items"])


def sdeps_of(kube, namespace):
    return dict((item["metadata"]["name"], item) for item in
                kube.custom.list_namespaced_custom_object(SDEP_GROUP, SDEP_VERSION, namespace, SDEP_PLURAL)["items"])


# --------------------------------------------------------------------------- identities from docs/rbac

def rbac_roles(suffix):
    """The ClusterRoles of docs/rbac/*.yaml by their shipped name, each renamed ``<name>-<suffix>``
    so that a test run never touches (or deletes) roles someone bound for real."""
    roles = {}
    for filename in sorted(os.listdir(RBAC_DIR)):
        if not filename.endswith(".yaml"):
            continue
        with open(os.path.join(RBAC_DIR, filename), encoding="utf-8") as handle:
            loaded = yaml.safe_load(handle)
        for doc in loaded["items"] if loaded.get("kind") == "List" else [loaded]:
            if doc.get("kind") == "ClusterRole":
                renamed = copy.deepcopy(doc)
                renamed["metadata"]["name"] = "%s-%s" % (doc["metadata"]["name"], suffix)
                roles[doc["metadata"]["name"]] = renamed
    return roles


def without_verb(role, verb, resource):
    """A copy of ``role`` with ``verb`` removed from every rule on ``resource``, named apart (so that
    it can exist next to the role it was cut from)."""
    trimmed = copy.deepcopy(role)
    trimmed["metadata"]["name"] = "%s-without-%s-%s" % (role["metadata"]["name"], verb, resource)
    for rule in trimmed["rules"]:
        if resource in rule["resources"]:
            rule["verbs"] = [each for each in rule["verbs"] if each != verb]
    trimmed["rules"] = [rule for rule in trimmed["rules"] if rule["verbs"]]
    return trimmed


class Identities:
    """ServiceAccounts in one scratch namespace, bound to ClusterRoles (created here, deleted at
    ``delete``), each with a kubeconfig that authenticates with its token only."""

    def __init__(self, kube, admin_kubeconfig, directory):
        self.kube = kube
        self.admin_kubeconfig = admin_kubeconfig
        self.directory = str(directory)
        self.suffix = uuid.uuid4().hex[:6]
        self.namespace = kube.create_namespace("e2e-identity")
        self.cluster_roles = []
        self.cluster_bindings = []

    def create_role(self, role):
        """Create the ClusterRole ``role`` (once: a second call with the same name does nothing)."""
        from kubernetes import client  # pylint: disable=import-outside-toplevel
        if role["metadata"]["name"] in self.cluster_roles:
            return role["metadata"]["name"]
        rbac = client.RbacAuthorizationV1Api(self.kube.api_client)
        rbac.create_cluster_role(role)
        self.cluster_roles.append(role["metadata"]["name"])
        return role["metadata"]["name"]

    def user(self, account):
        return "system:serviceaccount:%s:%s" % (self.namespace, account)

    def service_account(self, account, bindings):
        """Create ``account`` bound to ``bindings``: ``[(ClusterRole name, namespace or None)]``
        (None: a ClusterRoleBinding). Returns the path of its kubeconfig."""
        from kubernetes import client  # pylint: disable=import-outside-toplevel
        rbac = client.RbacAuthorizationV1Api(self.kube.api_client)
        self.kube.core.create_namespaced_service_account(self.namespace, {"metadata": {"name": account}})
        subject = [{"kind": "ServiceAccount", "name": account, "namespace": self.namespace}]
        for index, (role, namespace) in enumerate(bindings):
            name = "%s-%s-%d" % (account, self.suffix, index)
            body = {"metadata": {"name": name}, "subjects": subject,
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}}
            if namespace is None:
                rbac.create_cluster_role_binding(body)
                self.cluster_bindings.append(name)
            else:
                rbac.create_namespaced_role_binding(namespace, body)
        return self.kubeconfig(account)

    def kubeconfig(self, account):
        """A kubeconfig for ``account``: the admin kubeconfig's cluster, the account's token
        (`kubectl create token`, one hour)."""
        token = self.kube.kubectl("create", "token", account, "-n", self.namespace, "--duration=1h").strip()
        with open(self.admin_kubeconfig, encoding="utf-8") as handle:
            config = yaml.safe_load(handle)
        context = dict(config["contexts"][0])
        context["context"] = dict(context["context"], user=account)
        config.update(users=[{"name": account, "user": {"token": token}}], contexts=[context],
                      **{"current-context": context["name"]})
        path = os.path.join(self.directory, "%s.kubeconfig" % account)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            yaml.safe_dump(config, handle)
        return path

    def delete(self):
        from kubernetes import client  # pylint: disable=import-outside-toplevel
        from kubernetes.client.rest import ApiException  # pylint: disable=import-outside-toplevel
        rbac = client.RbacAuthorizationV1Api(self.kube.api_client)
        for delete, names in ((rbac.delete_cluster_role_binding, self.cluster_bindings),
                              (rbac.delete_cluster_role, self.cluster_roles)):
            for name in names:
                try:
                    delete(name)
                except ApiException as exc:
                    if exc.status != 404:
                        raise
        self.kube.delete_namespace(self.namespace)


# --------------------------------------------------------------------------- the audit log per identity

def request_of(event):
    """``(verb, apiGroup, resource, namespace, name, code)`` of an audit event; None for requests
    without an object (discovery, /version)."""
    ref = event.get("objectRef")
    if not ref or not ref.get("resource"):
        return None
    resource = ref["resource"] + ("/" + ref["subresource"] if ref.get("subresource") else "")
    return (event["verb"], ref.get("apiGroup", ""), resource, ref.get("namespace", ""), ref.get("name", ""),
            (event.get("responseStatus") or {}).get("code"))


def rule_allows(rule, verb, group, resource, name):
    """RBAC's matching of one PolicyRule (no wildcards are used in docs/rbac)."""
    return (verb in rule["verbs"] and group in rule.get("apiGroups", []) and resource in rule["resources"]
            and (not rule.get("resourceNames") or name in rule["resourceNames"]))


def binding_allows(namespace, request_namespace):
    """Whether a binding in ``namespace`` (None: a ClusterRoleBinding) reaches a request in
    ``request_namespace`` ("" for a cluster-wide LIST or a cluster-scoped object, which only a
    ClusterRoleBinding grants)."""
    return namespace is None or namespace == request_namespace


def unused_rules(bindings, requests):
    """``(verb, apiGroup, resource, resourceNames)`` of every rule entry (one per verb) of the
    roles in ``bindings`` - ``[(ClusterRole, namespace it is bound in, or None for a
    ClusterRoleBinding)]`` - that no request the API server let through used where it is bound."""
    unused = set()
    for role, namespace in bindings:
        for rule in role["rules"]:
            for verb in rule["verbs"]:
                for group in rule["apiGroups"]:
                    for resource in rule["resources"]:
                        entry = {"verbs": [verb], "apiGroups": [group], "resources": [resource],
                                 "resourceNames": rule.get("resourceNames")}
                        if not any(req[5] != 403 and binding_allows(namespace, req[3])
                                   and rule_allows(entry, req[0], req[1], req[2], req[4]) for req in requests):
                            unused.add((verb, group, resource, tuple(rule.get("resourceNames") or ())))
    return sorted(unused)


# --------------------------------------------------------------------------- playbook runs

def write_inventory(path, hosts):
    """An inventory of ``hosts`` (name -> host vars), every host one cluster run locally."""
    python = os.path.join(REPO, ".cache", "venv", "bin", "python")
    inventory = {"all": {"vars": {"ansible_connection": "local", "ansible_python_interpreter": python},
                         "hosts": hosts}}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(inventory, handle)
    return path


class PlaybookRun:
    """A finished ansible-playbook process: return code, output, and the reports it wrote."""

    def __init__(self, completed, report_dir):
        self.rc = completed.returncode
        self.output = completed.stdout + completed.stderr
        self.report_dir = report_dir

    def report(self, mode, cluster):
        with open(os.path.join(self.report_dir, mode, cluster + ".json"), encoding="utf-8") as handle:
            return json.load(handle)

    def fleet_markdown(self, mode):
        with open(os.path.join(self.report_dir, mode, "fleet.md"), encoding="utf-8") as handle:
            return handle.read()

    def tail(self, lines=60):
        return "\n".join(self.output.splitlines()[-lines:])


def playbook_command(playbook, inventory, vars_file, args=()):
    return (["ansible-playbook", "-i", inventory, "-e", "@" + vars_file, os.path.join(PLAYBOOKS, playbook)]
            + list(args))


def playbook_env(env):
    run_env = dict(env, ANSIBLE_NOCOLOR="1", ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
                   ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0")
    # Only the inventory says where each cluster is.
    for name in ("KUBECONFIG", "K8S_AUTH_KUBECONFIG", "K8S_AUTH_CONTEXT"):
        run_env.pop(name, None)
    return run_env


def write_vars(directory, name, extra_vars):
    path = os.path.join(str(directory), name)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(extra_vars, handle)
    return path


def run_playbook(env, directory, playbook, inventory, extra_vars, args=(), timeout=900):
    """Run one of playbooks/ as an operator would; reports go to ``<directory>/reports-<run id>``."""
    extra_vars = dict(extra_vars)
    run_id = uuid.uuid4().hex[:6]
    extra_vars.setdefault("rclone_migration_report_dir", os.path.join(str(directory), "reports-" + run_id))
    vars_file = write_vars(directory, "vars-%s.json" % run_id, extra_vars)
    completed = subprocess.run(playbook_command(playbook, inventory, vars_file, args), text=True,
                               capture_output=True, check=False, timeout=timeout, env=playbook_env(env))
    return PlaybookRun(completed, extra_vars["rclone_migration_report_dir"])


def start_playbook(env, directory, playbook, inventory, extra_vars, args=()):
    """Start a playbook run in the background; ``finish_playbook`` collects it. Its output goes to
    files (a pipe nobody reads until the end would stop a run whose output outgrows it)."""
    extra_vars = dict(extra_vars)
    run_id = uuid.uuid4().hex[:6]
    extra_vars.setdefault("rclone_migration_report_dir", os.path.join(str(directory), "reports-" + run_id))
    vars_file = write_vars(directory, "vars-%s.json" % run_id, extra_vars)
    outputs = [os.path.join(str(directory), "run-%s.%s" % (run_id, stream)) for stream in ("stdout", "stderr")]
    with open(outputs[0], "w", encoding="utf-8") as stdout, open(outputs[1], "w", encoding="utf-8") as stderr:
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            playbook_command(playbook, inventory, vars_file, args), text=True, stdout=stdout, stderr=stderr,
            env=playbook_env(env))
    process.report_dir = extra_vars["rclone_migration_report_dir"]
    process.outputs = outputs
    return process


def _read_text(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def finish_playbook(process, timeout=900):
    process.wait(timeout=timeout)
    stdout, stderr = [_read_text(path) for path in process.outputs]
    return PlaybookRun(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr),
                       process.report_dir)


def wait_for_deployments(kube, namespace, count, timeout=60):
    """Wait until ``count`` model Deployments exist in ``namespace`` (the stand-in rendered them)."""
    def _rendered():
        items = kube.apps.list_namespaced_deployment(namespace, label_selector="seldon-deployment-id").items
        return len(items) >= count and all((item.status.ready_replicas or 0) >= 1 for item in items)
    return wait_for(_rendered, timeout=timeout, what="%d model Deployments in %s" % (count, namespace))
