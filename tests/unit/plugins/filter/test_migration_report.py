# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.seldon_ops.rclone_migration.plugins.filter import migration_report as mr
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import model_rollout
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import operator_rules
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import status as st

RCLONE = "docker.io/seldonio/rclone-storage-initializer:1.17.1"
KFSERVING = "gcr.io/kfserving/storage-initializer:v0.4.0"


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


# --- storage_scope / switch_gate / survey: the gate covers the operator's whole watch scope --------

def node(namespace, deployment, status, reason="why", **extra):
    item = {"namespace": namespace, "deployment": deployment, "predictor": "p", "node": "n", "ref": "p/n",
            "status": status, "reason": reason}
    item.update(extra)
    return item


WATCHED = {
    "nodes": [
        node("models", "a", "convertible", "secret s: kfserving env, convertible"),
        node("models", "b", "migrated"),
        node("models", "bad", "blocked", "secret no-such-secret not found"),
        node("team-b", "iris", "convertible", "secret t: kfserving env, convertible"),
        node("team-b", "sa", "needs_secret_ref", "credentials come from service account x"),
        node("team-b", "ok", "migrated"),
        node("team-c", "hand", "hand_written", "kept as written", custom_initializer="classifier-model-initializer"),
        node("team-c", "old", "failing_before", "the operator fails to render it already"),
    ],
    "ignored_nodes": [{"namespace": "team-b", "deployment": "custom", "node": "x", "reason": "custom container"}],
    "secrets": [{"namespace": "models", "name": "s", "status": "convertible"},
                {"namespace": "team-b", "name": "t", "status": "convertible"}],
    "unwatched_deployments": [{"namespace": "other", "name": "z", "reason": "namespace other is labelled"}],
    "summary": {"deployments": 9},
    "ready_for_upgrade": False,
    "seldon": {"problems": [], "watch": {"namespace": "", "controller_id": ""},
               "operator": {"version": "1.17.1", "source": "controller image tag"}},
}


def test_storage_scope_keeps_the_namespaces_and_counts_again():
    scoped = mr.storage_scope(WATCHED, ["models"])
    assert [item["deployment"] for item in scoped["nodes"]] == ["a", "b", "bad"]
    assert scoped["secrets"] == [{"namespace": "models", "name": "s", "status": "convertible"}]
    assert scoped["unwatched_deployments"] == [] and scoped["ignored_nodes"] == []
    assert scoped["summary"]["deployments"] == 3 and scoped["summary"]["nodes"] == 3
    assert scoped["summary"]["nodes_by_status"]["blocked"] == 1
    assert scoped["ready_for_upgrade"] is False
    assert mr.storage_scope(WATCHED, ["team-c"])["ready_for_upgrade"] is True
    # the ignored custom node counts its SeldonDeployment
    assert mr.storage_scope(WATCHED, "team-b")["summary"]["deployments"] == 4


def test_storage_scope_of_all_namespaces_is_the_result_itself():
    assert mr.storage_scope(WATCHED, []) is WATCHED
    assert mr.storage_scope(WATCHED, None) is WATCHED


def test_storage_scope_is_not_ready_while_the_operator_settings_have_problems():
    info = dict(WATCHED, seldon={"problems": ["seldon-config storageInitializer is not valid JSON"]})
    assert mr.storage_scope(info, ["team-c"])["ready_for_upgrade"] is False


def test_switch_gate_stops_on_blocked_inside_and_not_ready_outside():
    gate = mr.switch_gate(WATCHED, ["models"])
    # blocked in the namespaces the run converts; convertible there is the run's job
    assert [item["where"] for item in gate["stops"]] == ["models/bad p/n", "team-b/iris p/n", "team-b/sa p/n"]
    assert [item["deployment"] for item in gate["outside"]] == ["iris", "sa"]
    outside = gate["outside"][0]
    assert outside["namespace"] == "team-b" and outside["ref"] == "p/n" and outside["status"] == "convertible"
    assert "outside rclone_migration_namespaces" in outside["text"]
    assert outside["text"].endswith("secret t: kfserving env, convertible")
    assert [item["deployment"] for item in gate["not_ready"]] == ["a", "bad", "iris", "sa"]
    assert gate["outside_deployments"] == [
        {"namespace": "team-b", "name": "iris"}, {"namespace": "team-b", "name": "ok"},
        {"namespace": "team-b", "name": "sa"}, {"namespace": "team-c", "name": "hand"},
        {"namespace": "team-c", "name": "old"}]
    assert gate["watched"] == "all namespaces" and gate["converted_namespaces"] == ["models"]
    assert gate["operator"] == {"version": "1.17.1", "source": "controller image tag"}
    assert gate["ready"] is False


def test_switch_gate_reports_apart_what_never_stops_it():
    gate = mr.switch_gate(WATCHED, ["team-c"])
    assert [item["deployment"] for item in gate["hand_written"]] == ["hand"]
    assert gate["hand_written"][0]["initializer"] == "classifier-model-initializer"
    assert [item["deployment"] for item in gate["failing_before"]] == ["old"]
    assert gate["unwatched_deployments"] == WATCHED["unwatched_deployments"]
    # neither stops the switch: the stops are the other namespaces' nodes
    assert all(item["namespace"] != "team-c" for item in gate["stops"])


def test_switch_gate_over_all_namespaces_has_nothing_outside():
    gate = mr.switch_gate(WATCHED, [])
    assert gate["outside"] == [] and gate["outside_deployments"] == []
    assert [item["deployment"] for item in gate["stops"]] == ["bad"]
    assert gate["converted_namespaces"] == "all"


def test_switch_gate_names_a_namespaced_operator():
    info = dict(WATCHED, seldon={"watch": {"namespace": "models", "controller_id": "x"}})
    gate = mr.switch_gate(info, ["models"])
    assert gate["watched"] == "namespace models" and gate["watch"] == {"namespace": "models", "controller_id": "x"}


def test_survey_blocked_are_the_gate_stops_and_counts_are_the_namespaces():
    surveyed = mr.survey(WATCHED, ["models"])
    assert surveyed["storage"]["blocked"] == surveyed["gate"]["stops"]
    assert surveyed["storage"]["counts"]["nodes"] == 3
    assert surveyed["info"]["nodes"] == mr.storage_scope(WATCHED, ["models"])["nodes"]


def test_survey_of_nothing():
    surveyed = mr.survey({})
    assert surveyed["storage"]["blocked"] == [] and surveyed["gate"]["ready"] is False


# --- rollout_report: what seldon_model_rollout verified, per Deployment ----------------------------

def verified(name, owner, findings=(), generation=2, namespace="models", generation_note=""):
    return {"namespace": namespace, "name": name, "seldon_deployment": owner,
            "verified": not findings and not generation_note, "findings": list(findings), "generation": generation,
            "generation_note": generation_note}


def rollout_result(entries, restarted=(), method=model_rollout.RESTART_THROUGH_SELDON_DEPLOYMENT):
    return {"changed": bool(restarted), "restart_method": method, "operator_version": "1.17.1",
            "restarted": list(restarted), "deployments": entries, "unverified": [e for e in entries if not e["verified"]]}


def test_rollout_report_restarted_through_the_seldon_deployment():
    report = mr.rollout_report(rollout_result(
        [verified("iris-default-0-classifier", "iris"), verified("other-default-0-x", "other")], ["models/iris"]))
    assert [(e["name"], e["action"], e["verified"], e["complete"]) for e in report["rollouts"]] == [
        ("iris-default-0-classifier", "restarted", True, True), ("other-default-0-x", "unchanged", True, True)]
    assert report["problems"] == [] and report["incomplete"] == []
    assert report["restart_method"] == "seldon_deployment_annotation" and report["restarted"] == ["models/iris"]


def test_rollout_report_restarted_through_the_deployment_below_1_16():
    result = rollout_result([verified("iris-default-0-classifier", "iris"), verified("iris-default-explainer", "iris")],
                            ["models/iris-default-0-classifier"], model_rollout.RESTART_THROUGH_DEPLOYMENT)
    assert [e["action"] for e in mr.rollout_report(result)["rollouts"]] == ["restarted", "unchanged"]
    # check mode: what would be restarted
    assert [e["action"] for e in mr.rollout_report(result, check_mode=True)["rollouts"]] == ["would_restart", "unchanged"]


def test_rollout_report_problems_name_deployment_and_findings():
    finding = "init container classifier-model-initializer runs {0}, expected {1}".format(KFSERVING, RCLONE)
    report = mr.rollout_report(rollout_result([verified("iris-default-0-classifier", "iris", [finding])]))
    assert report["problems"] == [
        "model Deployment models/iris-default-0-classifier (SeldonDeployment iris) not verified: " + finding]
    assert [e["name"] for e in report["incomplete"]] == ["iris-default-0-classifier"]
    assert report["mismatches"] == [{"namespace": "models", "deployment": "iris-default-0-classifier",
                                     "finding": finding}]
    # nothing moves in check mode: no problem
    assert mr.rollout_report(rollout_result([verified("d", "iris", [finding])]), check_mode=True)["problems"] == []


def test_rollout_report_names_a_climbing_generation_as_a_warning():
    climbing = model_rollout.generation_finding(3, 9, 4)
    report = mr.rollout_report(rollout_result([verified("iris-default-explainer", "iris", generation=9,
                                                        generation_note=climbing)]))
    assert report["generation_climbing"] == ["models/iris-default-explainer"]
    assert report["problems"] == [] and report["incomplete"] == []
    entry = report["rollouts"][0]
    assert entry["verified"] is False and entry["complete"] is True and entry["generation"] == 9
    assert report["warnings"] == ["model Deployment models/iris-default-explainer: " + climbing]


def test_rollout_report_neither_blames_nor_credits_a_failing_seldon_deployment():
    gate = mr.switch_gate({"nodes": [node("models", "old", "failing_before")]})
    report = mr.rollout_report(rollout_result([verified("old-default-0-x", "old", ["waiting for rollout"])]), gate)
    assert report["problems"] == [] and report["incomplete"] == []
    assert report["rollouts"][0]["failing_before"] is True and report["rollouts"][0]["verified"] is False
    assert report["warnings"] == ["model Deployment models/old-default-0-x: not verified, but the operator failed "
                                  "SeldonDeployment old before this run: waiting for rollout"]


def test_rollout_report_keeps_a_hand_written_init_container_as_written():
    specs = [{"spec": {"containers": [{"name": "classifier"}], "initContainers": [{"name": "classifier-model-initializer"}]}}]
    graph = {"name": "classifier", "implementation": "SKLEARN_SERVER", "modelUri": "s3://b/m",
             "envSecretRefName": "s3-creds"}
    obj = {"metadata": {"name": "hand", "namespace": "models"},
           "spec": {"predictors": [{"name": "p", "componentSpecs": specs, "graph": graph}]}}
    expected = model_rollout.expectations(obj, operator_rules.rules_for(), RCLONE)
    hand_written = {"metadata": {"name": "hand-p-0-classifier"}, "spec": {"template": {"spec": {"initContainers": [
        {"name": "classifier-model-initializer", "image": KFSERVING}]}}}}
    # the operator keeps it as written: neither its image nor its envFrom is expected to change
    assert model_rollout.template_findings(hand_written, expected) == []
    report = mr.rollout_report(rollout_result([verified("hand-p-0-classifier", "hand")]))
    assert report["problems"] == [] and report["rollouts"][0]["verified"] is True


def test_rollout_report_of_a_registered_loop_with_skipped_items():
    loop = {"results": [rollout_result([verified("a", "iris")], ["models/iris"]), {"skipped": True},
                        rollout_result([verified("b", "team-b", namespace="team-b")])]}
    report = mr.rollout_report(loop)
    assert [(e["namespace"], e["name"], e["action"]) for e in report["rollouts"]] == [
        ("models", "a", "restarted"), ("team-b", "b", "unchanged")]
    assert mr.rollout_report({"skipped": True})["rollouts"] == []
    assert mr.rollout_report(None)["rollouts"] == []


# --- access_check_report -------------------------------------------------------------------------

def test_access_check_report_names_node_secret_and_error():
    result = {"checks": [
        {"namespace": "m", "secret": "good", "remote": "s3", "bucket": "sklearn", "nodes": ["iris/p/n"], "status": "ok",
         "error": "", "reason": "m/good s3:sklearn (iris/p/n): ok", "manifest": {"kind": "Job"}},
        {"namespace": "m", "secret": "bad", "remote": "s3", "bucket": "sklearn", "nodes": ["x/p/n"], "status": "failed",
         "error": "exit code 1: SignatureDoesNotMatch", "reason": "m/bad s3:sklearn (x/p/n): exit code 1: SignatureDoesNotMatch"},
        {"namespace": "m", "secret": "slow", "status": "timeout", "error": "not finished"}],
        "not_checked": [{"deployment": "pvc", "reason": "no credentials"}], "summary": {"ok": 1, "failed": 1, "timeout": 1}}
    report = mr.access_check_report(result)
    assert "manifest" not in report["checks"][0]
    assert report["problems"] == ["access check: m/bad s3:sklearn (x/p/n): exit code 1: SignatureDoesNotMatch",
                                  "access check: m/slow: not finished"]
    assert report["summary"]["failed"] == 1 and report["not_checked"][0]["deployment"] == "pvc"
    assert mr.access_check_report({})["problems"] == []


# --- redact_url ----------------------------------------------------------------------------------

@pytest.mark.parametrize("url, expected", [
    ("http://127.0.0.1:9000/api/v1.0/predictions", "http://127.0.0.1:9000/api/v1.0/predictions"),
    ("https://host/p?token=s3cr3t", "https://host/p?token=<redacted>"),
    ("https://host/p?a=1&token=s3cr3t&flag", "https://host/p?a=<redacted>&token=<redacted>&<redacted>"),
    ("https://user:pa55@host:8443/p", "https://<redacted>@host:8443/p"),
    ("https://tok3n@host/p#frag=s3cr3t", "https://<redacted>@host/p"),
    ("https://host/p?s3cr3t", "https://host/p?<redacted>"),
    ("", ""),
    (None, ""),
])
def test_redact_url(url, expected):
    assert mr.redact_url(url) == expected


@pytest.mark.parametrize("secret", ["s3cr3t-value", "a b", "x%2Fy", "tok@en"])
def test_redact_url_never_keeps_a_query_value_or_user_info(secret):
    for url in ("https://h/p?k=" + secret, "https://" + secret.replace("@", "") + ":" + secret + "@h/p",
                "https://h/p?k=1&" + secret, "https://h/p?" + secret + "&k=1"):
        assert secret not in mr.redact_url(url).replace("<redacted>", "")


# --- operator_initializer: the same record from a module's settings (no object) --------------------

def settings(image, source, operator_source="controller image tag"):
    return {"storage_initializer_image": image, "storage_initializer_image_source": source,
            "operator": {"version": "1.17.1", "source": operator_source}}


def test_operator_initializer_from_seldon_config():
    record = mr.operator_initializer(settings(KFSERVING, "seldon-config storageInitializer"))
    assert record == {"image": KFSERVING, "source": "seldon-config storageInitializer", "configmap_image": KFSERVING,
                      "controller_env_image": "", "operator_found": True}


def test_operator_initializer_controller_env_wins():
    record = mr.operator_initializer(settings(RCLONE, "controller env RELATED_IMAGE_STORAGE_INITIALIZER"))
    assert record["controller_env_image"] == RCLONE and record["configmap_image"] == ""


def test_operator_initializer_without_an_operator():
    record = mr.operator_initializer(settings(mr.OPERATOR_DEFAULT_INITIALIZER, "operator default",
                                              "assumed (not readable from the controller)"))
    assert record["operator_found"] is False and record["image"] == mr.OPERATOR_DEFAULT_INITIALIZER
    assert mr.operator_initializer(None)["operator_found"] is False


def test_operator_initializer_agrees_with_storage_initializer_image():
    # the two filters hold one rule: what the module reads from the same objects
    from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_settings
    for config, controller_ in ((config_map(KFSERVING), controller("")), (config_map(RCLONE), controller(KFSERVING))):
        public = seldon_settings.seldon_settings(controller_[0], config[0]).public()
        assert mr.operator_initializer(public)["image"] == mr.storage_initializer_image(config, controller_)["image"]
        assert (mr.operator_initializer(public)["controller_env_image"]
                == mr.storage_initializer_image(config, controller_)["controller_env_image"])


def test_switch_gate_stops_on_operator_settings_problems():
    info = dict(WATCHED, seldon={"problems": ["seldon-config storageInitializer is not valid JSON for the operator"]})
    gate = mr.switch_gate(info, ["team-c"])
    assert gate["stops"][-1] == {"where": "seldon-config", "reason": info["seldon"]["problems"][0],
                                 "text": "seldon-config: " + info["seldon"]["problems"][0]}
    assert gate["settings_problems"] == info["seldon"]["problems"]


def test_every_filter_is_registered():
    assert set(mr.FilterModule().filters()) == {
        "operator_initializer", "storage_initializer_image", "storage_summary", "conversion_outcome", "storage_scope", "switch_gate", "survey",
        "rollout_report", "access_check_report", "redact_url", "fleet_summary"}


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
