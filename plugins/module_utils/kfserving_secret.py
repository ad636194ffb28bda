# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a kfserving-era credentials Secret says (pure): its format and the S3 or GCS settings
the kfserving storage initializer got from it.

Two shapes (../shared/seldon-facts.md, docs/modules.md):

* env-style, read by the initializer through ``envFrom``: ``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL`` (boto3-based initializer; default AWS), or
  ``S3_ENDPOINT`` with ``S3_USE_HTTPS``/``USE_SSL`` (older minio-based initializers);
* service-account style, turned into env vars by the operator's credential builder
  (operator/controllers/resources/credentials/s3/s3_secret.go): ``awsAccessKeyID`` /
  ``awsSecretAccessKey`` (names configurable in seldon-config) with ``machinelearning.seldon.io/s3-*``
  annotations (fallback prefix ``serving.kubeflow.org/``); GCS secrets hold
  ``gcloud-application-credentials.json``.

Values are handled decoded (text). Nothing here returns a value except inside ``S3Settings`` /
``GcsSettings``, which only rclone_mapping turns into keys to write.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import json
import re
from collections import namedtuple

SELDON_ANNOTATION_PREFIX = "machinelearning.seldon.io/"
KFSERVING_ANNOTATION_PREFIX = "serving.kubeflow.org/"
RCLONE_CONFIG_PREFIX = "RCLONE_CONFIG_"

# kfserving env-style keys (read by the initializer from the environment).
ENV_ACCESS_KEY_ID = "AWS_ACCESS_KEY_ID"
ENV_SECRET_ACCESS_KEY = "AWS_SECRET_ACCESS_KEY"
ENV_ENDPOINT_URL = "AWS_ENDPOINT_URL"
ENV_S3_ENDPOINT = "S3_ENDPOINT"
ENV_S3_USE_HTTPS = "S3_USE_HTTPS"
ENV_USE_SSL = "USE_SSL"
ENV_S3_VERIFY_SSL = "S3_VERIFY_SSL"
ENV_REGION_KEYS = ("AWS_REGION", "AWS_DEFAULT_REGION")
# Keys besides the credentials that change where and how an env-style secret connects: one that
# cannot be decoded must stop the conversion (read as absent, an endpoint would silently become AWS).
ENV_CONNECTION_KEYS = (ENV_ENDPOINT_URL, ENV_S3_ENDPOINT, ENV_S3_USE_HTTPS, ENV_USE_SSL, ENV_S3_VERIFY_SSL) + ENV_REGION_KEYS
AZURE_KEYS = ("AZ_CLIENT_ID", "AZ_CLIENT_SECRET", "AZ_SUBSCRIPTION_ID", "AZ_TENANT_ID")

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

# kfserving's initializer (storage.py, v0.4.0 to release-0.6) never reads S3_VERIFY_SSL, which the
# operator copies from s3-verifyssl verbatim: certificates were always checked, so they stay checked.
VERIFY_SSL_NOTE = ("S3_VERIFY_SSL / s3-verifyssl is set, but the kfserving initializer never read it: "
                   "certificate checks stay on under rclone too")

_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_FALSE_WORDS = ("0", "false", "no", "off")

S3Settings = namedtuple("S3Settings", "format access_key_id secret_access_key endpoint region")
S3Settings.__doc__ = """S3 connection settings of a kfserving secret; ``endpoint`` "" means AWS."""
GcsSettings = namedtuple("GcsSettings", "service_account_credentials")
Extracted = namedtuple("Extracted", "settings problem notes")
Extracted.__doc__ = """``settings`` (S3Settings/GcsSettings) or None; ``problem``: why incomplete
credentials cannot be used ("" when fine or absent); ``notes``: repairs made (never values)."""


# --------------------------------------------------------------------------- Secret data

def decode_data(data):
    """Decode a Secret's ``data`` (base64) into text; undecodable values map to None.

    ``data`` that is not a map decodes to {} (``data_problem`` names it).
    """
    decoded = {}
    for key, encoded in (data if isinstance(data, dict) else {}).items():
        try:
            decoded[key] = base64.b64decode(encoded or "", validate=True).decode("utf-8")
        except (binascii.Error, ValueError, TypeError):
            decoded[key] = None
    return decoded


def data_problem(data):
    """Why a Secret's ``data`` cannot be read at all ("" when it can or is absent)."""
    if data is None or isinstance(data, dict):
        return ""
    return "data is not a map of base64 values"


def undecodable(decoded, keys):
    """Problem naming the first of ``keys`` present but not UTF-8 text once base64-decoded ("" when none)."""
    for key in keys:
        if key in decoded and decoded[key] is None:
            return "key {0} is not UTF-8 text".format(key)
    return ""


def encode_value(value):
    """Base64 text for a Secret's ``data`` field."""
    return base64.b64encode(value.encode("utf-8")).decode("ascii")


# --------------------------------------------------------------------------- operator settings

def credentials_config(overrides=None):
    """Seldon's credential-builder settings with ``overrides`` (empty values ignored) applied."""
    config = dict(DEFAULT_CREDENTIALS_CONFIG)
    for key, value in (overrides or {}).items():
        if key in config and value not in (None, ""):
            config[key] = value
    return config


def credentials_config_from_entry(entry):
    """Our settings from seldon-config's parsed ``credentials`` entry (``{"s3": {...}, "gcs": {...}}``)."""
    entry = entry if isinstance(entry, dict) else {}
    s3 = entry.get("s3") if isinstance(entry.get("s3"), dict) else {}
    gcs = entry.get("gcs") if isinstance(entry.get("gcs"), dict) else {}
    return {
        "s3_access_key_id_name": s3.get("s3AccessKeyIDName", ""),
        "s3_secret_access_key_name": s3.get("s3SecretAccessKeyName", ""),
        "s3_endpoint": s3.get("s3Endpoint", ""),
        "s3_use_https": s3.get("s3UseHttps", ""),
        "gcs_credential_file_name": gcs.get("gcsCredentialFileName", ""),
    }


def credentials_config_from_seldon_config(raw_json):
    """Our settings from seldon-config's ``credentials`` JSON text ({} when it is not JSON)."""
    try:
        return credentials_config_from_entry(json.loads(raw_json or "{}"))
    except ValueError:
        return {}


# --------------------------------------------------------------------------- formats

def detect_format(decoded, config=None):
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


# --------------------------------------------------------------------------- small rules

def flag_means_false(value):
    """Env-style booleans (S3_USE_HTTPS, USE_SSL): 0/false/no/off mean false."""
    return (value or "").strip().lower() in _FALSE_WORDS


def annotation_means_http(value):
    """The operator's ``s3-usehttps`` rule: only the exact string ``"0"`` means plain http
    (``" 0"``, ``false`` and ``off`` mean https; credentials/s3/s3_secret.go, every tag)."""
    return value == "0"


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


def env_endpoint(decoded):
    """Endpoint of an env-style secret: ``(normalised endpoint, repaired)``; ``""`` means AWS.

    ``AWS_ENDPOINT_URL`` (what the boto3-based initializer reads) wins; else ``S3_ENDPOINT`` (what
    the older minio-based initializers read). Either without a scheme gets http when ``S3_USE_HTTPS``
    or ``USE_SSL`` says false, else https.
    """
    insecure = flag_means_false(decoded.get(ENV_S3_USE_HTTPS)) or flag_means_false(decoded.get(ENV_USE_SSL))
    raw = decoded.get(ENV_ENDPOINT_URL) or ""
    if raw.strip():
        endpoint = normalise_endpoint(raw, use_https=not insecure)
        return endpoint, endpoint != raw
    raw = decoded.get(ENV_S3_ENDPOINT) or ""
    if raw.strip():
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


# --------------------------------------------------------------------------- settings

def _text(decoded, key, notes):
    """``(value, problem)`` of one key: present, UTF-8, a trailing newline dropped (noted)."""
    if key not in decoded:
        return None, "key {0} missing".format(key)
    value = decoded.get(key)
    if value is None:
        return None, undecodable(decoded, [key])
    if value != strip_line_end(value):
        notes.append("trailing newline dropped from {0}".format(key))
        value = strip_line_end(value)
    if not value:
        return None, "key {0} is empty".format(key)
    return value, ""


def _key_names(fmt, config):
    if fmt == FORMAT_ENV:
        return ENV_ACCESS_KEY_ID, ENV_SECRET_ACCESS_KEY
    return config["s3_access_key_id_name"], config["s3_secret_access_key_name"]


def _connection(fmt, decoded, annotations, config):
    """``(endpoint, repaired, region, verify_ssl_set)`` for the format's own rules."""
    if fmt == FORMAT_ENV:
        endpoint, repaired = env_endpoint(decoded)
        region = next((decoded[key].strip() for key in ENV_REGION_KEYS if (decoded.get(key) or "").strip()), "")
        return endpoint, repaired, region, bool((decoded.get(ENV_S3_VERIFY_SSL) or "").strip())
    endpoint, repaired = annotation_endpoint(annotations, config)
    region = (annotation_value(annotations, "s3-region") or "").strip()
    return endpoint, repaired, region, annotation_value(annotations, "s3-verifyssl") is not None


def s3_settings(decoded, annotations=None, config=None):
    """The S3 settings a kfserving secret gives, as ``Extracted``.

    ``settings`` is None with no problem when the secret holds no S3 credentials at all, None with
    a problem when they are incomplete.
    """
    config = credentials_config(config)
    decoded = decoded or {}
    notes = []
    fmt = detect_format(decoded, config)
    if fmt not in (FORMAT_ENV, FORMAT_SERVICE_ACCOUNT):
        return Extracted(None, "", notes)
    problem = undecodable(decoded, ENV_CONNECTION_KEYS if fmt == FORMAT_ENV else ())
    if problem:
        return Extracted(None, problem, notes)
    values = []
    for key in _key_names(fmt, config):
        value, problem = _text(decoded, key, notes)
        if problem:
            return Extracted(None, problem, notes)
        values.append(value)
    endpoint, repaired, region, verify_ssl_set = _connection(fmt, decoded, annotations, config)
    if repaired:
        notes.append("endpoint normalised (whitespace removed or scheme added)")
    if verify_ssl_set:
        notes.append(VERIFY_SSL_NOTE)
    return Extracted(S3Settings(fmt, values[0], values[1], endpoint, region), "", notes)


def gcs_settings(decoded, config=None):
    """The service-account JSON of a GCS secret, as ``Extracted``."""
    key = credentials_config(config)["gcs_credential_file_name"]
    if key not in (decoded or {}):
        return Extracted(None, "", [])
    value = decoded.get(key)
    if value is None:
        return Extracted(None, undecodable(decoded, [key]), [])
    try:
        json.loads(value)
    except ValueError:
        return Extracted(None, "key {0} is not valid JSON".format(key), [])
    return Extracted(GcsSettings(value.strip()), "", [])
