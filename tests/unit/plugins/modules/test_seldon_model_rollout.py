# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""seldon_model_rollout's flow against the in-memory API: which restart each release gets, idempotence,
verification from the live objects."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import model_rollout as mr
from ansible_collections.seldon_ops.rclone_migration.plugins.modules import seldon_model_rollout

RCLONE = "docker.io/seldonio/rclone-storage-initializer:1.17.1"


def seed(cluster, version, init_image=RCLONE):
    cluster.add("Deployment", {"metadata": {"name": "seldon-controller-manager", "namespace": "seldon-system"},
                               "spec": {"template": {"spec": {"containers": [{
                                   "name": "manager", "image": "seldonio/seldon-core-operator:" + version}]}}}})
    cluster.add("SeldonDeployment", {"metadata": {"name": "iris", "namespace": "models"}, "spec": {"predictors": [
        {"name": "default", "graph": {"name": "classifier", "implementation": "SKLEARN_SERVER",
                                      "modelUri": "s3://b/m", "envSecretRefName": "s3-secret"}}]}})
    cluster.add("Deployment", {"metadata": {"name": "iris-default-0-classifier", "namespace": "models", "uid": "d1",
                                            "generation": 1, "labels": {"seldon-deployment-id": "iris"}},
                               "spec": {"replicas": 1, "template": {"spec": {"initContainers": [{
                                   "name": "classifier-model-initializer", "image": init_image,
                                   "envFrom": [{"secretRef": {"name": "s3-secret"}}]}]}}},
                               "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1,
                                          "availableReplicas": 1}})
    cluster.add("ReplicaSet", {"metadata": {"name": "rs1", "namespace": "models", "uid": "rs1",
                                            "annotations": {mr.REVISION_ANNOTATION: "1"},
                                            "ownerReferences": [{"uid": "d1"}], "labels": {"seldon-deployment-id": "iris"}},
                               "spec": {"replicas": 1}, "status": {"readyReplicas": 1}})


@pytest.mark.parametrize("version,kind", [("1.17.1", "SeldonDeployment"), ("1.13.1", "Deployment")])
def test_restart_goes_where_the_release_keeps_it_and_once(cluster, run_module, version, kind):
    seed(cluster, version)
    if kind == "SeldonDeployment":
        # the operator copies the SeldonDeployment's spec.annotations into the pod template (no operator here)
        cluster.bump("Deployment", "models", "iris-default-0-classifier", lambda obj: obj["spec"]["template"].update(
            metadata={"annotations": {mr.RESTART_ANNOTATION: "2026-12-02T10:00:00Z"}}))
    result, failed, _module = run_module(seldon_model_rollout, namespaces=["models"], image=RCLONE,
                                         restarted_at="2026-12-02T10:00:00Z", wait_sleep=1, settle_polls=0)
    assert not failed and result["changed"] and result["operator_version"] == version
    assert [(call[0], call[1]) for call in cluster.writes()] == [("patch", kind)]
    assert result["deployments"][0]["verified"] is True
    cluster.calls[:] = []
    result, failed, _module = run_module(seldon_model_rollout, namespaces=["models"], image=RCLONE,
                                         restarted_at="2026-12-02T10:00:00Z", wait_sleep=1, settle_polls=0)
    assert not failed and not result["changed"] and cluster.writes() == []


def test_a_deployment_still_on_the_old_image_is_named_and_fails_the_task(cluster, run_module):
    seed(cluster, "1.17.1", init_image="kfserving/storage-initializer:v0.6.1")
    result, failed, _module = run_module(seldon_model_rollout, namespaces=["models"], image=RCLONE, wait_timeout=0,
                                         settle_polls=0)
    assert failed and "runs kfserving/storage-initializer:v0.6.1" in result["msg"]
    assert result["unverified"][0]["name"] == "iris-default-0-classifier"


def test_check_mode_writes_nothing(cluster, run_module):
    seed(cluster, "1.17.1")
    result, failed, _module = run_module(seldon_model_rollout, check_mode=True, namespaces=["models"], image=RCLONE,
                                         restarted_at="2026-12-02T10:00:00Z")
    assert not failed and result["restarted"] == ["models/iris"] and cluster.writes() == []


def test_a_restart_the_operator_has_not_rendered_is_not_verified(cluster, run_module):
    seed(cluster, "1.17.1")
    result, failed, _module = run_module(seldon_model_rollout, namespaces=["models"], image=RCLONE, wait_timeout=0,
                                         settle_polls=0, restarted_at="2026-12-02T10:00:00Z")
    assert failed and "does not carry the restart 2026-12-02T10:00:00Z yet" in result["msg"]
