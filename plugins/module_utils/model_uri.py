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


def scheme(uri):
    """The part before ``:`` in lower case, as reported (``s3`` for ``s3://b/p``, ``minio`` for
    ``minio:b/p``); ``""`` for a path or an rclone connection string.

    >>> scheme("S3://b/p"), scheme("minio:b/p"), scheme("/mnt/m"), scheme(":s3:b")
    ('s3', 'minio', '', '')
    """
    text = uri.strip() if isinstance(uri, str) else ""
    if ":" not in text or text.startswith(":") or text.startswith("/") or text.startswith("."):
        return ""
    return text.split(":", 1)[0].lower()


def parse(uri):
    """Classify a modelUri the way the rclone initializer will read it.

    >>> parse("s3://sklearn/iris").remote, parse("minio:models/iris").remote
    ('s3', 'minio')
    >>> parse("pvc://claim/models").kind
    'pvc'
    """
    text = uri.strip() if isinstance(uri, str) else ""
    lowered = text.lower()
    if not text:
        return ModelUri(URI_EMPTY, None, "no modelUri")
    if lowered.startswith("pvc://"):
        return ModelUri(URI_PVC, None, "pvc:// is mounted by the operator and copied as a local path: "
                                       "no credentials needed")
    if _AZURE_BLOB_RE.match(text):
        return ModelUri(URI_AZURE_BLOB, None, "Azure blob URL: rclone needs an azureblob remote in the modelUri "
                                              "(e.g. azureblob:container/path) and its credentials; change the "
                                              "modelUri by hand")
    if lowered.startswith("http://") or lowered.startswith("https://"):
        return ModelUri(URI_HTTP, None, "http(s) URL: rclone reads '{0}' as a remote name that no secret defines; "
                                        "use an rclone remote in the modelUri".format(scheme(text)))
    if lowered.startswith("file://"):
        # kfserving read file:// as a local path; rclone reads "file" as a remote name
        return ModelUri(URI_FILE_URL, None, "file:// URL: rclone reads 'file' as a remote name that no secret "
                                            "defines; use the plain path in the modelUri")
    if text.startswith("/") or text.startswith("."):
        return ModelUri(URI_LOCAL, None, "local path: no credentials needed")
    if text.startswith(":"):
        return ModelUri(URI_INLINE, None, "rclone connection string: configured in the modelUri itself")
    if ":" not in text:
        return ModelUri(URI_LOCAL, None, "no remote in the modelUri: rclone copies a local path")
    remote = text.split(":", 1)[0]
    if not is_valid_remote_name(remote):
        return ModelUri(URI_INVALID, remote, "remote name '{0}' cannot be configured through environment "
                                             "variables (letters, digits and _ only)".format(remote))
    return ModelUri(URI_REMOTE, remote, "")


def sanitize(uri):
    """modelUri without user info, query or fragment (presigned URLs carry credentials there).

    >>> sanitize("https://user:pw@host/model.joblib?X-Amz-Signature=abc")
    'https://host/model.joblib'
    """
    text = uri.strip() if isinstance(uri, str) else ""
    match = _URL_RE.match(text)
    if match:
        prefix, authority, rest = match.groups()
        text = prefix + authority.rsplit("@", 1)[-1] + rest
    return re.split(r"[?#]", text, 1)[0]
