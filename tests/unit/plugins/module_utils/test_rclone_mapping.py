# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kfserving -> rclone rules, one input shape of docs/modules.md at a time, plus properties."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kfserving_secret as ks
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import rclone_mapping as rm

S3 = "RCLONE_CONFIG_S3_"


def env_secret(**extra):
    data = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLEKEY01", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG"}
    data.update(extra)
    return data


def sa_secret(**extra):
    data = {"awsAccessKeyID": "AKIAEXAMPLEKEY02", "awsSecretAccessKey": "bPxRfiCYEXAMPLEKEY"}
    data.update(extra)
    return data


SEED_SA_ANNOTATIONS = {
    "machinelearning.seldon.io/s3-endpoint": "minio.minio-system.svc.cluster.local:9000",
    "machinelearning.seldon.io/s3-usehttps": "0",
}


def test_remote_env_prefix_upper_cases():
    assert rm.remote_env_prefix("minio") == "RCLONE_CONFIG_MINIO_"


# --------------------------------------------------------------------------- providers and endpoints

@pytest.mark.parametrize("given_name,expected", [
    ("minio", "Minio"), ("MINIO", "Minio"), ("aws", "AWS"), ("Ceph", "Ceph"), ("other", "Other"),
    ("wasabi", "Wasabi"), ("digitalocean", "DigitalOcean"), ("ibmcos", "IBMCOS"), (" Minio ", "Minio"),
    ("min.io", None), ("", None), (None, None),
])
def test_canonical_s3_provider(given_name, expected):
    assert rm.canonical_s3_provider(given_name) == expected


def test_every_provider_choice_maps_back_to_rclone_spelling():
    for choice in rm.PROVIDER_CHOICES[1:]:
        assert rm.canonical_s3_provider(choice) in rm.S3_PROVIDERS


@pytest.mark.parametrize("requested,endpoint,existing,expected", [
    ("auto", "", None, "AWS"),
    ("auto", "https://s3.amazonaws.com", None, "AWS"),
    ("auto", "https://s3.eu-west-1.amazonaws.com", None, "AWS"),
    ("auto", "http://minio:9000", None, "Other"),
    ("auto", "http://minio:9000", "Minio", "Minio"),
    ("auto", "http://minio:9000", "minio", "Minio"),
    ("AUTO", "", None, "AWS"),
    ("minio", "", None, "Minio"),
    ("ceph", "http://rgw:7480", "Minio", "Ceph"),
])
def test_resolve_provider(requested, endpoint, existing, expected):
    assert rm.resolve_provider(requested, endpoint, existing) == (expected, "")


def test_resolve_provider_rejects_unknown_names():
    provider, reason = rm.resolve_provider("mini-o", "")
    assert provider is None and "mini-o" in reason


@pytest.mark.parametrize("raw,use_https,expected", [
    ("minio:9000", False, "http://minio:9000"),
    ("minio:9000", True, "https://minio:9000"),
    ("minio:9000\n", False, "http://minio:9000"),
    (" http://minio:9000 \r\n", True, "http://minio:9000"),
    ("https://s3.example.com", False, "https://s3.example.com"),
    ("", True, ""),
    ("  \n", True, ""),
])
def test_normalise_endpoint(raw, use_https, expected):
    assert ks.normalise_endpoint(raw, use_https) == expected


@pytest.mark.parametrize("value,http", [("0", True), (" 0\n", False), ("1", False), ("false", False),
                                        ("off", False), ("", False), (None, False)])
def test_annotation_usehttps_follows_operator(value, http):
    """The operator compares the exact string "0" (credentials/s3/s3_secret.go, every tag)."""
    assert ks.annotation_means_http(value) is http


# --------------------------------------------------------------------------- conversions, shape by shape

def test_seed_env_secret_minio():
    data = env_secret(AWS_ENDPOINT_URL="http://minio.minio-system.svc.cluster.local:9000")
    result = rm.convert_for_remote(data, {}, "s3", provider="minio")
    assert result.status == rm.CONVERSION_CONVERTIBLE
    assert result.to_add == {
        S3 + "TYPE": "s3", S3 + "PROVIDER": "Minio", S3 + "ENV_AUTH": "false",
        S3 + "ACCESS_KEY_ID": data["AWS_ACCESS_KEY_ID"], S3 + "SECRET_ACCESS_KEY": data["AWS_SECRET_ACCESS_KEY"],
        S3 + "ENDPOINT": "http://minio.minio-system.svc.cluster.local:9000",
    }


def test_env_secret_without_endpoint_is_aws_without_endpoint_or_region():
    result = rm.convert_for_remote(env_secret(), {}, "s3")
    assert result.to_add[S3 + "PROVIDER"] == "AWS"
    assert S3 + "ENDPOINT" not in result.to_add
    assert S3 + "REGION" not in result.to_add


def test_env_secret_region_and_trailing_newline_endpoint():
    data = env_secret(AWS_ENDPOINT_URL="minio:9000\n", AWS_REGION="eu-west-1")
    result = rm.convert_for_remote(data, {}, "s3")
    assert result.to_add[S3 + "ENDPOINT"] == "https://minio:9000"
    assert result.to_add[S3 + "REGION"] == "eu-west-1"
    assert result.to_add[S3 + "PROVIDER"] == "Other"
    assert any("normalised" in note for note in result.notes)


def test_env_secret_default_region_and_minio_style_endpoint():
    data = env_secret(S3_ENDPOINT="minio:9000", S3_USE_HTTPS="0", AWS_DEFAULT_REGION="us-east-2")
    result = rm.convert_for_remote(data, {}, "s3")
    assert result.to_add[S3 + "ENDPOINT"] == "http://minio:9000"
    assert result.to_add[S3 + "REGION"] == "us-east-2"
    data = env_secret(S3_ENDPOINT="minio:9000", USE_SSL="false")
    assert rm.convert_for_remote(data, {}, "s3").to_add[S3 + "ENDPOINT"] == "http://minio:9000"
    data = env_secret(S3_ENDPOINT="minio:9000")
    assert rm.convert_for_remote(data, {}, "s3").to_add[S3 + "ENDPOINT"] == "https://minio:9000"


def test_env_secret_aws_endpoint_url_wins_over_s3_endpoint():
    data = env_secret(AWS_ENDPOINT_URL="http://a:1", S3_ENDPOINT="b:2")
    assert rm.convert_for_remote(data, {}, "s3").to_add[S3 + "ENDPOINT"] == "http://a:1"


@pytest.mark.parametrize("value", ["0", "false", "no", "off", "1"])
def test_env_secret_verify_ssl_never_turns_certificate_checks_off(value):
    """kfserving's initializer (storage.py v0.4.0 to release-0.6) never read S3_VERIFY_SSL: it always
    checked certificates, so the rclone keys keep checking them and a note says why."""
    result = rm.convert_for_remote(env_secret(AWS_ENDPOINT_URL="https://m", S3_VERIFY_SSL=value), {}, "s3")
    assert not [key for key in result.to_add if "CHECK_CERTIFICATE" in key]
    assert ks.VERIFY_SSL_NOTE in result.notes


def test_seed_service_account_secret():
    result = rm.convert_for_remote(sa_secret(), SEED_SA_ANNOTATIONS, "s3", provider="minio")
    assert result.status == rm.CONVERSION_CONVERTIBLE
    assert result.to_add[S3 + "ENDPOINT"] == "http://minio.minio-system.svc.cluster.local:9000"
    assert result.to_add[S3 + "ACCESS_KEY_ID"] == sa_secret()["awsAccessKeyID"]
    assert result.to_add[S3 + "PROVIDER"] == "Minio"


@pytest.mark.parametrize("usehttps,scheme", [(None, "https"), ("1", "https"), ("0", "http"), ("false", "https"),
                                             ("yes", "https")])
def test_service_account_usehttps_rule(usehttps, scheme):
    annotations = {"machinelearning.seldon.io/s3-endpoint": "minio:9000"}
    if usehttps is not None:
        annotations["machinelearning.seldon.io/s3-usehttps"] = usehttps
    result = rm.convert_for_remote(sa_secret(), annotations, "s3")
    assert result.to_add[S3 + "ENDPOINT"] == scheme + "://minio:9000"


def test_service_account_kubeflow_annotations_are_the_fallback():
    annotations = {"serving.kubeflow.org/s3-endpoint": "kf:9000", "serving.kubeflow.org/s3-usehttps": "0",
                   "serving.kubeflow.org/s3-region": "us-west-2", "serving.kubeflow.org/s3-verifyssl": "0"}
    result = rm.convert_for_remote(sa_secret(), annotations, "s3")
    assert result.to_add[S3 + "ENDPOINT"] == "http://kf:9000"
    assert result.to_add[S3 + "REGION"] == "us-west-2"
    assert not [key for key in result.to_add if "CHECK_CERTIFICATE" in key] and ks.VERIFY_SSL_NOTE in result.notes
    annotations["machinelearning.seldon.io/s3-endpoint"] = "seldon:9000"
    assert rm.convert_for_remote(sa_secret(), annotations, "s3").to_add[S3 + "ENDPOINT"] == "http://seldon:9000"


def test_service_account_without_annotations_uses_cluster_default_endpoint_else_aws():
    result = rm.convert_for_remote(sa_secret(), None, "s3")
    assert result.to_add[S3 + "PROVIDER"] == "AWS" and S3 + "ENDPOINT" not in result.to_add
    config = {"s3_endpoint": "minio.default:9000", "s3_use_https": "0"}
    result = rm.convert_for_remote(sa_secret(), {}, "s3", config=config)
    assert result.to_add[S3 + "ENDPOINT"] == "http://minio.default:9000"


def test_service_account_endpoint_with_trailing_newline():
    annotations = {"machinelearning.seldon.io/s3-endpoint": "minio:9000\n", "machinelearning.seldon.io/s3-usehttps": "0"}
    result = rm.convert_for_remote(sa_secret(), annotations, "s3")
    assert result.to_add[S3 + "ENDPOINT"] == "http://minio:9000"
    assert any("normalised" in note for note in result.notes)


def test_configured_key_names():
    config = {"s3_access_key_id_name": "id", "s3_secret_access_key_name": "key"}
    result = rm.convert_for_remote({"id": "AKIAEXAMPLE", "key": "secretexample"}, {}, "s3", config=config)
    assert result.to_add[S3 + "ACCESS_KEY_ID"] == "AKIAEXAMPLE"


@pytest.mark.parametrize("data,reason", [
    ({"AWS_ACCESS_KEY_ID": "a"}, "key AWS_SECRET_ACCESS_KEY missing"),
    ({"AWS_SECRET_ACCESS_KEY": "a"}, "key AWS_ACCESS_KEY_ID missing"),
    ({"awsSecretAccessKey": "a"}, "key awsAccessKeyID missing"),
    ({"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "b"}, "key AWS_ACCESS_KEY_ID is empty"),
    ({"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": "b"}, "key AWS_ACCESS_KEY_ID is not UTF-8 text"),
])
def test_incomplete_s3_secrets_are_blocked_with_the_key_name(data, reason):
    result = rm.convert_for_remote(data, {}, "s3")
    assert result.status == rm.CONVERSION_BLOCKED
    assert result.reason == reason


def test_trailing_newline_in_a_key_value_is_dropped_and_noted():
    data = env_secret(AWS_SECRET_ACCESS_KEY="value-with-newline\n")
    result = rm.convert_for_remote(data, {}, "s3")
    assert result.to_add[S3 + "SECRET_ACCESS_KEY"] == "value-with-newline"
    assert any("AWS_SECRET_ACCESS_KEY" in note for note in result.notes)


def test_azure_secret_is_blocked():
    data = {"AZ_CLIENT_ID": "a", "AZ_CLIENT_SECRET": "b", "AZ_SUBSCRIPTION_ID": "c", "AZ_TENANT_ID": "d"}
    result = rm.convert_for_remote(data, {}, "s3")
    assert result.status == rm.CONVERSION_BLOCKED
    assert "Azure" in result.reason


def test_gcs_secret_for_gs_remote():
    blob = json.dumps({"type": "service_account", "private_key": "-----BEGIN-----\nabc\n-----END-----\n"})
    result = rm.convert_for_remote({"gcloud-application-credentials.json": blob + "\n"}, {}, "gs")
    assert result.status == rm.CONVERSION_CONVERTIBLE
    assert result.to_add == {"RCLONE_CONFIG_GS_TYPE": "google cloud storage", "RCLONE_CONFIG_GS_ANONYMOUS": "false",
                             "RCLONE_CONFIG_GS_SERVICE_ACCOUNT_CREDENTIALS": blob}


def test_gcs_secret_not_json_is_blocked():
    result = rm.convert_for_remote({"gcloud-application-credentials.json": "not json"}, {}, "gs")
    assert result.status == rm.CONVERSION_BLOCKED and "not valid JSON" in result.reason


def test_s3_secret_gives_nothing_for_gs_and_gcs_secret_nothing_for_s3():
    assert rm.convert_for_remote(env_secret(), {}, "gs").status == rm.CONVERSION_NO_SOURCE
    gcs = {"gcloud-application-credentials.json": "{}"}
    assert rm.convert_for_remote(gcs, {}, "s3").status == rm.CONVERSION_NO_SOURCE


def test_custom_remote_name_takes_the_type_from_the_secret():
    result = rm.convert_for_remote(env_secret(), {}, "minio", provider="minio")
    assert result.to_add["RCLONE_CONFIG_MINIO_TYPE"] == "s3"
    result = rm.convert_for_remote({"gcloud-application-credentials.json": "{}"}, {}, "models")
    assert result.to_add["RCLONE_CONFIG_MODELS_TYPE"] == "google cloud storage"


def test_rclone_only_secret_is_migrated():
    data = {S3 + "TYPE": "s3", S3 + "PROVIDER": "Minio", S3 + "ACCESS_KEY_ID": "a", S3 + "SECRET_ACCESS_KEY": "b"}
    result = rm.convert_for_remote(data, {}, "s3")
    assert result.status == rm.CONVERSION_MIGRATED and not result.notes


def test_rclone_only_secret_with_lowercase_provider_is_migrated_with_a_note():
    data = {S3 + "TYPE": "s3", S3 + "PROVIDER": "minio"}
    result = rm.convert_for_remote(data, {}, "s3")
    assert result.status == rm.CONVERSION_MIGRATED
    assert result.notes and "minio" not in " ".join(result.notes)


def test_rclone_secret_for_another_remote_is_blocked():
    result = rm.convert_for_remote({"RCLONE_CONFIG_MYS3_TYPE": "s3"}, {}, "s3")
    assert result.status == rm.CONVERSION_BLOCKED
    assert "MYS3" in result.reason and "S3" in result.reason


def test_rclone_keys_without_type_are_blocked():
    result = rm.convert_for_remote({S3 + "PROVIDER": "Minio"}, {}, "s3")
    assert result.status == rm.CONVERSION_BLOCKED and "TYPE missing" in result.reason


def test_existing_rclone_keys_equal_are_not_readded_and_differing_ones_conflict():
    data = env_secret(AWS_ENDPOINT_URL="http://m:9000")
    data[S3 + "TYPE"] = "s3"
    data[S3 + "ENDPOINT"] = "http://other:9000"
    result = rm.convert_for_remote(data, {}, "s3", provider="minio")
    assert result.status == rm.CONVERSION_CONFLICT
    assert result.conflicts == [S3 + "ENDPOINT"]
    assert S3 + "TYPE" not in result.to_add


@pytest.mark.parametrize("policy,expected_keys,blocked", [
    ("fail", set(), True),
    ("keep", {"A"}, False),
    ("overwrite", {"A", "B"}, False),
])
def test_resolve_conflicts(policy, expected_keys, blocked):
    keys, is_blocked = rm.resolve_conflicts({"A": "1", "B": "2"}, {"A": "1"}, ["B"], policy)
    assert set(keys) == expected_keys and is_blocked is blocked


def test_invalid_remote_name_is_blocked():
    assert rm.convert_for_remote(env_secret(), {}, "my-s3").status == rm.CONVERSION_BLOCKED


def test_unknown_provider_is_blocked():
    result = rm.convert_for_remote(env_secret(), {}, "s3", provider="nope")
    assert result.status == rm.CONVERSION_BLOCKED and "nope" in result.reason


# --------------------------------------------------------------------------- properties

# Canary values: random printable text behind a "#" that no reason or note contains.
_values = st.builds(lambda tail: "#" + tail,
                    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=11, max_size=39))
_endpoints = st.one_of(
    st.just(""),
    st.builds(lambda host, port, scheme, tail: scheme + host + ":" + str(port) + tail,
              st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z0-9-]{1,10}){0,3}", fullmatch=True),
              st.integers(1, 65535), st.sampled_from(["", "http://", "https://"]), st.sampled_from(["", "\n", " \n", "\r\n"])),
)


@st.composite
def kfserving_secrets(draw):
    """Env-style or service-account secrets with random credentials and optional extras."""
    style = draw(st.sampled_from(["env", "service_account"]))
    key_id, key_secret = draw(_values), draw(_values)
    endpoint = draw(_endpoints)
    annotations = {}
    if style == "env":
        data = {"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": key_secret}
        if endpoint:
            data[draw(st.sampled_from(["AWS_ENDPOINT_URL", "S3_ENDPOINT"]))] = endpoint
        if draw(st.booleans()):
            data[draw(st.sampled_from(list(ks.ENV_REGION_KEYS)))] = draw(st.sampled_from(["eu-west-1", "us-east-1"]))
        if draw(st.booleans()):
            data["S3_VERIFY_SSL"] = draw(st.sampled_from(["0", "1", "false"]))
    else:
        data = {"awsAccessKeyID": key_id, "awsSecretAccessKey": key_secret}
        prefix = draw(st.sampled_from([ks.SELDON_ANNOTATION_PREFIX, ks.KFSERVING_ANNOTATION_PREFIX]))
        if endpoint:
            annotations[prefix + "s3-endpoint"] = endpoint
        if draw(st.booleans()):
            annotations[prefix + "s3-usehttps"] = draw(st.sampled_from(["0", "1"]))
    extra = draw(st.dictionaries(st.from_regex(r"[a-z][a-zA-Z0-9_.-]{0,15}", fullmatch=True), _values, max_size=3))
    for key, value in extra.items():
        data.setdefault(key, value)
    return data, annotations


@settings(max_examples=200, deadline=None)
@given(secret=kfserving_secrets(), provider=st.sampled_from(["auto", "minio", "AWS", "ceph", "Other"]),
       remote=st.sampled_from(["s3", "minio", "S3_2"]))
def test_conversion_is_idempotent_and_keeps_original_keys(secret, provider, remote):
    data, annotations = secret
    first = rm.convert_for_remote(data, annotations, remote, provider=provider)
    assert first.status == rm.CONVERSION_CONVERTIBLE
    converted = rm.apply_keys(data, first.to_add)
    for key, value in data.items():
        assert converted[key] == value
    assert all(key.startswith(rm.RCLONE_KEY_PREFIX) for key in first.to_add)
    second = rm.convert_for_remote(converted, annotations, remote, provider=provider)
    assert second.status == rm.CONVERSION_MIGRATED
    assert second.to_add == {} and second.conflicts == []
    assert rm.apply_keys(converted, second.to_add) == converted


@settings(max_examples=200, deadline=None)
@given(secret=kfserving_secrets())
def test_endpoint_written_is_always_a_url_without_whitespace(secret):
    data, annotations = secret
    to_add = rm.convert_for_remote(data, annotations, "s3").to_add
    endpoint = to_add.get(S3 + "ENDPOINT")
    if endpoint is not None:
        assert endpoint.split("://", 1)[0] in ("http", "https")
        assert endpoint == "".join(endpoint.split())
    assert (S3 + "REGION" in to_add) == any(key in data for key in ks.ENV_REGION_KEYS)


@settings(max_examples=200, deadline=None)
@given(secret=kfserving_secrets())
def test_reasons_and_notes_never_carry_values(secret):
    data, annotations = secret
    result = rm.convert_for_remote(data, annotations, "s3")
    visible = json.dumps({"status": result.status, "reason": result.reason, "notes": result.notes,
                          "conflicts": result.conflicts, "keys": sorted(result.to_add)})
    for value in data.values():
        if value.startswith("#"):
            assert value not in visible
            assert ks.encode_value(value) not in visible


HAND_CONVERTED = dict(env_secret(AWS_ENDPOINT_URL="http://minio:9000"), **{
    S3 + "TYPE": "s3", S3 + "PROVIDER": "minio", S3 + "ENV_AUTH": "false", S3 + "ENDPOINT": "http://minio:9000",
    S3 + "ACCESS_KEY_ID": "AKIAEXAMPLEKEY01", S3 + "SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG"})


@pytest.mark.parametrize("provider", ["auto", "minio", "Minio"])
def test_a_secret_converted_by_hand_as_seldons_docs_show_is_migrated_with_a_note(provider):
    result = rm.convert_for_remote(HAND_CONVERTED, {}, "s3", provider=provider)
    assert (result.status, result.conflicts, result.to_add) == (rm.CONVERSION_MIGRATED, [], {})
    assert any("not spelled as rclone" in note for note in result.notes)
    assert rm.convert_for_remote(HAND_CONVERTED, {}, "s3", provider="aws").conflicts == [S3 + "PROVIDER"]


def test_rewriting_the_provider_spelling_is_asked_for_explicitly():
    from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import secret_plan as sp
    result = rm.convert_for_remote(HAND_CONVERTED, {}, "s3", rewrite_spelling=True)
    assert (result.status, result.respell, result.conflicts) == (rm.CONVERSION_CONVERTIBLE, {S3 + "PROVIDER": "Minio"}, [])
    change = sp.secret_change(HAND_CONVERTED, {}, ["s3"], "auto", "fail", rewrite_spelling=True)
    assert change.action == "converted" and change.keys_to_set == {S3 + "PROVIDER": "Minio"}
    assert change.overwritten_keys == [S3 + "PROVIDER"] and change.added_keys == []
    assert sp.secret_change(HAND_CONVERTED, {}, ["s3"], "auto", "fail").action == "unchanged"
