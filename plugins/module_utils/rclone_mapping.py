# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kfserving -> rclone mapping (pure): which ``RCLONE_CONFIG_<REMOTE>_*`` keys a secret needs
so that rclone finds the remote a modelUri names, given what kfserving_secret read from it.

* rclone reads remotes from ``RCLONE_CONFIG_<REMOTE>_<OPTION>`` environment variables; a remote
  exists only when ``RCLONE_CONFIG_<REMOTE>_TYPE`` is set (rclone docs/content/docs.md);
* rclone matches the S3 provider name exactly (``Minio``, not ``minio``; backend/s3/s3.go);
* keys are only added: a key already present with another value is a conflict, resolved by the
  caller's policy (fail, keep, overwrite).

Sources of every rule are listed in docs/modules.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections import namedtuple

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kfserving_secret as ks
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import model_uri

RCLONE_CONFIG_PREFIX = ks.RCLONE_CONFIG_PREFIX
RCLONE_KEY_PREFIX = "RCLONE_"

# rclone's S3 provider names, spelled as rclone matches them (backend/s3/s3.go providerOption).
S3_PROVIDERS = (
    "AWS", "Alibaba", "ArvanCloud", "Ceph", "ChinaMobile", "Cloudflare", "DigitalOcean",
    "Dreamhost", "GCS", "HuaweiOBS", "IBMCOS", "IDrive", "IONOS", "LyveCloud", "Leviia", "Liara",
    "Linode", "Minio", "Netease", "Petabox", "Qiniu", "RackCorp", "Rclone", "Scaleway",
    "SeaweedFS", "StackPath", "Storj", "Synology", "TencentCOS", "Wasabi", "Other",
)
PROVIDER_AUTO = "auto"
PROVIDER_CHOICES = (PROVIDER_AUTO,) + tuple(provider.lower() for provider in S3_PROVIDERS)

ON_CONFLICT_FAIL = "fail"
ON_CONFLICT_KEEP = "keep"
ON_CONFLICT_OVERWRITE = "overwrite"
ON_CONFLICT_CHOICES = (ON_CONFLICT_FAIL, ON_CONFLICT_KEEP, ON_CONFLICT_OVERWRITE)

# Remote types: what the rclone backend must be.
REMOTE_S3 = "s3"
REMOTE_GCS = "gcs"
REMOTE_OTHER_BACKEND = "other backend"
# Remote names that are rclone backends other than S3 and GCS: a modelUri naming one wants that
# backend (azureblob:container/m), whose credentials no kfserving key can give.
OTHER_BACKENDS = frozenset(["azureblob", "azurefiles", "b2", "box", "drive", "dropbox", "ftp", "hdfs", "http",
                            "local", "onedrive", "sftp", "smb", "swift", "webdav"])
RCLONE_TYPE_VALUES = {REMOTE_S3: "s3", REMOTE_GCS: "google cloud storage"}

# Conversion statuses for one secret and one remote.
CONVERSION_MIGRATED = "migrated"
CONVERSION_CONVERTIBLE = "convertible"
CONVERSION_CONFLICT = "conflict"
CONVERSION_BLOCKED = "blocked"
CONVERSION_NO_SOURCE = "no_source"

_AWS_HOST_RE = re.compile(r"^s3([.-][a-z0-9-]+)*\.amazonaws\.com(\.cn)?$", re.IGNORECASE)

Conversion = namedtuple("Conversion", "status reason format remote remote_type wanted to_add conflicts notes respell")
Conversion.__doc__ = """What one secret needs for one remote. ``status`` CONVERSION_*; ``wanted``,
``to_add`` and ``respell`` (keys whose value is only re-spelled, e.g. a provider ``minio`` as rclone's
``Minio``) map key -> plain value (never reported); ``conflicts`` and ``notes`` name keys only.
``no_source``: the secret holds no credentials for this remote's backend and does not configure it."""

PROVIDER_SPELLING_NOTE = ("{0}PROVIDER is not spelled as rclone's provider names are (rclone falls back to generic "
                          "S3); rewrite_provider_spelling rewrites it")


# --------------------------------------------------------------------------- remotes and providers

def remote_env_prefix(remote):
    """``RCLONE_CONFIG_<REMOTE>_`` for a remote name (rclone upper-cases it).

    >>> remote_env_prefix("s3")
    'RCLONE_CONFIG_S3_'
    """
    return "{0}{1}_".format(RCLONE_CONFIG_PREFIX, remote.upper())


def remote_type_hint(remote):
    """The backend a remote name implies: ``s3`` -> S3, ``gs``/``gcs`` -> GCS, the name of another
    rclone backend -> that one (REMOTE_OTHER_BACKEND), any other name: unknown (None, S3 or GCS)."""
    lowered = (remote or "").lower()
    if lowered == "s3":
        return REMOTE_S3
    if lowered in ("gs", "gcs"):
        return REMOTE_GCS
    if lowered in OTHER_BACKENDS:
        return REMOTE_OTHER_BACKEND
    return None


def rclone_remotes_in(decoded):
    """Remote names (upper case) for which the secret sets ``RCLONE_CONFIG_<REMOTE>_TYPE``."""
    remotes = []
    for key in decoded:
        if key.startswith(RCLONE_CONFIG_PREFIX) and key.endswith("_TYPE"):
            remote = key[len(RCLONE_CONFIG_PREFIX):-len("_TYPE")]
            if remote:
                remotes.append(remote)
    return sorted(remotes)


def canonical_s3_provider(name):
    """rclone's spelling of an S3 provider name given in any case, or None if rclone has none.

    >>> canonical_s3_provider("minio"), canonical_s3_provider("DIGITALOCEAN"), canonical_s3_provider("x")
    ('Minio', 'DigitalOcean', None)
    """
    lowered = (name or "").strip().lower()
    for provider in S3_PROVIDERS:
        if provider.lower() == lowered:
            return provider
    return None


def is_aws_endpoint(endpoint):
    """True for AWS S3's own endpoints (``s3.amazonaws.com``, ``s3.eu-west-1.amazonaws.com``...)."""
    host = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", endpoint or "").split("/", 1)[0].split(":", 1)[0]
    return bool(_AWS_HOST_RE.match(host))


def resolve_provider(requested, endpoint, existing=None):
    """The provider value to write, or ``(None, reason)`` when ``requested`` is not an rclone name.

    ``auto``: keep the provider the secret already names (in rclone's spelling); else ``AWS`` when
    the source names no endpoint (kfserving's default is AWS S3) or an AWS endpoint, else ``Other``.

    >>> resolve_provider("auto", "")
    ('AWS', '')
    >>> resolve_provider("auto", "http://minio:9000")
    ('Other', '')
    >>> resolve_provider("minio", "http://minio:9000")
    ('Minio', '')
    """
    if (requested or PROVIDER_AUTO).lower() == PROVIDER_AUTO:
        if canonical_s3_provider(existing):
            return canonical_s3_provider(existing), ""
        if not endpoint or is_aws_endpoint(endpoint):
            return "AWS", ""
        return "Other", ""
    provider = canonical_s3_provider(requested)
    if provider is None:
        return None, "provider '{0}' is not an S3 provider rclone knows".format(requested)
    return provider, ""


# --------------------------------------------------------------------------- keys

def s3_rclone_keys(remote, settings, provider):
    """The RCLONE_CONFIG_<REMOTE>_* keys (plain values) for S3 settings and a resolved provider.

    ``_ENDPOINT`` only when the source names one, ``_REGION`` only when it names a region.
    """
    prefix = remote_env_prefix(remote)
    keys = {
        prefix + "TYPE": RCLONE_TYPE_VALUES[REMOTE_S3],
        prefix + "PROVIDER": provider,
        prefix + "ENV_AUTH": "false",
        prefix + "ACCESS_KEY_ID": settings.access_key_id,
        prefix + "SECRET_ACCESS_KEY": settings.secret_access_key,
    }
    if settings.endpoint:
        keys[prefix + "ENDPOINT"] = settings.endpoint
    if settings.region:
        keys[prefix + "REGION"] = settings.region
    return keys


def gcs_rclone_keys(remote, settings):
    """The RCLONE_CONFIG_<REMOTE>_* keys for a GCS service-account JSON (not anonymous)."""
    prefix = remote_env_prefix(remote)
    return {
        prefix + "TYPE": RCLONE_TYPE_VALUES[REMOTE_GCS],
        prefix + "ANONYMOUS": "false",
        prefix + "SERVICE_ACCOUNT_CREDENTIALS": settings.service_account_credentials,
    }


def compare_keys(decoded, wanted):
    """Split ``wanted`` against what the secret holds: ``(to_add, conflicts)``.

    ``to_add``: keys absent from the secret (with values). ``conflicts``: sorted names of keys
    present with a different value. Keys present with the same value are neither.
    """
    to_add = {}
    conflicts = []
    for key, value in wanted.items():
        if key not in decoded:
            to_add[key] = value
        elif decoded[key] != value:
            conflicts.append(key)
    return to_add, sorted(conflicts)


def resolve_conflicts(wanted, to_add, conflicts, on_conflict):
    """Keys to write given the conflict policy: ``(keys_to_set, blocked)``.

    ``fail``: nothing is written when any key conflicts. ``keep``: existing values stay, only
    absent keys are added. ``overwrite``: conflicting rclone keys take the converted value.
    """
    if conflicts and on_conflict == ON_CONFLICT_FAIL:
        return {}, True
    keys_to_set = dict(to_add)
    if on_conflict == ON_CONFLICT_OVERWRITE:
        for key in conflicts:
            keys_to_set[key] = wanted[key]
    return keys_to_set, False


def apply_keys(decoded, keys_to_set):
    """The decoded data after adding/overwriting ``keys_to_set`` (for diffs and tests)."""
    result = dict(decoded or {})
    result.update(keys_to_set or {})
    return result


# --------------------------------------------------------------------------- one secret, one remote

def _spelling(decoded, remote, wanted, rewrite_spelling):
    """``(wanted, respell, notes)``: a provider the secret already names in another spelling of the
    same rclone provider is accepted as written (noted), or re-spelled when asked."""
    key = remote_env_prefix(remote) + "PROVIDER"
    existing = decoded.get(key)
    if not existing or existing == wanted.get(key) or canonical_s3_provider(existing) != wanted.get(key):
        return wanted, {}, []
    if rewrite_spelling:
        return dict(wanted), {key: wanted[key]}, []
    return dict(wanted, **{key: existing}), {}, [PROVIDER_SPELLING_NOTE.format(remote_env_prefix(remote))]


def _wanted_keys(decoded, annotations, remote, provider, config):
    """``(wanted keys or None, remote type, problem, notes)`` from the credentials the secret holds."""
    hint = remote_type_hint(remote)
    notes = []
    if hint in (REMOTE_S3, None):
        extracted = ks.s3_settings(decoded, annotations, config)
        notes.extend(extracted.notes)
        if extracted.problem:
            return None, REMOTE_S3, extracted.problem, notes
        if extracted.settings is not None:
            existing = decoded.get(remote_env_prefix(remote) + "PROVIDER")
            provider_value, problem = resolve_provider(provider, extracted.settings.endpoint, existing)
            if problem:
                return None, REMOTE_S3, problem, notes
            return s3_rclone_keys(remote, extracted.settings, provider_value), REMOTE_S3, "", notes
    if hint in (REMOTE_GCS, None):
        extracted = ks.gcs_settings(decoded, config)
        if extracted.problem:
            return None, REMOTE_GCS, extracted.problem, notes
        if extracted.settings is not None:
            return gcs_rclone_keys(remote, extracted.settings), REMOTE_GCS, "", notes
    return None, hint, "", notes


def _without_source(decoded, fmt, remote):
    """``(status, reason, notes)`` for a secret without kfserving credentials for the remote."""
    prefix = remote_env_prefix(remote)
    if (prefix + "TYPE") in decoded:
        notes = []
        provider_value = decoded.get(prefix + "PROVIDER")
        if provider_value and canonical_s3_provider(provider_value) != provider_value:
            # no value in the note: only that rclone will not recognise the name
            notes.append(PROVIDER_SPELLING_NOTE.format(prefix))
        return CONVERSION_MIGRATED, "already configures rclone remote {0}".format(remote.upper()), notes
    if fmt == ks.FORMAT_AZURE:
        return CONVERSION_BLOCKED, ("Azure service-principal secret (AZ_*): rclone has no environment "
                                    "options for it; configure an azureblob remote by hand"), []
    if remote_type_hint(remote) == REMOTE_OTHER_BACKEND:
        return CONVERSION_BLOCKED, ("remote {0} is rclone's {1} backend: kfserving credentials cannot be converted "
                                    "for it; configure {2}* by hand").format(remote.upper(), remote.lower(), prefix), []
    others = [name for name in rclone_remotes_in(decoded) if name != remote.upper()]
    if others:
        return CONVERSION_BLOCKED, "configures rclone remote(s) {0} but the modelUri uses remote {1}".format(
            ", ".join(others), remote.upper()), []
    if any(key.startswith(prefix) for key in decoded):
        return CONVERSION_BLOCKED, "{0}TYPE missing".format(prefix), []
    return CONVERSION_NO_SOURCE, "no credentials for remote {0}".format(remote.upper()), []


def _compared(decoded, wanted, remote, respell):
    """``(status, to_add, conflicts, reason)`` of the wanted keys against the secret."""
    to_add, conflicts = compare_keys(decoded, wanted)
    conflicts = [key for key in conflicts if key not in respell]
    if conflicts:
        return CONVERSION_CONFLICT, to_add, conflicts, "existing rclone keys differ from the converted values: {0}".format(
            ", ".join(conflicts))
    if to_add or respell:
        return CONVERSION_CONVERTIBLE, to_add, conflicts, "{0} rclone key(s) to add, {1} to re-spell for remote {2}".format(
            len(to_add), len(respell), remote.upper()) if respell else "{0} rclone key(s) to add for remote {1}".format(
            len(to_add), remote.upper())
    return CONVERSION_MIGRATED, to_add, conflicts, "rclone remote {0} configured".format(remote.upper())


def convert_for_remote(decoded, annotations, remote, provider=PROVIDER_AUTO, config=None, data_problem="",
                       rewrite_spelling=False):
    """What one secret needs so that rclone finds ``remote`` in it, as a ``Conversion``.

    ``data_problem``: why the secret's data could not be read at all (kfserving_secret.data_problem).
    ``rewrite_spelling``: re-spell a provider the secret names in another case (``minio``) as rclone
    does (``Minio``) instead of accepting it with a note.
    """
    decoded = decoded or {}
    fmt = ks.detect_format(decoded, config)
    if data_problem:
        return Conversion(CONVERSION_BLOCKED, data_problem, fmt, remote, remote_type_hint(remote), {}, {}, [], [], {})
    if not model_uri.is_valid_remote_name(remote):
        return Conversion(CONVERSION_BLOCKED, "remote name '{0}' cannot be set through environment variables".format(
            remote), fmt, remote, remote_type_hint(remote), {}, {}, [], [], {})
    wanted, remote_type, problem, notes = _wanted_keys(decoded, annotations, remote, provider, config)
    if problem:
        return Conversion(CONVERSION_BLOCKED, problem, fmt, remote, remote_type, {}, {}, [], notes, {})
    if wanted is None:
        status, reason, more_notes = _without_source(decoded, fmt, remote)
        return Conversion(status, reason, fmt, remote, remote_type, {}, {}, [], notes + more_notes, {})
    wanted, respell, spelling_notes = _spelling(decoded, remote, wanted, rewrite_spelling)
    status, to_add, conflicts, reason = _compared(decoded, wanted, remote, respell)
    return Conversion(status, reason, fmt, remote, remote_type, wanted, to_add, conflicts, notes + spelling_notes,
                      respell)
