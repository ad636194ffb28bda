#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: seldon_canary_pin
short_description: Pin a storage initializer image on the model nodes of canary SeldonDeployments, and remove the pins
version_added: 0.1.0
author:
  - Contributors to seldon_ops.rclone_migration (@seldon-ops)
description:
  - A canary runs the new storage initializer before the operator's global switch. The Seldon operator prefers a
    node's own C(storageInitializerImage) to every global setting, so O(state=present) sets it to O(image) on every
    model-loading node (graph nodes at any depth, explainers) of each SeldonDeployment in O(deployments) that names
    no image of its own and has no hand-written C(<container>-model-initializer) init container. Nodes that pin
    another image, or whose init container is hand-written, are left alone and listed in C(kept).
  - The pinned nodes are recorded in the annotation C(rclone-migration.seldon-ops.io/canary-pinned-nodes) (a JSON
    list of C(<predictor>/<node>)). O(state=absent) removes exactly the recorded values and the annotation from
    every SeldonDeployment in O(namespaces) that carries it; with O(image), only values that still hold that image
    (a value somebody changed since stays).
  - Writes single fields with a JSON patch (custom resources reject strategic merge patch) that carries the
    resourceVersion it read; on 409 Conflict the object is read again and the plan recomputed (bounded retries).
    SeldonDeployments that need no change get no request. Check mode writes nothing and reports what would change.
  - An annotation that is not a JSON list is reported (C(failed), with the reason) and left as it is.
  - Never returns a SeldonDeployment (its containers may hold literal env values) - only names, node refs, images
    and reasons.
options:
  deployments:
    description:
      - The canary SeldonDeployments to pin (O(state=present)). One GET each.
      - One that does not exist is reported as C(not_found) with a warning; the others are still pinned.
    type: list
    elements: dict
    suboptions:
      namespace:
        description: Namespace of the SeldonDeployment.
        type: str
        required: true
      name:
        description: Name of the SeldonDeployment.
        type: str
        required: true
  namespaces:
    description:
      - Namespaces whose pins O(state=absent) removes; SeldonDeployments are listed once per namespace.
      - Omitted, they are listed once for the whole cluster.
    type: list
    elements: str
  image:
    description:
      - The storage initializer image to pin. Required with O(state=present).
      - With O(state=absent), remove a recorded value only while it still holds this image.
    type: str
  state:
    description:
      - V(present) pins O(image) on the model nodes of O(deployments). V(absent) removes the pins this module
        recorded in O(namespaces).
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
notes:
  - Requests - O(state=present) one GET per SeldonDeployment in O(deployments); O(state=absent) one LIST of
    SeldonDeployments per namespace (one when O(namespaces) is omitted). One PATCH per SeldonDeployment that
    changes, plus a GET and a PATCH per 409 Conflict.
  - Supports check mode and C(--diff) (per SeldonDeployment, C(storageInitializerImage) per node ref before and
    after).
seealso:
  - module: seldon_ops.rclone_migration.seldon_storage_info
  - module: seldon_ops.rclone_migration.rollout_restart
"""

EXAMPLES = r"""
- name: Run two models on the rclone initializer before the global switch
  seldon_ops.rclone_migration.seldon_canary_pin:
    deployments:
      - {namespace: models, name: iris}
      - {namespace: models, name: income-explained}
    image: docker.io/seldonio/rclone-storage-initializer:1.17.1
  register: pins

- name: Once the operator injects that image everywhere, remove the pins again
  seldon_ops.rclone_migration.seldon_canary_pin:
    namespaces: [models]
    image: docker.io/seldonio/rclone-storage-initializer:1.17.1
    state: absent
"""

RETURN = r"""
deployments:
  description: One entry per SeldonDeployment named (O(state=present)) or carrying the annotation (O(state=absent)).
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: Namespace.
      type: str
      returned: always
    name:
      description: SeldonDeployment name.
      type: str
      returned: always
    action:
      description:
        - V(pinned) or V(unpinned) (or would be, in check mode), V(unchanged), V(not_found) (O(state=present)) or
          V(failed) (the API refused, or the annotation is not readable).
      type: str
      returned: always
      sample: pinned
    nodes:
      description: C(<predictor>/<node>) of the nodes pinned or unpinned.
      type: list
      elements: str
      returned: always
      sample: [default/classifier, default/.explainer]
    kept:
      description: Nodes left alone, with the reason (own image, hand-written init container, value changed since).
      type: list
      elements: dict
      returned: always
      sample: [{ref: default/router, reason: "pins its own image example.org/own:1"}]
    reason:
      description: Why (the nodes changed, the nodes kept, or the error - status and reason only).
      type: str
      returned: always
summary:
  description: Number of SeldonDeployments per action.
  returned: always
  type: dict
  sample: {pinned: 1, unchanged: 1}
api_requests:
  description: Requests this task sent, by verb.
  returned: always
  type: dict
  sample: {get: 2, patch: 1}
"""

import copy
import functools

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import canary_pins
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_access
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_objects
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import module_results


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        deployments=dict(type="list", elements="dict", options=dict(
            namespace=dict(type="str", required=True),
            name=dict(type="str", required=True),
        )),
        namespaces=dict(type="list", elements="str"),
        image=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    return spec


def targets(access, params):
    """The SeldonDeployments to plan, as read: ``(namespace, name, object or None)``."""
    if params["state"] == "absent":
        listed = access.list("SeldonDeployment", params["namespaces"])
        return [kube_objects.object_key(obj) + (obj,) for obj in sorted(listed, key=kube_objects.sort_key)
                if canary_pins.CANARY_ANNOTATION in kube_objects.annotations_of(obj)]
    named = []
    for wanted in params["deployments"] or []:
        if (wanted["namespace"], wanted["name"]) not in [target[:2] for target in named]:
            named.append((wanted["namespace"], wanted["name"],
                          access.get("SeldonDeployment", wanted["namespace"], wanted["name"])))
    return named


def run(module, access):
    removing = module.params["state"] == "absent"
    plan_for = functools.partial(canary_pins.plan_unpin if removing else canary_pins.plan_pin, image=module.params["image"])
    entries, diffs = [], []
    for namespace, name, sdep in targets(access, module.params):
        if sdep is None:
            entries.append(canary_pins.not_found_entry(namespace, name))
            module.warn(entries[-1]["reason"])
            continue
        written = kube_access.write_planned(access, "SeldonDeployment", sdep, plan_for)
        entries.append(canary_pins.deployment_entry(namespace, name, written.plan, removing, written.error))
        if written.plan.diff and not written.error:
            diffs.append(("{0}/{1}".format(namespace, name), written.plan.diff))
    module_results.finish(module, access, "deployments", entries, canary_pins.CHANGE_ACTIONS, diffs)


def main():
    module = AnsibleK8SModule(module_class=AnsibleModule, argument_spec=argument_spec(), supports_check_mode=True,
                              required_if=[("state", "present", ("deployments", "image"))])
    kube_access.run_connected(module, run)


if __name__ == "__main__":
    main()
