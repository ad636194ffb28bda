# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""seldon_deployment_secret_ref's flow against the in-memory API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import json

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import secret_ref_plan
from ansible_collections.seldon_ops.rclone_migration.plugins.modules import seldon_deployment_secret_ref as secret_ref


def b64(value):
    return base64.b64encode(value.encode()).decode()


def model(name, **extra):
    out = {"name": name, "implementation": "SKLEARN_SERVER", "modelUri": "s3://models/" + name}
    out.update(extra)
    return out


def seed(cluster, namespace="core-refs"):
    cluster.add("Secret", {"metadata": {"name": "sa-secret", "namespace": namespace},
                           "data": {"awsAccessKeyID": b64("#id-canary-0001"), "awsSecretAccessKey": b64("#key-canary-0002")}})
    cluster.add("Secret", {"metadata": {"name": "env-secret", "namespace": namespace},
                           "data": {"AWS_ACCESS_KEY_ID": b64("#id-canary-0003"), "AWS_SECRET_ACCESS_KEY": b64("#key-canary-0004")}})
    cluster.add("ServiceAccount", {"metadata": {"name": "default", "namespace": namespace}})
    cluster.add("ServiceAccount", {"metadata": {"name": "s3-sa", "namespace": namespace}, "secrets": [{"name": "sa-secret"}]})
    graph = {"name": "router", "implementation": "RANDOM_ABTEST", "children": [
        model("a", serviceAccountName="s3-sa"),
        {"name": "combiner", "implementation": "AVERAGE_COMBINER", "children": [
            model("b", serviceAccountName="s3-sa"),
            model("c", envSecretRefName="env-secret"),
        ]},
    ]}
    cluster.add("SeldonDeployment", {"metadata": {"name": "nested", "namespace": namespace}, "spec": {"predictors": [
        {"name": "main", "graph": graph,
         "explainer": {"type": "AnchorTabular", "modelUri": "s3://models/explainer", "serviceAccountName": "s3-sa"}}]}})
    cluster.add("SeldonDeployment", {"metadata": {"name": "env-only", "namespace": namespace}, "spec": {"predictors": [
        {"name": "main", "graph": model("m", envSecretRefName="env-secret")}]}})
    cluster.add("SeldonDeployment", {"metadata": {"name": "no-creds", "namespace": namespace}, "spec": {"predictors": [
        {"name": "main", "graph": model("m")}]}})


def test_sets_refs_on_nested_nodes_and_explainer_then_nothing(cluster, run_module):
    seed(cluster)
    original = copy.deepcopy(cluster.obj("SeldonDeployment", "core-refs", "nested"))
    result, failed, _module = run_module(secret_ref, namespaces=["core-refs"])
    assert not failed and result["changed"]
    entries = dict((e["name"], e) for e in result["deployments"])
    assert entries["nested"]["action"] == "patched"
    assert entries["env-only"]["action"] == "unchanged"
    assert entries["no-creds"]["action"] == "blocked"
    assert "lists no secrets" in entries["no-creds"]["reason"]
    assert dict((n["ref"], n["action"]) for n in entries["nested"]["nodes"]) == {
        "main/a": "set", "main/b": "set", "main/c": "unchanged", "main/.explainer": "set"}
    assert [call[0] for call in cluster.writes()] == ["patch"]

    stored = cluster.obj("SeldonDeployment", "core-refs", "nested")
    predictor = stored["spec"]["predictors"][0]
    assert predictor["graph"]["children"][0]["envSecretRefName"] == "sa-secret"
    assert predictor["graph"]["children"][0]["serviceAccountName"] == "s3-sa"
    assert predictor["graph"]["children"][1]["children"][0]["envSecretRefName"] == "sa-secret"
    assert predictor["explainer"]["envSecretRefName"] == "sa-secret"
    assert json.loads(stored["metadata"]["annotations"][secret_ref_plan.SECRET_REFS_ANNOTATION]) == {
        "main/.explainer": "sa-secret", "main/a": "sa-secret", "main/b": "sa-secret"}
    diff = result["diff"]["after"]["core-refs/nested"]
    assert diff == {"main/a": {"envSecretRefName": "sa-secret"}, "main/b": {"envSecretRefName": "sa-secret"},
                    "main/.explainer": {"envSecretRefName": "sa-secret"}}
    dumped = json.dumps(result)
    assert "#id-canary" not in dumped and "#key-canary" not in dumped

    cluster.calls[:] = []
    result, _failed, _module = run_module(secret_ref, namespaces=["core-refs"])
    assert not result["changed"] and cluster.writes() == []

    result, _failed, _module = run_module(secret_ref, namespaces=["core-refs"], state="absent")
    assert result["changed"]
    assert [(e["name"], e["action"]) for e in result["deployments"]] == [("nested", "removed")]
    restored = cluster.obj("SeldonDeployment", "core-refs", "nested")
    restored["metadata"].pop("annotations")
    original["metadata"].pop("resourceVersion")
    restored["metadata"].pop("resourceVersion")
    assert restored == original


def test_check_mode_writes_nothing(cluster, run_module):
    seed(cluster)
    result, _failed, _module = run_module(secret_ref, check_mode=True, namespaces=["core-refs"])
    assert result["changed"] and cluster.writes() == []
    assert "core-refs/nested" in result["diff"]["after"]


def test_given_secret_name_also_covers_nodes_without_credentials(cluster, run_module):
    seed(cluster)
    result, _failed, _module = run_module(secret_ref, namespaces=["core-refs"], secret_name="env-secret")
    entries = dict((e["name"], e["action"]) for e in result["deployments"])
    assert entries == {"nested": "patched", "env-only": "unchanged", "no-creds": "patched"}
    stored = cluster.obj("SeldonDeployment", "core-refs", "no-creds")
    assert stored["spec"]["predictors"][0]["graph"]["envSecretRefName"] == "env-secret"


def test_conflict_is_retried_on_a_fresh_read(cluster, run_module):
    seed(cluster)
    cluster.conflicts_to_inject[("SeldonDeployment", "core-refs", "nested")] = 2
    result, failed, _module = run_module(secret_ref, namespaces=["core-refs"])
    assert not failed
    nested_calls = [call[0] for call in cluster.calls if call[3] == "nested"]
    assert nested_calls == ["patch", "get", "patch", "get", "patch"]
    assert dict((e["name"], e["action"]) for e in result["deployments"])["nested"] == "patched"


def test_failed_patch_is_reported_per_object(cluster, run_module):
    seed(cluster)
    cluster.add("SeldonDeployment", {"metadata": {"name": "second", "namespace": "core-refs"}, "spec": {"predictors": [
        {"name": "main", "graph": model("m", serviceAccountName="s3-sa")}]}})
    cluster.forbidden_writes.add(("SeldonDeployment", "core-refs", "nested"))
    result, failed, _module = run_module(secret_ref, namespaces=["core-refs"])
    assert failed
    entries = dict((e["name"], e["action"]) for e in result["deployments"])
    assert entries["nested"] == "failed" and entries["second"] == "patched"
