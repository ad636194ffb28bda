# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster as one run sees it: the listed Secrets, ServiceAccounts and SeldonDeployments,
indexed, with each Secret decoded and converted at most once, and the operator's rule for which
secret of a service account reaches the init container.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kfserving_secret as ks
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_objects
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import operator_rules
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import rclone_mapping as rm
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_settings


# IAM roles for service accounts (EKS): the pod gets web-identity credentials, no keys anywhere.
IAM_ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"


class Inventory:
    """The listed objects, indexed by (namespace, name), with secrets decoded once on demand, and
    the operator's settings that decide how nodes read them (its release's rules included)."""

    def __init__(self, secrets=None, service_accounts=None, deployments=None, provider=rm.PROVIDER_AUTO,
                 default_env_secret_ref_name="", credentials_config=None, rules=None, watch=None, namespaces=None,
                 iam_secret_name=""):
        self.secrets = dict((kube_objects.object_key(obj), obj) for obj in secrets or [])
        self.service_accounts = dict((kube_objects.object_key(obj), obj) for obj in service_accounts or [])
        namespace_labels = dict((kube_objects.object_name(obj), kube_objects.labels_of(obj)) for obj in namespaces or [])
        self.watch = watch or seldon_settings.WatchScope("", "")
        self.deployments, self.unwatched = [], []
        for sdep in sorted(deployments or [], key=kube_objects.sort_key):
            watched, why = seldon_settings.watches(self.watch, sdep, namespace_labels)
            if watched:
                self.deployments.append(sdep)
            else:
                self.unwatched.append({"namespace": kube_objects.object_namespace(sdep),
                                       "name": kube_objects.object_name(sdep), "reason": why})
        self.provider = provider or rm.PROVIDER_AUTO
        self.default_env_secret_ref_name = default_env_secret_ref_name or ""
        self.config = ks.credentials_config(credentials_config)
        self.rules = rules or operator_rules.rules_for()
        self.iam_secret_name = iam_secret_name or ""
        self._decoded = {}
        self._conversions = {}

    def decoded(self, namespace, name):
        """The secret's data as text (None when the secret was not listed)."""
        key = (namespace, name)
        if key not in self._decoded:
            obj = self.secrets.get(key)
            self._decoded[key] = None if obj is None else ks.decode_data(obj.get("data"))
        return self._decoded[key]

    def annotations(self, namespace, name):
        return kube_objects.annotations_of(self.secrets.get((namespace, name)))

    def conversion(self, namespace, name, remote):
        """rclone_mapping.convert_for_remote for a listed secret (cached per remote)."""
        key = (namespace, name, remote.upper())
        if key not in self._conversions:
            self._conversions[key] = rm.convert_for_remote(
                self.decoded(namespace, name), self.annotations(namespace, name), remote, provider=self.provider,
                config=self.config, data_problem=ks.data_problem((self.secrets.get((namespace, name)) or {}).get("data")))
        return self._conversions[key]

    def secret_format(self, namespace, name):
        decoded = self.decoded(namespace, name)
        return "" if decoded is None else ks.detect_format(decoded, self.config)

    def uses_iam_roles(self, namespace, sa_name):
        """True when the service account carries an IAM role (eks.amazonaws.com/role-arn)."""
        return bool(kube_objects.annotations_of(self.service_accounts.get((namespace, sa_name))).get(IAM_ROLE_ANNOTATION))

    def _listed_secrets(self, namespace, sa):
        """``(names listed, S3 secret names, GCS secret names, names not found)`` of a service account."""
        listed, s3_names, gcs_names, missing = [], [], [], []
        for ref in kube_objects.as_list(sa.get("secrets")):
            name = kube_objects.as_dict(ref).get("name")
            if not isinstance(name, str) or not name:
                continue
            listed.append(name)
            decoded = self.decoded(namespace, name)
            if decoded is None:
                missing.append(name)
            elif ks.is_s3_service_account_secret(decoded, self.config):
                s3_names.append(name)
            elif ks.is_gcs_secret(decoded, self.config):
                gcs_names.append(name)
        return listed, s3_names, gcs_names, missing

    def service_account_secret(self, namespace, sa_name, remote):
        """``(secret name, reason)`` of the credentials secret the operator takes from a service account.

        The operator adds env vars for every listed S3 secret (a secret with the secret-key key),
        else mounts a GCS one; with several, the last one listed wins (later env entries override
        earlier ones), so that is the one returned.
        """
        sa = self.service_accounts.get((namespace, sa_name))
        if sa is None:
            return "", "service account {0} not found".format(sa_name)
        listed, s3_names, gcs_names, missing = self._listed_secrets(namespace, sa)
        hint = rm.remote_type_hint(remote)
        if hint == rm.REMOTE_S3:
            candidates, label = s3_names, "S3"
        elif hint == rm.REMOTE_GCS:
            candidates, label = gcs_names, "GCS"
        else:
            candidates, label = s3_names or gcs_names, "S3 or GCS"
        if candidates:
            return candidates[-1], ""
        if not listed:
            return "", "service account {0} lists no secrets".format(sa_name)
        reason = "service account {0} lists no {1} secret (key {2})".format(
            sa_name, label, self.config["gcs_credential_file_name"] if label == "GCS"
            else self.config["s3_secret_access_key_name"])
        if missing:
            reason += "; listed but not found: {0}".format(", ".join(missing))
        return "", reason


def load(access, params, settings, provider=rm.PROVIDER_AUTO):
    """LIST SeldonDeployments, Secrets and ServiceAccounts once per namespace and build the Inventory
    of the SeldonDeployments the operator reconciles (settings.watch).

    Without ``namespaces`` the operator's watch scope is read: its one namespace, or the whole
    cluster (one LIST per kind, and one of Namespaces for their controller-id labels).
    """
    namespaces = params.get("namespaces")
    if namespaces is None and settings.watch.namespace:
        namespaces = [settings.watch.namespace]
    deployments = access.list("SeldonDeployment", namespaces)
    listed_namespaces = access.list("Namespace") if namespaces is None and deployments else []
    return Inventory(
        secrets=access.list("Secret", namespaces), service_accounts=access.list("ServiceAccount", namespaces),
        deployments=deployments, namespaces=listed_namespaces,
        provider=provider, default_env_secret_ref_name=settings.default_env_secret_ref_name,
        credentials_config=settings.credentials_config, rules=settings.rules, watch=settings.watch,
        iam_secret_name=params.get("iam_secret_name") or "",
    )
