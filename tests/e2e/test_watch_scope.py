# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""E2E: a switch that changes what the operator watches stops the run and names both scopes.

The gate judges the operator's watch scope as the controller Deployment shows it before the
switch. The switch is a helm upgrade, which renders WATCH_NAMESPACE, ``--namespace`` and
CONTROLLER_ID from the chart's values (the real chart renders WATCH_NAMESPACE and CONTROLLER_ID
always, empty by default) and so undoes an edit of the live controller. Here the scratch
operator watches the scene (chart value watchNamespace) and got ``CONTROLLER_ID=team-a`` by a live
edit; the scene holds a labelled model (judged, converted) and an unlabelled one the operator did
not reconcile before the switch and does after it (never judged: a kfserving-only secret that
rclone cannot read). migrate.yml must stop right after the switch, naming the scope before and
after, in its output and in the report.

Run: .cache/venv/bin/python -m pytest -q tests/e2e/test_watch_scope.py   (after make cluster-up)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from playbook_support import (OperatorRelease, b64, create_objects, env_secret, run_playbook, sdep, secrets_of,
                              write_inventory)

KEY_ID = "AKIASCOPECANARY00077"
SECRET_KEY = "scope-canary-secret-3f9a21"
TEAM = "team-a"
CONTROLLER_ID_LABEL = "seldon.io/controller-id"


def scene_objects():
    labelled = sdep("labelled", envSecretRefName="labelled")
    labelled["metadata"]["labels"] = {CONTROLLER_ID_LABEL: TEAM}
    return [env_secret("labelled", KEY_ID, SECRET_KEY), labelled,
            env_secret("unlabelled", KEY_ID, SECRET_KEY), sdep("unlabelled", envSecretRefName="unlabelled")]


def test_a_switch_that_resets_a_live_watch_scope_edit_stops_the_run(kube, kubeconfig, cluster_env, tmp_path):
    scene = kube.create_namespace("e2e-scope")
    operator = None
    try:
        operator = OperatorRelease(kube, "e2e-scope-sys", watch_namespace=scene)
        kube.apps.patch_namespaced_deployment("seldon-controller-manager", operator.namespace, {"spec": {"template": {
            "spec": {"containers": [{"name": "manager", "env": [{"name": "CONTROLLER_ID", "value": TEAM}]}]}}}})
        create_objects(kube, scene, scene_objects())

        run = run_playbook(cluster_env, tmp_path, "migrate.yml",
                           write_inventory(str(tmp_path / "inventory.json"), {"scope": {"cluster_kubeconfig": kubeconfig}}),
                           dict(operator.role_vars(), rclone_migration_namespaces=[scene],
                                rclone_migration_rollout_wait_timeout=60, rclone_migration_rerender_timeout=30))

        assert run.rc != 0, run.tail()
        before = "namespace %s with CONTROLLER_ID %s before" % (scene, TEAM)
        after = "namespace %s now" % scene
        assert "the switch changed what the operator watches: %s, %s" % (before, after) in run.output, run.tail()
        report = run.report("migrate", "scope")
        assert "changed what the operator watches" in report["error"], report
        # The gate judged the labelled model only: its secret was converted before the switch, the
        # unlabelled one (not reconciled then) was not - it is what the message warns about.
        secrets = secrets_of(kube, scene)
        assert any(key.startswith("RCLONE_CONFIG_") for key in secrets["labelled"]["data"]), secrets["labelled"]["data"].keys()
        assert not any(key.startswith("RCLONE_CONFIG_") for key in secrets["unlabelled"]["data"])
        for value in (KEY_ID, SECRET_KEY, b64(KEY_ID), b64(SECRET_KEY)):
            assert value not in run.output and value not in json.dumps(report)
    finally:
        kube.delete_namespace(scene)
        if operator:
            operator.delete()
