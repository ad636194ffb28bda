# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""E2E: the collection runs with the rights docs/rbac ships, and with nothing more.

Service accounts bound only to docs/rbac's ClusterRoles (renamed per run), each where the README
says to bind it, get kubeconfigs holding their own token (`kubectl create token`), and run the
collection's playbooks against a scene (seed secrets, a service-account node, a canary) with a
scratch operator release and the stand-in operator:

* a namespaced operator (chart value watchNamespace: it watches the scene only), release 1.17.1:
  preflight.yml, migrate.yml (canary, helm upgrade, controller restart, model restarts through the
  SeldonDeployments), a rerun that writes nothing, rollback.yml (rclone keys removed too);
* the same operator at 1.13.1: migrate.yml, model restarts through the Deployments;
* a cluster-wide operator (chart value controllerId tells it apart on the shared cluster):
  preflight.yml reads the whole cluster - Secrets included - and the namespaces' labels;
* the opt-in features with their own roles: rclone_migration_access_check (a secret that does not
  reach its model stops the switch) and IAM-roles secrets plus a hand-written init container
  (the modules, as a playbook would call them).

The API server's audit log then shows what each identity sent: no request was refused, and every
rule of the roles was used where it is bound (the exceptions are named below, with the reason),
so the roles are exactly what the playbooks need. With one verb taken away, the run fails with a
message naming the request and its 403, never a traceback - with the default no_log on
rclone_secret too.

Run: .cache/venv/bin/python -m pytest -q tests/e2e/test_least_privilege.py   (after make cluster-up)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import uuid

import pytest
import yaml

from e2e_support import REPO, StandInProcess, render_scene
from playbook_support import (ADDED_KEYS_ANNOTATION, OperatorRelease, Identities, playbook_env, rbac_roles,
                              request_of, run_playbook, sdeps_of, secrets_of, unused_rules, wait_for_deployments,
                              without_verb, write_inventory, write_vars)

PREFLIGHT = "seldon-rclone-migration-preflight"
NAMESPACES = "seldon-rclone-migration-namespaces"
PREFLIGHT_OPERATOR = "seldon-rclone-migration-preflight-operator"
MIGRATE_WATCHED = "seldon-rclone-migration-migrate-watched"
MIGRATE = "seldon-rclone-migration-migrate"
MIGRATE_OPERATOR = "seldon-rclone-migration-migrate-operator"
ROLLBACK_OPERATOR = "seldon-rclone-migration-rollback-operator"
HELM_STORAGE = "seldon-rclone-migration-helm-storage"
HELM_RELEASE = "seldon-rclone-migration-helm-release"
ACCESS_CHECK = "seldon-rclone-migration-access-check"
IAM_SECRETS = "seldon-rclone-migration-iam-secrets"
IAM_SECRETS_ROLLBACK = "seldon-rclone-migration-iam-secrets-rollback"
CLUSTER = "least-privilege"
WRITES = ("create", "update", "patch", "delete")
JOBRUNNER = os.path.join(REPO, "tests", "standin", "jobrunner.sh")
RCLONE_IMAGE = "docker.io/seldonio/rclone-storage-initializer:1.17.1"
IAM_SECRET = "rclone-iam-roles"  # the resourceNames of iam-secrets.yaml's rollback role
# Rules a run does not use, and why they are there all the same.
ONLY_AFTER_A_CONFLICT = [
    # kube_access.write_planned reads an object again after a 409 Conflict and plans again
    # (test_faults.py's concurrent editor provokes them as the admin user)
    ("get", "", "secrets", ()),
    ("get", "apps", "deployments", ()),
]
RESTARTS_THROUGH_DEPLOYMENTS = [
    # operators before 1.16.0 (test_an_operator_before_1_16_...); from 1.16.0 the restart is a
    # SeldonDeployment patch
    ("patch", "apps", "deployments", ()),
]


def preflight_bindings(scene, operator_namespace):
    return [(PREFLIGHT, scene), (PREFLIGHT_OPERATOR, operator_namespace)]


def migrate_bindings(scene, operator_namespace):
    return [(MIGRATE_WATCHED, scene), (MIGRATE, scene), (MIGRATE_OPERATOR, operator_namespace),
            (HELM_STORAGE, operator_namespace), (HELM_RELEASE, operator_namespace)]


def rollback_bindings(scene, operator_namespace):
    return migrate_bindings(scene, operator_namespace) + [(ROLLBACK_OPERATOR, operator_namespace)]


def account(identities, roles, name, bindings):
    """A service account bound to ``bindings`` (``[(shipped name, namespace or None)]``, None: a
    ClusterRoleBinding; a role dict instead of a name binds that role in its place); returns
    ``(kubeconfig, [(shipped name, role dict, namespace)])``."""
    bound = []
    for shipped, namespace in bindings:
        role = roles[shipped] if isinstance(shipped, str) else shipped
        identities.create_role(role)
        bound.append((shipped if isinstance(shipped, str) else "", role, namespace))
    return identities.service_account(name, [(role["metadata"]["name"], namespace)
                                             for _shipped, role, namespace in bound]), bound


def roles_of(bound, *shipped):
    """``[(role dict, namespace)]`` of the entries of ``bound`` whose shipped name is one of ``shipped``
    (every entry when none is given), as unused_rules takes them."""
    return [(role, namespace) for name, role, namespace in bound if not shipped or name in shipped]


@pytest.fixture(name="identities")
def identities_fixture(kube, kubeconfig, tmp_path):
    made = Identities(kube, kubeconfig, tmp_path)
    yield made
    made.delete()


def scene_items(namespace, s3, extra=()):
    values = render_scene.scene_values(namespace, s3["access_key_id"], s3["secret_access_key"], s3["endpoint"])
    with open(render_scene.DEFAULT_TEMPLATE, encoding="utf-8") as handle:
        scene = yaml.safe_load(render_scene.render(handle.read(), values))
    items = [item for item in scene["items"] if item["kind"] != "Namespace"] + list(extra)
    for item in items:
        item["metadata"]["namespace"] = namespace
    return items


@pytest.fixture(name="scene")
def scene_fixture(kube, s3):
    """The seed scene (env secret, service-account secret, two SKLearn SeldonDeployments) in a new
    namespace that only the stand-in of the test reconciles."""
    namespace = kube.create_namespace("e2e-lp-scene")
    kube.core.patch_namespace(namespace, {"metadata": {"labels": {"seldon.io/controller-id": namespace}}})
    kube.apply(scene_items(namespace, s3))
    yield namespace
    kube.delete_namespace(namespace)


@pytest.fixture(name="operator")
def operator_fixture(kube, scene):
    """A scratch operator release that watches the scene's namespace only."""
    release = OperatorRelease(kube, "e2e-lp-system", watch_namespace=scene)
    yield release
    release.delete()


def requests_by(audit, since, user):
    return [request for request in (request_of(event) for event in audit.events(since, user=user)) if request]


def verbs_table(requests, names):
    """``verb group/resource in namespace`` -> count, for the test's printed measurements; ``names``
    gives namespaces their role in the test (scene, operator)."""
    table = {}
    for verb, group, resource, namespace, _name, _code in requests:
        key = "%s %s in %s" % (verb, (group + "/" if group else "") + resource,
                               names.get(namespace, namespace or "cluster"))
        table[key] = table.get(key, 0) + 1
    return dict(sorted(table.items()))


def refused(requests):
    return [r for r in requests if r[5] == 403]


def writes(requests):
    return [r for r in requests if r[0] in WRITES and r[5] < 300]


def migrate_vars(operator, namespace, **extra):
    variables = dict(operator.role_vars(), rclone_migration_namespaces=[namespace],
                     rclone_migration_rollout_wait_timeout=120, rclone_migration_rerender_timeout=90,
                     rclone_migration_canary_wait_timeout=90)
    variables.update(extra)
    return variables


def run_as(cluster_env, tmp_path, audit, identities, name, playbook, kubeconfig, variables, names):
    """Run ``playbook`` as service account ``name``; returns ``(run, its requests)``."""
    since = audit.mark()
    run = run_playbook(cluster_env, tmp_path, playbook, write_inventory(
        str(tmp_path / ("%s-%s-inventory.json" % (name, uuid.uuid4().hex[:4]))),
        {CLUSTER: {"cluster_kubeconfig": kubeconfig}}), variables)
    requests = requests_by(audit, since, identities.user(name))
    print("%s as %s: %s" % (playbook, identities.user(name), json.dumps(verbs_table(requests, names))))
    return run, requests


def test_preflight_migrate_rerun_and_rollback_as_least_privileged_service_accounts(
        kube, cluster_env, audit, operator, identities, scene, tmp_path):
    standin = StandInProcess(tmp_path, scene, operator.namespace, cluster_env)
    names = {scene: "scene", operator.namespace: "operator"}
    try:
        standin.wait_for_pass_after(0)
        wait_for_deployments(kube, scene, 2)
        roles = rbac_roles(identities.suffix)
        preflight_kubeconfig, preflight_bound = account(identities, roles, "preflight",
                                                        preflight_bindings(scene, operator.namespace))
        migrate_kubeconfig, migrate_bound = account(identities, roles, "migrate",
                                                    migrate_bindings(scene, operator.namespace))
        rollback_kubeconfig, rollback_bound = account(identities, roles, "rollback",
                                                      rollback_bindings(scene, operator.namespace))
        variables = migrate_vars(operator, scene, rclone_migration_canary_deployments=[
            {"namespace": scene, "name": "sklearn-env"}])

        # --- preflight: read-only, the operator's watch scope (the scene), every rule used
        preflight, requests = run_as(cluster_env, tmp_path, audit, identities, "preflight", "preflight.yml",
                                     preflight_kubeconfig, variables, names)
        assert preflight.rc == 0, preflight.tail()
        report = preflight.report("preflight", CLUSTER)
        assert report["status"] == "convertible", report
        assert report["counts"]["nodes"] == 2
        assert refused(requests) == []
        assert [r for r in requests if r[0] not in ("get", "list")] == []
        assert unused_rules(roles_of(preflight_bound), requests) == []

        # --- the migration: converts, references, canary, helm upgrade, controller restart, rollouts
        migrate, requests = run_as(cluster_env, tmp_path, audit, identities, "migrate", "migrate.yml",
                                   migrate_kubeconfig, variables, names)
        assert migrate.rc == 0, migrate.tail()
        report = migrate.report("migrate", CLUSTER)
        assert report["status"] == "migrated", report
        assert report["helm_changed"]
        assert [entry["action"] for entry in report["canaries"]] == ["pinned"]
        assert sorted(entry["action"] for entry in report["rollouts"]) == ["restarted", "restarted"]
        assert refused(requests) == []
        assert unused_rules(roles_of(migrate_bound, MIGRATE_WATCHED, MIGRATE, MIGRATE_OPERATOR), requests) == sorted(
            ONLY_AFTER_A_CONFLICT + RESTARTS_THROUGH_DEPLOYMENTS)
        secrets = secrets_of(kube, scene)
        for name in ("seldon-init-container-secret", "seldon-sa-s3-secret"):
            assert "RCLONE_CONFIG_S3_TYPE" in secrets[name]["data"], name
            assert ADDED_KEYS_ANNOTATION in secrets[name]["metadata"]["annotations"], name
        graph = sdeps_of(kube, scene)["sklearn-sa"]["spec"]["predictors"][0]["graph"]
        assert graph["envSecretRefName"] == "seldon-sa-s3-secret"

        # --- a rerun: reads only
        rerun, requests = run_as(cluster_env, tmp_path, audit, identities, "migrate", "migrate.yml",
                                 migrate_kubeconfig, variables, names)
        assert rerun.rc == 0, rerun.tail()
        assert rerun.report("migrate", CLUSTER)["status"] == "migrated"
        assert refused(requests) == [] and writes(requests) == []

        # --- the rollback, rclone keys removed too: the migrate roles and the record's delete
        rollback, requests = run_as(cluster_env, tmp_path, audit, identities, "rollback", "rollback.yml",
                                    rollback_kubeconfig, dict(variables, rclone_migration_rollback_remove_rclone_keys=True),
                                    names)
        assert rollback.rc == 0, rollback.tail()
        assert rollback.report("rollback", CLUSTER)["status"] == "rolled_back"
        assert refused(requests) == []
        assert unused_rules(roles_of(rollback_bound, ROLLBACK_OPERATOR), requests) == []
        secrets = secrets_of(kube, scene)
        assert not any(key.startswith("RCLONE_CONFIG_") for obj in secrets.values() for key in obj.get("data") or {})
    finally:
        standin.stop()


def test_an_operator_before_1_16_restarts_through_the_deployment_with_the_same_roles(
        kube, cluster_env, audit, identities, scene, tmp_path):
    operator = OperatorRelease(kube, "e2e-lp-system", watch_namespace=scene, version="1.13.1")
    standin = StandInProcess(tmp_path, scene, operator.namespace, cluster_env)
    try:
        standin.wait_for_pass_after(0)
        wait_for_deployments(kube, scene, 2)
        roles = rbac_roles(identities.suffix)
        kubeconfig, bound = account(identities, roles, "migrate", migrate_bindings(scene, operator.namespace))
        run, requests = run_as(cluster_env, tmp_path, audit, identities, "migrate", "migrate.yml", kubeconfig,
                               migrate_vars(operator, scene, rclone_migration_canary_deployments=[
                                   {"namespace": scene, "name": "sklearn-env"}]),
                               {scene: "scene", operator.namespace: "operator"})
        assert run.rc == 0, run.tail()
        report = run.report("migrate", CLUSTER)
        assert report["status"] == "migrated" and report["operator"]["version"] == "1.13.1", report
        assert sorted(entry["action"] for entry in report["rollouts"]) == ["restarted", "restarted"]
        assert refused(requests) == []
        assert [r for r in requests if r[0] == "patch" and r[2] == "deployments" and r[3] == scene]
        assert unused_rules(roles_of(bound, MIGRATE_WATCHED, MIGRATE, MIGRATE_OPERATOR), requests) == sorted(
            ONLY_AFTER_A_CONFLICT)
    finally:
        standin.stop()
        operator.delete()


def test_preflight_of_a_cluster_wide_operator_reads_the_whole_cluster(kube, cluster_env, audit, identities, s3,
                                                                      tmp_path):
    """The chart's default operator watches every namespace: its gate lists SeldonDeployments,
    Secrets and ServiceAccounts cluster-wide, and the namespaces' labels. CONTROLLER_ID keeps this
    scratch one to the scene's SeldonDeployments (labelled for it) on the shared cluster."""
    controller_id = "e2e-lp-" + uuid.uuid4().hex[:6]
    namespace = kube.create_namespace("e2e-lp-cluster-wide")
    operator = None
    try:
        items = scene_items(namespace, s3)
        for item in items:
            if item["kind"] == "SeldonDeployment":
                item["metadata"]["labels"] = {"seldon.io/controller-id": controller_id}
        kube.apply(items)
        operator = OperatorRelease(kube, "e2e-lp-system", cluster_wide=True, controller_id=controller_id)
        roles = rbac_roles(identities.suffix)
        names = {namespace: "scene", operator.namespace: "operator"}
        variables = migrate_vars(operator, namespace)
        kubeconfig, bound = account(identities, roles, "preflight", [
            (PREFLIGHT, None), (NAMESPACES, None), (PREFLIGHT_OPERATOR, operator.namespace)])
        run, requests = run_as(cluster_env, tmp_path, audit, identities, "preflight", "preflight.yml", kubeconfig,
                               variables, names)
        assert run.rc == 0, run.tail()
        report = run.report("preflight", CLUSTER)
        assert report["counts"]["nodes"] == 2 and report["gate"]["watch"] == {
            "namespace": "", "controller_id": controller_id}, report
        assert refused(requests) == []
        assert unused_rules(roles_of(bound), requests) == []
        # one LIST per kind, each over the whole cluster: every Secret of the cluster is read
        assert sorted((r[2], r[3]) for r in requests if r[0] == "list") == [
            ("namespaces", ""), ("secrets", ""), ("seldondeployments", ""), ("serviceaccounts", "")]

        # without the namespaces' labels the run stops, naming the request
        kubeconfig, _bound = account(identities, roles, "limited", [
            (PREFLIGHT, None), (PREFLIGHT_OPERATOR, operator.namespace)])
        run, requests = run_as(cluster_env, tmp_path, audit, identities, "limited", "preflight.yml", kubeconfig,
                               variables, names)
        assert run.rc != 0 and "Traceback" not in run.output, run.tail()
        assert {(r[0], r[2]) for r in refused(requests)} == {("list", "namespaces")}
        report = run.report("preflight", CLUSTER)
        assert report["status"] == "failed" and "LIST Namespace: 403 Forbidden" in report["error"], report
    finally:
        if operator:
            operator.delete()
        kube.delete_namespace(namespace)


WRONG_KEY = "not-the-key-" + os.urandom(6).hex()


def test_access_check_with_its_own_role(kube, cluster_env, audit, identities, s3, model_in_s3, tmp_path):
    """rclone_migration_access_check with access-check.yaml: Jobs created, listed and deleted, the
    pods of a check that failed listed for rclone's error; the switch stops before any helm write."""
    wrong = [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "wrong-creds"}, "type": "Opaque",
              "stringData": {"AWS_ACCESS_KEY_ID": s3["access_key_id"], "AWS_SECRET_ACCESS_KEY": WRONG_KEY,
                             "AWS_ENDPOINT_URL": s3["endpoint"] or render_scene.DEFAULT_S3_ENDPOINT}},
             {"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment", "metadata": {"name": "wrong"},
              "spec": {"predictors": [{"name": "default", "replicas": 1, "graph": {
                  "name": "classifier", "implementation": "SKLEARN_SERVER", "modelUri": model_in_s3,
                  "envSecretRefName": "wrong-creds"}}]}}]
    scene = kube.create_namespace("e2e-lp-access")
    operator = None
    started_runner = subprocess.run([JOBRUNNER, "status"], capture_output=True, check=False,
                                    env=kube.env).returncode != 0
    completed = subprocess.run([JOBRUNNER, "start"], text=True, capture_output=True, check=False, env=kube.env)
    assert completed.returncode == 0, "job runner: %s" % completed.stderr[-2000:]
    try:
        kube.apply(scene_items(scene, s3, wrong))
        operator = OperatorRelease(kube, "e2e-lp-system", watch_namespace=scene)
        roles = rbac_roles(identities.suffix)
        kubeconfig, bound = account(identities, roles, "migrate", migrate_bindings(scene, operator.namespace)
                                    + [(ACCESS_CHECK, scene)])
        run, requests = run_as(cluster_env, tmp_path, audit, identities, "migrate", "migrate.yml", kubeconfig,
                               migrate_vars(operator, scene, rclone_migration_access_check=True,
                                            rclone_migration_access_check_timeout=60),
                               {scene: "scene", operator.namespace: "operator"})
        assert run.rc != 0 and "Traceback" not in run.output, run.tail()
        report = run.report("migrate", CLUSTER)
        assert report["failed_task"] == "Stop before the switch when a secret does not reach its model", report
        assert [check["secret"] for check in report["access_checks"]["checks"] if check["status"] != "ok"] == [
            "wrong-creds"]
        assert refused(requests) == []
        assert unused_rules(roles_of(bound, ACCESS_CHECK), requests) == []
        assert not [r for r in writes(requests) if r[3] == operator.namespace], "the switch began"
        assert WRONG_KEY not in run.output
    finally:
        if started_runner:
            subprocess.run([JOBRUNNER, "stop"], capture_output=True, check=False, env=kube.env)
        if operator:
            operator.delete()
        kube.delete_namespace(scene)


# The modules with the opt-in options, as a playbook of the user's would call them.
IAM_AND_HAND_WRITTEN = """
- name: IAM-roles secret and a hand-written init container, then back
  hosts: all
  connection: local
  gather_facts: false
  module_defaults:
    group/seldon_ops.rclone_migration.cluster:
      kubeconfig: "{{ cluster_kubeconfig }}"
      seldon_namespace: "{{ operator_namespace }}"
      namespaces: ["{{ scene }}"]
  tasks:
    - name: Convert the secrets and create the IAM-roles secret
      seldon_ops.rclone_migration.rclone_secret:
        iam_secret_name: %(secret)s
        iam_region: eu-west-1
        rclone_image: %(image)s
    - name: Reference it, and move the hand-written init container to the rclone image
      seldon_ops.rclone_migration.seldon_deployment_secret_ref:
        iam_secret_name: %(secret)s
        hand_written_image: %(image)s
    - name: Remove the references
      seldon_ops.rclone_migration.seldon_deployment_secret_ref:
        state: absent
    - name: Remove the keys and delete the IAM-roles secret
      seldon_ops.rclone_migration.rclone_secret:
        state: absent
""" % {"secret": IAM_SECRET, "image": RCLONE_IMAGE}


def test_iam_roles_secrets_and_hand_written_init_containers_with_their_own_roles(
        kube, cluster_env, audit, identities, s3, tmp_path):
    extra = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {
            "name": "irsa", "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/models"}}},
        {"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment", "metadata": {"name": "iam-model"},
         "spec": {"predictors": [{"name": "default", "replicas": 1, "graph": {
             "name": "classifier", "implementation": "SKLEARN_SERVER", "modelUri": "s3://aws-bucket/iris",
             "serviceAccountName": "irsa"}}]}},
        {"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment", "metadata": {"name": "hand"},
         "spec": {"predictors": [{"name": "default", "replicas": 1,
                                  "graph": {"name": "classifier", "implementation": "SKLEARN_SERVER",
                                            "modelUri": "s3://sklearn/iris",
                                            "envSecretRefName": "seldon-init-container-secret"},
                                  "componentSpecs": [{"spec": {
                                      "containers": [{"name": "classifier", "image": "seldonio/sklearnserver:1.17.1"}],
                                      "initContainers": [{
                                          "name": "classifier-model-initializer",
                                          "image": "gcr.io/kfserving/storage-initializer:v0.4.0",
                                          "args": ["s3://sklearn/iris", "/mnt/models"],
                                          "envFrom": [{"secretRef": {"name": "seldon-init-container-secret"}}],
                                          "volumeMounts": [{"name": "classifier-provision-location",
                                                            "mountPath": "/mnt/models"}]}],
                                      "volumes": [{"name": "classifier-provision-location", "emptyDir": {}}]}}]}]}}]
    scene = kube.create_namespace("e2e-lp-iam")
    operator = None
    try:
        kube.apply(scene_items(scene, s3, extra))
        operator = OperatorRelease(kube, "e2e-lp-system", watch_namespace=scene)
        roles = rbac_roles(identities.suffix)
        kubeconfig, bound = account(identities, roles, "modules", [
            (MIGRATE_WATCHED, scene), (MIGRATE, scene), (IAM_SECRETS, scene), (IAM_SECRETS_ROLLBACK, scene),
            (PREFLIGHT_OPERATOR, operator.namespace)])
        playbook = tmp_path / "iam_and_hand_written.yml"
        playbook.write_text(IAM_AND_HAND_WRITTEN)
        since = audit.mark()
        completed = subprocess.run(
            ["ansible-playbook", "-i", write_inventory(str(tmp_path / "modules.json"), {
                CLUSTER: {"cluster_kubeconfig": kubeconfig}}),
             "-e", "@" + write_vars(tmp_path, "modules-vars.json", {"scene": scene, "operator_namespace": operator.namespace}),
             str(playbook)], text=True, capture_output=True, check=False, timeout=600, env=playbook_env(cluster_env))
        requests = requests_by(audit, since, identities.user("modules"))
        print("modules as %s: %s" % (identities.user("modules"), json.dumps(verbs_table(
            requests, {scene: "scene", operator.namespace: "operator"}))))
        assert completed.returncode == 0, (completed.stdout + completed.stderr)[-4000:]
        assert refused(requests) == []
        assert unused_rules(roles_of(bound, IAM_SECRETS, IAM_SECRETS_ROLLBACK), requests) == []
        written = set((r[0], r[2], r[4]) for r in writes(requests))
        assert {("create", "secrets", IAM_SECRET), ("delete", "secrets", IAM_SECRET),
                ("patch", "seldondeployments", "iam-model"), ("patch", "seldondeployments", "hand")} <= written
        assert IAM_SECRET not in secrets_of(kube, scene)
    finally:
        if operator:
            operator.delete()
        kube.delete_namespace(scene)


# One verb taken away: (playbook, shipped role, verb, resource, what the run's message must say,
# extra vars). The playbooks run as an operator runs them; rclone_secret runs with no_log by
# default and its message still reaches the report.
PATCH_SECRETS_REFUSED = ("2 of 2 secrets failed - PATCH Secret: 403 Forbidden "
                         "({scene}/seldon-init-container-secret, {scene}/seldon-sa-s3-secret). Done: nothing.")
MISSING_VERB_CASES = [
    pytest.param("preflight.yml", PREFLIGHT, "list", "secrets", "LIST Secret in namespace {scene}: 403 Forbidden", {},
                 id="preflight-without-list-secrets"),
    pytest.param("migrate.yml", MIGRATE_WATCHED, "list", "seldondeployments",
                 "LIST SeldonDeployment in namespace {scene}: 403 Forbidden", {},
                 id="migrate-without-list-seldondeployments"),
    pytest.param("migrate.yml", MIGRATE, "patch", "secrets", PATCH_SECRETS_REFUSED,
                 {"rclone_migration_secure_logging": False}, id="migrate-without-patch-secrets"),
    pytest.param("migrate.yml", MIGRATE, "patch", "secrets", PATCH_SECRETS_REFUSED, {},
                 id="migrate-without-patch-secrets-default-logging"),
]


@pytest.mark.parametrize("playbook,shipped,verb,resource,message,extra", MISSING_VERB_CASES)
def test_a_missing_verb_fails_naming_verb_and_resource(
        cluster_env, audit, operator, identities, scene, tmp_path, playbook, shipped, verb, resource, message,
        extra):
    roles = rbac_roles(identities.suffix)
    trimmed = without_verb(roles[shipped], verb, resource)
    assert trimmed["rules"] != roles[shipped]["rules"], "%s has no %s on %s to take away" % (shipped, verb, resource)
    bindings = (preflight_bindings if playbook == "preflight.yml" else migrate_bindings)(scene, operator.namespace)
    kubeconfig, _bound = account(identities, roles, "limited", [
        (trimmed if role == shipped else role, namespace) for role, namespace in bindings])
    run, requests = run_as(cluster_env, tmp_path, audit, identities, "limited", playbook, kubeconfig,
                           migrate_vars(operator, scene, **extra), {scene: "scene", operator.namespace: "operator"})
    expected = message.format(scene=scene)
    assert refused(requests) and {(r[0], r[2]) for r in refused(requests)} == {(verb, resource)}, refused(requests)
    assert run.rc != 0, run.tail()
    assert "Traceback" not in run.output
    report = run.report(playbook.split(".")[0], CLUSTER)
    assert report["status"] == "failed", report
    assert expected in report["error"], report["error"]
    assert expected in run.output, run.tail()
    # the refused run wrote nothing
    assert writes(requests) == []
