# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the e2e tests of the Seldon operator stand-in and the init container runner.

They run against the project's local cluster through the shared fixtures of tests/conftest.py
(``kubeconfig``, ``cluster_env``). Every namespace they create starts with ``e2e-`` and is deleted
afterwards. Scene namespaces carry ``seldon.io/controller-id`` so a cluster-wide stand-in started
by someone else leaves them to the stand-in each test starts for itself.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

import pytest
import yaml

from e2e_support import SCENE_DIR, Kube, StandInProcess, controller_objects, render_scene


@pytest.fixture(scope="session", name="s3")
def s3_fixture(cluster_env):
    """The local S3 server's endpoint and credentials (from hack/cluster.sh env)."""
    missing = [name for name in ("S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY") if not cluster_env.get(name)]
    if missing:
        pytest.fail("%s not exported by hack/cluster.sh env" % ", ".join(missing), pytrace=False)
    return {
        "access_key_id": cluster_env["S3_ACCESS_KEY_ID"],
        "secret_access_key": cluster_env["S3_SECRET_ACCESS_KEY"],
        "endpoint": cluster_env.get("S3_ENDPOINT") or render_scene.DEFAULT_S3_ENDPOINT,
    }


@pytest.fixture(scope="session", name="kube")
def kube_fixture(kubeconfig, cluster_env):
    return Kube(kubeconfig, cluster_env)


@pytest.fixture(scope="session", name="model_in_s3")
def model_in_s3_fixture(cluster_env, s3):  # pylint: disable=unused-argument
    """The iris model at s3://sklearn/iris/model.joblib on the local S3 server (real upload)."""
    completed = subprocess.run([os.path.join(SCENE_DIR, "scene.sh"), "upload"], text=True, capture_output=True,
                               check=False, env=cluster_env)
    assert completed.returncode == 0, "model upload failed: %s" % completed.stderr[-2000:]
    assert "model.joblib" in completed.stdout
    return "s3://sklearn/iris"


@pytest.fixture(name="controller_namespace")
def controller_namespace_fixture(kube):
    """A scratch copy of seldon-system (never the shared one): seldon-config says kfserving."""
    namespace = kube.create_namespace("e2e-standin-system")
    kube.apply(controller_objects(namespace))
    yield namespace
    kube.delete_namespace(namespace)


@pytest.fixture(name="scene_namespace")
def scene_namespace_fixture(kube, s3, model_in_s3):  # pylint: disable=unused-argument
    """The seed scene (kfserving-format secrets, SA, two SKLearn SDeps) in a fresh e2e- namespace."""
    namespace = kube.create_namespace("e2e-scene")
    kube.core.patch_namespace(namespace, {"metadata": {"labels": {"seldon.io/controller-id": namespace}}})
    values = render_scene.scene_values(namespace, s3["access_key_id"], s3["secret_access_key"], s3["endpoint"])
    with open(render_scene.DEFAULT_TEMPLATE, encoding="utf-8") as handle:
        scene = yaml.safe_load(render_scene.render(handle.read(), values))
    kube.apply([item for item in scene["items"] if item["kind"] != "Namespace"])
    yield namespace
    kube.delete_namespace(namespace)


@pytest.fixture(name="standin")
def standin_fixture(tmp_path, scene_namespace, controller_namespace, cluster_env):
    """A loop-mode stand-in for the scene namespace, reading the scratch controller namespace."""
    process = StandInProcess(tmp_path, scene_namespace, controller_namespace, cluster_env)
    process.wait_for_pass_after(0)
    yield process
    process.stop()
