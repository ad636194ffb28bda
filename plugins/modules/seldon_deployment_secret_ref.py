#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: seldon_deployment_secret_ref
short_description: Set envSecretRefName on Seldon graph nodes that get S3 credentials through their service account
version_added: 0.1.0
author:
  - Contributors to seldon_ops.rclone_migration (@seldon-ops)
description:
  - The rclone storage initializer reads credentials only from environment variables named
    C(RCLONE_CONFIG_*); the Seldon operator passes a node's service-account S3 secret as
    C(AWS_*) variables only. Nodes that relied on their service account therefore need an
    C(envSecretRefName) pointing at the (converted) secret.
  - For every node that loads a model - graph nodes at any depth and explainers - whose status is
    C(needs_secret_ref) (see M(seldon_ops.rclone_migration.seldon_storage_info)), sets
    C(envSecretRefName) to the S3 (or GCS) secret its service account lists, or to O(secret_name).
    C(serviceAccountName) stays as it is (it may also serve IAM roles).
  - Records the nodes it changed in the annotation C(rclone-migration.seldon-ops.io/secret-refs)
    (a JSON object mapping C(<predictor>/<node>) to the secret name); O(state=absent) removes exactly those values, and
    leaves a node alone when its C(envSecretRefName) was changed since.
  - Writes a JSON patch (custom resources reject strategic merge patch) that carries the resourceVersion
    it read; on 409 Conflict the object is read again and the plan recomputed (bounded retries).
    Objects that need no change get no request. Check mode writes nothing.
options:
  secret_name:
    description:
      - Secret to reference instead of each service account's own S3 secret. It must exist in the
        SeldonDeployment's namespace.
      - With this option, nodes without any credentials (blocked because their service account lists
        no S3 secret) get it too.
    type: str
  hand_written_image:
    description:
      - The operator keeps an init container named C(<container>-model-initializer) that componentSpecs already holds
        exactly as written, so the global switch never reaches it (such nodes have status C(hand_written)).
      - With this option each one is patched the way the operator would render it - this image, and C(envFrom) the
        secret the node reads - and what changed is recorded (annotation
        C(rclone-migration.seldon-ops.io/hand-written-initializers)); O(state=absent) puts back exactly that while the
        values are still the ones written.
    type: str
  state:
    description:
      - V(present) sets the references. V(absent) removes the references this module set (as recorded
        in its annotation) and the annotation.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - seldon_ops.rclone_migration.seldon_settings
notes:
  - Requests for M namespaces - O(state=present) lists SeldonDeployments, Secrets and ServiceAccounts
    once per namespace (3 x M, or 3 cluster-wide) plus up to two GETs for the operator settings;
    O(state=absent) lists SeldonDeployments only. One PATCH per SeldonDeployment that changes.
seealso:
  - module: seldon_ops.rclone_migration.seldon_storage_info
  - module: seldon_ops.rclone_migration.rclone_secret
"""

EXAMPLES = r"""
- name: Point service-account nodes at their converted secret
  seldon_ops.rclone_migration.seldon_deployment_secret_ref:
    namespaces: [models]
  register: refs

- name: Use one shared rclone secret for every node that has no credentials of its own
  seldon_ops.rclone_migration.seldon_deployment_secret_ref:
    namespaces: [models]
    secret_name: rclone-shared

- name: Roll back the references this module set
  seldon_ops.rclone_migration.seldon_deployment_secret_ref:
    namespaces: [models]
    state: absent
"""

RETURN = r"""
deployments:
  description: One entry per SeldonDeployment considered.
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
      description: C(patched) (or would be in check mode), C(removed) (state=absent), C(unchanged), C(blocked) or C(failed).
      type: str
      returned: always
    reason:
      description: Why.
      type: str
      returned: always
    nodes:
      description: Per model-loading node (state=absent - per recorded node).
      type: list
      elements: dict
      returned: always
      contains:
        ref:
          description: C(<predictor>/<node>).
          type: str
          returned: always
        predictor:
          description: Predictor name.
          type: str
          returned: always
        node:
          description: Node name or C(.explainer).
          type: str
          returned: always
        path:
          description: JSON pointer of the node.
          type: str
          returned: always
        action:
          description: C(set), C(unchanged), C(removed), C(blocked) or C(skipped).
          type: str
          returned: always
        secret:
          description: Secret referenced.
          type: str
          returned: always
        reason:
          description: Why.
          type: str
          returned: always
        target:
          description: C(envSecretRefName), or C(initContainer) for a hand-written init container (O(hand_written_image)).
          type: str
          returned: always
summary:
  description: Number of SeldonDeployments per action.
  returned: always
  type: dict
api_requests:
  description: Requests this task sent, by verb.
  returned: always
  type: dict
"""

import copy
import functools

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import inventory
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_access
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_objects
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import module_results
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import secret_ref_plan
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_settings
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import status as st


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(copy.deepcopy(seldon_settings.ARG_SPEC))
    spec.update(
        secret_name=dict(type="str"),
        hand_written_image=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    return spec


def run(module, access):
    params = module.params
    removing = params["state"] == "absent"
    if removing:
        sdeps = sorted((obj for obj in access.list("SeldonDeployment", params["namespaces"])
                        if secret_ref_plan.SECRET_REFS_ANNOTATION in kube_objects.annotations_of(obj)),
                       key=kube_objects.sort_key)
        plan_for = secret_ref_plan.plan_ref_removal
    else:
        settings = seldon_settings.read(access, params, kube_access.KubeAccessError)
        for warning in settings.warnings:
            module.warn(warning)
        cluster = inventory.load(access, params, settings)
        sdeps = cluster.deployments
        plan_for = functools.partial(secret_ref_plan.plan_refs, inventory=cluster, secret_name=params["secret_name"] or "",
                                     hand_written_image=params["hand_written_image"] or "")
    entries, diffs = [], []
    for sdep in sdeps:
        written = kube_access.write_planned(access, "SeldonDeployment", sdep, plan_for)
        entry = secret_ref_plan.deployment_entry(sdep, written.plan, removing, written.error)
        entries.append(entry)
        if written.plan.diff and not written.error:
            diffs.append(("{0}/{1}".format(entry["namespace"], entry["name"]), written.plan.diff))
    module_results.finish(module, access, "deployments", entries, st.DEPLOYMENT_CHANGE_ACTIONS, diffs)


def main():
    module = AnsibleK8SModule(module_class=AnsibleModule, argument_spec=argument_spec(), supports_check_mode=True)
    kube_access.run_connected(module, run)


if __name__ == "__main__":
    main()
