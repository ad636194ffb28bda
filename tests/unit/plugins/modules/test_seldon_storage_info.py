# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""seldon_storage_info's flow against the in-memory API: read-only, operator settings, counts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

import pytest

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_access
from ansible_collections.seldon_ops.rclone_migration.plugins.modules import seldon_storage_info


def b64(value):
    return base64.b64encode(value.encode()).decode()


def seed(cluster, namespace="core-info", default_env_secret="seldon-default"):
    cluster.add("Deployment", {"metadata": {"name": "seldon-controller-manager", "namespace": "seldon-system"},
                               "spec": {"template": {"spec": {"containers": [{
                                   "name": "manager", "image": "docker.io/seldonio/seldon-core-operator:1.13.1",
                                   "env": [{"name": "PREDICTIVE_UNIT_DEFAULT_ENV_SECRET_REF_NAME",
                                            "value": default_env_secret},
                                           {"name": "RELATED_IMAGE_STORAGE_INITIALIZER", "value": ""}]}]}}}})
    cluster.add("ConfigMap", {"metadata": {"name": "seldon-config", "namespace": "seldon-system"}, "data": {
        "storageInitializer": json.dumps({"image": "kfserving/storage-initializer:v0.6.1"})}})
    cluster.add("Secret", {"metadata": {"name": "seldon-default", "namespace": namespace}, "data": {
        "AWS_ACCESS_KEY_ID": b64("#canary-id-01"), "AWS_SECRET_ACCESS_KEY": b64("#canary-key-02")}})
    cluster.add("ServiceAccount", {"metadata": {"name": "default", "namespace": namespace}})
    cluster.add("SeldonDeployment", {"metadata": {"name": "uses-default", "namespace": namespace}, "spec": {
        "predictors": [{"name": "p", "graph": {"name": "m", "implementation": "SKLEARN_SERVER", "modelUri": "s3://b/m"}}]}})


def test_reads_controller_default_secret_and_reports_without_writing(cluster, run_module):
    seed(cluster)
    result, failed, module = run_module(seldon_storage_info, namespaces=["core-info"])
    assert not failed and result["changed"] is False
    (node,) = result["nodes"]
    assert (node["credentials"], node["secret"], node["status"]) == ("defaultEnvSecretRefName", "seldon-default", "convertible")
    assert result["seldon"]["default_env_secret_ref_name_source"] == "controller"
    assert result["seldon"]["storage_initializer_image"] == "kfserving/storage-initializer:v0.6.1"
    assert result["ready_for_upgrade"] is False
    assert result["api_requests"] == {"get": 2, "list": 3}
    assert cluster.writes() == [] and module.warnings == []
    dumped = json.dumps(result)
    assert "#canary" not in dumped and b64("#canary-key-02") not in dumped


def test_given_default_still_reads_the_controller_for_the_operator_release(cluster, run_module):
    seed(cluster)
    result, _failed, _module = run_module(seldon_storage_info, namespaces=["core-info"], default_env_secret_ref_name="")
    # the controller's image tag names the operator release whose rules apply
    assert result["api_requests"] == {"get": 2, "list": 3}
    assert result["seldon"]["operator"]["version"] == "1.13.1"
    assert result["seldon"]["default_env_secret_ref_name_source"] == "option"
    assert result["nodes"][0]["status"] == "blocked"
    assert "no credentials for remote S3" in result["nodes"][0]["reason"]


def test_unreadable_operator_settings_warn(cluster, run_module):
    seed(cluster)
    cluster.forbidden.update({"Deployment", "ConfigMap"})
    result, failed, module = run_module(seldon_storage_info, namespaces=["core-info"])
    assert not failed and len(module.warnings) == 2
    assert "403 Forbidden" in module.warnings[0] and "secret-bearing" not in module.warnings[0]
    assert result["seldon"]["default_env_secret_ref_name"] == ""


def test_list_failure_is_a_sanitised_error(cluster, run_module):
    seed(cluster)
    cluster.forbidden.add("Secret")
    with pytest.raises(kube_access.KubeAccessError) as caught:
        run_module(seldon_storage_info, namespaces=["core-info"], read_seldon_config=False)
    assert str(caught.value) == "LIST Secret in namespace core-info: 403 Forbidden"


def test_requests_scale_with_namespaces_not_objects(cluster, run_module):
    for index in range(5):
        namespace = "core-n{0}".format(index)
        seed(cluster, namespace)
        for extra in range(10):
            cluster.add("SeldonDeployment", {"metadata": {"name": "extra-{0}".format(extra), "namespace": namespace},
                                             "spec": {"predictors": [{"name": "p", "graph": {
                                                 "name": "m", "implementation": "XGBOOST_SERVER",
                                                 "modelUri": "gs://public/m"}}]}})
    namespaces = ["core-n{0}".format(index) for index in range(5)]
    result, _failed, _module = run_module(seldon_storage_info, namespaces=namespaces)
    assert result["summary"]["nodes"] == 55
    assert result["api_requests"] == {"get": 2, "list": 15}


def watching_controller(env=(), args=()):
    return {"metadata": {"name": "seldon-controller-manager", "namespace": "seldon-system"},
            "spec": {"template": {"spec": {"containers": [{
                "name": "manager", "image": "docker.io/seldonio/seldon-core-operator:1.17.1", "args": list(args),
                "env": [{"name": name, "value": value} for name, value in env]}]}}}}


def sdep_in(cluster, namespace, name, controller_id=None):
    labels = {"seldon.io/controller-id": controller_id} if controller_id else {}
    cluster.add("SeldonDeployment", {"metadata": {"name": name, "namespace": namespace, "labels": labels},
                                     "spec": {"predictors": [{"name": "p", "graph": {
                                         "name": "m", "implementation": "SKLEARN_SERVER", "modelUri": "s3://b/m"}}]}})


def test_without_namespaces_the_gate_sees_everything_the_operator_reconciles_and_nothing_else(cluster, run_module):
    cluster.add("Deployment", watching_controller(env=[("CONTROLLER_ID", "")]))
    cluster.add("Namespace", {"metadata": {"name": "other-team", "labels": {"seldon.io/controller-id": "team-b"}}})
    for namespace in ("models", "elsewhere"):
        cluster.add("Namespace", {"metadata": {"name": namespace}})
    for namespace in ("models", "elsewhere", "other-team"):
        sdep_in(cluster, namespace, "iris")
    sdep_in(cluster, "models", "for-b", controller_id="team-b")
    result, _failed, _module = run_module(seldon_storage_info)
    assert sorted((n["namespace"], n["deployment"]) for n in result["nodes"]) == [("elsewhere", "iris"), ("models", "iris")]
    unwatched = dict(((u["namespace"], u["name"]), u["reason"]) for u in result["unwatched_deployments"])
    assert "another operator manages it" in unwatched[("other-team", "iris")]
    assert "does not match the operator's CONTROLLER_ID" in unwatched[("models", "for-b")]
    assert result["ready_for_upgrade"] is False  # elsewhere/iris would break, whatever namespaces a run converts


@pytest.mark.parametrize("env,args", [([("WATCH_NAMESPACE", "models")], []), ([], ["--namespace=models"]),
                                      ([], ["--namespace", "models"])])
def test_a_namespaced_operator_is_read_in_its_namespace_only(cluster, run_module, env, args):
    cluster.add("Deployment", watching_controller(env=env, args=args))
    for namespace in ("models", "elsewhere"):
        sdep_in(cluster, namespace, "iris")
    result, _failed, _module = run_module(seldon_storage_info)
    assert [n["namespace"] for n in result["nodes"]] == ["models"]
    assert result["seldon"]["watch"] == {"namespace": "models", "controller_id": ""}
    assert [call[2] for call in cluster.calls if call[0] == "list"] == ["models"] * 3
