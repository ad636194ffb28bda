# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the rclone storage initializer reads a modelUri, and how one is shown without secrets (pure).

The rclone initializer runs ``rclone copy <modelUri> /mnt/models``; rclone takes the part before
the first ``:`` as the remote name and looks it up in ``RCLONE_CONFIG_<REMOTE>_*`` environment
variables (SeldonIO/seldon-core components/rclone-storage-initializer). Env-defined remote names
can only use letters, digits and ``_`` (rclone docs/content/docs.md).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections import namedtuple

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import status

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
# Kinds that need no credentials at all.
NO_CREDENTIAL_KINDS = (URI_PVC, URI_LOCAL, URI_INLINE)

_REMOTE_NAME_RE = re.compile(r"^[A-Za-z0-9_]+$")
_AZURE_BLOB_RE = re.compile(r"^https://[^/]+\.blob\.core\.windows\.net/", re.IGNORECASE)
_URL_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)(.*)$")
_WINDOWS_PATH_RE = re.compile(r"^[A-Za-z]:[\\/]")
_USERINFO_RE = re.compile(r"[^/@\s:]+:[^/@\s]*@")
REDACTED = status.REDACTED
_KEY_VALUE_RE = re.compile(r"=(?!<redacted>)[^,:\s]+")

ModelUri = namedtuple("ModelUri", "kind remote reason")
ModelUri.__doc__ = """A classified modelUri: ``kind`` (URI_*), ``remote`` (the rclone remote name as
written, for URI_REMOTE and URI_INVALID, else None) and ``reason`` (why no credentials are needed
or why it cannot work; "" for a plain remote)."""


def is_valid_remote_name(name):
    """True when rclone can define ``name`` through environment variables (letters, digits, _).

    >>> is_valid_remote_name("s3"), is_valid_remote_name("my-minio")
    (True, False)
    """
    return bool(name) and bool(_REMOTE_NAME_RE.match(name))


def _remote_part(text):
    """The part before the first ``:``, without rclone's ``,param=value`` overrides."""
    return text.split(":", 1)[0].split(",", 1)[0]


def scheme(uri):
    """The remote part in lower case, as reported (``s3`` for ``s3://b/p``, ``minio`` for
    ``minio:b/p`` and ``minio,k=v:b/p``); ``""`` for a path or an rclone connection string.

    >>> scheme("S3://b/p"), scheme("minio,key=v:b/p"), scheme("/mnt/m"), scheme(":s3:b")
    ('s3', 'minio', '', '')
    """
    text = uri.strip() if isinstance(uri, str) else ""
    if ":" not in text or text.startswith((":", "/", ".")):
        return ""
    return _remote_part(text).lower()


def _special(text):
    """ModelUri for the forms that are not a plain ``remote:path`` (None for a plain one)."""
    lowered = text.lower()
    if lowered.startswith("pvc://"):
        return ModelUri(URI_PVC, None, "pvc:// is mounted by the operator and copied as a local path: "
                                       "no credentials needed")
    if _AZURE_BLOB_RE.match(text):
        return ModelUri(URI_AZURE_BLOB, None, "Azure blob URL: rclone needs an azureblob remote in the modelUri "
                                              "(e.g. azureblob:container/path) and its credentials; change the "
                                              "modelUri by hand")
    if lowered.startswith(("http://", "https://")):
        return ModelUri(URI_HTTP, None, "http(s) URL: rclone reads '{0}' as a remote name that no secret defines; "
                                        "use an rclone remote in the modelUri".format(scheme(text)))
    if lowered.startswith("file://"):
        # kfserving read file:// as a local path; rclone reads "file" as a remote name
        return ModelUri(URI_FILE_URL, None, "file:// URL: rclone reads 'file' as a remote name that no secret "
                                            "defines; use the plain path in the modelUri")
    if _WINDOWS_PATH_RE.match(text):
        return ModelUri(URI_INVALID, None, "looks like a Windows path: rclone reads the drive letter as a remote "
                                           "name; use a remote or a path of the model server's filesystem")
    if text.startswith(("/", ".")) or ":" not in text:
        return ModelUri(URI_LOCAL, None, "local path: no credentials needed")
    if text.startswith(":"):
        return ModelUri(URI_INLINE, None, "rclone connection string: configured in the modelUri itself")
    return None


def parse(uri):
    """Classify a modelUri the way the rclone initializer will read it.

    The operator passes the modelUri to rclone as written, so surrounding whitespace makes it
    unusable rather than being ignored.

    >>> parse("s3://sklearn/iris").remote, parse("minio:models/iris").remote
    ('s3', 'minio')
    >>> parse("pvc://claim/models").kind, parse(" s3://b/m").kind
    ('pvc', 'invalid')
    """
    if uri is not None and not isinstance(uri, str):
        return ModelUri(URI_INVALID, None, "modelUri is not a string")
    text = uri or ""
    if not text.strip():
        return ModelUri(URI_EMPTY, None, "no modelUri")
    if text != text.strip():
        return ModelUri(URI_INVALID, None, "modelUri has leading or trailing whitespace: the operator passes it to "
                                           "rclone as written")
    special = _special(text)
    if special:
        return special
    remote = _remote_part(text)
    if not is_valid_remote_name(remote):
        return ModelUri(URI_INVALID, remote, "remote name '{0}' cannot be configured through environment "
                                             "variables (letters, digits and _ only)".format(remote))
    return ModelUri(URI_REMOTE, remote, "")


def _redact_parameters(segment):
    """``remote,a=1,b="x,y"`` -> ``remote,a=<redacted>,b=<redacted>`` (rclone's override syntax)."""
    parts, current, quote = [], "", None
    for char in segment:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == ",":
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    return ",".join([parts[0]] + [part.split("=", 1)[0] + ("=" + REDACTED if "=" in part else "") for part in parts[1:]])


def _split_connection_string(text):
    """``(remote part with overrides, rest)`` of ``[:]remote,k=v:path``, honouring quoted values."""
    quote = None
    start = 1 if text.startswith(":") else 0
    for index in range(start, len(text)):
        char = text[index]
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == ":":
            return text[:index], text[index:]
    return text, ""


def sanitize(uri):
    """modelUri as it may be shown: without user info, query or fragment (presigned URLs carry
    credentials there), and with the values of rclone ``,param=value`` overrides redacted.

    >>> sanitize("https://user:pw@host/model.joblib?X-Amz-Signature=abc")
    'https://host/model.joblib'
    >>> sanitize(":s3,access_key_id=AK,secret_access_key='a:b':bucket/m")
    ':s3,access_key_id=<redacted>,secret_access_key=<redacted>:bucket/m'
    """
    text = uri.strip() if isinstance(uri, str) else ""
    match = _URL_RE.match(text)
    if match:
        prefix, authority, rest = match.groups()
        text = prefix + authority.rsplit("@", 1)[-1] + rest
    head, rest = _split_connection_string(text)
    if "," in head:
        text = _redact_parameters(head) + rest
    text = _USERINFO_RE.sub(REDACTED + "@", text)
    return re.split(r"[?#]", text, 1)[0]


def redact_words(text):
    """Free text (an operator's error message) with every word that could carry a credential
    shown as ``sanitize`` shows a modelUri, and ``key=value`` values redacted.

    >>> redact_words("bad uri s3,secret_access_key=abc:b/m for node x")
    'bad uri s3,secret_access_key=<redacted>:b/m for node x'
    """
    words = []
    for word in (text if isinstance(text, str) else "").split(" "):
        if any(mark in word for mark in (":", "=", "@", "?")):
            word = _KEY_VALUE_RE.sub("=" + REDACTED, sanitize(word))
        words.append(word)
    return " ".join(words)
