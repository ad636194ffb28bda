# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Would one model-loading node load its model under the rclone initializer, and if not, what
would make it? (pure)

A node the operator could not read (seldon_graph.malformed, shared references) is blocked first.
The other rules run in the order the init container gets its credentials (../shared/seldon-facts.md,
"How the operator picks the init container and its credentials"): the modelUri first (some need
no credentials, some cannot work), then the env secret (``envSecretRefName``, else the default),
then the service account's S3/GCS secret, then the rclone image's own anonymous ``gs`` remote.
The first rule that decides gives the node's status.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import model_uri
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import rclone_mapping as rm
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_graph as sg
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import status as st

Outcome = namedtuple("Outcome", "status reason credentials secret target_secret")
Outcome.__doc__ = """One node's verdict: status (status.NODE_STATUSES), reason, how credentials
arrive (status.VIA_*), the secret they come from, and ``target_secret``: the secret
seldon_deployment_secret_ref sets as envSecretRefName ("" unless status is needs_secret_ref)."""


class NodePlan(namedtuple("NodePlan", "node remote service_account outcome")):
    """A graph node (seldon_graph.model_loading_nodes), the rclone remote its modelUri names
    ("" when none), its effective service account and its Outcome."""

    __slots__ = ()

    @property
    def status(self):
        return self.outcome.status

    def report(self):
        """The node as seldon_storage_info reports it: names, statuses, reasons; no value."""
        node = self.node
        return {
            "namespace": node["namespace"], "deployment": node["deployment"], "predictor": node["predictor"],
            "node": node["node"], "ref": node["ref"], "kind": node["kind"], "path": node["path"],
            "depth": node["depth"], "implementation": node["implementation"],
            "model_uri": model_uri.sanitize(node["model_uri"]), "scheme": model_uri.scheme(node["model_uri"]),
            "remote": self.remote, "credentials": self.outcome.credentials, "secret": self.outcome.secret,
            "service_account": self.service_account, "status": self.outcome.status,
            "reason": _with_notes(self.outcome.reason, node),
            "custom_initializer": node.get("custom_initializer") or "",
            "storage_initializer_image": node.get("storage_initializer_image") or "",
        }


def _conversion_outcome(conversion, secret_name, credentials):
    """Outcome for a node whose init container reads this conversion's secret."""
    notes = "; ".join(conversion.notes)
    if conversion.status == rm.CONVERSION_MIGRATED:
        reason = "secret {0}: {1}".format(secret_name, conversion.reason) + (" ({0})".format(notes) if notes else "")
        return Outcome(st.MIGRATED, reason, credentials, secret_name, "")
    if conversion.status == rm.CONVERSION_CONVERTIBLE:
        return Outcome(st.CONVERTIBLE, "secret {0}: {1}".format(secret_name, conversion.reason), credentials,
                       secret_name, "")
    if conversion.status == rm.CONVERSION_CONFLICT:
        return Outcome(st.BLOCKED, "secret {0}: conflicting rclone keys: {1}".format(
            secret_name, ", ".join(conversion.conflicts)), credentials, secret_name, "")
    return Outcome(st.BLOCKED, "secret {0}: {1}".format(secret_name, conversion.reason), credentials, secret_name, "")


def _uri_outcome(node, uri, env):
    """Outcome when the node or its modelUri alone decide (unreadable, no credentials needed, or cannot work)."""
    if node.get("problem"):
        return Outcome(st.BLOCKED, node["problem"], env.credentials, env.secret, "")
    if uri.kind in model_uri.NO_CREDENTIAL_KINDS:
        return Outcome(st.NO_CREDENTIALS, uri.reason, env.credentials, env.secret, "")
    if uri.kind != model_uri.URI_REMOTE:
        return Outcome(st.BLOCKED, uri.reason, env.credentials, env.secret, "")
    return None


def _env_outcome(node, remote, env, inventory):
    """Outcome when the env secret decides, else None (it has nothing for this remote)."""
    if not env.secret:
        return None
    if inventory.decoded(node["namespace"], env.secret) is None:
        return Outcome(st.BLOCKED, "secret {0} ({1}) not found in namespace {2}".format(
            env.secret, env.credentials, node["namespace"]), env.credentials, env.secret, "")
    conversion = inventory.conversion(node["namespace"], env.secret, remote)
    if conversion.status == rm.CONVERSION_NO_SOURCE:
        return None
    return _conversion_outcome(conversion, env.secret, env.credentials)


def _service_account_outcome(node, remote, sa_name, sa_secret, env, env_reason, inventory):
    """Outcome when the service account's secret decides, else None."""
    conversion = inventory.conversion(node["namespace"], sa_secret, remote)
    if conversion.status == rm.CONVERSION_NO_SOURCE:
        return None
    if conversion.status in (rm.CONVERSION_BLOCKED, rm.CONVERSION_CONFLICT):
        reason = _conversion_outcome(conversion, sa_secret, st.VIA_SERVICE_ACCOUNT).reason
        return Outcome(st.BLOCKED, "service account {0}: {1}".format(sa_name, reason), st.VIA_SERVICE_ACCOUNT,
                       sa_secret, "")
    if node["env_secret_ref_name"]:
        return Outcome(st.BLOCKED, "{0}; the S3 secret {1} of service account {2} cannot be added because a node "
                       "takes one envSecretRefName".format(env_reason, sa_secret, sa_name), env.credentials,
                       env.secret, "")
    state = "already converted" if conversion.status == rm.CONVERSION_MIGRATED else "to be converted"
    return Outcome(st.NEEDS_SECRET_REF, "credentials come from service account {0}; needs envSecretRefName: {1} "
                   "(secret {2})".format(sa_name, sa_secret, state), st.VIA_SERVICE_ACCOUNT, sa_secret, sa_secret)


def _env_credentials(node, inventory):
    """Outcome-shaped start: how the env secret arrives (credentials, secret) before any rule."""
    name, source = sg.effective_env_secret(node, inventory.default_env_secret_ref_name)
    if not name:
        return Outcome(st.BLOCKED, "", st.VIA_NONE, "", "")
    return Outcome(st.BLOCKED, "", st.VIA_ENV_SECRET if source == sg.SOURCE_NODE else st.VIA_DEFAULT_SECRET, name, "")


def _iam_roles_outcome(node, remote, sa_name, env, inventory):
    """Outcome for an S3 node without keys whose service account uses IAM roles for service accounts
    (annotation eks.amazonaws.com/role-arn): rclone reads those with ``ENV_AUTH=true``; with the
    inventory's ``iam_secret_name`` the node gets that secret, else it stays blocked and says how."""
    if rm.remote_type_hint(remote) not in (rm.REMOTE_S3, None) or not inventory.uses_iam_roles(node["namespace"], sa_name):
        return None
    if node["env_secret_ref_name"]:
        return env._replace(reason="service account {0} uses IAM roles for service accounts, but the node's own "
                                   "envSecretRefName {1} has no credentials for remote {2}".format(
                                       sa_name, env.secret, remote.upper()))
    if not inventory.iam_secret_name:
        return env._replace(reason="service account {0} uses IAM roles for service accounts: rclone reads them with "
                                   "{1}ENV_AUTH=true (rclone 1.57, image 1.14.0 or later); iam_secret_name creates "
                                   "and references such a secret".format(sa_name, rm.remote_env_prefix(remote)))
    name = inventory.iam_secret_name
    return Outcome(st.NEEDS_SECRET_REF, "service account {0} uses IAM roles for service accounts; needs envSecretRefName: "
                   "{1} (rclone ENV_AUTH secret)".format(sa_name, name), st.VIA_SERVICE_ACCOUNT, name, name)


def _credentials_outcome(node, remote, sa_name, env, inventory):
    """Outcome from the env secret, else the service account, else the image's own remotes."""
    decided = _env_outcome(node, remote, env, inventory)
    if decided:
        return decided
    env_reason = "secret {0} has no credentials for remote {1}".format(env.secret, remote.upper()) if env.secret else ""
    sa_secret, sa_reason = inventory.service_account_secret(node["namespace"], sa_name, remote)
    if sa_secret:
        decided = _service_account_outcome(node, remote, sa_name, sa_secret, env, env_reason, inventory)
        if decided:
            return decided
        sa_reason = "secret {0} of service account {1} has no credentials for remote {2}".format(
            sa_secret, sa_name, remote.upper())
    if remote.upper() == "GS":
        return env._replace(status=st.NO_CREDENTIALS,
                            reason="no credentials: the rclone image defines remote GS as anonymous (public buckets)")
    decided = _iam_roles_outcome(node, remote, sa_name, env, inventory)
    if decided:
        return decided
    reasons = [part for part in (env_reason, sa_reason) if part]
    return env._replace(reason="no credentials for remote {0}: {1}".format(
        remote.upper(), "; ".join(reasons) or "none configured"))


def _operator_outcome(node, outcome):
    """The outcome as the operator will act on it: a hand-written init container is kept as written
    (the switch does not reach it), a SeldonDeployment the operator fails already stays failing."""
    if node.get("failing_before"):
        return outcome._replace(status=st.FAILING_BEFORE, reason="the operator fails to render this SeldonDeployment "
                                "already ({0}); under the rclone initializer: {1}: {2}".format(
                                    node["failing_before"], outcome.status, outcome.reason))
    if node.get("custom_initializer") and outcome.status != st.BLOCKED:
        return outcome._replace(status=st.HAND_WRITTEN, target_secret="")
    return outcome


def evaluate_node(node, inventory):
    """The NodePlan of one model-loading node under the rclone initializer."""
    uri = model_uri.parse(node["model_uri"])
    sa_name = sg.effective_service_account(node)[0]
    env = _env_credentials(node, inventory)
    outcome = _uri_outcome(node, uri, env) or _credentials_outcome(node, uri.remote, sa_name, env, inventory)
    return NodePlan(node, uri.remote or "", sa_name, _operator_outcome(node, outcome))


def _with_notes(reason, node):
    """The reason plus what the operator keeps as the user wrote it (hand-written init container, pin)."""
    notes = []
    if node.get("custom_initializer"):
        notes.append("componentSpecs defines init container {0}: the operator keeps it as written "
                     "(image and env), so the switch does not reach it: migrate it by hand".format(
                         node["custom_initializer"]))
    if node.get("storage_initializer_image"):
        notes.append("node pins storageInitializerImage {0}".format(node["storage_initializer_image"]))
    return "; ".join([part for part in [reason] + notes if part])
