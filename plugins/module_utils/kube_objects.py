# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading fields of Kubernetes objects given as plain dicts (pure, tolerant of missing parts)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def as_dict(value):
    """``value`` when it is a dict, else an empty dict (objects from the API may be malformed)."""
    return value if isinstance(value, dict) else {}


def as_list(value):
    """``value`` when it is a list, else an empty list."""
    return value if isinstance(value, list) else []


def metadata_of(obj):
    return as_dict(as_dict(obj).get("metadata"))


def labels_of(obj):
    return as_dict(metadata_of(obj).get("labels"))


def annotations_of(obj):
    return as_dict(metadata_of(obj).get("annotations"))


def object_name(obj):
    return metadata_of(obj).get("name")


def object_namespace(obj):
    return metadata_of(obj).get("namespace")


def object_key(obj):
    """``(namespace, name)``, the key every index of listed objects uses."""
    return object_namespace(obj), object_name(obj)


def sort_key(obj):
    """Sort listed objects by namespace, then name (None sorts as empty)."""
    return tuple(part or "" for part in object_key(obj))


def resource_version(obj):
    return metadata_of(obj).get("resourceVersion")


def pod_spec_of(workload):
    """``spec.template.spec`` of a Deployment-like object ({} when absent)."""
    return as_dict(as_dict(as_dict(as_dict(workload).get("spec")).get("template")).get("spec"))
