#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: rollout_restart
short_description: Restart Deployments, StatefulSets or DaemonSets like C(kubectl rollout restart) and wait for the rollouts
version_added: 0.1.0
author:
  - Contributors to seldon_ops.rclone_migration (@seldon-ops)
description:
  - Selects workloads of one O(kind) by O(name) and/or O(label_selectors) in one O(namespace) or in all
    namespaces with a single LIST request, and restarts each one the way C(kubectl rollout restart) does,
    with a merge patch that sets the pod template annotation C(kubectl.kubernetes.io/restartedAt).
    Other annotations are kept. Every patch carries the object's C(resourceVersion); on a conflict
    the object is read again and the patch retried.
  - With O(wait=true) it polls the same selection with one LIST per round until each rollout is complete
    (the rules of C(kubectl rollout status)) or O(wait_timeout) passes, and reports those that did not finish.
  - B(What changed means.) The task reports C(changed) when at least one object was patched (or would be in
    check mode). Without O(restarted_at) every run restarts again, as C(kubectl rollout restart) does. With
    O(restarted_at) the restart is idempotent - objects whose pod template already carries that value are
    C(unchanged) and receive no write request, so a rerun with the same value is C(changed=false).
  - Check mode sends no write request; objects that would be patched are reported as C(would_restart).
  - A paused Deployment is not patched (C(skipped)); like kubectl, the module refuses because the new
    template would not roll out until the Deployment is resumed.
  - API errors are reported per object by status code and reason only; response bodies are never
    shown because they can echo request content.
options:
  kind:
    description: Kind of the workloads to restart (group C(apps/v1)).
    type: str
    choices: [Deployment, StatefulSet, DaemonSet]
    default: Deployment
  namespace:
    description: Namespace to select in. Omitted, the selection spans all namespaces.
    type: str
  name:
    description:
      - Name of one object to restart. Combined with O(label_selectors) both must match.
      - A name that matches nothing is reported as C(failed) with reason C(not found).
    type: str
  label_selectors:
    description:
      - Label selectors, for example C(seldon-deployment-id=iris), C(seldon-deployment-id) or C(app!=web).
        All of them must match.
      - At least one of O(name) and O(label_selectors) is required.
    type: list
    elements: str
  restarted_at:
    description:
      - Value for the C(kubectl.kubernetes.io/restartedAt) annotation, preferably an RFC 3339 time such as
        C(2024-05-01T12:00:00Z). Objects that already carry this value are left alone.
      - Omitted, the current UTC time is used (one value for all objects of the task), so every run restarts.
    type: str
  wait:
    description: Wait until every selected rollout is complete, including objects that were C(unchanged).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for all rollouts together.
    type: int
    default: 300
  wait_sleep:
    description: Seconds between two LIST requests while waiting.
    type: int
    default: 2
  fail_on_incomplete:
    description:
      - Fail the task when any selected object is in RV(incomplete) (patch failed, skipped, not found,
        or, with O(wait=true), not complete in time). All objects are processed first either way.
      - Set to V(false) to get the report without failing, for example to list every model Deployment
        that did not finish.
    type: bool
    default: true
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
requirements:
  - python >= 3.9
  - kubernetes >= 24.2.0
notes:
  - In the action group C(seldon_ops.rclone_migration.cluster), so connection options can be set once
    with C(module_defaults).
  - Readiness follows C(kubectl rollout status). Deployment - C(observedGeneration >= generation), no
    C(ProgressDeadlineExceeded), C(updatedReplicas >= spec.replicas), no old replicas left,
    C(availableReplicas >= updatedReplicas). StatefulSet - observed generation, ready (and available)
    replicas, every pod updated (or the partition reached) and C(currentRevision == updateRevision).
    DaemonSet - observed generation, every scheduled pod updated and available. C(OnDelete) update
    strategies and exceeded progress deadlines end the wait for that object at once.
"""

EXAMPLES = r"""
- name: Restart the Seldon controller and wait for it
  seldon_ops.rclone_migration.rollout_restart:
    namespace: seldon-system
    name: seldon-controller-manager
    wait: true
    wait_timeout: 300

- name: Roll out every model Deployment once per migration run (a rerun writes nothing)
  seldon_ops.rclone_migration.rollout_restart:
    label_selectors:
      - seldon-deployment-id
    restarted_at: "{{ migration_started_at }}"
    wait: true
    fail_on_incomplete: false
  register: model_rollouts

- name: Show which model Deployments did not finish
  ansible.builtin.debug:
    msg: "{{ model_rollouts.incomplete | map(attribute='name') | list }}"

- name: Dry run for DaemonSets labelled app=agent in kube-system
  seldon_ops.rclone_migration.rollout_restart:
    kind: DaemonSet
    namespace: kube-system
    label_selectors: [app=agent]
  check_mode: true
"""

RETURN = r"""
restarted_at:
  description: The annotation value this task wrote or compared against.
  returned: always
  type: str
  sample: "2024-05-01T12:00:00Z"
resources:
  description: One entry per selected object, sorted by namespace and name.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: Kind of the object.
      type: str
      sample: Deployment
    namespace:
      description: Namespace of the object.
      type: str
      sample: seldon-system
    name:
      description: Name of the object.
      type: str
      sample: seldon-controller-manager
    action:
      description:
        - V(restarted) patched; V(unchanged) already carried RV(restarted_at); V(would_restart) check mode;
          V(skipped) not patched on purpose (paused Deployment); V(failed) the API refused or the object
          named in O(name) does not exist.
      type: str
      sample: restarted
    complete:
      description: Whether the rollout was seen complete; V(null) when not waited for (O(wait=false), check mode).
      type: bool
      sample: true
    reason:
      description: Why the object was not restarted or did not finish; V(null) otherwise.
      type: str
      sample: "not complete after 300s: 0 of 1 updated replicas are available"
  sample:
    - kind: Deployment
      namespace: seldon-system
      name: seldon-controller-manager
      action: restarted
      complete: true
      reason: null
incomplete:
  description:
    - The entries of RV(resources) that did not get where they were asked to go - failed, skipped,
      or, with O(wait=true), not complete within O(wait_timeout).
  returned: always
  type: list
  elements: dict
  sample:
    - kind: Deployment
      namespace: roles-rollout
      name: unschedulable
      action: restarted
      complete: false
      reason: "not complete after 30s: 0 of 1 updated replicas are available"
api_requests:
  description: API requests this task sent, by verb (C(list), C(get), C(patch)); for request-count checks.
  returned: always
  type: dict
  sample: {list: 3, patch: 2}
"""

import copy
import functools
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_access
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_objects
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import rollout


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        kind=dict(type="str", default="Deployment", choices=list(rollout.WORKLOAD_KINDS)),
        namespace=dict(type="str"),
        name=dict(type="str"),
        label_selectors=dict(type="list", elements="str"),
        restarted_at=dict(type="str"),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=300),
        wait_sleep=dict(type="int", default=2),
        fail_on_incomplete=dict(type="bool", default=True),
    )
    return spec


def run(module, access):
    params = module.params
    kind = params["kind"]
    restarted_at = params["restarted_at"] or rollout.format_restarted_at()
    namespaces = [params["namespace"]] if params["namespace"] else None
    selection = dict(
        label_selector=rollout.label_selector(params["label_selectors"]),
        field_selector=rollout.field_selector_for_name(params["name"]),
    )

    def list_objects():
        return access.list(kind, namespaces, **selection)

    entries = []
    previous = {}
    for obj in sorted(list_objects(), key=kube_objects.sort_key):
        entry = rollout.object_ref(kind, obj)
        previous[kube_objects.object_key(obj)] = rollout.current_restarted_at(obj)
        entry["action"], entry["reason"] = restart_one(module, access, kind, obj, restarted_at)
        entry["complete"] = None
        entries.append(entry)
    if params["name"] and not entries:
        entries.append(dict(kind=kind, namespace=params["namespace"], name=params["name"],
                            action=rollout.FAILED, reason="not found", complete=None))

    if params["wait"] and not module.check_mode:
        waiting = [e for e in entries if e["action"] in (rollout.RESTARTED, rollout.UNCHANGED)]
        states = rollout.wait_for_rollouts(
            list_objects, kind, [(e["namespace"], e["name"]) for e in waiting],
            params["wait_timeout"], max(params["wait_sleep"], 1), time.monotonic, time.sleep,
        )
        for entry in waiting:
            state, message = states[(entry["namespace"], entry["name"])]
            entry["complete"] = state == rollout.COMPLETE
            entry["reason"] = message

    incomplete = [e for e in entries if e["action"] in (rollout.FAILED, rollout.SKIPPED) or e["complete"] is False]
    changed = any(e["action"] in (rollout.RESTARTED, rollout.WOULD_RESTART) for e in entries)
    result = dict(changed=changed, restarted_at=restarted_at, resources=entries, incomplete=incomplete,
                  api_requests=dict(access.requests))
    if module._diff:
        result["diff"] = rollout.restart_diff(entries, previous, restarted_at)
    if incomplete and params["fail_on_incomplete"]:
        module.fail_json(msg=rollout.incomplete_message(incomplete, len(entries)), **result)
    module.exit_json(**result)


def restart_one(module, access, kind, obj, restarted_at):
    """Patch one object unless it already carries restarted_at; on 409 the plan is made again
    from the object as re-read (someone may have restarted it meanwhile)."""
    written = kube_access.write_planned(
        access, kind, obj, functools.partial(rollout.restart_plan, kind, restarted_at=restarted_at,
                                             check_mode=module.check_mode),
        patch_type=kube_access.MERGE_PATCH)
    if written.error:
        return rollout.FAILED, written.error
    return written.plan.action, written.plan.reason


def main():
    module = AnsibleK8SModule(
        module_class=AnsibleModule,
        argument_spec=argument_spec(),
        required_one_of=[("name", "label_selectors")],
        supports_check_mode=True,
    )
    # Only the selection LIST can fail the task this way; per-object errors are reported per object.
    kube_access.run_connected(module, run)


if __name__ == "__main__":
    main()
