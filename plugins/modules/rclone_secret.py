#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: rclone_secret
short_description: Add rclone's RCLONE_CONFIG_<REMOTE>_* keys to kfserving credential secrets
version_added: 0.1.0
author:
  - Contributors to seldon_ops.rclone_migration (@seldon-ops)
description:
  - Converts the secrets Seldon models use with the kfserving storage initializer so that the rclone
    storage initializer can read them, by adding C(RCLONE_CONFIG_<REMOTE>_*) keys. Original keys and
    their bytes never change; only keys are added (or, with O(on_conflict=overwrite), rclone keys replaced).
  - Without O(name), converts every secret SeldonDeployments in O(namespaces) use - directly
    (C(envSecretRefName), C(defaultEnvSecretRefName)) or through the service account's S3 or GCS secret -
    for the remote each user's modelUri names (C(s3) for C(s3://), C(gs) for C(gs://), C(name) for C(name:path)).
  - With O(name), converts the secret of that name in each of O(namespaces).
  - Reads env-style secrets (C(AWS_ACCESS_KEY_ID), C(AWS_SECRET_ACCESS_KEY), C(AWS_ENDPOINT_URL), or
    C(S3_ENDPOINT) with C(S3_USE_HTTPS)/C(USE_SSL), C(AWS_REGION)/C(AWS_DEFAULT_REGION), C(S3_VERIFY_SSL)),
    service-account secrets (C(awsAccessKeyID), C(awsSecretAccessKey) or the names C(seldon-config) sets,
    with the C(machinelearning.seldon.io/s3-*) or C(serving.kubeflow.org/s3-*) annotations) and GCS secrets
    (C(gcloud-application-credentials.json)). Azure service-principal secrets are reported, not converted.
  - Normalises what would break rclone - surrounding whitespace or a newline in the endpoint, an endpoint
    without scheme - and writes rclone's spelling of the provider.
  - The names of the keys it added are recorded in the annotation C(rclone-migration.seldon-ops.io/added-keys), each
    with a digest of the value written (keyed with the secret's uid; never the value). O(state=absent) removes a
    recorded key only while it still holds that value - a key rotated since is kept and reported in RV(secrets[].kept_keys) -
    and removes the annotation. Secrets read by nodes that keep the rclone initializer after a rollback (their own
    rclone C(storageInitializerImage), not a canary pin) keep their keys and record.
  - Each write is a JSON patch carrying the resourceVersion that was read; on 409 Conflict the secret is
    read again and the conversion recomputed (bounded retries). Nothing is written when nothing differs.
  - With O(iam_secret_name), nodes that read S3 through IAM roles for service accounts (their service account
    carries C(eks.amazonaws.com/role-arn), no keys anywhere) get, per namespace, a secret of that name that makes rclone
    take the pod's web identity (C(_TYPE s3), C(_PROVIDER AWS), C(_ENV_AUTH true), C(_REGION) from O(iam_region));
    M(seldon_ops.rclone_migration.seldon_deployment_secret_ref) with the same option references it. It is recorded
    (annotation C(rclone-migration.seldon-ops.io/created), digests only) and O(state=absent) deletes it while it
    still holds what was written.
  - Check mode sends no write request. The diff shows key names with C(<redacted>) values.
options:
  name:
    description: Convert only the secret of this name (in each of O(namespaces)).
    type: str
  provider:
    description:
      - S3 provider to write in C(RCLONE_CONFIG_<REMOTE>_PROVIDER), in any case; written in rclone's spelling
        (C(AWS), C(Minio), C(Ceph), C(Wasabi), C(DigitalOcean), C(Other), ...).
      - V(auto) keeps a correctly spelled provider already in the secret, else uses C(AWS) when the secret
        names no endpoint (kfserving's default is AWS S3) or an AWS endpoint, and C(Other) otherwise.
    type: str
    default: auto
  remote:
    description:
      - rclone remote name to configure. Letters, digits and C(_) only.
      - Default - the remote each user's modelUri names; with O(name), C(s3) (C(gs) for a GCS secret).
      - Without O(name), a secret whose users name another remote is reported C(blocked), because rclone
        would not find the remote.
    type: str
  on_conflict:
    description:
      - What to do when the secret already has an rclone key with a different value than the conversion.
      - V(fail) writes nothing to that secret and reports C(conflict); V(keep) adds only missing keys;
        V(overwrite) replaces the differing rclone keys (their earlier values are not kept anywhere, and
        O(state=absent) does not remove keys that existed before).
    type: str
    choices: [fail, keep, overwrite]
    default: fail
  rewrite_provider_spelling:
    description:
      - A secret converted by hand as Seldon's docs show names the provider in lower case
        (C(RCLONE_CONFIG_S3_PROVIDER=minio)); rclone matches provider names exactly and falls back to generic S3.
      - V(false) accepts such a value as it is (the secret counts as converted, with a note); V(true) rewrites it in
        rclone's spelling (C(Minio)), reported in RV(secrets[].overwritten_keys). Other differing values stay
        conflicts (O(on_conflict)).
    type: bool
    default: false
  iam_region:
    description:
      - With O(iam_secret_name), the AWS region written into the secret it creates (C(RCLONE_CONFIG_<REMOTE>_REGION)).
    type: str
  rclone_image:
    description:
      - The rclone storage-initializer image the migration switches to. With O(iam_secret_name), an image whose
        rclone is older than 1.57 (tags before 1.14.0) refuses to create the IAM-roles secret, with the reason.
      - Default - the image the operator injects now.
    type: str
  state:
    description:
      - V(present) adds the keys. V(absent) removes the keys this module added (as recorded in its
        annotation, and only while they hold the value it wrote) from every annotated secret in O(namespaces)
        (or only O(name)).
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - seldon_ops.rclone_migration.seldon_settings
notes:
  - Requests for M namespaces - O(state=present) without O(name) lists SeldonDeployments, Secrets and
    ServiceAccounts once per namespace (3 x M, or 3 cluster-wide), plus up to two GETs for the operator
    settings, plus one PATCH per secret that changes (a GET and a PATCH more per 409 retry).
    O(state=absent) lists the same; with O(name) and O(state=present) only Secrets are listed.
seealso:
  - module: seldon_ops.rclone_migration.seldon_storage_info
  - module: seldon_ops.rclone_migration.seldon_deployment_secret_ref
"""

EXAMPLES = r"""
- name: Convert every secret the models in two namespaces use (MinIO behind custom endpoints)
  seldon_ops.rclone_migration.rclone_secret:
    namespaces: [models, team-b]
    provider: minio
  register: conversion
  no_log: true  # the module returns no values; no_log also hides the invocation

- name: Convert one secret for the rclone remote "minio" (modelUri minio:bucket/path)
  seldon_ops.rclone_migration.rclone_secret:
    namespaces: [models]
    name: seldon-init-container-secret
    remote: minio
    provider: minio

- name: Roll back - remove exactly the keys the conversion added
  seldon_ops.rclone_migration.rclone_secret:
    namespaces: [models, team-b]
    state: absent
"""

RETURN = r"""
secrets:
  description: One entry per secret considered.
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
    action:
      description:
        - C(converted) (keys added, or would be in check mode), C(unchanged), C(conflict), C(blocked),
          C(skipped) (no kfserving credentials for the remote), C(removed) (state=absent) or C(failed) (API error).
      type: str
      returned: always
    reason:
      description: Why, in words; never a value.
      type: str
      returned: always
    format:
      description: C(env), C(service_account), C(gcs), C(azure), C(rclone) or C(unknown).
      type: str
      returned: always
    remotes:
      description: rclone remotes configured for.
      type: list
      elements: str
      returned: always
    added_keys:
      description: Key names added (state=absent - removed).
      type: list
      elements: str
      returned: always
    overwritten_keys:
      description: rclone key names replaced (on_conflict=overwrite).
      type: list
      elements: str
      returned: always
    conflicting_keys:
      description: rclone key names whose existing value differs.
      type: list
      elements: str
      returned: always
    kept_keys:
      description: O(state=absent) - recorded key names left in place (value changed since, recorded without a
        digest, or still read by nodes that keep the rclone initializer).
      type: list
      elements: str
      returned: always
    used_by:
      description: C(<deployment>/<predictor>/<node>) of the users (without O(name)).
      type: list
      elements: str
      returned: always
summary:
  description: Number of secrets per action.
  returned: always
  type: dict
  sample: {converted: 2, unchanged: 1}
api_requests:
  description: Requests this task sent, by verb.
  returned: always
  type: dict
  sample: {list: 3, get: 1, patch: 2}
"""

import copy
import functools

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import inventory
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_access
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_objects
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import model_uri
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import module_results
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import rclone_mapping as rm
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import secret_plan
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_settings
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import status as st
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import storage_report


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(copy.deepcopy(seldon_settings.ARG_SPEC))
    spec.update(
        name=dict(type="str"),
        provider=dict(type="str", default="auto"),
        remote=dict(type="str"),
        on_conflict=dict(type="str", default="fail", choices=list(rm.ON_CONFLICT_CHOICES)),
        rewrite_provider_spelling=dict(type="bool", default=False),
        iam_region=dict(type="str"),
        rclone_image=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    return spec


def conversion_work(access, params, settings):
    """``[(SecretTarget, planning function)]`` for state=present."""
    config = settings.credentials_config
    if params["name"]:
        listed = access.list("Secret", params["namespaces"], field_selector="metadata.name=" + params["name"])
        targets = secret_plan.targets_named(listed, params["namespaces"], params["name"], params["remote"], config)
    else:
        cluster = inventory.load(access, params, settings, provider=params["provider"])
        uses = storage_report.secret_uses(storage_report.node_plans(cluster)[0])
        targets = secret_plan.targets_for_uses(uses, cluster, params["remote"])
    work = []
    for target in targets:
        if target.obj is None and target.name == params["iam_secret_name"] and not target.problem:
            work.append((target, functools.partial(
                secret_plan.plan_iam_secret, target.namespace, target.name, target.remotes, params["iam_region"] or "",
                params["rclone_image"] or settings.storage_initializer_image)))
            continue
        work.append((target, functools.partial(
            secret_plan.plan_conversion, remotes=target.remotes, provider=params["provider"],
            on_conflict=params["on_conflict"], config=config, rewrite_spelling=params["rewrite_provider_spelling"])))
    return work


def removal_work(access, params, settings):
    """``[(SecretTarget, planning function)]`` for state=absent: every secret carrying our record;
    the ones that nodes keeping the rclone initializer read keep their keys."""
    cluster = inventory.load(access, params, settings)
    users = storage_report.rclone_users(cluster)
    work = []
    for key, obj in sorted(cluster.secrets.items()):
        if not set(kube_objects.annotations_of(obj)) & {secret_plan.ADDED_KEYS_ANNOTATION, secret_plan.CREATED_ANNOTATION}:
            continue
        if params["name"] and key[1] != params["name"]:
            continue
        kept_for = "kept: {0} still run the rclone initializer (their own storageInitializerImage)".format(
            ", ".join(users[key])) if key in users else ""
        plan = secret_plan.plan_created_removal if secret_plan.CREATED_ANNOTATION in kube_objects.annotations_of(obj) \
            else secret_plan.plan_removal
        work.append((secret_plan.removal_target(obj), functools.partial(
            plan, config=settings.credentials_config, kept_for=kept_for)))
    return work


def write(access, target, plan_for):
    """Create, delete or patch one secret as its plan says; returns kube_access.Written."""
    if target.obj is None:
        return kube_access.create_planned(access, "Secret", plan_for())
    plan = plan_for(target.obj)
    if plan.delete:
        return kube_access.delete_planned(access, "Secret", target.obj, plan)
    return kube_access.write_planned(access, "Secret", target.obj, plan_for)


def run(module, access):
    params = module.params
    settings = seldon_settings.read(access, params, kube_access.KubeAccessError)
    for warning in settings.warnings:
        module.warn(warning)
    if params["state"] == "absent":
        work = removal_work(access, params, settings)
    else:
        work = conversion_work(access, params, settings)
    entries, diffs = [], []
    for target, plan_for in work:
        if target.problem or (target.obj is None and plan_for.func is not secret_plan.plan_iam_secret):
            entries.append(secret_plan.entry(target))
            continue
        written = write(access, target, plan_for)
        entries.append(secret_plan.entry(target, written.plan, written.error))
        if written.plan.diff and not written.error:
            diffs.append(("{0}/{1}".format(target.namespace, target.name), written.plan.diff))
    module_results.finish(module, access, "secrets", entries, st.SECRET_CHANGE_ACTIONS, diffs)


def main():
    module = AnsibleK8SModule(module_class=AnsibleModule, argument_spec=argument_spec(), supports_check_mode=True)
    problem = rm.resolve_provider(module.params["provider"], "")[1]
    if module.params["remote"] is not None and not model_uri.is_valid_remote_name(module.params["remote"]):
        problem = "remote '{0}' cannot be set through environment variables (letters, digits, _)".format(
            module.params["remote"])
    if problem:
        module.fail_json(msg=problem)
    kube_access.run_connected(module, run)


if __name__ == "__main__":
    main()
