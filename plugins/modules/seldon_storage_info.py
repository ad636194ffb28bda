#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: seldon_storage_info
short_description: Report how every Seldon model would load its credentials under the rclone storage initializer
version_added: 0.1.0
author:
  - Contributors to seldon_ops.rclone_migration (@seldon-ops)
description:
  - Lists SeldonDeployments, Secrets and ServiceAccounts once per namespace (or once for the whole
    cluster) and walks every predictor's graph, children at any depth, plus each predictor's explainer.
  - Which nodes get a storage-initializer init container follows the operator release read from the
    controller's image tag (C(operator) in RV(seldon); see C(docs/operator-versions.md)) - prepackaged servers and
    explainers with a C(modelUri), from 1.17.1 every node with a C(modelUri), from 1.15.0 not Triton nodes
    marked C(seldon.io/no-storage-initializer). For each such node it reports the URI scheme and the rclone remote it implies, where the
    credentials come from (C(envSecretRefName), the operator's C(defaultEnvSecretRefName), the service
    account, or none), the secret involved, and a status with a reason.
  - Statuses. C(migrated) - the secret the init container reads already configures the remote.
    C(convertible) - the secret holds kfserving credentials that M(seldon_ops.rclone_migration.rclone_secret)
    can convert. C(needs_secret_ref) - the credentials come through the service account, so the node
    also needs an C(envSecretRefName) (M(seldon_ops.rclone_migration.seldon_deployment_secret_ref)).
    C(blocked) - would break and cannot be fixed automatically; the reason says why.
    C(no_credentials) - needs none (C(pvc://), local paths, public C(gs://) buckets).
    C(hand_written) - componentSpecs holds the node's init container, which the operator keeps as written, so
    the switch does not reach it (migrate it by hand); never counted as migrated. C(failing_before) - the
    operator already fails to render the SeldonDeployment (C(status.state) Failed); the reason also says what
    the rclone initializer would need.
  - A node the operator could not read (a field of the wrong type, a predictor or node name used twice) is
    C(blocked) with a reason naming the field; every other object is still reported.
  - Never returns secret values; model URIs are returned without user info, query strings and the values of
    rclone C(,param=value) overrides.
  - Read-only; C(changed) is always false.
options:
  provider:
    description:
      - S3 provider the conversion would write, used to tell convertible secrets from conflicting ones.
      - V(auto) keeps a correctly spelled provider already in the secret, else uses C(AWS) when the
        secret names no endpoint (or an AWS one) and C(Other) otherwise.
      - Any case is accepted; rclone's spelling (for example C(Minio), C(DigitalOcean)) is what is compared.
    type: str
    default: auto
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - seldon_ops.rclone_migration.seldon_settings
notes:
  - Requests, measured in the apiserver audit log for M namespaces - one LIST each of
    SeldonDeployments, Secrets and ServiceAccounts per namespace (3 x M; 3 when O(namespaces) is
    omitted) and up to two GETs for the operator settings. Nothing is written.
seealso:
  - module: seldon_ops.rclone_migration.rclone_secret
  - module: seldon_ops.rclone_migration.seldon_deployment_secret_ref
"""

EXAMPLES = r"""
- name: Check whether the cluster can switch to the rclone storage initializer
  seldon_ops.rclone_migration.seldon_storage_info:
    namespaces: [models, team-b]
  register: storage

- name: Stop when a model would break
  ansible.builtin.assert:
    that: storage.ready_for_upgrade
    fail_msg: "{{ storage.nodes | selectattr('status', 'equalto', 'blocked') | map(attribute='reason') | list }}"

- name: Whole cluster, MinIO behind every custom endpoint, operator settings given
  seldon_ops.rclone_migration.seldon_storage_info:
    provider: minio
    read_seldon_config: false
    default_env_secret_ref_name: ""
    kubeconfig: ~/.kube/prod
    context: prod
"""

RETURN = r"""
nodes:
  description: One entry per model-loading graph node or explainer.
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: Namespace.
      type: str
      returned: always
    deployment:
      description: SeldonDeployment name.
      type: str
      returned: always
    predictor:
      description: Predictor name.
      type: str
      returned: always
    node:
      description: Graph node name, or C(.explainer).
      type: str
      returned: always
    ref:
      description: C(<predictor>/<node>).
      type: str
      returned: always
    kind:
      description: C(graph) or C(explainer).
      type: str
      returned: always
    path:
      description: JSON pointer of the node in the object.
      type: str
      returned: always
      sample: /spec/predictors/0/graph/children/1
    depth:
      description: 0 for a top-level node.
      type: int
      returned: always
    implementation:
      description: Node implementation (explainer type for explainers).
      type: str
      returned: always
    model_uri:
      description: modelUri without user info and query.
      type: str
      returned: always
    scheme:
      description: URI scheme or remote name.
      type: str
      returned: always
      sample: s3
    remote:
      description: rclone remote the URI implies (empty when none).
      type: str
      returned: always
      sample: s3
    credentials:
      description: C(envSecretRefName), C(defaultEnvSecretRefName), C(serviceAccountName) or C(none).
      type: str
      returned: always
    secret:
      description: Secret involved (empty when none).
      type: str
      returned: always
    service_account:
      description: Effective service account (node, pod, else C(default)).
      type: str
      returned: always
    status:
      description: migrated, convertible, needs_secret_ref, blocked, no_credentials, hand_written or failing_before.
      type: str
      returned: always
    reason:
      description: Why, in words.
      type: str
      returned: always
    custom_initializer:
      description: Name of a hand-written C(-model-initializer) init container the operator keeps.
      type: str
      returned: always
    storage_initializer_image:
      description: Per-node image pin (empty when none).
      type: str
      returned: always
ignored_nodes:
  description: Graph nodes with a modelUri that get no init container (for example custom containers), with the reason.
  returned: always
  type: list
  elements: dict
secrets:
  description: Secrets the nodes use or need.
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: Namespace.
      type: str
      returned: always
    name:
      description: Secret name.
      type: str
      returned: always
    format:
      description: C(env), C(service_account), C(gcs), C(azure), C(rclone) or C(unknown) (empty when missing).
      type: str
      returned: always
    status:
      description: migrated, convertible, conflict, blocked, missing or no_credentials.
      type: str
      returned: always
    reason:
      description: Why.
      type: str
      returned: always
    used_by:
      description: C(<deployment>/<predictor>/<node>) of the users.
      type: list
      elements: str
      returned: always
    remotes:
      description: rclone remotes its users need.
      type: list
      elements: str
      returned: always
    keys_to_add:
      description: Key names a conversion would add.
      type: list
      elements: str
      returned: always
    conflicting_keys:
      description: rclone key names whose value differs from the conversion.
      type: list
      elements: str
      returned: always
    added_keys:
      description: Key names a previous conversion recorded as added.
      type: list
      elements: str
      returned: always
summary:
  description: Counts.
  returned: always
  type: dict
  sample: {deployments: 2, nodes: 3, nodes_by_status: {migrated: 0, convertible: 1, needs_secret_ref: 1, blocked: 1, no_credentials: 0}}
unwatched_deployments:
  description: SeldonDeployments listed that the operator does not reconcile (another namespace or controller id), and why.
  returned: always
  type: list
  elements: dict
  sample: [{namespace: team-b, name: iris, reason: "namespace team-b is labelled seldon.io/controller-id: another operator manages it"}]
ready_for_upgrade:
  description:
    - True only when every model-loading node is C(migrated), C(no_credentials), C(hand_written) or C(failing_before)
      (none would break because of the switch) and C(problems) in RV(seldon) is empty.
  returned: always
  type: bool
seldon:
  description:
    - Operator settings used (default env secret and its source, credentials key names, current initializer image).
    - C(problems) lists why the operator cannot render any model as configured (a C(seldon-config) entry that is not a
      JSON object); RV(ready_for_upgrade) is false while there is one.
    - C(operator) - the operator release (C(version)), where it was read (C(source)) and the rules that follow from it.
  returned: always
  type: dict
  sample:
    default_env_secret_ref_name: ""
    default_env_secret_ref_name_source: none
    storage_initializer_image: kfserving/storage-initializer:v0.6.1
    storage_initializer_image_source: seldon-config storageInitializer
    problems: []
    operator: {version: 1.17.1, source: controller image tag, explainer_default_env_secret: true}
api_requests:
  description: Requests this task sent, by verb.
  returned: always
  type: dict
  sample: {list: 3, get: 2}
"""

import copy

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import inventory
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_access
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import rclone_mapping as rm
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_settings
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import storage_report


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(copy.deepcopy(seldon_settings.ARG_SPEC))
    spec["provider"] = dict(type="str", default="auto")
    return spec


def run(module, access):
    settings = seldon_settings.read(access, module.params, kube_access.KubeAccessError)
    for warning in settings.warnings:
        module.warn(warning)
    cluster = inventory.load(access, module.params, settings, provider=module.params["provider"])
    report = storage_report.storage_report(cluster, settings.problems)
    module.exit_json(changed=False, seldon=settings.public(), api_requests=dict(access.requests), **report)


def main():
    module = AnsibleK8SModule(module_class=AnsibleModule, argument_spec=argument_spec(), supports_check_mode=True)
    provider_problem = rm.resolve_provider(module.params["provider"], "")[1]
    if provider_problem:
        module.fail_json(msg=provider_problem)
    kube_access.run_connected(module, run)


if __name__ == "__main__":
    main()
