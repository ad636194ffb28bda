# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The operator release and its rules (operator_rules.py; docs/operator-versions.md): each rule on
both sides of the release that changed it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import operator_rules as orules
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_settings


def controller(image=None, label=None):
    container = {"name": "manager"}
    if image is not None:
        container["image"] = image
    metadata = {"name": "seldon-controller-manager"}
    if label is not None:
        metadata["labels"] = {orules.VERSION_LABEL: label}
    return {"metadata": metadata, "spec": {"template": {"spec": {"containers": [{"name": "rbac-proxy", "image": "p:9.9.9"},
                                                                                container]}}}}


@pytest.mark.parametrize("obj,version,source", [
    (controller("docker.io/seldonio/seldon-core-operator:1.17.1"), (1, 17, 1), orules.SOURCE_IMAGE_TAG),
    (controller("registry.example:5000/seldonio/seldon-core-operator:v1.13.1-ubi"), (1, 13, 1), orules.SOURCE_IMAGE_TAG),
    (controller("seldonio/seldon-core-operator@sha256:abc", label="1.14.0"), (1, 14, 0), orules.SOURCE_LABEL),
    (controller("seldonio/seldon-core-operator:latest", label="not-a-version"), None, ""),
    ({}, None, ""),
])
def test_version_from_the_controller(obj, version, source):
    assert orules.controller_version(obj) == (version, source)


@pytest.mark.parametrize("field,before,since", [
    ("explainer_default_env_secret", (1, 13, 1), (1, 14, 0)),
    ("no_storage_initializer_annotation", (1, 14, 1), (1, 15, 0)),
    ("restart_through_seldon_deployment", (1, 15, 1), (1, 16, 0)),
    ("custom_node_model_uri", (1, 17, 0), (1, 17, 1)),
])
def test_each_rule_starts_at_its_release(field, before, since):
    assert getattr(orules.rules_for(before), field) is False
    assert getattr(orules.rules_for(since), field) is True


def test_fallback_image_changed_at_1_17_0():
    assert orules.rules_for((1, 16, 0)).fallback_image == orules.KFSERVING_FALLBACK
    assert orules.rules_for((1, 17, 0)).fallback_image == orules.RCLONE_FALLBACK
    configmap = {"data": {"storageInitializer": '{"cpuRequest": "100m"}'}}
    old = seldon_settings.initializer_image(controller("seldonio/seldon-core-operator:1.13.1"), configmap)
    assert (old.image, old.source) == (orules.KFSERVING_FALLBACK, seldon_settings.SOURCE_OPERATOR_DEFAULT)
    new = seldon_settings.initializer_image(controller("seldonio/seldon-core-operator:1.17.1"), configmap)
    assert new.image == orules.RCLONE_FALLBACK


def test_an_unreadable_release_assumes_the_newest_read_and_says_so():
    rules = orules.rules_of_controller(controller("seldonio/seldon-core-operator:latest"))
    assert rules.version == orules.NEWEST_READ and rules.source == orules.SOURCE_ASSUMED
    assert "could not be read" in orules.version_warning(rules)
    assert "older than" in orules.version_warning(orules.rules_for((1, 8, 0), orules.SOURCE_IMAGE_TAG))
    assert "newer than" in orules.version_warning(orules.rules_for((1, 18, 0), orules.SOURCE_IMAGE_TAG))
    assert orules.version_warning(orules.rules_for((1, 13, 1), orules.SOURCE_IMAGE_TAG)) == ""
    settings = seldon_settings.seldon_settings(controller("seldonio/seldon-core-operator:latest"), None)
    assert any("could not be read" in warning for warning in settings.warnings)
    assert settings.public()["operator"]["version"] == "1.17.1"


@pytest.mark.parametrize("image,rclone", [
    ("docker.io/seldonio/rclone-storage-initializer:1.13.1", (1, 56, 2)),
    ("seldonio/rclone-storage-initializer:1.14.0", (1, 57, 0)),
    ("seldonio/rclone-storage-initializer:1.17.1", (1, 59, 1)),
    ("seldonio/rclone-storage-initializer:1.9.1", (1, 55, 1)),
    ("seldonio/rclone-storage-initializer:latest", None),
])
def test_rclone_shipped_in_the_image_by_its_tag(image, rclone):
    assert orules.rclone_in_image(image) == rclone
