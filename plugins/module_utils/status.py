# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The words the modules, the filters and the reports use for what they found and did.

One vocabulary: modules return these values, filters and role tasks import or compare against
them, and docs/modules.md explains them. Change a word here and nowhere else.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Node statuses (seldon_storage_info): would this node load its model under the rclone initializer?
MIGRATED = "migrated"
CONVERTIBLE = "convertible"
NEEDS_SECRET_REF = "needs_secret_ref"
BLOCKED = "blocked"
NO_CREDENTIALS = "no_credentials"
NODE_STATUSES = (MIGRATED, CONVERTIBLE, NEEDS_SECRET_REF, BLOCKED, NO_CREDENTIALS)
# Statuses that load the model once the operator injects the rclone initializer.
READY_STATUSES = (MIGRATED, NO_CREDENTIALS)
# Statuses that would break under the rclone initializer as the cluster is now.
NOT_READY_STATUSES = (CONVERTIBLE, NEEDS_SECRET_REF, BLOCKED)

# Secret statuses (seldon_storage_info), worst first where one secret has several remotes.
SECRET_MISSING = "missing"
SECRET_CONFLICT = "conflict"
SECRET_STATUSES = (MIGRATED, CONVERTIBLE, SECRET_CONFLICT, BLOCKED, SECRET_MISSING, NO_CREDENTIALS)

# Per-object actions (rclone_secret, seldon_deployment_secret_ref and their node entries).
ACTION_CONVERTED = "converted"
ACTION_UNCHANGED = "unchanged"
ACTION_CONFLICT = "conflict"
ACTION_BLOCKED = "blocked"
ACTION_SKIPPED = "skipped"
ACTION_REMOVED = "removed"
ACTION_PATCHED = "patched"
ACTION_SET = "set"
ACTION_FAILED = "failed"
# Which actions wrote (or would write in check mode) and which stop a migration.
SECRET_CHANGE_ACTIONS = (ACTION_CONVERTED, ACTION_REMOVED)
SECRET_PROBLEM_ACTIONS = (ACTION_CONFLICT, ACTION_BLOCKED, ACTION_FAILED)
DEPLOYMENT_CHANGE_ACTIONS = (ACTION_PATCHED, ACTION_REMOVED)
DEPLOYMENT_PROBLEM_ACTIONS = (ACTION_BLOCKED, ACTION_FAILED)

# How a node gets its credentials.
VIA_ENV_SECRET = "envSecretRefName"
VIA_DEFAULT_SECRET = "defaultEnvSecretRefName"
VIA_SERVICE_ACCOUNT = "serviceAccountName"
VIA_NONE = "none"

# What a diff shows instead of a secret value.
REDACTED = "<redacted>"
