# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the rclone initializer reads a modelUri (model_uri.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import model_uri


# --------------------------------------------------------------------------- model URIs

@pytest.mark.parametrize("uri,kind,remote", [
    ("s3://sklearn/iris", model_uri.URI_REMOTE, "s3"),
    ("S3://sklearn/iris", model_uri.URI_REMOTE, "S3"),
    ("gs://seldon-models/sklearn/iris", model_uri.URI_REMOTE, "gs"),
    ("gcs:bucket/model", model_uri.URI_REMOTE, "gcs"),
    ("minio:models/iris", model_uri.URI_REMOTE, "minio"),
    ("my_s3:models", model_uri.URI_REMOTE, "my_s3"),
    ("my-minio:models", model_uri.URI_INVALID, "my-minio"),
    ("pvc://models-claim/iris", model_uri.URI_PVC, None),
    ("/mnt/models/iris", model_uri.URI_LOCAL, None),
    ("file:///mnt/models", model_uri.URI_FILE_URL, None),
    ("models/iris", model_uri.URI_LOCAL, None),
    (":s3,provider=Minio:bucket/path", model_uri.URI_INLINE, None),
    ("https://example.com/model.joblib", model_uri.URI_HTTP, None),
    ("http://example.com/model.joblib", model_uri.URI_HTTP, None),
    ("https://acct.blob.core.windows.net/container/model", model_uri.URI_AZURE_BLOB, None),
    ("", model_uri.URI_EMPTY, None),
    ("  ", model_uri.URI_EMPTY, None),
])
def test_parse_model_uri(uri, kind, remote):
    parsed = model_uri.parse(uri)
    assert parsed.kind == kind
    assert parsed.remote == remote
    if kind not in (model_uri.URI_REMOTE,):
        assert parsed.reason


def test_sanitize_model_uri_drops_user_info_and_query():
    assert model_uri.sanitize("https://u:p@h.example/m.joblib?X-Amz-Signature=s#f") == "https://h.example/m.joblib"
    assert model_uri.sanitize("s3://bucket/path") == "s3://bucket/path"
    assert model_uri.sanitize("minio:bucket/p?x") == "minio:bucket/p"


@pytest.mark.parametrize("name,valid", [("s3", True), ("GS", True), ("my_s3_2", True), ("my-s3", False),
                                        ("my.s3", False), ("", False), ("s3 ", False)])
def test_remote_name_rules(name, valid):
    assert model_uri.is_valid_remote_name(name) is valid


@pytest.mark.parametrize("uri,kind,needle", [
    (" s3://b/m", model_uri.URI_INVALID, "whitespace"),
    ("s3://b/m\n", model_uri.URI_INVALID, "whitespace"),
    ("C:\\models\\iris", model_uri.URI_INVALID, "Windows path"),
    ("c:/models/iris", model_uri.URI_INVALID, "Windows path"),
    (["s3://b/m"], model_uri.URI_INVALID, "not a string"),
    (42, model_uri.URI_INVALID, "not a string"),
])
def test_uris_the_operator_passes_as_written_that_cannot_work(uri, kind, needle):
    parsed = model_uri.parse(uri)
    assert parsed.kind == kind and needle in parsed.reason


def test_rclone_overrides_name_the_remote_before_the_comma():
    assert model_uri.parse("s3,provider=Minio:bucket/m") == (model_uri.URI_REMOTE, "s3", "")
    assert model_uri.scheme("s3,secret_access_key=abc:bucket") == "s3"


CREDENTIAL = "wJalrXUtnFEMI-K7MDENG"


@pytest.mark.parametrize("uri,shown", [
    (":s3,access_key_id=AKIA1,secret_access_key=" + CREDENTIAL + ":bucket/m",
     ":s3,access_key_id=<redacted>,secret_access_key=<redacted>:bucket/m"),
    ("s3,secret_access_key=" + CREDENTIAL + ":bucket/m", "s3,secret_access_key=<redacted>:bucket/m"),
    (":s3,secret_access_key='" + CREDENTIAL + ":x,y':bucket/m", ":s3,secret_access_key=<redacted>:bucket/m"),
    ("sftp://user:" + CREDENTIAL + "@host/m", "sftp://host/m"),
    ("ftp:user:" + CREDENTIAL + "@host/m", "<redacted>@host/m"),
    ("s3://bucket/m?X-Amz-Credential=" + CREDENTIAL, "s3://bucket/m"),
    ("minio:bucket/iris", "minio:bucket/iris"),
])
def test_sanitize_redacts_every_credential_form(uri, shown):
    assert model_uri.sanitize(uri) == shown
    assert CREDENTIAL not in model_uri.sanitize(uri) and CREDENTIAL not in model_uri.parse(uri).reason
