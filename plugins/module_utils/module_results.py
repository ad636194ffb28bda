# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the writing modules end (one tail for all): per-object entries summed up by action,
``changed``, the diff when asked, and the failure message."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import status as st


def summary(entries):
    """Number of entries per action."""
    counts = {}
    for entry in entries:
        counts[entry["action"]] = counts.get(entry["action"], 0) + 1
    return counts


def failure_message(entries):
    """The reasons of the failed entries, in one line."""
    return "; ".join(entry["reason"] for entry in entries if entry["action"] == st.ACTION_FAILED)


def finish(module, access, key, entries, change_actions, diffs=()):
    """exit_json (or fail_json when an entry failed) with ``changed``, ``<key>`` (the entries),
    ``summary``, ``api_requests`` and, with --diff, ``diff`` built from ``diffs``: a list of
    ``(label, (before, after))``."""
    result = {"changed": any(entry["action"] in change_actions for entry in entries), key: entries,
              "summary": summary(entries), "api_requests": dict(access.requests)}
    if module._diff:
        result["diff"] = {"before": dict((label, pair[0]) for label, pair in diffs),
                          "after": dict((label, pair[1]) for label, pair in diffs)}
    if any(entry["action"] == st.ACTION_FAILED for entry in entries):
        module.fail_json(msg=failure_message(entries), **result)
    module.exit_json(**result)
