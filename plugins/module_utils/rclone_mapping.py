# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kfserving -> rclone storage-initializer rules. The one place for them; pure functions.

Sources of every rule are listed in docs/modules.md. In short:

* rclone reads its remotes from ``RCLONE_CONFIG_<REMOTE>_<OPTION>`` environment variables; the
  remote is the part of the modelUri before ``:`` (``s3://b/p`` -> ``s3``); a remote exists only
  when ``RCLONE_CONFIG_<REMOTE>_TYPE`` is set; env-defined remote names use letters, digits, ``_``.
* kfserving secrets come in two shapes: env-style (``AWS_ACCESS_KEY_ID`` ... read by the
  initializer through ``envFrom``) and service-account style (``awsAccessKeyID`` /
  ``awsSecretAccessKey`` plus ``machinelearning.seldon.io/s3-*`` annotations, turned into env vars
  by the Seldon operator). GCS secrets hold ``gcloud-application-credentials.json``.
* rclone matches the S3 provider name exactly (``Minio``, not ``minio``).

Secret values are handled decoded (text) here. Nothing in this file logs or returns a value in
anything but the ``keys_to_set`` mapping that the caller turns into a patch.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import json
import re

RCLONE_CONFIG_PREFIX = "RCLONE_CONFIG_"
RCLONE_KEY_PREFIX = "RCLONE_"
NO_CHECK_CERTIFICATE_KEY = "RCLONE_NO_CHECK_CERTIFICATE"

# Annotation on a Secret listing (comma separated) the keys this collection added, so that
# state=absent removes exactly those. Key names only, never values.
ADDED_KEYS_ANNOTATION = "rclone-migration.seldon-ops.io/added-keys"

SELDON_ANNOTATION_PREFIX = "machinelearning.seldon.io/"
KFSERVING_ANNOTATION_PREFIX = "serving.kubeflow.org/"

# kfserving env-style keys (read by the initializer from the environment).
ENV_ACCESS_KEY_ID = "AWS_ACCESS_KEY_ID"
ENV_SECRET_ACCESS_KEY = "AWS_SECRET_ACCESS_KEY"
ENV_ENDPOINT_URL = "AWS_ENDPOINT_URL"
ENV_S3_ENDPOINT = "S3_ENDPOINT"
ENV_S3_USE_HTTPS = "S3_USE_HTTPS"
ENV_USE_SSL = "USE_SSL"
ENV_S3_VERIFY_SSL = "S3_VERIFY_SSL"
ENV_REGION_KEYS = ("AWS_REGION", "AWS_DEFAULT_REGION")
AZURE_KEYS = ("AZ_CLIENT_ID", "AZ_CLIENT_SECRET", "AZ_SUBSCRIPTION_ID", "AZ_TENANT_ID")

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

# The Seldon operator's defaults; seldon-config's ``credentials`` entry can rename them.
DEFAULT_CREDENTIALS_CONFIG = {
    "s3_access_key_id_name": "awsAccessKeyID",
    "s3_secret_access_key_name": "awsSecretAccessKey",
    "s3_endpoint": "",
    "s3_use_https": "",
    "gcs_credential_file_name": "gcloud-application-credentials.json",
}

# Secret formats, as reported.
FORMAT_ENV = "env"
FORMAT_SERVICE_ACCOUNT = "service_account"
FORMAT_GCS = "gcs"
FORMAT_AZURE = "azure"
FORMAT_RCLONE = "rclone"
FORMAT_UNKNOWN = "unknown"

# Remote types: what the rclone backend must be.
REMOTE_S3 = "s3"
REMOTE_GCS = "gcs"
RCLONE_TYPE_VALUES = {REMOTE_S3: "s3", REMOTE_GCS: "google cloud storage"}

# modelUri kinds.
URI_REMOTE = "remote"          # rclone remote: s3://..., gs://..., name:path
URI_PVC = "pvc"                # pvc://claim/path: the operator mounts it, rclone copies a local path
URI_LOCAL = "local"            # a path, no remote
URI_INLINE = "inline"          # rclone connection string  :backend,opt=v:path
URI_HTTP = "http"              # http(s) URL: kfserving downloaded it; rclone reads remote "https"
URI_AZURE_BLOB = "azure_blob"  # https://<account>.blob.core.windows.net/...
URI_FILE_URL = "file_url"      # file:///path: kfserving read it locally; rclone reads remote "file"
URI_EMPTY = "empty"
URI_INVALID = "invalid"

# Conversion statuses for one secret and one remote.
CONVERSION_MIGRATED = "migrated"
CONVERSION_CONVERTIBLE = "convertible"
CONVERSION_CONFLICT = "conflict"
CONVERSION_BLOCKED = "blocked"
CONVERSION_NO_SOURCE = "no_source"

_REMOTE_NAME_RE = re.compile(r"^[A-Za-z0-9_]+$")
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_AZURE_BLOB_RE = re.compile(r"^https://[^/]+\.blob\.core\.windows\.net/", re.IGNORECASE)
_AWS_HOST_RE = re.compile(r"^s3([.-][a-z0-9-]+)*\.amazonaws\.com(\.cn)?$", re.IGNORECASE)
_FALSE_WORDS = ("0", "false", "no", "off")


# --------------------------------------------------------------------------- model URIs

def is_valid_remote_name(name):
    """True when rclone can define ``name`` through environment variables (letters, digits, _).

    >>> is_valid_remote_name("s3"), is_valid_remote_name("my-minio")
    (True, False)
    """
    return bool(name) and bool(_REMOTE_NAME_RE.match(name))


def remote_env_prefix(remote):
    """``RCLONE_CONFIG_<REMOTE>_`` for a remote name (rclone upper-cases it).

    >>> remote_env_prefix("s3")
    'RCLONE_CONFIG_S3_'
    """
    return "{0}{1}_".format(RCLONE_CONFIG_PREFIX, remote.upper())


def remote_type_hint(remote):
    """The backend a remote name implies: ``s3`` -> S3, ``gs``/``gcs`` -> GCS, others: unknown."""
    lowered = (remote or "").lower()
    if lowered == "s3":
        return REMOTE_S3
    if lowered in ("gs", "gcs"):
        return REMOTE_GCS
    return None


def parse_model_uri(uri):
    """Classify a modelUri the way the rclone initializer will read it.

    Returns ``{"kind", "remote", "reason"}``; ``remote`` is set for ``kind == "remote"``.

    >>> parse_model_uri("s3://sklearn/iris")["remote"]
    's3'
    >>> parse_model_uri("gs://seldon-models/sklearn")["remote"]
    'gs'
    >>> parse_model_uri("minio:models/iris")["remote"]
    'minio'
    >>> parse_model_uri("pvc://claim/models")["kind"]
    'pvc'
    """
    text = (uri or "").strip()
    if not text:
        return {"kind": URI_EMPTY, "remote": None, "reason": "no modelUri"}
    lowered = text.lower()
    if lowered.startswith("pvc://"):
        return {"kind": URI_PVC, "remote": None,
                "reason": "pvc:// is mounted by the operator and copied as a local path: no credentials needed"}
    if _AZURE_BLOB_RE.match(text):
        return {"kind": URI_AZURE_BLOB, "remote": None,
                "reason": "Azure blob URL: rclone needs an azureblob remote in the modelUri "
                          "(e.g. azureblob:container/path) and its credentials; change the modelUri by hand"}
    if lowered.startswith("http://") or lowered.startswith("https://"):
        return {"kind": URI_HTTP, "remote": None,
                "reason": "http(s) URL: rclone reads '{0}' as a remote name that no secret defines; "
                          "use an rclone remote in the modelUri".format(lowered.split(":", 1)[0])}
    if lowered.startswith("file://"):
        # kfserving read file:// as a local path; rclone reads "file" as a remote name
        return {"kind": URI_FILE_URL, "remote": None,
                "reason": "file:// URL: rclone reads 'file' as a remote name that no secret defines; "
                          "use the plain path in the modelUri"}
    if text.startswith("/") or text.startswith("."):
        return {"kind": URI_LOCAL, "remote": None, "reason": "local path: no credentials needed"}
    if text.startswith(":"):
        return {"kind": URI_INLINE, "remote": None,
                "reason": "rclone connection string: configured in the modelUri itself"}
    if ":" not in text:
        return {"kind": URI_LOCAL, "remote": None, "reason": "no remote in the modelUri: rclone copies a local path"}
    remote = text.split(":", 1)[0]
    if not is_valid_remote_name(remote):
        return {"kind": URI_INVALID, "remote": remote,
                "reason": "remote name '{0}' cannot be configured through environment variables "
                          "(letters, digits and _ only)".format(remote)}
    return {"kind": URI_REMOTE, "remote": remote, "reason": ""}


def sanitize_model_uri(uri):
    """modelUri without user info, query or fragment (presigned URLs carry credentials there).

    >>> sanitize_model_uri("https://user:pw@host/model.joblib?X-Amz-Signature=abc")
    'https://host/model.joblib'
    """
    text = (uri or "").strip()
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)(.*)$", text)
    if match:
        scheme, authority, rest = match.groups()
        authority = authority.rsplit("@", 1)[-1]
        text = scheme + authority + rest
    return re.split(r"[?#]", text, 1)[0]


# --------------------------------------------------------------------------- small rules

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

    ``auto``: keep a correctly spelled provider the secret already names; else ``AWS`` when the
    source names no endpoint (kfserving's default is AWS S3) or an AWS endpoint, else ``Other``.

    >>> resolve_provider("auto", "")
    ('AWS', '')
    >>> resolve_provider("auto", "http://minio:9000")
    ('Other', '')
    >>> resolve_provider("minio", "http://minio:9000")
    ('Minio', '')
    """
    if (requested or PROVIDER_AUTO).lower() == PROVIDER_AUTO:
        if existing and canonical_s3_provider(existing) == existing:
            return existing, ""
        if not endpoint or is_aws_endpoint(endpoint):
            return "AWS", ""
        return "Other", ""
    provider = canonical_s3_provider(requested)
    if provider is None:
        return None, "provider '{0}' is not an S3 provider rclone knows".format(requested)
    return provider, ""


def flag_means_false(value):
    """Env-style booleans (S3_USE_HTTPS, USE_SSL, S3_VERIFY_SSL): 0/false/no/off mean false."""
    return (value or "").strip().lower() in _FALSE_WORDS


def annotation_means_http(value):
    """The operator's ``s3-usehttps`` rule: only the exact value ``"0"`` means plain http."""
    return value is not None and value.strip() == "0"


def normalise_endpoint(endpoint, use_https=True):
    """Strip whitespace and newlines; add ``https://`` (or ``http://``) when there is no scheme.

    >>> normalise_endpoint("minio.minio-system.svc:9000\\n", use_https=False)
    'http://minio.minio-system.svc:9000'
    >>> normalise_endpoint(" https://s3.example.com/ ")
    'https://s3.example.com/'
    """
    text = "".join((endpoint or "").split())
    if not text:
        return ""
    if _SCHEME_RE.match(text):
        return text
    return "{0}://{1}".format("https" if use_https else "http", text)


def strip_line_end(value):
    """Drop trailing CR/LF (``echo`` adds one) but nothing else: credentials keep their bytes."""
    return (value or "").rstrip("\r\n")


def annotation_value(annotations, name):
    """An ``s3-*`` annotation, Seldon prefix first, then the kfserving prefix (operator order)."""
    annotations = annotations or {}
    for prefix in (SELDON_ANNOTATION_PREFIX, KFSERVING_ANNOTATION_PREFIX):
        if prefix + name in annotations:
            return annotations[prefix + name]
    return None


def credentials_config(overrides=None):
    """Seldon's credential-builder settings with ``overrides`` (empty values ignored) applied."""
    config = dict(DEFAULT_CREDENTIALS_CONFIG)
    for key, value in (overrides or {}).items():
        if key in config and value not in (None, ""):
            config[key] = value
    return config


def credentials_config_from_seldon_config(raw_json):
    """Our settings from seldon-config's ``credentials`` JSON (``{"s3": {...}, "gcs": {...}}``)."""
    try:
        parsed = json.loads(raw_json or "{}")
    except ValueError:
        return {}
    s3 = parsed.get("s3") or {}
    gcs = parsed.get("gcs") or {}
    return {
        "s3_access_key_id_name": s3.get("s3AccessKeyIDName", ""),
        "s3_secret_access_key_name": s3.get("s3SecretAccessKeyName", ""),
        "s3_endpoint": s3.get("s3Endpoint", ""),
        "s3_use_https": s3.get("s3UseHttps", ""),
        "gcs_credential_file_name": gcs.get("gcsCredentialFileName", ""),
    }


# --------------------------------------------------------------------------- secret data

def decode_secret_data(data):
    """Decode a Secret's ``data`` (base64) into text; undecodable values map to None."""
    decoded = {}
    for key, encoded in (data or {}).items():
        try:
            decoded[key] = base64.b64decode(encoded or "", validate=True).decode("utf-8")
        except (binascii.Error, ValueError, TypeError):
            decoded[key] = None
    return decoded


def encode_value(value):
    """Base64 text for a Secret's ``data`` field."""
    return base64.b64encode(value.encode("utf-8")).decode("ascii")


def rclone_remotes_in(decoded):
    """Remote names (upper case) for which the secret sets ``RCLONE_CONFIG_<REMOTE>_TYPE``."""
    remotes = []
    for key in decoded:
        if key.startswith(RCLONE_CONFIG_PREFIX) and key.endswith("_TYPE"):
            remote = key[len(RCLONE_CONFIG_PREFIX):-len("_TYPE")]
            if remote:
                remotes.append(remote)
    return sorted(remotes)


def detect_secret_format(decoded, annotations=None, config=None):
    """Which credential shape a Secret holds, by its keys (first match wins).

    ``env`` (AWS_* keys) > ``service_account`` (awsSecretAccessKey or the configured name) >
    ``gcs`` (gcloud-application-credentials.json) > ``azure`` (AZ_* keys) > ``rclone`` (only
    RCLONE_CONFIG_* keys) > ``unknown``.
    """
    config = credentials_config(config)
    keys = set(decoded or {})
    if ENV_ACCESS_KEY_ID in keys or ENV_SECRET_ACCESS_KEY in keys:
        return FORMAT_ENV
    if config["s3_secret_access_key_name"] in keys or config["s3_access_key_id_name"] in keys:
        return FORMAT_SERVICE_ACCOUNT
    if config["gcs_credential_file_name"] in keys:
        return FORMAT_GCS
    if any(key in keys for key in AZURE_KEYS):
        return FORMAT_AZURE
    if any(key.startswith(RCLONE_CONFIG_PREFIX) for key in keys):
        return FORMAT_RCLONE
    return FORMAT_UNKNOWN


def is_s3_service_account_secret(decoded, config=None):
    """The operator's test for an S3 secret listed by a service account: the secret-key key exists."""
    return credentials_config(config)["s3_secret_access_key_name"] in (decoded or {})


def is_gcs_secret(decoded, config=None):
    """The operator's test for a GCS secret listed by a service account."""
    return credentials_config(config)["gcs_credential_file_name"] in (decoded or {})


def _text(decoded, key, notes):
    value = decoded.get(key)
    if value is None and key in decoded:
        return None, "key {0} is not UTF-8 text".format(key)
    if value is not None and value != strip_line_end(value):
        notes.append("trailing newline dropped from {0}".format(key))
        value = strip_line_end(value)
    return value, ""


def env_endpoint(decoded):
    """Endpoint of an env-style secret: ``(normalised endpoint, repaired)``; ``""`` means AWS.

    ``AWS_ENDPOINT_URL`` (what the boto3-based initializer reads) wins; else ``S3_ENDPOINT`` with
    ``S3_USE_HTTPS`` / ``USE_SSL`` (what the older minio-based initializers read).
    """
    raw = decoded.get(ENV_ENDPOINT_URL) or ""
    if raw.strip():
        endpoint = normalise_endpoint(raw)
        return endpoint, endpoint != raw
    raw = decoded.get(ENV_S3_ENDPOINT) or ""
    if raw.strip():
        insecure = flag_means_false(decoded.get(ENV_S3_USE_HTTPS)) or flag_means_false(decoded.get(ENV_USE_SSL))
        return normalise_endpoint(raw, use_https=not insecure), raw.strip() != raw
    return "", False


def annotation_endpoint(annotations, config):
    """Endpoint of a service-account secret: ``(normalised endpoint, repaired)``; ``""`` means AWS.

    ``s3-endpoint`` (host[:port]) with the scheme from ``s3-usehttps`` as the operator builds it,
    else seldon-config's cluster-wide ``s3Endpoint`` / ``s3UseHttps``.
    """
    raw = annotation_value(annotations, "s3-endpoint") or ""
    if raw.strip():
        use_https = not annotation_means_http(annotation_value(annotations, "s3-usehttps"))
        return normalise_endpoint(raw, use_https=use_https), raw.strip() != raw
    raw = config.get("s3_endpoint") or ""
    if raw.strip():
        return normalise_endpoint(raw, use_https=not annotation_means_http(config.get("s3_use_https"))), False
    return "", False


def s3_settings(decoded, annotations=None, config=None):
    """S3 connection settings a kfserving secret gives, or why it gives none.

    Returns ``(settings, reason, notes)``. ``settings`` is None with an empty reason when the
    secret holds no S3 credentials at all; None with a reason when they are incomplete.
    Settings: ``format``, ``access_key_id``, ``secret_access_key``, ``endpoint`` (normalised, may
    be empty = AWS), ``region`` (may be empty), ``no_check_certificate`` (bool).
    """
    config = credentials_config(config)
    decoded = decoded or {}
    notes = []
    fmt = detect_secret_format(decoded, annotations, config)
    if fmt == FORMAT_ENV:
        id_key, secret_key = ENV_ACCESS_KEY_ID, ENV_SECRET_ACCESS_KEY
    elif fmt == FORMAT_SERVICE_ACCOUNT:
        id_key, secret_key = config["s3_access_key_id_name"], config["s3_secret_access_key_name"]
    else:
        return None, "", notes
    values = {}
    for field, key in (("access_key_id", id_key), ("secret_access_key", secret_key)):
        if key not in decoded:
            return None, "key {0} missing".format(key), notes
        value, problem = _text(decoded, key, notes)
        if problem:
            return None, problem, notes
        if not value:
            return None, "key {0} is empty".format(key), notes
        values[field] = value

    if fmt == FORMAT_ENV:
        endpoint, repaired = env_endpoint(decoded)
        region = next((decoded[key].strip() for key in ENV_REGION_KEYS if (decoded.get(key) or "").strip()), "")
        no_check_certificate = flag_means_false(decoded.get(ENV_S3_VERIFY_SSL))
    else:
        endpoint, repaired = annotation_endpoint(annotations, config)
        region = (annotation_value(annotations, "s3-region") or "").strip()
        no_check_certificate = annotation_means_http(annotation_value(annotations, "s3-verifyssl"))
    if repaired:
        notes.append("endpoint normalised (whitespace removed or scheme added)")
    values.update(format=fmt, endpoint=endpoint, region=region, no_check_certificate=no_check_certificate)
    return values, "", notes


def gcs_settings(decoded, config=None):
    """The service-account JSON of a GCS secret: ``(settings, reason)`` like ``s3_settings``."""
    config = credentials_config(config)
    key = config["gcs_credential_file_name"]
    if key not in (decoded or {}):
        return None, ""
    value = decoded.get(key)
    if value is None:
        return None, "key {0} is not UTF-8 text".format(key)
    try:
        json.loads(value)
    except ValueError:
        return None, "key {0} is not valid JSON".format(key)
    return {"format": FORMAT_GCS, "service_account_credentials": value.strip()}, ""


def s3_rclone_keys(remote, settings, provider):
    """The RCLONE_CONFIG_<REMOTE>_* keys (plain values) for S3 settings and a resolved provider.

    ``_ENDPOINT`` only when the source names one, ``_REGION`` only when it names a region, and
    the global ``RCLONE_NO_CHECK_CERTIFICATE`` only for ``s3-verifyssl: "0"``.
    """
    prefix = remote_env_prefix(remote)
    keys = {
        prefix + "TYPE": RCLONE_TYPE_VALUES[REMOTE_S3],
        prefix + "PROVIDER": provider,
        prefix + "ENV_AUTH": "false",
        prefix + "ACCESS_KEY_ID": settings["access_key_id"],
        prefix + "SECRET_ACCESS_KEY": settings["secret_access_key"],
    }
    if settings.get("endpoint"):
        keys[prefix + "ENDPOINT"] = settings["endpoint"]
    if settings.get("region"):
        keys[prefix + "REGION"] = settings["region"]
    if settings.get("no_check_certificate"):
        keys[NO_CHECK_CERTIFICATE_KEY] = "true"
    return keys


def gcs_rclone_keys(remote, settings):
    """The RCLONE_CONFIG_<REMOTE>_* keys for a GCS service-account JSON (not anonymous)."""
    prefix = remote_env_prefix(remote)
    return {
        prefix + "TYPE": RCLONE_TYPE_VALUES[REMOTE_GCS],
        prefix + "ANONYMOUS": "false",
        prefix + "SERVICE_ACCOUNT_CREDENTIALS": settings["service_account_credentials"],
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


def convert_for_remote(decoded, annotations, remote, provider=PROVIDER_AUTO, config=None):
    """What one secret needs so that rclone finds ``remote`` in it.

    Returns a dict: ``status`` (migrated | convertible | conflict | blocked | no_source),
    ``reason``, ``format``, ``remote_type``, ``wanted`` (key -> value), ``to_add`` (key -> value),
    ``conflicts`` (names), ``notes``. ``no_source`` means the secret holds no credentials for this
    remote's backend and does not configure it either.
    """
    decoded = decoded or {}
    fmt = detect_secret_format(decoded, annotations, config)
    prefix = remote_env_prefix(remote)
    hint = remote_type_hint(remote)
    result = {"status": CONVERSION_NO_SOURCE, "reason": "", "format": fmt, "remote": remote,
              "remote_type": hint, "wanted": {}, "to_add": {}, "conflicts": [], "notes": []}

    if not is_valid_remote_name(remote):
        result.update(status=CONVERSION_BLOCKED,
                      reason="remote name '{0}' cannot be set through environment variables".format(remote))
        return result

    wanted = None
    if hint in (REMOTE_S3, None):
        settings, problem, notes = s3_settings(decoded, annotations, config)
        result["notes"].extend(notes)
        if problem:
            result.update(status=CONVERSION_BLOCKED, reason=problem, remote_type=REMOTE_S3)
            return result
        if settings is not None:
            existing_provider = decoded.get(prefix + "PROVIDER")
            provider_value, problem = resolve_provider(provider, settings["endpoint"], existing_provider)
            if problem:
                result.update(status=CONVERSION_BLOCKED, reason=problem, remote_type=REMOTE_S3)
                return result
            wanted = s3_rclone_keys(remote, settings, provider_value)
            result["remote_type"] = REMOTE_S3
    if wanted is None and hint in (REMOTE_GCS, None):
        settings, problem = gcs_settings(decoded, config)
        if problem:
            result.update(status=CONVERSION_BLOCKED, reason=problem, remote_type=REMOTE_GCS)
            return result
        if settings is not None:
            wanted = gcs_rclone_keys(remote, settings)
            result["remote_type"] = REMOTE_GCS

    if wanted is None:
        if (prefix + "TYPE") in decoded:
            result.update(status=CONVERSION_MIGRATED, format=fmt,
                          reason="already configures rclone remote {0}".format(remote.upper()))
            provider_value = decoded.get(prefix + "PROVIDER")
            if provider_value and canonical_s3_provider(provider_value) != provider_value:
                # no value in the note: only that rclone will not recognise the name
                result["notes"].append("{0}PROVIDER is not spelled as rclone's provider names are "
                                       "(rclone falls back to generic S3)".format(prefix))
            return result
        if fmt == FORMAT_AZURE:
            result.update(status=CONVERSION_BLOCKED,
                          reason="Azure service-principal secret (AZ_*): rclone has no environment "
                                 "options for it; configure an azureblob remote by hand")
            return result
        others = [name for name in rclone_remotes_in(decoded) if name != remote.upper()]
        if others:
            result.update(status=CONVERSION_BLOCKED,
                          reason="configures rclone remote(s) {0} but the modelUri uses remote {1}".format(
                              ", ".join(others), remote.upper()))
            return result
        if any(key.startswith(prefix) for key in decoded):
            result.update(status=CONVERSION_BLOCKED, reason="{0}TYPE missing".format(prefix))
            return result
        result["reason"] = "no credentials for remote {0}".format(remote.upper())
        return result

    to_add, conflicts = compare_keys(decoded, wanted)
    result.update(wanted=wanted, to_add=to_add, conflicts=conflicts)
    if conflicts:
        result.update(status=CONVERSION_CONFLICT,
                      reason="existing rclone keys differ from the converted values: {0}".format(", ".join(conflicts)))
    elif to_add:
        result.update(status=CONVERSION_CONVERTIBLE,
                      reason="{0} rclone key(s) to add for remote {1}".format(len(to_add), remote.upper()))
    else:
        result.update(status=CONVERSION_MIGRATED, reason="rclone remote {0} configured".format(remote.upper()))
    return result


# --------------------------------------------------------------------------- added-keys bookkeeping

def added_keys_from_annotation(annotations):
    """Key names recorded in our annotation (sorted, no empties)."""
    raw = (annotations or {}).get(ADDED_KEYS_ANNOTATION) or ""
    return sorted(set(part.strip() for part in raw.split(",") if part.strip()))


def added_keys_annotation(previous, new_keys):
    """Annotation value recording ``previous`` plus ``new_keys`` (sorted, comma separated)."""
    return ",".join(sorted(set(previous or []) | set(new_keys or [])))


def keys_to_remove(decoded, annotations):
    """Keys state=absent removes: the recorded ones still present, and only rclone keys.

    A tampered annotation can therefore never remove an original kfserving key.
    """
    return [key for key in added_keys_from_annotation(annotations)
            if key in (decoded or {}) and key.startswith(RCLONE_KEY_PREFIX)]


def apply_keys(decoded, keys_to_set):
    """The decoded data after adding/overwriting ``keys_to_set`` (for diffs and tests)."""
    result = dict(decoded or {})
    result.update(keys_to_set or {})
    return result
