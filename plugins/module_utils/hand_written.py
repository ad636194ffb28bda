# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hand-written init containers, migrated on request (pure).

The operator keeps an init container named ``<container>-model-initializer`` that componentSpecs
already holds exactly as written (model_initializer_injector.go, every tag): the global switch
never reaches it. On request, seldon_deployment_secret_ref patches it the way the operator would
render it - the rclone image, ``envFrom`` the secret the node reads - and records what it changed
in the annotation ``rclone-migration.seldon-ops.io/hand-written-initializers`` (JSON
``{ref: {"image": before, "to": after, "secret": secret added or "", "env_from_added": bool}}``),
so that state=absent puts back exactly that, and only while the values are still the ones it wrote.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import json_patch
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_objects
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_graph as sg
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import status as st

ANNOTATION = "rclone-migration.seldon-ops.io/hand-written-initializers"


def recorded(sdep):
    """The record in our annotation ({} when absent or unreadable)."""
    raw = kube_objects.annotations_of(sdep).get(ANNOTATION)
    try:
        parsed = json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        return {}
    return dict((ref, value) for ref, value in parsed.items() if isinstance(value, dict)) if isinstance(parsed, dict) else {}


def _secrets_read(container):
    return [kube_objects.as_dict(source.get("secretRef")).get("name")
            for source in kube_objects.as_list(container.get("envFrom")) if isinstance(source, dict)]


def change(sdep, node, secret, image):
    """``(action, reason, patch ops, record entry)`` for one node's hand-written init container."""
    path = sg.initializer_pointer(sdep, node)
    container = kube_objects.as_dict(json_patch.value_at(sdep, path) if path else None)
    if not container:
        return st.ACTION_BLOCKED, "the hand-written init container cannot be found", [], None
    add_secret = secret if secret and secret not in _secrets_read(container) else ""
    if container.get("image") == image and not add_secret:
        return st.ACTION_UNCHANGED, "hand-written init container {0} runs {1}".format(container.get("name"), image), [], None
    ops = [{"op": "replace" if "image" in container else "add", "path": path + "/image", "value": image}]
    if add_secret:
        source = {"secretRef": {"name": add_secret}}
        ops.append({"op": "add", "path": path + "/envFrom/-", "value": source} if isinstance(container.get("envFrom"), list)
                   else {"op": "add", "path": path + "/envFrom", "value": [source]})
    reason = "hand-written init container {0}: image {1}{2}".format(
        container.get("name"), image, ", envFrom {0}".format(add_secret) if add_secret else "")
    return st.ACTION_SET, reason, ops, {"image": container.get("image") or "", "to": image, "secret": add_secret,
                                        "env_from_added": bool(add_secret) and not isinstance(container.get("envFrom"), list)}


def removal(sdep, ref, entry):
    """``(action, reason, patch ops)`` putting back one recorded hand-written init container."""
    nodes = [node for node in sg.model_loading_nodes(sdep)[0] if node["ref"] == ref]
    path = sg.initializer_pointer(sdep, nodes[0]) if nodes else None
    container = kube_objects.as_dict(json_patch.value_at(sdep, path) if path else None)
    if not container:
        return st.ACTION_SKIPPED, "hand-written init container no longer exists", []
    ops = []
    if container.get("image") == entry.get("to"):
        ops.append({"op": "replace", "path": path + "/image", "value": entry.get("image")} if entry.get("image")
                   else {"op": "remove", "path": path + "/image"})
    secrets = _secrets_read(container)
    if entry.get("secret") and secrets == [entry["secret"]] and entry.get("env_from_added"):
        ops.append({"op": "remove", "path": path + "/envFrom"})
    elif entry.get("secret") in secrets:
        index = len(secrets) - 1 - secrets[::-1].index(entry["secret"])
        ops.append({"op": "remove", "path": "{0}/envFrom/{1}".format(path, index)})
    if not ops:
        return st.ACTION_SKIPPED, "hand-written init container changed since this collection set it: left as is", []
    return st.ACTION_REMOVED, "hand-written init container {0} back to {1}".format(
        container.get("name"), entry.get("image") or "no image"), ops
