# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The record of added keys (secret_plan.py): names and digests, never values; a rollback removes a
key only while it holds the value the migration wrote."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

import jsonpatch

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kfserving_secret as ks
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import secret_plan as sp
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import status

S3 = "RCLONE_CONFIG_S3_"
ENV = {"AWS_ACCESS_KEY_ID": "AKIARECORDTEST01", "AWS_SECRET_ACCESS_KEY": "record-test-secret-value-02",
       "AWS_ENDPOINT_URL": "http://minio:9000"}


def secret(data, annotations=None, uid="uid-1"):
    metadata = {"name": "s", "namespace": "ns", "uid": uid, "resourceVersion": "5"}
    if annotations is not None:
        metadata["annotations"] = annotations
    return {"metadata": metadata, "data": dict((k, base64.b64encode(v.encode()).decode()) for k, v in data.items())}


def converted(obj):
    plan = sp.plan_conversion(obj, ["s3"], "minio", "fail")
    return jsonpatch.apply_patch(obj, plan.patch), plan


def test_record_holds_names_and_digests_never_values():
    after, plan = converted(secret(ENV))
    raw = after["metadata"]["annotations"][sp.ADDED_KEYS_ANNOTATION]
    recorded = json.loads(raw)
    assert sorted(recorded) == plan.change.added_keys == sp.added_keys_recorded(after["metadata"]["annotations"])
    assert all(digest.startswith("sha256:") and len(digest) == 7 + sp.DIGEST_LENGTH for digest in recorded.values())
    for value in ENV.values():
        assert value not in raw and base64.b64encode(value.encode()).decode() not in raw


def test_digests_are_keyed_by_the_secret():
    assert sp.value_digest("uid-1", "K", "v") != sp.value_digest("uid-2", "K", "v")
    assert sp.value_digest("uid-1", "K", "v") != sp.value_digest("uid-1", "J", "v")


def test_a_second_conversion_keeps_the_first_record():
    after, _plan = converted(secret(ENV))
    first = json.loads(after["metadata"]["annotations"][sp.ADDED_KEYS_ANNOTATION])
    data = ks.decode_data(after["data"])
    change = sp.secret_change(data, after["metadata"]["annotations"], ["minio"], "minio", "fail", salt="uid-1")
    second = json.loads(change.annotation)
    assert all(second[key] == digest for key, digest in first.items())
    assert set(second) - set(first) == set(change.added_keys)


def test_rollback_removes_exactly_what_was_written():
    original = secret(ENV, {"team": "a"})
    after, _plan = converted(original)
    plan = sp.plan_removal(after)
    assert plan.change.action == status.ACTION_REMOVED and plan.change.kept_keys == []
    restored = jsonpatch.apply_patch(after, plan.patch)
    assert restored == dict(original, metadata=dict(original["metadata"]))


def test_a_rotated_key_survives_the_rollback():
    after, _plan = converted(secret(ENV))
    rotated = dict(after, data=dict(after["data"], **{S3 + "SECRET_ACCESS_KEY": base64.b64encode(b"rotated").decode()}))
    plan = sp.plan_removal(rotated)
    restored = jsonpatch.apply_patch(rotated, plan.patch)
    assert restored["data"][S3 + "SECRET_ACCESS_KEY"] == base64.b64encode(b"rotated").decode()
    assert S3 + "ACCESS_KEY_ID" not in restored["data"]
    assert plan.change.kept_keys == [S3 + "SECRET_ACCESS_KEY"] and "changed since" in plan.change.reason
    assert sp.ADDED_KEYS_ANNOTATION not in restored["metadata"]["annotations"]


def test_a_secret_recreated_under_a_new_uid_keeps_its_keys():
    after, _plan = converted(secret(ENV))
    recreated = dict(after, metadata=dict(after["metadata"], uid="uid-2"))
    plan = sp.plan_removal(recreated)
    assert plan.change.added_keys == [] and len(plan.change.kept_keys) == 6


def test_a_record_of_names_only_removes_nothing_and_a_tampered_one_no_original():
    decoded = dict(ENV, **{S3 + "TYPE": "s3"})
    annotations = {sp.ADDED_KEYS_ANNOTATION: "RCLONE_CONFIG_S3_TYPE,RCLONE_CONFIG_S3_GONE,AWS_ACCESS_KEY_ID"}
    assert sp.added_keys_recorded(annotations) == ["AWS_ACCESS_KEY_ID", "RCLONE_CONFIG_S3_GONE", "RCLONE_CONFIG_S3_TYPE"]
    assert sp.keys_to_remove(decoded, annotations, "uid-1") == ([], {S3 + "TYPE": "recorded without a digest by an older version"})
    digest = sp.value_digest("uid-1", "AWS_ACCESS_KEY_ID", ENV["AWS_ACCESS_KEY_ID"])
    tampered = {sp.ADDED_KEYS_ANNOTATION: json.dumps({"AWS_ACCESS_KEY_ID": digest})}
    assert sp.keys_to_remove(decoded, tampered, "uid-1") == ([], {})


def test_secrets_still_read_by_rclone_nodes_keep_keys_and_record():
    after, _plan = converted(secret(ENV))
    plan = sp.plan_removal(after, kept_for="kept: d/p/n still run the rclone initializer")
    assert plan.patch is None and plan.change.action == status.ACTION_UNCHANGED and len(plan.change.kept_keys) == 6
