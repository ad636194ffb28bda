# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make ``ansible_collections.seldon_ops.rclone_migration`` importable for pytest.

The collection is the repository root; Ansible sees it through
``<dir>/ansible_collections/seldon_ops/rclone_migration`` (``make collection`` symlinks it under
``.cache/collections``; ansible-test copies it). Python resolves the symlink, so this file
finds the ``<dir>`` that holds this very collection and puts it on ``sys.path``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys


def _collections_root():
    collection = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
    candidates = [os.path.join(collection, ".cache", "collections")]
    logical = os.environ.get("PWD", "")
    while logical and logical != os.path.dirname(logical):
        candidates.append(logical)
        logical = os.path.dirname(logical)
    parent = collection
    for _level in range(3):
        parent = os.path.dirname(parent)
    candidates.append(parent)
    for root in candidates:
        link = os.path.join(root, "ansible_collections", "seldon_ops", "rclone_migration")
        if os.path.isdir(link) and os.path.realpath(link) == collection:
            return root
    return None


_ROOT = _collections_root()
if _ROOT and _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
