# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.seldon_ops.rclone_migration.plugins.filter import migration_report as mr
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import status as st
from ansible_collections.seldon_ops.rclone_migration.tests.unit.plugins.module_utils.test_canary_pins import (
    nested_graph,
    sdep,
)

RCLONE = "docker.io/seldonio/rclone-storage-initializer:1.17.1"
KFSERVING = "gcr.io/kfserving/storage-initializer:v0.4.0"


def deployment(name, sdep_name, init_containers, generation=2, observed=2, replicas=1, updated=1, available=1):
    return {
        "metadata": {"name": name, "namespace": "models", "generation": generation,
                     "labels": {"seldon-deployment-id": sdep_name}},
        "spec": {"replicas": replicas, "template": {"spec": {
            "initContainers": [{"name": n, "image": i} for n, i in init_containers],
            "containers": [{"name": "x", "image": "y"}]}}},
        "status": {"observedGeneration": observed, "replicas": updated, "updatedReplicas": updated,
                   "availableReplicas": available},
    }


# --- storage_initializer_image ------------------------------------------------------------------

def config_map(image):
    return [{"data": {"storageInitializer": json.dumps({"image": image, "cpuRequest": "100m"})}}]


def controller(env_value=None):
    env = [{"name": "RELATED_IMAGE_STORAGE_INITIALIZER", "value": env_value}] if env_value is not None else []
    return [{"spec": {"template": {"spec": {"containers": [{"name": "manager", "env": env}]}}}}]


def test_image_from_seldon_config():
    result = mr.storage_initializer_image(config_map(KFSERVING), controller(""))
    assert (result["image"], result["source"]) == (KFSERVING, "seldon-config storageInitializer")
    assert result["operator_found"] is True


def test_controller_env_wins_over_seldon_config():
    result = mr.storage_initializer_image(config_map(RCLONE), controller(KFSERVING))
    assert result["image"] == KFSERVING
    assert result["controller_env_image"] == KFSERVING
    assert result["configmap_image"] == RCLONE


def test_operator_default_without_config():
    result = mr.storage_initializer_image([], [])
    assert result["image"] == mr.OPERATOR_DEFAULT_INITIALIZER
    assert result["operator_found"] is False


def test_invalid_seldon_config_json_is_a_clear_error():
    with pytest.raises(AnsibleFilterError, match="not valid JSON"):
        mr.storage_initializer_image([{"data": {"storageInitializer": "{nope"}}])


# --- storage_summary / conversion_outcome --------------------------------------------------------

INFO = {
    "nodes": [
        {"namespace": "m", "deployment": "a", "predictor": "p", "node": "n1", "status": "migrated", "reason": "ok"},
        {"namespace": "m", "deployment": "a", "predictor": "p", "node": "n2", "status": "convertible", "reason": "c"},
        {"namespace": "m", "deployment": "b", "predictor": "p", "node": "n", "status": "needs_secret_ref", "reason": "sa"},
        {"namespace": "m", "deployment": "c", "predictor": "p", "node": ".explainer", "status": "blocked",
         "reason": "secret s3-creds missing"},
    ],
    "secrets": [
        {"namespace": "m", "name": "az", "status": "blocked", "reason": "Azure service principal"},
        {"namespace": "m", "name": "ok", "status": "convertible", "reason": ""},
    ],
    "summary": {"deployments": 4},
    "ready_for_upgrade": False,
}


def test_storage_summary_counts_and_findings():
    summary = mr.storage_summary(INFO)
    assert summary["counts"] == {"migrated": 1, "convertible": 1, "needs_secret_ref": 1, "blocked": 1,
                                 "no_credentials": 0, "hand_written": 0, "failing_before": 0, "deployments": 4,
                                 "nodes": 4}
    assert [f["text"] for f in summary["blocked"]] == [
        "m/c p/.explainer: secret s3-creds missing", "secret m/az: Azure service principal"]
    assert [f["where"] for f in summary["not_ready"]] == ["m/a p/n2", "m/b p/n", "m/c p/.explainer"]
    assert summary["ready_for_upgrade"] is False


def test_storage_summary_counts_deployments_without_summary():
    info = dict(INFO, summary={})
    assert mr.storage_summary(info)["counts"]["deployments"] == 3


def test_storage_summary_of_nothing():
    summary = mr.storage_summary({})
    assert summary["counts"]["nodes"] == 0 and summary["blocked"] == [] and summary["ready_for_upgrade"] is False


def test_conversion_outcome():
    outcome = mr.conversion_outcome(
        [{"namespace": "m", "name": "s1", "action": "converted", "added_keys": ["RCLONE_CONFIG_S3_TYPE"]},
         {"namespace": "m", "name": "s2", "action": "unchanged"},
         {"namespace": "m", "name": "s3", "action": "conflict", "reason": "RCLONE_CONFIG_S3_ENDPOINT differs"},
         {"namespace": "m", "name": "s4", "action": "skipped", "reason": "no credentials"}],
        [{"namespace": "m", "name": "d1", "action": "patched", "nodes": [{"ref": "p/n", "action": "set", "secret": "s1"}]},
         {"namespace": "m", "name": "d2", "action": "unchanged", "nodes": []},
         {"namespace": "m", "name": "d3", "action": "blocked", "reason": "service account lists no S3 secret"}])
    assert outcome["secret_actions"] == {"converted": 1, "unchanged": 1, "conflict": 1, "skipped": 1}
    assert [s["name"] for s in outcome["converted"]] == ["s1"]
    assert [d["name"] for d in outcome["refs_added"]] == ["d1"]
    assert outcome["problems"] == [
        "secret m/s3: conflict: RCLONE_CONFIG_S3_ENDPOINT differs",
        "SeldonDeployment m/d3: blocked: service account lists no S3 secret"]
    assert outcome["changed"] is True


def test_conversion_outcome_nothing_changed():
    outcome = mr.conversion_outcome([{"action": "unchanged"}], [{"action": "unchanged"}])
    assert outcome["changed"] is False and outcome["problems"] == []


# --- model_rollout_state -------------------------------------------------------------------------

def test_rollout_state_expects_the_target_except_own_pins():
    obj = sdep(graph=nested_graph())
    deployments = [deployment("iris-default-0-a-b-c", "iris", [
        ("a-model-initializer", RCLONE), ("b-model-initializer", "example.org/own:1"),
        ("c-model-initializer", KFSERVING)])]
    state = mr.model_rollout_state(deployments, [obj], RCLONE)
    assert state["mismatches"] == [{"namespace": "models", "deployment": "iris-default-0-a-b-c",
                                    "container": "c-model-initializer", "image": KFSERVING, "expected": RCLONE}]
    assert state["incomplete"] == [] and state["done"] is False


def test_rollout_state_explainer_and_progress():
    obj = sdep(explainer={"type": "AnchorTabular", "modelUri": "s3://e/x", "storageInitializerImage": KFSERVING})
    deployments = [
        deployment("iris-default-explainer", "iris", [("explainer-model-initializer", KFSERVING)]),
        deployment("iris-default-0-classifier", "iris", [("classifier-model-initializer", RCLONE)], generation=3),
    ]
    state = mr.model_rollout_state(deployments, [obj], RCLONE)
    assert state["mismatches"] == []
    assert [i["deployment"] for i in state["incomplete"]] == ["iris-default-0-classifier"]
    assert state["deployments"] == ["models/iris-default-explainer", "models/iris-default-0-classifier"]


def test_rollout_state_done():
    state = mr.model_rollout_state(
        [deployment("d", "iris", [("classifier-model-initializer", RCLONE)])], [sdep()], RCLONE)
    assert state["done"] is True


def test_rollout_problems_are_sentences():
    problems = mr.rollout_problems(
        [{"kind": "Deployment", "namespace": "m", "name": "d", "reason": "not complete after 5s"}],
        {"mismatches": [{"namespace": "m", "deployment": "d", "container": "c-model-initializer",
                         "image": KFSERVING, "expected": RCLONE}]})
    assert problems == [
        "rollout of Deployment m/d not complete: not complete after 5s",
        "m/d init container c-model-initializer runs {0}, expected {1}".format(KFSERVING, RCLONE)]


# --- fleet_summary -------------------------------------------------------------------------------

def test_fleet_summary_rows_totals_and_missing_reports():
    reports = {
        "prod": {"cluster": "prod", "context": "prod-ctx", "status": "blocked",
                 "counts": {"deployments": 3, "nodes": 4, "migrated": 1, "blocked": 1},
                 "blocked": [{"text": "m/a p/n: secret missing"}], "problems": [],
                 "storage_initializer": {"before": KFSERVING}},
        "stage": {"cluster": "stage", "status": "failed", "error": "API unreachable",
                  "counts": {}, "blocked": [], "problems": ["x"]},
    }
    summary = mr.fleet_summary(reports, ["stage", "prod", "dev"])
    assert [r["cluster"] for r in summary["rows"]] == ["stage", "prod", "dev"]
    prod = summary["rows"][1]
    assert (prod["deployments"], prod["migrated"], prod["blocked"], prod["reasons"], prod["image"]) == (
        3, 1, 1, ["m/a p/n: secret missing"], KFSERVING)
    assert summary["rows"][0]["problems"] == ["API unreachable", "x"]
    assert summary["rows"][2]["status"] == "no report" and summary["rows"][2]["reasons"] == []
    assert summary["totals"] == {"clusters": 3, "deployments": 3, "nodes": 4, "migrated": 1, "blocked": 1, "failed": 2}


def test_fleet_summary_marks_statuses_from_the_vocabulary():
    reports = dict((status, {"cluster": status, "status": status}) for status in st.CLUSTER_STATUSES
                   if status != st.CLUSTER_NO_REPORT)
    rows = dict((row["cluster"], row) for row in mr.fleet_summary(reports, ["gone"])["rows"])
    assert rows["gone"]["status"] == st.CLUSTER_NO_REPORT
    assert dict((name, row["tone"]) for name, row in rows.items()) == {
        "migrated": "ok", "ready": "ok", "would_migrate": "ok", "rolled_back": "ok", "would_roll_back": "ok",
        "convertible": "warn", "incomplete": "warn", "blocked": "bad", "failed": "bad", "gone": "bad"}


def test_fleet_summary_accepts_a_list():
    summary = mr.fleet_summary([{"cluster": "a", "status": "migrated", "counts": {"nodes": 2, "migrated": 2}}])
    assert summary["rows"][0]["migrated"] == 2 and summary["totals"]["clusters"] == 1
