# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the writing modules end (one tail for all): per-object entries summed up by action,
``changed``, the diff when asked, and a failure message that names what failed and what was done."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import status as st


def summary(entries):
    """Number of entries per action."""
    counts = {}
    for entry in entries:
        counts[entry["action"]] = counts.get(entry["action"], 0) + 1
    return counts


def _label(entry):
    return "{0}/{1}".format(entry.get("namespace"), entry.get("name"))


def failure_message(entries, noun, change_actions):
    """What failed, grouped by reason, and what was done before and after, naming the objects:
    ``2 of 5 secrets failed - PATCH Secret: 503 (ns/a, ns/b). Done: converted 2 (ns/c, ns/d); unchanged 1.``"""
    groups, done = {}, {}
    for entry in entries:
        if entry["action"] == st.ACTION_FAILED:
            reason = entry["reason"].replace(" " + _label(entry), "", 1)
            groups.setdefault(reason, []).append(_label(entry))
        else:
            done.setdefault(entry["action"], []).append(_label(entry))
    failed = sum(len(labels) for labels in groups.values())
    what = "; ".join("{0} ({1})".format(reason, ", ".join(labels)) for reason, labels in sorted(groups.items()))
    did = "; ".join("{0} {1}".format(action, len(labels)) + (" ({0})".format(", ".join(labels))
                                                             if action in change_actions else "")
                    for action, labels in sorted(done.items())) or "nothing"
    return "{0} of {1} {2} failed - {3}. Done: {4}.".format(failed, len(entries), noun, what, did)


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
        module.fail_json(msg=failure_message(entries, key, change_actions), **result)
    module.exit_json(**result)
