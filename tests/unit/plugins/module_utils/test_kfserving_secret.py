# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading kfserving-era secrets (kfserving_secret.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

import pytest

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kfserving_secret as ks


S3 = "RCLONE_CONFIG_S3_"


def env_secret(**extra):
    data = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLEKEY01", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG"}
    data.update(extra)
    return data


def sa_secret(**extra):
    data = {"awsAccessKeyID": "AKIAEXAMPLEKEY02", "awsSecretAccessKey": "bPxRfiCYEXAMPLEKEY"}
    data.update(extra)
    return data


# --------------------------------------------------------------------------- formats

@pytest.mark.parametrize("data,expected", [
    (env_secret(), ks.FORMAT_ENV),
    ({"AWS_SECRET_ACCESS_KEY": "x"}, ks.FORMAT_ENV),
    (sa_secret(), ks.FORMAT_SERVICE_ACCOUNT),
    ({"gcloud-application-credentials.json": "{}"}, ks.FORMAT_GCS),
    ({"AZ_CLIENT_ID": "a", "AZ_CLIENT_SECRET": "b", "AZ_SUBSCRIPTION_ID": "c", "AZ_TENANT_ID": "d"}, ks.FORMAT_AZURE),
    ({S3 + "TYPE": "s3"}, ks.FORMAT_RCLONE),
    ({"token": "x"}, ks.FORMAT_UNKNOWN),
    ({}, ks.FORMAT_UNKNOWN),
])
def test_detect_secret_format(data, expected):
    assert ks.detect_format(data) == expected


def test_detect_format_uses_configured_key_names():
    config = {"s3_access_key_id_name": "id", "s3_secret_access_key_name": "key"}
    assert ks.detect_format({"id": "a", "key": "b"}, config) == ks.FORMAT_SERVICE_ACCOUNT
    assert ks.detect_format(sa_secret(), config) == ks.FORMAT_UNKNOWN


def test_credentials_config_from_seldon_config_json():
    raw = json.dumps({"s3": {"s3AccessKeyIDName": "id", "s3SecretAccessKeyName": "key", "s3Endpoint": "m:9000",
                             "s3UseHttps": "0"}, "gcs": {"gcsCredentialFileName": "gcp.json"}})
    config = ks.credentials_config(ks.credentials_config_from_seldon_config(raw))
    assert config == {"s3_access_key_id_name": "id", "s3_secret_access_key_name": "key", "s3_endpoint": "m:9000",
                      "s3_use_https": "0", "gcs_credential_file_name": "gcp.json"}
    assert ks.credentials_config(ks.credentials_config_from_seldon_config("not json")) == ks.DEFAULT_CREDENTIALS_CONFIG


def test_decode_secret_data_marks_undecodable_values():
    data = {"ok": base64.b64encode(b"text").decode(), "binary": base64.b64encode(b"\xff\xfe").decode(), "bad": "@@@"}
    assert ks.decode_data(data) == {"ok": "text", "binary": None, "bad": None}
