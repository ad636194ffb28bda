#!/usr/bin/env python
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Count the write requests the collection sent between two audit-log marks.

A mark is a GET of a ConfigMap with a unique name (404 is fine); the apiserver logs it like any
request. Counted: ResponseComplete events with verb create/update/patch/delete/deletecollection,
sent by the Ansible modules (kubernetes client user agent "OpenAPI-Generator/...") or helm
("Helm/..."), in the given namespaces. Server-side dry runs (dryRun in the URI) are counted
apart, and so are writes the server refused (a 409 when the stand-in operator or the
controller-manager changed the object between read and patch: the collection then re-reads and
retries, so the accepted writes stay exact whatever the timing). ``attempts`` counts both.
The stand-in operator, kube-controller-manager and kwok are not the collection.
Usage: audit_writes.py AUDIT_LOG START_MARK END_MARK NAMESPACE [NAMESPACE ...]   -> JSON on stdout
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import sys

WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")
COLLECTION_AGENTS = ("OpenAPI-Generator/", "Helm/")


def main(argv):
    path, start_mark, end_mark, namespaces = argv[1], argv[2], argv[3], set(argv[4:])
    state = "before"
    writes, dry_runs, events, refused = {}, 0, [], []
    with open(path) as handle:
        for line in handle:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("stage") != "ResponseComplete":
                continue
            ref = event.get("objectRef") or {}
            if ref.get("resource") == "configmaps" and ref.get("name") in (start_mark, end_mark):
                if ref.get("name") == start_mark:
                    state = "between"
                elif state == "between":
                    state = "after"
                    break
                continue
            if state != "between" or event.get("verb") not in WRITE_VERBS:
                continue
            if not (event.get("userAgent") or "").startswith(COLLECTION_AGENTS) or ref.get("namespace") not in namespaces:
                continue
            if "dryRun" in (event.get("requestURI") or ""):
                dry_runs += 1
                continue
            described = "{0} {1} {2}/{3}".format(event["verb"], ref.get("resource"), ref.get("namespace"), ref.get("name"))
            code = (event.get("responseStatus") or {}).get("code", 0)
            if code >= 400:
                refused.append("{0} ({1})".format(described, code))
                continue
            writes[event["verb"]] = writes.get(event["verb"], 0) + 1
            events.append(described)
    total = sum(writes.values())
    result = {"complete": state == "after", "writes": writes, "total": total, "refused": refused[:50],
              "attempts": total + len(refused), "dry_runs": dry_runs, "events": events[:50]}
    print(json.dumps(result))
    return 0 if state == "after" else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
