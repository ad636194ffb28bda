#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: seldon_model_rollout
short_description: Restart SeldonDeployments' model Deployments the way the operator keeps, and verify them from the live objects
version_added: 0.1.0
author:
  - Contributors to seldon_ops.rclone_migration (@seldon-ops)
description:
  - Verifies, for every SeldonDeployment the operator reconciles in O(namespaces) (or only O(deployments)), each of its
    model Deployments (label C(seldon-deployment-id)) from the live objects - its pod template runs the init image the
    operator should render for each model node (the node's own C(storageInitializerImage), else O(image)) with
    C(envFrom) the node's env secret; its rollout is complete (C(kubectl rollout status) rules), its newest ReplicaSet
    is fully ready and no pod of an older ReplicaSet is left; and its C(generation) stays put once complete (an
    operator that keeps rewriting a Deployment, as the 1.16-1.17.1 explainer update loop does, is named).
  - With O(restarted_at), first restarts them the way the running operator release keeps - from 1.16.0 the
    operator writes its own spec over a model Deployment, so a C(kubectl rollout restart) is undone within seconds;
    the restart goes through the annotation C(rclone-migration.seldon-ops.io/restarted-at) in the SeldonDeployment's
    C(spec.annotations), which the operator copies into every pod template. Before 1.16.0 an annotation change
    alone is not written, and the Deployment's own C(kubectl.kubernetes.io/restartedAt) lasts, so that is used.
    The same value twice writes nothing.
  - The operator release is read from the controller's image tag (see C(docs/operator-versions.md)).
  - Never returns a whole object (pod templates may hold literal credentials); findings name containers, images and
    secret names only.
  - Check mode writes nothing and verifies once, without waiting.
options:
  deployments:
    description: Only these SeldonDeployments (C({namespace, name})); default every one in O(namespaces).
    type: list
    elements: dict
  image:
    description:
      - The init image expected on nodes that pin none. Default - what the operator injects now
        (controller env, C(seldon-config), its release's fallback).
    type: str
  restarted_at:
    description: Restart first, with this value (an RFC 3339 time); a value already in place is not written again.
    type: str
  wait:
    description: Wait until every model Deployment is verified or O(wait_timeout) passes.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for all of them together.
    type: int
    default: 600
  wait_sleep:
    description: Seconds between two rounds of LIST requests.
    type: int
    default: 5
  settle_polls:
    description: Rounds to keep watching after all are verified, to catch a generation that keeps climbing.
    type: int
    default: 2
  fail_on_unverified:
    description: Fail the task when a model Deployment is not verified (after every one was looked at).
    type: bool
    default: true
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - seldon_ops.rclone_migration.seldon_settings
notes:
  - Requests per round - one LIST each of Deployments, ReplicaSets and Pods per namespace (label C(seldon-deployment-id));
    once - the operator settings (two GETs) and the inventory LISTs; one PATCH per SeldonDeployment (or Deployment,
    before 1.16.0) that gets a new restart value.
seealso:
  - module: seldon_ops.rclone_migration.rollout_restart
  - module: seldon_ops.rclone_migration.seldon_storage_info
"""

EXAMPLES = r"""
- name: Restart the model Deployments once per migration run and verify what the operator rendered
  seldon_ops.rclone_migration.seldon_model_rollout:
    namespaces: [models]
    image: docker.io/seldonio/rclone-storage-initializer:1.17.1
    restarted_at: "2026-12-02T10:00:00Z"
    wait_timeout: 900
  register: rollout

- name: Verify only, for a canary
  seldon_ops.rclone_migration.seldon_model_rollout:
    deployments: [{namespace: models, name: iris}]
    image: docker.io/seldonio/rclone-storage-initializer:1.17.1
"""

RETURN = r"""
restart_method:
  description: C(seldon_deployment_annotation) (operator 1.16.0 and later) or C(deployment_restarted_at).
  returned: always
  type: str
operator_version:
  description: The operator release whose rules applied.
  returned: always
  type: str
restarted:
  description: C(namespace/name) of the objects patched (or that would be, in check mode).
  returned: always
  type: list
  elements: str
deployments:
  description: One entry per model Deployment, sorted by namespace and name.
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: Namespace.
      type: str
    name:
      description: Deployment name.
      type: str
    seldon_deployment:
      description: Its SeldonDeployment.
      type: str
    verified:
      description: Template (with O(restarted_at), the restart in the pod template too), rollout and generation as expected.
      type: bool
    findings:
      description: What is not as expected, in words.
      type: list
      elements: str
    generation:
      description: The Deployment's generation when last seen.
      type: int
    generation_note:
      description: Empty, or that the generation kept climbing once the rollout was complete (the operator keeps
        rewriting the Deployment, as the 1.16-1.17.1 explainer update loop does).
      type: str
unverified:
  description: The entries of RV(deployments) that are not verified.
  returned: always
  type: list
  elements: dict
api_requests:
  description: Requests this task sent, by verb.
  returned: always
  type: dict
"""

import copy
import functools
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import inventory
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_access
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_objects
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import model_rollout
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import rollout
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_settings


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(copy.deepcopy(seldon_settings.ARG_SPEC))
    spec.update(
        deployments=dict(type="list", elements="dict"),
        image=dict(type="str"),
        restarted_at=dict(type="str"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
        wait_sleep=dict(type="int", default=5),
        settle_polls=dict(type="int", default=2),
        fail_on_unverified=dict(type="bool", default=True),
    )
    return spec


def restart(access, sdeps, method, restarted_at, namespaces):
    """Write the restart the operator keeps; returns ``(labels restarted, errors)``."""
    restarted, errors = [], []
    if method == model_rollout.RESTART_THROUGH_SELDON_DEPLOYMENT:
        work = [("SeldonDeployment", sdep, functools.partial(model_rollout.plan_seldon_restart,
                                                             restarted_at=restarted_at), kube_access.JSON_PATCH)
                for sdep in sdeps]
    else:
        names = set(kube_objects.object_key(sdep) for sdep in sdeps)
        work = [("Deployment", obj, functools.partial(rollout.restart_plan, "Deployment", restarted_at=restarted_at,
                                                      check_mode=False), kube_access.MERGE_PATCH)
                for obj in access.list("Deployment", namespaces, label_selector=model_rollout.SELDON_ID_LABEL)
                if (kube_objects.object_namespace(obj), kube_objects.labels_of(obj).get(
                    model_rollout.SELDON_ID_LABEL)) in names]
    for kind, obj, plan_for, patch_type in work:
        written = kube_access.write_planned(access, kind, obj, plan_for, patch_type=patch_type)
        if written.error:
            errors.append(written.error)
        elif written.plan.patch is not None:
            restarted.append("{0}/{1}".format(*kube_objects.object_key(obj)))
    return restarted, errors


def run(module, access):
    params = module.params
    settings = seldon_settings.read(access, params, kube_access.KubeAccessError)
    cluster = inventory.load(access, params, settings)
    wanted = set((item.get("namespace"), item.get("name")) for item in params["deployments"] or [])
    sdeps = [sdep for sdep in cluster.deployments if not wanted or kube_objects.object_key(sdep) in wanted]
    namespaces = sorted(set(kube_objects.object_namespace(sdep) for sdep in sdeps))
    image = params["image"] or settings.storage_initializer_image
    expected = dict((kube_objects.object_key(sdep), model_rollout.expectations(
        sdep, settings.rules, image, settings.default_env_secret_ref_name)) for sdep in sdeps)
    method = model_rollout.restart_method(settings.rules)
    restarted, errors = restart(access, sdeps, method, params["restarted_at"], namespaces) \
        if params["restarted_at"] and sdeps else ([], [])

    def take_snapshot():
        return tuple(access.list(kind, namespaces, label_selector=model_rollout.SELDON_ID_LABEL) if namespaces else []
                     for kind in ("Deployment", "ReplicaSet", "Pod"))

    waiting = params["wait"] and not module.check_mode
    expected_restart = None if module.check_mode else model_rollout.restart_annotation(method, params["restarted_at"])
    entries = [dict(entry._asdict()) for entry in model_rollout.verify_until(
        take_snapshot, expected, params["wait_timeout"] if waiting else 0, max(params["wait_sleep"], 1),
        params["settle_polls"] if waiting else 0, time.monotonic, time.sleep, expected_restart)]
    unverified = [entry for entry in entries if not entry["verified"]]
    result = dict(changed=bool(restarted), restart_method=method, operator_version=settings.rules.version_text,
                  restarted=restarted, deployments=entries, unverified=unverified, api_requests=dict(access.requests))
    if errors or (unverified and params["fail_on_unverified"]):
        module.fail_json(msg="; ".join(errors + ["{namespace}/{name}: {0}".format("; ".join(entry["findings"]), **entry)
                                                 for entry in unverified[:10]]), **result)
    module.exit_json(**result)


def main():
    module = AnsibleK8SModule(module_class=AnsibleModule, argument_spec=argument_spec(), supports_check_mode=True)
    kube_access.run_connected(module, run)


if __name__ == "__main__":
    main()
