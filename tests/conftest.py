# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for every pytest test that needs the project's local cluster (``make cluster-up``).

``kubeconfig``  path of the admin kubeconfig; fails with a clear message when the cluster is down.
``k8s_client``  kubernetes ``ApiClient`` built from it.
``audit``       ``helpers.audit.AuditLog`` over the API server's audit log (request counting).
``cluster_env`` environment for subprocesses: ``hack/cluster.sh env`` applied (KUBECONFIG, S3_*,
                PATH with the built kubectl, helm, rclone).
``make_namespace`` creates namespaces with a given prefix, deleted after the test.

Fixtures resolve only when a test asks for them: unit tests never touch a cluster.
The cluster is the local one unless ``TEST_KUBECONFIG`` / ``TEST_AUDIT_LOG`` name others; the
plain ``KUBECONFIG`` is ignored on purpose, so a shell pointed at a real cluster never receives
test objects by accident.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys
import uuid

import pytest

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(TESTS_DIR)
CLUSTER_DIR = os.path.join(REPO_ROOT, ".cache", "cluster")
DEFAULT_KUBECONFIG = os.path.join(CLUSTER_DIR, "admin.kubeconfig")
DEFAULT_AUDIT_LOG = os.path.join(CLUSTER_DIR, "audit.log")
# The user of the admin client certificate hack/cluster.sh issues.
ADMIN_USER = "admin"

if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from helpers.audit import AuditLog  # noqa: E402  pylint: disable=wrong-import-position

NOT_RUNNING = (
    "The local Kubernetes cluster is not answering at {server} ({reason}). "
    "Start it with `make cluster-up` (stop it with `make cluster-down`); see docs/local-cluster.md."
)


@pytest.fixture(scope="session")
def kubeconfig():
    """Path of the admin kubeconfig of a cluster that answers /readyz."""
    path = os.environ.get("TEST_KUBECONFIG", DEFAULT_KUBECONFIG)
    if not os.path.isfile(path):
        pytest.fail(NOT_RUNNING.format(server=path, reason="no kubeconfig there"), pytrace=False)
    from kubernetes import config  # pylint: disable=import-outside-toplevel

    api_client = config.new_client_from_config(config_file=path)
    server = api_client.configuration.host
    try:
        ready = api_client.call_api(
            "/readyz", "GET", auth_settings=["BearerToken"], _preload_content=False, _request_timeout=5
        )[0].data.decode()
    except Exception as exc:  # pylint: disable=broad-except
        # Only the exception type: API error bodies may echo request data.
        pytest.fail(NOT_RUNNING.format(server=server, reason=type(exc).__name__), pytrace=False)
    finally:
        api_client.close()
    if ready.strip() != "ok":
        pytest.fail(NOT_RUNNING.format(server=server, reason="/readyz says %r" % ready[:80]), pytrace=False)
    return path


@pytest.fixture(scope="session")
def k8s_client(kubeconfig):
    """kubernetes.client.ApiClient for the admin user of the cluster."""
    from kubernetes import config  # pylint: disable=import-outside-toplevel

    api_client = config.new_client_from_config(config_file=kubeconfig)
    yield api_client
    api_client.close()


@pytest.fixture(scope="session")
def audit(k8s_client):
    """AuditLog over the cluster's audit log; counts the admin user's requests by default."""
    path = os.environ.get("TEST_AUDIT_LOG", DEFAULT_AUDIT_LOG)
    if not os.path.isfile(path):
        pytest.fail("No audit log at %s: is this the cluster `make cluster-up` started?" % path, pytrace=False)

    def probe(token):
        k8s_client.call_api(
            "/version", "GET", query_params=[("audit-sync", token)], auth_settings=["BearerToken"],
            _preload_content=False, _request_timeout=5,
        )

    return AuditLog(path, user=ADMIN_USER, probe=probe)


@pytest.fixture(scope="session")
def cluster_env(kubeconfig):
    """os.environ plus the exports of `hack/cluster.sh env`, for kubectl/helm/rclone subprocesses."""
    script = os.path.join(REPO_ROOT, "hack", "cluster.sh")
    output = subprocess.run(
        ["bash", "-c", 'eval "$("$0" env)" && env -0', script],
        check=True, stdout=subprocess.PIPE,
    ).stdout.decode()
    env = dict(item.split("=", 1) for item in output.split("\0") if "=" in item)
    env["KUBECONFIG"] = kubeconfig
    return env


@pytest.fixture
def make_namespace(k8s_client):
    """make_namespace(prefix) -> name of a new namespace ``<prefix>-<random>``, deleted after the test."""
    from kubernetes import client  # pylint: disable=import-outside-toplevel

    core = client.CoreV1Api(k8s_client)
    created = []

    def make(prefix):
        name = "%s-%s" % (prefix, uuid.uuid4().hex[:8])
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
        created.append(name)
        return name

    yield make
    for name in created:
        try:
            core.delete_namespace(name)
        except client.ApiException as exc:
            if exc.status != 404:
                raise
