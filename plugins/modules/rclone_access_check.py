#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: rclone_access_check
short_description: Check with short-lived Jobs that every converted secret really reaches its model with the rclone initializer
version_added: 0.1.0
author:
  - Contributors to seldon_ops.rclone_migration (@seldon-ops)
description:
  - Format is not access. A secret with the right C(RCLONE_CONFIG_<REMOTE>_*) keys can still hold a wrong key or name
    an endpoint the pods cannot reach. Run this before the operator's global switch to the rclone initializer.
  - Lists SeldonDeployments, Secrets and ServiceAccounts like M(seldon_ops.rclone_migration.seldon_storage_info) and
    takes every model-loading node whose status is C(migrated) or C(convertible) (the Job is the same before and
    after the conversion, it only references the secret). For each distinct (namespace, env secret, remote, bucket)
    it creates one C(batch/v1) Job from O(image) that runs C(rclone lsf <modelUri>), the modelUri exactly as the init
    container reads it, with exactly the environment the operator gives the rendered init container - C(envFrom)
    the node's C(envSecretRefName) (else the operator's C(defaultEnvSecretRefName)), plus the env its credential
    builder adds from the node's service account (C(AWS_ACCESS_KEY_ID) and C(AWS_SECRET_ACCESS_KEY) as
    C(secretKeyRef) of the service account's S3 secret, the C(s3-*) annotations as C(S3_ENDPOINT),
    C(AWS_ENDPOINT_URL), C(S3_USE_HTTPS), C(AWS_REGION), C(S3_VERIFY_SSL); a GCS secret as a volume and
    C(GOOGLE_APPLICATION_CREDENTIALS)). Nodes of one key whose environment, pod service account or pinned rclone
    image differ get a Job each. With several models in one bucket, the first modelUri (sorted) is listed.
  - The Job spec holds references only, never a secret value - C(backoffLimit 0), C(activeDeadlineSeconds)
    O(wait_timeout) + 60, C(ttlSecondsAfterFinished 600), small resources, C(terminationMessagePolicy
    FallbackToLogsOnError), the label C(rclone-migration.seldon-ops.io/access-check=<run id>) on the Job and its pod.
  - Waits for the Jobs (one LIST of Jobs with the run's label selector per poll), reads each outcome - success, or
    rclone's error line from the pod's terminated message, or why the pod did not run (image pull, missing secret
    key, unschedulable) - and deletes the Jobs (C(propagationPolicy Background)).
  - Errors never carry a value - every value of the secrets the Job referenced is masked (plain and base64), then
    whatever looks like a key, a token or URL credentials is removed.
  - Nodes that are not checked (other statuses, a pinned non-rclone image, a modelUri with rclone parameters) are
    listed in RV(not_checked) with the reason.
  - Check mode creates nothing and returns the Jobs it would create.
options:
  image:
    description:
      - The rclone storage initializer image the operator will render after the switch, e.g.
        C(docker.io/seldonio/rclone-storage-initializer:1.17.1). A node that pins its own rclone image is checked
        with that one.
    type: str
    required: true
  provider:
    description:
      - S3 provider the conversion writes, used to tell convertible secrets from conflicting ones (as in
        M(seldon_ops.rclone_migration.seldon_storage_info)).
    type: str
    default: auto
  wait_timeout:
    description:
      - Seconds to wait for all Jobs together. A Job not finished by then is reported as V(timeout) and deleted.
    type: int
    default: 300
  wait_sleep:
    description: Seconds between two polls.
    type: int
    default: 2
  run_id:
    description:
      - The value of the label C(rclone-migration.seldon-ops.io/access-check) on this run's Jobs, and part of their
        names. 1-40 lowercase letters, digits, C(-) or C(.).
      - Omitted, one is made from the time (RV(run_id)).
    type: str
  fail_on_failure:
    description:
      - Fail the task when a check is V(failed) or V(timeout), naming the namespace, secret, remote, bucket, nodes and
        rclone's error of each. With V(false), the result says it and the caller decides.
    type: bool
    default: true
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - seldon_ops.rclone_migration.seldon_settings
notes:
  - Requests - the reads of M(seldon_ops.rclone_migration.seldon_storage_info) (three LISTs per namespace, two GETs
    for the operator settings), one POST per Job, one LIST of Jobs per poll (per namespace with checks when
    the inventory was listed per namespace, else one for the cluster), one LIST of Pods with the same label selector when a Job
    did not succeed, one DELETE per Job. Check mode sends the reads only.
  - Needs RBAC to create, list and delete C(jobs) (batch) and list C(pods) in the namespaces of the checks.
  - On a cluster whose pods cannot pull O(image) every check ends in V(timeout) with the image pull error.
  - For bucket stores (S3, GCS, Azure) rclone lists a path that does not exist as empty, so a check proves that
    the credentials and the endpoint reach the bucket, not that the model files are there.
seealso:
  - module: seldon_ops.rclone_migration.seldon_storage_info
  - module: seldon_ops.rclone_migration.rclone_secret
"""

EXAMPLES = r"""
- name: Before the switch, check that every converted secret reaches its model
  seldon_ops.rclone_migration.rclone_access_check:
    namespaces: [models]
    image: docker.io/seldonio/rclone-storage-initializer:1.17.1
    wait_timeout: 300
  register: access

- name: Check mode lists the Jobs it would create, and creates nothing
  seldon_ops.rclone_migration.rclone_access_check:
    image: docker.io/seldonio/rclone-storage-initializer:1.17.1
  check_mode: true
  register: planned

- name: Decide in the play instead of failing the task
  seldon_ops.rclone_migration.rclone_access_check:
    namespaces: [models]
    image: docker.io/seldonio/rclone-storage-initializer:1.17.1
    fail_on_failure: false
  register: access

- name: Stop on any failure, naming node, secret and rclone's error
  ansible.builtin.fail:
    msg: "{{ access.checks | selectattr('status', 'ne', 'ok') | map(attribute='reason') | join('; ') }}"
  when: access.summary.failed + access.summary.timeout > 0
"""

RETURN = r"""
checks:
  description: One entry per Job (per distinct namespace, secret, remote, bucket and rendered environment).
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: Namespace of the Job, the secret and the nodes.
      type: str
      returned: always
    secret:
      description: The env secret the Job's C(envFrom) names (the one the init container reads).
      type: str
      returned: always
    secret_source:
      description: V(envSecretRefName) (the node's) or V(defaultEnvSecretRefName) (the operator's default).
      type: str
      returned: always
    remote:
      description: The rclone remote of the modelUri, as written.
      type: str
      returned: always
      sample: s3
    bucket:
      description: The bucket (first path element) of the modelUri.
      type: str
      returned: always
      sample: sklearn
    model_uri:
      description: The modelUri listed (without user info, query and parameter values).
      type: str
      returned: always
      sample: s3://sklearn/iris
    nodes:
      description: C(<deployment>/<predictor>/<node>) of every node this check stands for.
      type: list
      elements: str
      returned: always
      sample: [iris/default/classifier, iris/default/.explainer]
    service_account:
      description: The service account whose credential env the Job carries ("" when it adds none).
      type: str
      returned: always
    service_account_secrets:
      description: The secrets of that service account the env references.
      type: list
      elements: str
      returned: always
    image:
      description: The image the Job ran.
      type: str
      returned: always
    job:
      description: Name of the Job (deleted again; in check mode, the Job that would be created).
      type: str
      returned: always
      sample: rclone-access-3f9a0c1d2e-a1b2c3
    status:
      description:
        - V(ok) - rclone listed the path. V(failed) - rclone failed, or the Job could not be created.
          V(timeout) - the Job did not finish within O(wait_timeout) (or its deadline). V(planned) - check mode.
      type: str
      returned: always
      sample: failed
    error:
      description:
        - rclone's error line (e.g. C(Failed to lsf ... SignatureDoesNotMatch ...)) with its exit code, or why the
          pod did not run; every secret value masked, key- and token-like words and URL credentials removed.
      type: str
      returned: always
      sample: "exit code 1: Failed to lsf with 2 errors: last error was: error in ListJSON: directory not found"
    action:
      description: V(failed) for V(failed) and V(timeout), else the status.
      type: str
      returned: always
    reason:
      description: One line naming namespace, secret, remote, bucket, nodes and the outcome.
      type: str
      returned: always
    manifest:
      description: The Job as sent (references only, no value).
      type: dict
      returned: always
not_checked:
  description: Model-loading nodes no check covers, with their status and why.
  returned: always
  type: list
  elements: dict
  sample: [{namespace: models, deployment: iris-sa, ref: default/classifier, status: needs_secret_ref, reason: "status needs_secret_ref: ..."}]
run_id:
  description: The label value of this run's Jobs.
  returned: always
  type: str
  sample: 20250101t120000-a1b2c3
summary:
  description: Checks per status, Jobs created, nodes not checked.
  returned: always
  type: dict
  sample: {ok: 2, failed: 1, timeout: 0, planned: 0, jobs_created: 3, not_checked: 1}
api_requests:
  description: Requests this task sent, by verb.
  returned: always
  type: dict
  sample: {list: 5, get: 2, create: 3, delete: 3}
"""

import copy

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import access_check
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import inventory
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_access
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import rclone_mapping as rm
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_settings


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(copy.deepcopy(seldon_settings.ARG_SPEC))
    spec.update(
        image=dict(type="str", required=True),
        provider=dict(type="str", default="auto"),
        wait_timeout=dict(type="int", default=300),
        wait_sleep=dict(type="int", default=2),
        run_id=dict(type="str"),
        fail_on_failure=dict(type="bool", default=True),
    )
    return spec


def run(module, access):
    params = module.params
    run_id = params.get("run_id") or access_check.new_run_id()
    settings = seldon_settings.read(access, params, kube_access.KubeAccessError)
    for warning in settings.warnings:
        module.warn(warning)
    cluster = inventory.load(access, params, settings, provider=params["provider"])
    checks, not_checked = access_check.plan_checks(cluster, params["image"], run_id, params["wait_timeout"])
    entries, created = access_check.run_checks(
        access, cluster, checks, run_id, access_check.job_scopes(checks, params.get("namespaces"), settings.watch.namespace),
        params["wait_timeout"], params["wait_sleep"], module.warn)
    access_check.finish(module, access, entries, not_checked, run_id, created, params["fail_on_failure"])


def main():
    module = AnsibleK8SModule(module_class=AnsibleModule, argument_spec=argument_spec(), supports_check_mode=True)
    problem = rm.resolve_provider(module.params["provider"], "")[1]
    if not problem and not seldon_settings.is_rclone_image(module.params["image"]):
        problem = "image {0} is not an rclone-storage-initializer image".format(module.params["image"])
    if not problem and module.params["run_id"]:
        problem = access_check.run_id_problem(module.params["run_id"])
    if not problem and (module.params["wait_timeout"] < 0 or module.params["wait_sleep"] < 0):
        problem = "wait_timeout and wait_sleep must not be negative"
    if problem:
        module.fail_json(msg=problem)
    kube_access.run_connected(module, run)


if __name__ == "__main__":
    main()
