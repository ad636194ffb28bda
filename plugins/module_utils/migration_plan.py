# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which objects change and why (pure): node statuses, secret conversions, patches.

Input is what the modules LISTed (Secrets, ServiceAccounts, SeldonDeployments) plus the Seldon
settings; output is (a) a report that holds names, statuses and reasons only, and (b) patches.
Secret values exist only inside ``keys_to_set`` and the patches built from them; nothing that
goes into a report, a diff or a reason is derived from a value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import rclone_mapping as rm
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_graph as sg

# Node statuses (seldon_storage_info).
MIGRATED = "migrated"
CONVERTIBLE = "convertible"
NEEDS_SECRET_REF = "needs_secret_ref"
BLOCKED = "blocked"
NO_CREDENTIALS = "no_credentials"
NODE_STATUSES = (MIGRATED, CONVERTIBLE, NEEDS_SECRET_REF, BLOCKED, NO_CREDENTIALS)
READY_STATUSES = (MIGRATED, NO_CREDENTIALS)

# Secret statuses (seldon_storage_info).
SECRET_MISSING = "missing"
SECRET_CONFLICT = "conflict"
SECRET_STATUSES = (MIGRATED, CONVERTIBLE, SECRET_CONFLICT, BLOCKED, SECRET_MISSING, NO_CREDENTIALS)

# Per-object actions (rclone_secret, seldon_deployment_secret_ref).
ACTION_CONVERTED = "converted"
ACTION_UNCHANGED = "unchanged"
ACTION_CONFLICT = "conflict"
ACTION_BLOCKED = "blocked"
ACTION_SKIPPED = "skipped"
ACTION_REMOVED = "removed"
ACTION_PATCHED = "patched"
ACTION_FAILED = "failed"

# How a node gets its credentials.
VIA_ENV_SECRET = "envSecretRefName"
VIA_DEFAULT_SECRET = "defaultEnvSecretRefName"
VIA_SERVICE_ACCOUNT = "serviceAccountName"
VIA_NONE = "none"

# SeldonDeployment annotation: JSON {"<predictor>/<node>": "<secret>"} of the envSecretRefName
# values this collection set, so that state=absent removes exactly those.
SECRET_REFS_ANNOTATION = "rclone-migration.seldon-ops.io/secret-refs"

REDACTED = "<redacted>"


def object_key(obj):
    metadata = (obj or {}).get("metadata") or {}
    return metadata.get("namespace"), metadata.get("name")


def uri_scheme(uri):
    """``s3`` for ``s3://b/p``, ``minio`` for ``minio:b/p``, ``""`` for a plain path."""
    text = (uri or "").strip()
    if "://" in text:
        return text.split("://", 1)[0].lower()
    if ":" in text and not text.startswith(":"):
        return text.split(":", 1)[0]
    return ""


class Inventory:
    """The listed objects, indexed by (namespace, name), with secrets decoded once on demand."""

    def __init__(self, secrets=None, service_accounts=None, deployments=None, provider=rm.PROVIDER_AUTO,
                 default_env_secret_ref_name="", credentials_config=None):
        self.secrets = dict((object_key(obj), obj) for obj in secrets or [])
        self.service_accounts = dict((object_key(obj), obj) for obj in service_accounts or [])
        self.deployments = list(deployments or [])
        self.provider = provider or rm.PROVIDER_AUTO
        self.default_env_secret_ref_name = default_env_secret_ref_name or ""
        self.config = rm.credentials_config(credentials_config)
        self._decoded = {}
        self._conversions = {}

    def decoded(self, namespace, name):
        key = (namespace, name)
        if key not in self._decoded:
            obj = self.secrets.get(key)
            self._decoded[key] = None if obj is None else rm.decode_secret_data(obj.get("data"))
        return self._decoded[key]

    def annotations(self, namespace, name):
        return ((self.secrets.get((namespace, name)) or {}).get("metadata") or {}).get("annotations") or {}

    def conversion(self, namespace, name, remote):
        """rclone_mapping.convert_for_remote for a listed secret (cached per remote)."""
        key = (namespace, name, remote.upper())
        if key not in self._conversions:
            self._conversions[key] = rm.convert_for_remote(
                self.decoded(namespace, name), self.annotations(namespace, name), remote,
                provider=self.provider, config=self.config)
        return self._conversions[key]

    def service_account_secret(self, namespace, sa_name, remote):
        """``(secret name, reason)`` of the credentials secret the operator takes from a service account.

        The operator adds env vars for every listed S3 secret (a secret with the secret-key key),
        else mounts a GCS one; with several, the last one listed wins (later env entries override
        earlier ones), so that is the one returned.
        """
        sa = self.service_accounts.get((namespace, sa_name))
        if sa is None:
            return "", "service account {0} not found".format(sa_name)
        hint = rm.remote_type_hint(remote)
        listed = [ref.get("name") for ref in sa.get("secrets") or [] if isinstance(ref, dict) and ref.get("name")]
        s3_names, gcs_names, missing = [], [], []
        for name in listed:
            decoded = self.decoded(namespace, name)
            if decoded is None:
                missing.append(name)
            elif rm.is_s3_service_account_secret(decoded, self.config):
                s3_names.append(name)
            elif rm.is_gcs_secret(decoded, self.config):
                gcs_names.append(name)
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
            sa_name, label, self.config["s3_secret_access_key_name"] if label != "GCS"
            else self.config["gcs_credential_file_name"])
        if missing:
            reason += "; listed but not found: {0}".format(", ".join(missing))
        return "", reason


def _conversion_outcome(conversion, secret_name):
    """Node status and reason for a node whose init container would read this conversion's secret."""
    status = conversion["status"]
    notes = "; ".join(conversion.get("notes") or [])
    if status == rm.CONVERSION_MIGRATED:
        return MIGRATED, "secret {0}: {1}".format(secret_name, conversion["reason"]) + (" ({0})".format(notes) if notes else "")
    if status == rm.CONVERSION_CONVERTIBLE:
        return CONVERTIBLE, "secret {0}: {1}".format(secret_name, conversion["reason"])
    if status == rm.CONVERSION_CONFLICT:
        return BLOCKED, "secret {0}: conflicting rclone keys: {1}".format(secret_name, ", ".join(conversion["conflicts"]))
    return BLOCKED, "secret {0}: {1}".format(secret_name, conversion["reason"])


def evaluate_node(node, inventory):
    """Status of one model-loading node under the rclone initializer.

    Returns the public node report (no values) plus ``_target_secret``: the secret whose name
    seldon_deployment_secret_ref would set as envSecretRefName (needs_secret_ref nodes only).
    """
    namespace = node["namespace"]
    uri = rm.parse_model_uri(node["model_uri"])
    report = {
        "namespace": namespace, "deployment": node["deployment"], "predictor": node["predictor"],
        "node": node["node"], "ref": node["ref"], "kind": node["kind"], "path": node["path"],
        "depth": node["depth"], "implementation": node["implementation"],
        "model_uri": rm.sanitize_model_uri(node["model_uri"]), "scheme": uri_scheme(node["model_uri"]),
        "remote": uri["remote"] or "", "credentials": VIA_NONE, "secret": "", "service_account": "",
        "status": BLOCKED, "reason": "", "custom_initializer": node.get("custom_initializer") or "",
        "storage_initializer_image": node.get("storage_initializer_image") or "",
        "_target_secret": "", "_remote": uri["remote"] or "",
    }
    sa_name, _sa_source = sg.effective_service_account(node)
    report["service_account"] = sa_name
    env_name, env_source = sg.effective_env_secret(node, inventory.default_env_secret_ref_name)
    via = VIA_ENV_SECRET if env_source == sg.SOURCE_NODE else VIA_DEFAULT_SECRET
    if env_name:
        report.update(credentials=via, secret=env_name)

    if uri["kind"] in (rm.URI_PVC, rm.URI_LOCAL, rm.URI_INLINE):
        report.update(status=NO_CREDENTIALS, reason=uri["reason"])
        return _with_notes(report)
    if uri["kind"] != rm.URI_REMOTE:
        report.update(status=BLOCKED, reason=uri["reason"])
        return _with_notes(report)
    remote = uri["remote"]

    env_reason = ""
    if env_name:
        if inventory.decoded(namespace, env_name) is None:
            report.update(status=BLOCKED, reason="secret {0} ({1}) not found in namespace {2}".format(
                env_name, via, namespace))
            return _with_notes(report)
        conversion = inventory.conversion(namespace, env_name, remote)
        if conversion["status"] != rm.CONVERSION_NO_SOURCE:
            status, reason = _conversion_outcome(conversion, env_name)
            report.update(status=status, reason=reason)
            return _with_notes(report)
        env_reason = "secret {0} has no credentials for remote {1}".format(env_name, remote.upper())

    sa_secret, sa_reason = inventory.service_account_secret(namespace, sa_name, remote)
    if sa_secret:
        conversion = inventory.conversion(namespace, sa_secret, remote)
        if conversion["status"] != rm.CONVERSION_NO_SOURCE:
            if conversion["status"] in (rm.CONVERSION_BLOCKED, rm.CONVERSION_CONFLICT):
                _status, reason = _conversion_outcome(conversion, sa_secret)
                report.update(status=BLOCKED, credentials=VIA_SERVICE_ACCOUNT, secret=sa_secret,
                              reason="service account {0}: {1}".format(sa_name, reason))
                return _with_notes(report)
            if env_name and env_source == sg.SOURCE_NODE:
                report.update(status=BLOCKED, reason="{0}; the S3 secret {1} of service account {2} cannot be "
                              "added because a node takes one envSecretRefName".format(env_reason, sa_secret, sa_name))
                return _with_notes(report)
            state = "already converted" if conversion["status"] == rm.CONVERSION_MIGRATED else "to be converted"
            report.update(status=NEEDS_SECRET_REF, credentials=VIA_SERVICE_ACCOUNT, secret=sa_secret,
                          _target_secret=sa_secret,
                          reason="credentials come from service account {0}; needs envSecretRefName: {1} "
                                 "(secret {2})".format(sa_name, sa_secret, state))
            return _with_notes(report)
        sa_reason = "secret {0} of service account {1} has no credentials for remote {2}".format(
            sa_secret, sa_name, remote.upper())

    if remote.upper() == "GS":
        report.update(status=NO_CREDENTIALS,
                      reason="no credentials: the rclone image defines remote GS as anonymous (public buckets)")
        return _with_notes(report)
    reasons = [part for part in (env_reason, sa_reason) if part]
    report.update(status=BLOCKED, reason="no credentials for remote {0}: {1}".format(
        remote.upper(), "; ".join(reasons) or "none configured"))
    return _with_notes(report)


def _with_notes(report):
    notes = []
    if report.get("custom_initializer"):
        notes.append("componentSpecs defines init container {0}: the operator keeps it as written "
                     "(image and env), migrate it by hand".format(report["custom_initializer"]))
    if report.get("storage_initializer_image"):
        notes.append("node pins storageInitializerImage {0}".format(report["storage_initializer_image"]))
    if notes:
        report["reason"] = "; ".join([report["reason"]] + notes) if report["reason"] else "; ".join(notes)
    return report


def public(report):
    """A report entry without the planner's private fields (names starting with ``_``)."""
    return dict((key, value) for key, value in report.items() if not key.startswith("_"))


def plan_storage(inventory):
    """Everything seldon_storage_info returns, plus the per-node plans other modules act on.

    Returns ``(report, node_plans)``; ``report`` has ``nodes``, ``ignored_nodes``, ``secrets``,
    ``summary`` and ``ready_for_upgrade``.
    """
    node_plans, ignored = [], []
    for sdep in inventory.deployments:
        nodes, skipped = sg.model_loading_nodes(sdep)
        ignored.extend(dict(entry, model_uri=rm.sanitize_model_uri(entry["model_uri"])) for entry in skipped)
        node_plans.extend(evaluate_node(node, inventory) for node in nodes)

    secrets = secret_reports(node_plans, inventory)
    nodes_by_status = dict((status, 0) for status in NODE_STATUSES)
    for plan in node_plans:
        nodes_by_status[plan["status"]] += 1
    secrets_by_status = dict((status, 0) for status in SECRET_STATUSES)
    for secret in secrets:
        secrets_by_status[secret["status"]] += 1
    summary = {
        "deployments": len(inventory.deployments),
        "nodes": len(node_plans),
        "nodes_by_status": nodes_by_status,
        "secrets": len(secrets),
        "secrets_by_status": secrets_by_status,
        "ignored_nodes": len(ignored),
        "custom_initializers": sum(1 for plan in node_plans if plan["custom_initializer"]),
    }
    report = {
        "nodes": [public(plan) for plan in node_plans],
        "ignored_nodes": [public(entry) for entry in ignored],
        "secrets": secrets,
        "summary": summary,
        "ready_for_upgrade": all(plan["status"] in READY_STATUSES for plan in node_plans),
    }
    return report, node_plans


def secret_uses(node_plans):
    """``{(namespace, secret): {"remotes": set, "used_by": [...]}}`` for secrets nodes read or need."""
    uses = {}
    for plan in node_plans:
        if not plan["secret"] or not plan["_remote"]:
            continue
        entry = uses.setdefault((plan["namespace"], plan["secret"]), {"remotes": set(), "used_by": []})
        entry["remotes"].add(plan["_remote"])
        entry["used_by"].append("{0}/{1}".format(plan["deployment"], plan["ref"]))
    return uses


def secret_reports(node_plans, inventory):
    """Per-secret facts: format, status, reason, users, remotes, key names to add."""
    reports = []
    for (namespace, name), use in sorted(secret_uses(node_plans).items()):
        decoded = inventory.decoded(namespace, name)
        report = {"namespace": namespace, "name": name, "used_by": sorted(use["used_by"]),
                  "remotes": sorted(remote.upper() for remote in use["remotes"]), "format": "",
                  "status": SECRET_MISSING, "reason": "not found", "keys_to_add": [],
                  "conflicting_keys": [], "added_keys": []}
        if decoded is not None:
            annotations = inventory.annotations(namespace, name)
            conversions = [inventory.conversion(namespace, name, remote) for remote in sorted(use["remotes"])]
            status, reason = _rollup(conversions)
            report.update(
                format=rm.detect_secret_format(decoded, annotations, inventory.config),
                status=status, reason=reason,
                keys_to_add=sorted(set(key for conv in conversions for key in conv["to_add"])),
                conflicting_keys=sorted(set(key for conv in conversions for key in conv["conflicts"])),
                added_keys=rm.added_keys_from_annotation(annotations),
            )
        reports.append(report)
    return reports


def _rollup(conversions):
    """One secret status from its per-remote conversions (worst first)."""
    order = ((rm.CONVERSION_BLOCKED, BLOCKED), (rm.CONVERSION_CONFLICT, SECRET_CONFLICT),
             (rm.CONVERSION_CONVERTIBLE, CONVERTIBLE), (rm.CONVERSION_MIGRATED, MIGRATED))
    for conversion_status, status in order:
        matching = [conv for conv in conversions if conv["status"] == conversion_status]
        if matching:
            return status, "; ".join(conv["reason"] for conv in matching)
    return NO_CREDENTIALS, "; ".join(conv["reason"] for conv in conversions) or "no credentials for its users"


# --------------------------------------------------------------------------- secret writes

def secret_change(decoded, annotations, remotes, provider, on_conflict, config=None):
    """What rclone_secret does to one secret, as pure data.

    Returns ``action`` (converted | unchanged | conflict | blocked | skipped), ``reason``,
    ``added_keys`` (names newly added), ``overwritten_keys``, ``conflicting_keys`` and the
    private ``keys_to_set`` (name -> plain value) and ``annotation`` (new added-keys value).
    """
    change = {"action": ACTION_UNCHANGED, "reason": "", "added_keys": [], "overwritten_keys": [],
              "conflicting_keys": [], "keys_to_set": {}, "annotation": None}
    if decoded is None:
        change.update(action=ACTION_BLOCKED, reason="secret not found")
        return change
    conversions = [rm.convert_for_remote(decoded, annotations, remote, provider=provider, config=config)
                   for remote in remotes]
    blocked = [conv for conv in conversions if conv["status"] == rm.CONVERSION_BLOCKED]
    if blocked:
        change.update(action=ACTION_BLOCKED, reason="; ".join(conv["reason"] for conv in blocked))
        return change
    usable = [conv for conv in conversions if conv["status"] != rm.CONVERSION_NO_SOURCE]
    if not usable:
        change.update(action=ACTION_SKIPPED, reason="; ".join(conv["reason"] for conv in conversions)
                      or "no kfserving credentials found")
        return change
    keys_to_set, conflicts, added, overwritten = {}, [], [], []
    for conv in usable:
        keys, blocked_by_conflict = rm.resolve_conflicts(conv["wanted"], conv["to_add"], conv["conflicts"], on_conflict)
        conflicts.extend(conv["conflicts"])
        if blocked_by_conflict:
            change.update(action=ACTION_CONFLICT, conflicting_keys=sorted(set(conflicts)),
                          reason="existing rclone keys differ from the converted values: {0} "
                                 "(on_conflict=fail)".format(", ".join(conv["conflicts"])))
            return change
        keys_to_set.update(keys)
        added.extend(key for key in keys if key not in decoded)
        overwritten.extend(key for key in keys if key in decoded)
    notes = sorted(set(note for conv in usable for note in conv.get("notes") or []))
    change.update(conflicting_keys=sorted(set(conflicts)), keys_to_set=keys_to_set,
                  added_keys=sorted(set(added)), overwritten_keys=sorted(set(overwritten)))
    if not keys_to_set:
        reason = "already converted"
        if conflicts:
            reason += "; differing rclone keys kept (on_conflict=keep): {0}".format(", ".join(sorted(set(conflicts))))
        change.update(action=ACTION_UNCHANGED, reason=reason)
        return change
    recorded = rm.added_keys_from_annotation(annotations)
    change["annotation"] = rm.added_keys_annotation(recorded, added)
    reason = "added {0} key(s) for remote(s) {1}".format(
        len(added), ", ".join(sorted(set(conv["remote"].upper() for conv in usable))))
    if overwritten:
        reason += "; overwrote {0}".format(", ".join(sorted(set(overwritten))))
    if notes:
        reason += "; " + "; ".join(notes)
    change.update(action=ACTION_CONVERTED, reason=reason)
    return change


def secret_add_patch(secret, keys_to_set, annotation):
    """JSON patch adding ``keys_to_set`` (base64-encoded here) and our annotation.

    Starts with a resourceVersion guard (see kube_access.resource_version_guard): a concurrent edit
    makes the server answer 409 and the caller re-reads.
    """
    metadata = secret.get("metadata") or {}
    ops = [{"op": "replace", "path": "/metadata/resourceVersion", "value": metadata.get("resourceVersion")}]
    if secret.get("data") is None:
        ops.append({"op": "add", "path": "/data", "value": {}})
    for key in sorted(keys_to_set):
        ops.append({"op": "add", "path": "/data/" + _escape(key), "value": rm.encode_value(keys_to_set[key])})
    if annotation is not None:
        ops.extend(_annotation_ops(metadata, rm.ADDED_KEYS_ANNOTATION, annotation))
    return ops


def secret_removal(decoded, annotations):
    """Keys state=absent removes and whether our annotation goes too: ``(keys, drop_annotation)``."""
    if decoded is None:
        return [], False
    return rm.keys_to_remove(decoded, annotations), rm.ADDED_KEYS_ANNOTATION in (annotations or {})


def secret_removal_patch(secret, keys, drop_annotation):
    """JSON patch removing ``keys`` and our annotation (None when there is nothing to remove)."""
    if not keys and not drop_annotation:
        return None
    metadata = secret.get("metadata") or {}
    ops = [{"op": "replace", "path": "/metadata/resourceVersion", "value": metadata.get("resourceVersion")}]
    ops.extend({"op": "remove", "path": "/data/" + _escape(key)} for key in sorted(keys))
    if drop_annotation:
        ops.append({"op": "remove", "path": "/metadata/annotations/" + _escape(rm.ADDED_KEYS_ANNOTATION)})
    return ops


def secret_diff(decoded, keys_to_set=None, keys_removed=None, annotation_before=None, annotation_after=None):
    """``(before, after)`` of one secret for --diff: key names with redacted values, our annotation."""
    before_keys = sorted(decoded or {})
    after_keys = sorted((set(before_keys) | set(keys_to_set or {})) - set(keys_removed or []))
    before = {"data": dict((key, REDACTED) for key in before_keys)}
    after = {"data": dict((key, REDACTED) for key in after_keys)}
    if annotation_before is not None:
        before["annotations"] = {rm.ADDED_KEYS_ANNOTATION: annotation_before}
    if annotation_after is not None:
        after["annotations"] = {rm.ADDED_KEYS_ANNOTATION: annotation_after}
    return before, after


def _escape(token):
    return str(token).replace("~", "~0").replace("/", "~1")


def _annotation_ops(metadata, key, value):
    if metadata.get("annotations") is None:
        return [{"op": "add", "path": "/metadata/annotations", "value": {key: value}}]
    return [{"op": "add", "path": "/metadata/annotations/" + _escape(key), "value": value}]


# --------------------------------------------------------------------------- deployment writes

def recorded_secret_refs(sdep):
    """The ``{ref: secret}`` map in our SeldonDeployment annotation ({} when absent or unreadable)."""
    raw = (((sdep or {}).get("metadata") or {}).get("annotations") or {}).get(SECRET_REFS_ANNOTATION)
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return dict((str(k), str(v)) for k, v in parsed.items()) if isinstance(parsed, dict) else {}


def desired_secret_refs(sdep, inventory, secret_name=""):
    """Per node of one SeldonDeployment: does it get an envSecretRefName, which, and why.

    Nodes with status needs_secret_ref get their service account's S3 secret (or ``secret_name``
    when given). With ``secret_name``, nodes that have no env secret and are blocked for lack of
    credentials get it too. Returns a list of ``{ref, path, node, action, secret, reason}`` with
    action ``set`` | ``unchanged`` | ``blocked`` | ``skipped``.
    """
    nodes, _ignored = sg.model_loading_nodes(sdep)
    recorded = recorded_secret_refs(sdep)
    outcomes = []
    for node in nodes:
        plan = evaluate_node(node, inventory)
        entry = {"ref": node["ref"], "node": node["node"], "predictor": node["predictor"], "path": node["path"],
                 "secret": "", "action": ACTION_SKIPPED, "reason": plan["reason"], "status": plan["status"]}
        wants = ""
        if plan["status"] == NEEDS_SECRET_REF:
            wants = secret_name or plan["_target_secret"]
        elif secret_name and plan["status"] == BLOCKED and plan["credentials"] == VIA_NONE and plan["_remote"]:
            wants = secret_name
        if node["env_secret_ref_name"] and recorded.get(node["ref"]) == node["env_secret_ref_name"]:
            entry.update(action=ACTION_UNCHANGED, secret=node["env_secret_ref_name"],
                         reason="envSecretRefName {0} set by this collection".format(node["env_secret_ref_name"]))
        elif wants:
            if inventory.decoded(node["namespace"], wants) is None:
                entry.update(action=ACTION_BLOCKED, secret=wants,
                             reason="secret {0} not found in namespace {1}".format(wants, node["namespace"]))
            else:
                entry.update(action="set", secret=wants, reason="envSecretRefName: {0}".format(wants))
        elif node["env_secret_ref_name"]:
            entry.update(action=ACTION_UNCHANGED, secret=node["env_secret_ref_name"],
                         reason="has its own envSecretRefName")
        elif plan["status"] == BLOCKED:
            # nothing this module can set would fix it; say so instead of staying silent
            entry.update(action=ACTION_BLOCKED, secret=plan["secret"])
        outcomes.append(entry)
    return outcomes


def sdep_set_patch(sdep, outcomes):
    """JSON patch setting envSecretRefName on nodes whose action is ``set``, recording them.

    None when no node changes. Starts with the resourceVersion guard.
    """
    to_set = [entry for entry in outcomes if entry["action"] == "set"]
    if not to_set:
        return None
    metadata = sdep.get("metadata") or {}
    recorded = recorded_secret_refs(sdep)
    ops = [{"op": "replace", "path": "/metadata/resourceVersion", "value": metadata.get("resourceVersion")}]
    for entry in to_set:
        ops.append({"op": "add", "path": entry["path"] + "/envSecretRefName", "value": entry["secret"]})
        recorded[entry["ref"]] = entry["secret"]
    ops.extend(_annotation_ops(metadata, SECRET_REFS_ANNOTATION, json.dumps(recorded, sort_keys=True)))
    return ops


def removal_outcomes(sdep):
    """For state=absent: per recorded node, remove its envSecretRefName or leave it (and why)."""
    outcomes = []
    for ref, secret in sorted(recorded_secret_refs(sdep).items()):
        pointer = sg.pointer_for_ref(sdep, ref)
        entry = {"ref": ref, "node": ref.split("/", 1)[-1], "predictor": ref.split("/", 1)[0],
                 "path": pointer or "", "secret": secret, "action": ACTION_SKIPPED, "reason": ""}
        current = sg.value_at(sdep, pointer + "/envSecretRefName") if pointer else None
        if pointer is None:
            entry["reason"] = "node no longer exists"
        elif current != secret:
            entry["reason"] = "envSecretRefName changed since this collection set it: left as is"
        else:
            entry.update(action=ACTION_REMOVED, reason="removes envSecretRefName {0}".format(secret))
        outcomes.append(entry)
    return outcomes


def sdep_removal_patch(sdep, outcomes):
    """JSON patch removing recorded envSecretRefName values and our annotation (None: nothing)."""
    metadata = sdep.get("metadata") or {}
    if SECRET_REFS_ANNOTATION not in (metadata.get("annotations") or {}):
        return None
    ops = [{"op": "replace", "path": "/metadata/resourceVersion", "value": metadata.get("resourceVersion")}]
    ops.extend({"op": "remove", "path": entry["path"] + "/envSecretRefName"}
               for entry in outcomes if entry["action"] == ACTION_REMOVED)
    ops.append({"op": "remove", "path": "/metadata/annotations/" + _escape(SECRET_REFS_ANNOTATION)})
    return ops


def sdep_diff(outcomes, removing=False):
    """``(before, after)`` envSecretRefName per changed node ref, for --diff."""
    before, after = {}, {}
    for entry in outcomes:
        if entry["action"] == "set":
            before[entry["ref"]] = {"envSecretRefName": None}
            after[entry["ref"]] = {"envSecretRefName": entry["secret"]}
        elif removing and entry["action"] == ACTION_REMOVED:
            before[entry["ref"]] = {"envSecretRefName": entry["secret"]}
            after[entry["ref"]] = {"envSecretRefName": None}
    return before, after


# --------------------------------------------------------------------------- Seldon operator settings

DEFAULT_ENV_SECRET_ENV = "PREDICTIVE_UNIT_DEFAULT_ENV_SECRET_REF_NAME"
RELATED_IMAGE_ENV = "RELATED_IMAGE_STORAGE_INITIALIZER"
SELDON_CONFIG_NAME = "seldon-config"


def controller_env(deployment, name):
    """``(value, found)`` of an env var on the controller Deployment's containers.

    ``found`` is True with value None when the variable comes from ``valueFrom`` (not readable here).
    """
    pod_spec = ((((deployment or {}).get("spec") or {}).get("template") or {}).get("spec") or {})
    for container in pod_spec.get("containers") or []:
        for env in (container or {}).get("env") or []:
            if (env or {}).get("name") == name:
                if "valueFrom" in env:
                    return None, True
                return env.get("value") or "", True
    return "", False


def seldon_settings(controller, configmap, default_env_secret_ref_name=None, credentials_overrides=None):
    """The operator settings the plan uses, from what was read (either may be None).

    Returns ``default_env_secret_ref_name`` and its ``source``, ``credentials_config``,
    ``storage_initializer_image`` (and where it comes from) and ``warnings``.
    """
    warnings = []
    settings = {"default_env_secret_ref_name": "", "default_env_secret_ref_name_source": "none",
                "storage_initializer_image": "", "storage_initializer_image_source": "", "warnings": warnings}
    if default_env_secret_ref_name is not None:
        settings.update(default_env_secret_ref_name=default_env_secret_ref_name,
                        default_env_secret_ref_name_source="option")
    elif controller is not None:
        value, found = controller_env(controller, DEFAULT_ENV_SECRET_ENV)
        if found and value is None:
            warnings.append("{0} on the controller comes from valueFrom; give default_env_secret_ref_name".format(
                DEFAULT_ENV_SECRET_ENV))
        elif value:
            settings.update(default_env_secret_ref_name=value, default_env_secret_ref_name_source="controller")

    data = ((configmap or {}).get("data") or {})
    config = rm.credentials_config_from_seldon_config(data.get("credentials"))
    config.update(dict((key, value) for key, value in (credentials_overrides or {}).items() if value not in (None, "")))
    settings["credentials_config"] = rm.credentials_config(config)

    image, _found = controller_env(controller, RELATED_IMAGE_ENV) if controller is not None else ("", False)
    if image:
        settings.update(storage_initializer_image=image, storage_initializer_image_source=RELATED_IMAGE_ENV)
    elif data.get("storageInitializer"):
        try:
            image = (json.loads(data["storageInitializer"]) or {}).get("image") or ""
        except ValueError:
            image = ""
            warnings.append("seldon-config storageInitializer is not valid JSON")
        if image:
            settings.update(storage_initializer_image=image, storage_initializer_image_source=SELDON_CONFIG_NAME)
    return settings


# --------------------------------------------------------------------------- reading, through an injected KubeAccess
# The only functions here that cause requests; ``access`` is a kube_access.KubeAccess (or a test double).

SELDON_SETTINGS_ARG_SPEC = {
    "namespaces": {"type": "list", "elements": "str"},
    "seldon_namespace": {"type": "str", "default": "seldon-system"},
    "seldon_controller_name": {"type": "str", "default": "seldon-controller-manager"},
    "read_seldon_config": {"type": "bool", "default": True},
    "default_env_secret_ref_name": {"type": "str"},
    "credentials_config": {
        "type": "dict",
        "options": {
            "s3_access_key_id_name": {"type": "str"},
            "s3_secret_access_key_name": {"type": "str"},
            "s3_endpoint": {"type": "str"},
            "s3_use_https": {"type": "str"},
            "gcs_credential_file_name": {"type": "str"},
        },
    },
}


def read_seldon_settings(access, params, error_type=Exception):
    """GET the controller Deployment and seldon-config (when asked) and derive the settings.

    A read that fails (403, 404, ...) becomes a warning: the Seldon defaults apply.
    """
    controller = configmap = None
    warnings = []
    if params.get("read_seldon_config", True):
        namespace = params.get("seldon_namespace") or "seldon-system"
        reads = []
        if params.get("default_env_secret_ref_name") is None:
            reads.append(("Deployment", params.get("seldon_controller_name") or "seldon-controller-manager"))
        reads.append(("ConfigMap", SELDON_CONFIG_NAME))
        for kind, name in reads:
            try:
                obj = access.get(kind, namespace, name)
            except error_type as exc:
                warnings.append("cannot read {0} {1}/{2} ({3}); using Seldon defaults".format(kind, namespace, name, exc))
                continue
            if obj is None:
                warnings.append("{0} {1}/{2} not found; using Seldon defaults".format(kind, namespace, name))
            elif kind == "Deployment":
                controller = obj
            else:
                configmap = obj
    settings = seldon_settings(controller, configmap, params.get("default_env_secret_ref_name"),
                               params.get("credentials_config"))
    settings["warnings"] = warnings + settings["warnings"]
    return settings


def load_inventory(access, params, settings, kinds=("SeldonDeployment", "Secret", "ServiceAccount"),
                   provider=rm.PROVIDER_AUTO):
    """LIST each kind once per namespace (or once for the cluster) and build the Inventory."""
    listed = dict((kind, access.list(kind, params.get("namespaces")) if kind in kinds else []) for kind in
                  ("SeldonDeployment", "Secret", "ServiceAccount"))
    return Inventory(
        secrets=listed["Secret"], service_accounts=listed["ServiceAccount"],
        deployments=sorted(listed["SeldonDeployment"], key=lambda obj: tuple(part or "" for part in object_key(obj))),
        provider=provider, default_env_secret_ref_name=settings["default_env_secret_ref_name"],
        credentials_config=settings["credentials_config"],
    )


def public_settings(settings):
    """The settings as reported (names and sources only)."""
    return dict((key, value) for key, value in settings.items() if key != "warnings")
