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
# componentSpecs holds the node's init container: the operator keeps it as written (kfserving image
# and env), so the switch does not reach it; migrate it by hand. Never counted as migrated.
HAND_WRITTEN = "hand_written"
# The operator already fails to render the node's SeldonDeployment (status.state Failed): neither
# caused nor fixed by the migration; its reason says what the rclone initializer would need.
FAILING_BEFORE = "failing_before"
NODE_STATUSES = (MIGRATED, CONVERTIBLE, NEEDS_SECRET_REF, BLOCKED, NO_CREDENTIALS, HAND_WRITTEN, FAILING_BEFORE)
# Statuses that do not stop the switch: the model loads under the rclone initializer, or the switch
# does not change how it loads (hand-written init container), or it fails already.
READY_STATUSES = (MIGRATED, NO_CREDENTIALS, HAND_WRITTEN, FAILING_BEFORE)
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

# Access checks (rclone_access_check): did rclone, with the init container's environment, list the model?
CHECK_OK = "ok"
CHECK_FAILED = "failed"
CHECK_TIMEOUT = "timeout"
CHECK_PLANNED = "planned"      # check mode: the Job that would run
CHECK_STATUSES = (CHECK_OK, CHECK_FAILED, CHECK_TIMEOUT, CHECK_PLANNED)

# How a node gets its credentials.
VIA_ENV_SECRET = "envSecretRefName"
VIA_DEFAULT_SECRET = "defaultEnvSecretRefName"
VIA_SERVICE_ACCOUNT = "serviceAccountName"
VIA_NONE = "none"

# What a diff shows instead of a secret value.
REDACTED = "<redacted>"

# Cluster statuses (the rclone_migration role's report, the fleet summary), one per cluster run.
CLUSTER_BLOCKED = "blocked"                   # nodes the migration cannot fix; nothing was written
CLUSTER_INCOMPLETE = "incomplete"             # switched, but a rollout or the prediction check did not pass
CLUSTER_MIGRATED = "migrated"                 # on the rclone initializer, every node ready
CLUSTER_WOULD_MIGRATE = "would_migrate"       # dry run of the migration
CLUSTER_ROLLED_BACK = "rolled_back"
CLUSTER_WOULD_ROLL_BACK = "would_roll_back"   # dry run of the rollback
CLUSTER_READY = "ready"                       # preflight: every node would load under the rclone initializer
CLUSTER_CONVERTIBLE = "convertible"           # preflight: the migration would have to convert first
CLUSTER_FAILED = "failed"                     # the run stopped on an error
CLUSTER_NO_REPORT = "no report"               # the fleet summary found no report for the cluster
CLUSTER_STATUSES = (CLUSTER_BLOCKED, CLUSTER_INCOMPLETE, CLUSTER_MIGRATED, CLUSTER_WOULD_MIGRATE, CLUSTER_ROLLED_BACK,
                    CLUSTER_WOULD_ROLL_BACK, CLUSTER_READY, CLUSTER_CONVERTIBLE, CLUSTER_FAILED, CLUSTER_NO_REPORT)
# How the fleet summary marks them: done or on track, worth a look; the rest stopped.
CLUSTER_OK_STATUSES = (CLUSTER_MIGRATED, CLUSTER_READY, CLUSTER_WOULD_MIGRATE, CLUSTER_ROLLED_BACK,
                       CLUSTER_WOULD_ROLL_BACK)
CLUSTER_WARN_STATUSES = (CLUSTER_CONVERTIBLE, CLUSTER_INCOMPLETE)
