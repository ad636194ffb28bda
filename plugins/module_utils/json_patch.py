# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Building the patches this collection sends (pure): JSON pointers, the resourceVersion guard,
single-key edits of maps such as annotations and Secret data.

Every write of the collection starts with the guard: the API server refuses an update whose
resourceVersion differs from the stored one, so a patch that carries the version it was planned
from fails with 409 on any concurrent edit instead of overwriting it (kube_access.write_planned
then re-reads and plans again). Maps are edited key by key, never replaced whole, so keys that
others add meanwhile stay.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_objects


def escape(token):
    """One JSON pointer token (RFC 6901): ``~`` -> ``~0``, ``/`` -> ``~1``.

    >>> escape("example.io/added-keys")
    'example.io~1added-keys'
    """
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape(token):
    """The inverse of ``escape``.

    >>> unescape("example.io~1added-keys")
    'example.io/added-keys'
    """
    return token.replace("~1", "/").replace("~0", "~")


def pointer(*tokens):
    """A JSON pointer from path tokens.

    >>> pointer("spec", "predictors", 0, "graph", "children", 1)
    '/spec/predictors/0/graph/children/1'
    """
    return "".join("/" + escape(token) for token in tokens)


def value_at(obj, path):
    """The value at a JSON pointer (None when any step is absent or of the wrong type).

    >>> value_at({"a": [{"b": 1}]}, "/a/0/b")
    1
    """
    current = obj
    for token in path.split("/")[1:]:
        token = unescape(token)
        if isinstance(current, list):
            try:
                current = current[int(token)]
            except (ValueError, IndexError):
                return None
        elif isinstance(current, dict):
            current = current.get(token)
        else:
            return None
    return current


def guard(obj):
    """JSON patch op pinning the resourceVersion ``obj`` was read at (409 on a concurrent edit).

    >>> guard({"metadata": {"resourceVersion": "7"}})
    {'op': 'replace', 'path': '/metadata/resourceVersion', 'value': '7'}
    """
    return {"op": "replace", "path": "/metadata/resourceVersion", "value": kube_objects.resource_version(obj)}


def merge_guard(obj):
    """The same guard as the metadata part of a merge patch."""
    return {"resourceVersion": kube_objects.resource_version(obj)}


def set_keys(container, path, values):
    """Ops adding or replacing ``values`` (key -> value) in the map at ``path`` of ``container``.

    ``container`` is the map as read (None when absent): an absent map is created with the first
    op, an existing one is edited key by key.

    >>> set_keys(None, "/metadata/annotations", {"a/b": "1"})
    [{'op': 'add', 'path': '/metadata/annotations', 'value': {'a/b': '1'}}]
    >>> set_keys({}, "/data", {"K": "dg=="})
    [{'op': 'add', 'path': '/data/K', 'value': 'dg=='}]
    """
    if not values:
        return []
    if not isinstance(container, dict):
        return [{"op": "add", "path": path, "value": dict(values)}]
    return [{"op": "add", "path": path + "/" + escape(key), "value": values[key]} for key in sorted(values)]


def remove_keys(path, keys):
    """Ops removing ``keys`` from the map at ``path``.

    >>> remove_keys("/metadata/annotations", ["a/b"])
    [{'op': 'remove', 'path': '/metadata/annotations/a~1b'}]
    """
    return [{"op": "remove", "path": path + "/" + escape(key)} for key in sorted(keys)]


def set_annotation(obj, key, value):
    """Ops setting one annotation of ``obj`` (the others stay)."""
    return set_keys(kube_objects.metadata_of(obj).get("annotations"), "/metadata/annotations", {key: value})


def remove_annotation(key):
    """Ops removing one annotation."""
    return remove_keys("/metadata/annotations", [key])
