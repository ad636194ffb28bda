# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Options shared by seldon_storage_info, rclone_secret and seldon_deployment_secret_ref:
    # where to look and which Seldon operator settings shape the credentials.
    DOCUMENTATION = r"""
options:
  namespaces:
    description:
      - Namespaces to work in. Secrets, service accounts and SeldonDeployments are listed once per
        namespace.
      - Omitted, the operator's watch scope - the namespace of a namespaced operator (C(WATCH_NAMESPACE) or
        C(--namespace) of the controller), else the whole cluster (each kind listed once, plus Namespaces).
      - Either way only SeldonDeployments the operator reconciles count - a cluster-wide operator skips namespaces
        labelled C(seldon.io/controller-id), and a SeldonDeployment's label C(seldon.io/controller-id) must equal
        the controller's C(CONTROLLER_ID); the others are listed in C(unwatched_deployments) where returned.
    type: list
    elements: str
  seldon_namespace:
    description:
      - Namespace of the Seldon Core operator (its C(seldon-controller-manager) Deployment and
        C(seldon-config) ConfigMap).
    type: str
    default: seldon-system
  seldon_controller_name:
    description: Name of the operator's controller Deployment.
    type: str
    default: seldon-controller-manager
  read_seldon_config:
    description:
      - Read the controller Deployment (for C(PREDICTIVE_UNIT_DEFAULT_ENV_SECRET_REF_NAME)) and
        C(seldon-config) (for the C(credentials) settings) from O(seldon_namespace), one GET each.
      - When either cannot be read the module warns and uses the Seldon defaults.
      - Set to V(false) when the operator lives elsewhere or you give O(default_env_secret_ref_name)
        and O(credentials_config) yourself.
    type: bool
    default: true
  default_env_secret_ref_name:
    description:
      - The operator's C(predictiveUnit.defaultEnvSecretRefName) (the secret graph nodes without
        C(envSecretRefName) receive).
      - Omitted, it is read from the controller Deployment when O(read_seldon_config=true).
        Set to an empty string to state there is none.
    type: str
  iam_secret_name:
    description:
      - Name of the secret rclone reads IAM roles for service accounts from (C(RCLONE_CONFIG_<REMOTE>_ENV_AUTH=true),
        no keys) in each namespace. S3 nodes without keys whose service account carries
        C(eks.amazonaws.com/role-arn) then need it as C(envSecretRefName) (status C(needs_secret_ref)) instead of
        being blocked; M(seldon_ops.rclone_migration.rclone_secret) creates it and
        M(seldon_ops.rclone_migration.seldon_deployment_secret_ref) references it.
    type: str
  credentials_config:
    description:
      - The operator's C(credentials) settings from C(seldon-config), as overrides. Values not given
        come from C(seldon-config) (when read) or the Seldon defaults.
    type: dict
    suboptions:
      s3_access_key_id_name:
        description: Key of the access key id in service-account S3 secrets (Seldon default C(awsAccessKeyID)).
        type: str
      s3_secret_access_key_name:
        description: Key of the secret access key in service-account S3 secrets (default C(awsSecretAccessKey)).
        type: str
      s3_endpoint:
        description: Cluster-wide S3 endpoint for service-account secrets without an C(s3-endpoint) annotation.
        type: str
      s3_use_https:
        description: C("0") makes O(credentials_config.s3_endpoint) plain http, anything else https.
        type: str
      gcs_credential_file_name:
        description: Key of the GCP service-account JSON in GCS secrets (default C(gcloud-application-credentials.json)).
        type: str
"""
