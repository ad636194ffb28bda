# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What rclone_secret does to one Secret (pure): the keys it adds, the record it keeps of them
for the rollback, the JSON patch and the redacted diff.

Only keys are added; original keys and their bytes never change. The names of the added keys are
recorded in the annotation ``rclone-migration.seldon-ops.io/added-keys`` with a keyed digest of each value, so that
state=absent removes exactly those, only while they still hold the value written (a rotated
key stays), and only ``RCLONE_*`` keys whatever the annotation says.
Values exist only in ``Change.keys_to_set`` and the patch built from it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac
import json
from collections import namedtuple

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import json_patch
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kfserving_secret as ks
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_objects
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import operator_rules
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import rclone_mapping as rm
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import status as st

ADDED_KEYS_ANNOTATION = "rclone-migration.seldon-ops.io/added-keys"
DIGEST_LENGTH = 16

Change = namedtuple("Change", "action reason added_keys overwritten_keys conflicting_keys kept_keys keys_to_set annotation")
Change.__doc__ = """What rclone_secret does to one secret's data: ``action`` (status.ACTION_*),
``reason``, key names added (or, for state=absent, removed) / overwritten / conflicting / kept by
state=absent, ``keys_to_set`` (name -> plain value) and the new value of the added-keys annotation
(None: unchanged)."""

SecretPlan = namedtuple("SecretPlan", "change format patch diff body delete", defaults=(None, False))
SecretPlan.__doc__ = """A Change for one Secret as read, the secret's format, the JSON patch (None:
nothing to write), the ``(before, after)`` diff (None when nothing changes), and for secrets this
collection creates or deletes (IAM roles) the ``body`` to create or ``delete`` True."""


# --------------------------------------------------------------------------- the record of added keys

def value_digest(salt, key, value):
    """What the record keeps of a value it wrote: a keyed digest, never the value.

    Keyed with the secret's uid, so equal values in two secrets do not give equal digests.
    """
    mac = hmac.new(salt.encode("utf-8"), (key + "\0" + value).encode("utf-8"), hashlib.sha256)
    return "sha256:" + mac.hexdigest()[:DIGEST_LENGTH]


def digest_salt(secret):
    """The secret's uid (stable for its lifetime), else ``namespace/name``."""
    metadata = kube_objects.metadata_of(secret)
    return metadata.get("uid") or "{0}/{1}".format(metadata.get("namespace"), metadata.get("name"))


def record(annotations):
    """The added-keys record: ``{key: digest}``; a digest is None for keys an older version of this
    collection recorded by name only (a comma-separated list)."""
    raw = (annotations or {}).get(ADDED_KEYS_ANNOTATION)
    if not isinstance(raw, str) or not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        return dict((part.strip(), None) for part in raw.split(",") if part.strip())
    if not isinstance(parsed, dict):
        return {}
    return dict((str(key), value if isinstance(value, str) else None) for key, value in parsed.items())


def added_keys_recorded(annotations):
    """Key names recorded in our annotation (sorted)."""
    return sorted(record(annotations))


def added_keys_annotation(previous, written, salt):
    """Annotation value recording ``previous`` (a record) plus ``written`` (key -> value written)."""
    recorded = dict(previous or {})
    recorded.update((key, value_digest(salt, key, value)) for key, value in written.items())
    return json.dumps(recorded, sort_keys=True, separators=(",", ":"))


def keys_to_remove(decoded, annotations, salt):
    """``(keys state=absent removes, {key kept: why})``: a recorded ``RCLONE_*`` key is removed only
    while it still holds the value this collection wrote (its digest matches); a rotated value, or
    one recorded without a digest, stays. A tampered record can never remove an original key.
    """
    remove, kept = [], {}
    for key, digest in sorted(record(annotations).items()):
        if key not in (decoded or {}) or not key.startswith(rm.RCLONE_KEY_PREFIX):
            continue
        if digest is None:
            kept[key] = "recorded without a digest by an older version"
        elif decoded[key] is None or value_digest(salt, key, decoded[key]) != digest:
            kept[key] = "value changed since the migration wrote it"
        else:
            remove.append(key)
    return remove, kept


# --------------------------------------------------------------------------- adding keys

def _change(action, reason, **fields):
    values = dict(added_keys=[], overwritten_keys=[], conflicting_keys=[], kept_keys=[], keys_to_set={},
                  annotation=None)
    values.update(fields)
    return Change(action, reason, **values)


def _keys_to_write(decoded, usable, on_conflict):
    """``(keys_to_set, added, overwritten, conflicts, blocking conversion or None)``."""
    keys_to_set, added, overwritten, conflicts = {}, set(), set(), set()
    for conv in usable:
        keys, blocked = rm.resolve_conflicts(conv.wanted, conv.to_add, conv.conflicts, on_conflict)
        conflicts.update(conv.conflicts)
        if blocked:
            return {}, set(), set(), conflicts, conv
        keys = dict(keys, **conv.respell)
        keys_to_set.update(keys)
        added.update(key for key in keys if key not in decoded)
        overwritten.update(key for key in keys if key in decoded)
    return keys_to_set, added, overwritten, conflicts, None


def _converted_reason(usable, added, overwritten):
    notes = sorted(set(note for conv in usable for note in conv.notes))
    reason = "added {0} key(s) for remote(s) {1}".format(
        len(added), ", ".join(sorted(set(conv.remote.upper() for conv in usable))))
    if overwritten:
        reason += "; overwrote {0}".format(", ".join(sorted(overwritten)))
    return "; ".join([reason] + notes)


def secret_change(decoded, annotations, remotes, provider, on_conflict, config=None, data_problem="", salt="",
                  rewrite_spelling=False):
    """The Change rclone_secret makes to one secret's decoded data (None: secret not found);
    ``salt`` keys the digests of the record (digest_salt); ``rewrite_spelling`` see
    rclone_mapping.convert_for_remote."""
    if decoded is None:
        return _change(st.ACTION_BLOCKED, "secret not found")
    conversions = [rm.convert_for_remote(decoded, annotations, remote, provider=provider, config=config,
                                         data_problem=data_problem, rewrite_spelling=rewrite_spelling)
                   for remote in remotes]
    blocked = [conv for conv in conversions if conv.status == rm.CONVERSION_BLOCKED]
    if blocked:
        return _change(st.ACTION_BLOCKED, "; ".join(conv.reason for conv in blocked))
    usable = [conv for conv in conversions if conv.status != rm.CONVERSION_NO_SOURCE]
    if not usable:
        return _change(st.ACTION_SKIPPED, "; ".join(conv.reason for conv in conversions)
                       or "no kfserving credentials found")
    keys_to_set, added, overwritten, conflicts, blocking = _keys_to_write(decoded, usable, on_conflict)
    if blocking is not None:
        return _change(st.ACTION_CONFLICT, "existing rclone keys differ from the converted values: {0} "
                       "(on_conflict=fail)".format(", ".join(blocking.conflicts)), conflicting_keys=sorted(conflicts))
    if not keys_to_set:
        reason = "already converted"
        if conflicts:
            reason += "; differing rclone keys kept (on_conflict=keep): {0}".format(", ".join(sorted(conflicts)))
        return _change(st.ACTION_UNCHANGED, reason, conflicting_keys=sorted(conflicts))
    return _change(st.ACTION_CONVERTED, _converted_reason(usable, added, overwritten),
                   added_keys=sorted(added), overwritten_keys=sorted(overwritten),
                   conflicting_keys=sorted(conflicts), keys_to_set=keys_to_set,
                   annotation=added_keys_annotation(record(annotations),
                                                    dict((key, keys_to_set[key]) for key in added), salt))


def add_patch(secret, keys_to_set, annotation):
    """JSON patch adding ``keys_to_set`` (base64-encoded here) and our annotation, guarded."""
    ops = [json_patch.guard(secret)]
    encoded = dict((key, ks.encode_value(value)) for key, value in keys_to_set.items())
    ops.extend(json_patch.set_keys(secret.get("data"), "/data", encoded))
    if annotation is not None:
        ops.extend(json_patch.set_annotation(secret, ADDED_KEYS_ANNOTATION, annotation))
    return ops


def diff(decoded, keys_to_set=None, keys_removed=None, annotation_before=None, annotation_after=None):
    """``(before, after)`` of one secret for --diff: key names with redacted values, our annotation."""
    before_keys = sorted(decoded or {})
    after_keys = sorted((set(before_keys) | set(keys_to_set or {})) - set(keys_removed or []))
    before = {"data": dict((key, st.REDACTED) for key in before_keys)}
    after = {"data": dict((key, st.REDACTED) for key in after_keys)}
    if annotation_before is not None:
        before["annotations"] = {ADDED_KEYS_ANNOTATION: annotation_before}
    if annotation_after is not None:
        after["annotations"] = {ADDED_KEYS_ANNOTATION: annotation_after}
    return before, after


def plan_conversion(secret, remotes, provider, on_conflict, config=None, rewrite_spelling=False):
    """The SecretPlan of rclone_secret state=present for one Secret as read."""
    decoded = ks.decode_data(secret.get("data"))
    annotations = kube_objects.annotations_of(secret)
    change = secret_change(decoded, annotations, remotes, provider, on_conflict, config,
                           ks.data_problem(secret.get("data")), digest_salt(secret), rewrite_spelling)
    fmt = ks.detect_format(decoded, config)
    if change.action != st.ACTION_CONVERTED:
        return SecretPlan(change, fmt, None, None)
    return SecretPlan(change, fmt, add_patch(secret, change.keys_to_set, change.annotation),
                      diff(decoded, change.keys_to_set, None, annotations.get(ADDED_KEYS_ANNOTATION), change.annotation))


# --------------------------------------------------------------------------- removing keys (rollback)

def removal_patch(secret, keys, drop_annotation):
    """JSON patch removing ``keys`` and our annotation, guarded (None when there is nothing to remove)."""
    if not keys and not drop_annotation:
        return None
    ops = [json_patch.guard(secret)] + json_patch.remove_keys("/data", keys)
    if drop_annotation:
        ops.extend(json_patch.remove_annotation(ADDED_KEYS_ANNOTATION))
    return ops


def _removal_reason(removed, kept):
    reason = "removes {0} recorded key(s) and the annotation".format(len(removed))
    if kept:
        reason += "; kept {0}".format(", ".join("{0} ({1})".format(key, why) for key, why in sorted(kept.items())))
    return reason


def plan_removal(secret, config=None, kept_for=""):
    """The SecretPlan of rclone_secret state=absent for one Secret as read.

    ``kept_for``: why the secret keeps its rclone keys and record (nodes that still run the rclone
    initializer after the rollback read it); "" removes what the record proves is ours.
    """
    decoded = ks.decode_data(secret.get("data"))
    annotations = kube_objects.annotations_of(secret)
    fmt = ks.detect_format(decoded, config)
    if ADDED_KEYS_ANNOTATION not in annotations:
        return SecretPlan(_change(st.ACTION_UNCHANGED, "nothing recorded"), fmt, None, None)
    if kept_for:
        return SecretPlan(_change(st.ACTION_UNCHANGED, kept_for, kept_keys=added_keys_recorded(annotations)),
                          fmt, None, None)
    removed, kept = keys_to_remove(decoded, annotations, digest_salt(secret))
    change = _change(st.ACTION_REMOVED, _removal_reason(removed, kept), added_keys=removed, kept_keys=sorted(kept))
    return SecretPlan(change, fmt, removal_patch(secret, removed, True),
                      diff(decoded, None, removed, annotations.get(ADDED_KEYS_ANNOTATION), None))


# --------------------------------------------------------------------------- which secrets, and the result entry

SecretTarget = namedtuple("SecretTarget", "obj namespace name remotes used_by problem")
SecretTarget.__doc__ = """A secret to convert: the object as listed (None: not found), the remotes to
configure, its users and ``problem`` ("" or why it is not converted at all)."""


def targets_for_uses(uses, inventory, remote=None):
    """The SecretTargets of every secret the model nodes use (storage_report.secret_uses).

    With ``remote``, that remote is configured instead, and a secret whose users name another one
    is not converted (rclone would not find theirs).
    """
    targets = []
    for use in uses:
        remotes, problem = use.remotes, ""
        if remote:
            others = sorted(set(name.upper() for name in use.remotes if name.upper() != remote.upper()))
            if others:
                problem = "its users' modelUri name remote(s) {0}, not {1}: rclone would not find them".format(
                    ", ".join(others), remote.upper())
            remotes = [remote]
        targets.append(SecretTarget(inventory.secrets.get((use.namespace, use.name)), use.namespace, use.name,
                                    remotes, use.used_by, problem))
    return targets


def targets_named(listed, namespaces, name, remote=None, config=None):
    """The SecretTargets for option ``name``: each listed secret of that name, for ``remote`` or by
    default ``s3`` (``gs`` for a GCS secret); one not-found target per namespace when none was listed."""
    if not listed:
        return [SecretTarget(None, namespace, name, [remote or "s3"], [], "") for namespace in namespaces or [None]]
    targets = []
    for obj in listed:
        fmt = ks.detect_format(ks.decode_data(obj.get("data")), config)
        default_remote = "gs" if fmt == ks.FORMAT_GCS else "s3"
        namespace, obj_name = kube_objects.object_key(obj)
        targets.append(SecretTarget(obj, namespace, obj_name, [remote or default_remote], [], ""))
    return targets


def removal_target(obj):
    """The SecretTarget of state=absent for one annotated secret."""
    namespace, name = kube_objects.object_key(obj)
    return SecretTarget(obj, namespace, name, [], [], "")


def entry(target, plan=None, error=""):
    """rclone_secret's result entry for one secret (names, actions, reasons; never a value)."""
    result = {"namespace": target.namespace, "name": target.name, "action": st.ACTION_BLOCKED,
              "reason": target.problem or "not found", "format": "",
              "remotes": sorted(set(remote.upper() for remote in target.remotes)), "added_keys": [],
              "overwritten_keys": [], "conflicting_keys": [], "kept_keys": [], "used_by": target.used_by}
    if plan is None:
        return result
    change = plan.change
    result.update(action=change.action, reason=change.reason, format=plan.format, added_keys=change.added_keys,
                  overwritten_keys=change.overwritten_keys, conflicting_keys=change.conflicting_keys,
                  kept_keys=change.kept_keys)
    if error:
        result.update(action=st.ACTION_FAILED, reason=error, added_keys=[], overwritten_keys=[], conflicting_keys=[],
                      kept_keys=[])
    return result


# --------------------------------------------------------------------------- the secret for IAM roles

# On a secret this collection created (for IAM roles for service accounts): JSON {key: digest}
# (salt ``namespace/name``: there is no uid before it exists); the rollback deletes the secret only
# while every key still holds what was written.
CREATED_ANNOTATION = "rclone-migration.seldon-ops.io/created"
MANAGED_BY = {"app.kubernetes.io/managed-by": "seldon_ops.rclone_migration"}
IAM_RCLONE = (1, 57, 0)


def iam_keys(remotes, region=""):
    """rclone keys that make rclone take the pod's web identity (IAM roles for service accounts)."""
    keys = {}
    for remote in remotes:
        prefix = rm.remote_env_prefix(remote)
        keys.update({prefix + "TYPE": "s3", prefix + "PROVIDER": "AWS", prefix + "ENV_AUTH": "true"})
        if region:
            keys[prefix + "REGION"] = region
    return keys


def iam_rclone_problem(image):
    """Why ``image`` cannot read IAM roles for service accounts ("" when it can or its rclone is unknown)."""
    shipped = operator_rules.rclone_in_image(image)
    if shipped is not None and shipped < IAM_RCLONE:
        return ("{0} ships rclone {1}: IAM roles for service accounts need rclone 1.57 "
                "(rclone-storage-initializer 1.14.0 or later)").format(image, ".".join(str(part) for part in shipped))
    return ""


def plan_iam_secret(namespace, name, remotes, region, image):
    """The SecretPlan creating the IAM-roles secret of a namespace whose nodes need it."""
    problem = iam_rclone_problem(image)
    if problem:
        return SecretPlan(_change(st.ACTION_BLOCKED, problem), ks.FORMAT_RCLONE, None, None)
    keys = iam_keys(remotes, region)
    salt = "{0}/{1}".format(namespace, name)
    record = json.dumps(dict((key, value_digest(salt, key, value)) for key, value in keys.items()), sort_keys=True)
    body = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(MANAGED_BY),
                         "annotations": {CREATED_ANNOTATION: record}},
            "data": dict((key, ks.encode_value(value)) for key, value in keys.items())}
    change = _change(st.ACTION_CONVERTED, "created for IAM roles for service accounts", added_keys=sorted(keys))
    return SecretPlan(change, ks.FORMAT_RCLONE, None, ({}, {"data": dict((key, st.REDACTED) for key in sorted(keys))}),
                      body)


def plan_created_removal(secret, config=None, kept_for=""):
    """State=absent for a secret this collection created: delete it while it holds what was written."""
    decoded = ks.decode_data(secret.get("data"))
    fmt = ks.detect_format(decoded, config)
    if kept_for:
        return SecretPlan(_change(st.ACTION_UNCHANGED, kept_for, kept_keys=sorted(decoded)), fmt, None, None)
    metadata = kube_objects.metadata_of(secret)
    salt = "{0}/{1}".format(metadata.get("namespace"), metadata.get("name"))
    try:
        record = json.loads(kube_objects.annotations_of(secret).get(CREATED_ANNOTATION) or "")
    except ValueError:
        record = None
    written = isinstance(record, dict) and set(record) == set(decoded) and all(
        isinstance(decoded[key], str) and value_digest(salt, key, decoded[key]) == record[key] for key in record)
    if not written:
        return SecretPlan(_change(st.ACTION_UNCHANGED, "kept: changed since this collection created it",
                                  kept_keys=sorted(decoded)), fmt, None, None)
    return SecretPlan(_change(st.ACTION_REMOVED, "deletes the secret this collection created", added_keys=sorted(decoded)),
                      fmt, None, ({"data": dict((key, st.REDACTED) for key in sorted(decoded))}, {}), None, True)
