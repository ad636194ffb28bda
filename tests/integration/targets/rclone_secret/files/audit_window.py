#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Count the requests a task sent, from the API server's audit log (for the core targets).

    audit_window.py mark  --repo-root R --audit-log A --kubeconfig K
        prints the log offset after every request answered so far is in the file
    audit_window.py count --repo-root R --audit-log A --kubeconfig K --since N --namespace-prefix P
        prints JSON: {"by_verb": {...}, "writes": [...], "requests": [...]} for the requests of the
        kubeconfig's user since N that touch namespaces starting with P, plus cluster-wide LISTs
        of the kinds the modules read (those carry no namespace)

Built on tests/helpers/audit.py (the project's audit-log reader); the "mark" sync probe is a
GET carrying ``audit-sync=<token>``, which that reader never counts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import sys

CLUSTER_WIDE_KINDS = ("secrets", "serviceaccounts", "seldondeployments")


def audit_log(args):
    sys.path.insert(0, os.path.join(args.repo_root, "tests"))
    from helpers.audit import SYNC_PARAMETER, AuditLog  # pylint: disable=import-error
    import kubernetes

    client = kubernetes.config.new_client_from_config(config_file=args.kubeconfig)

    def probe(token):
        client.call_api("/api/v1/namespaces/default/configmaps", "GET",
                        query_params=[(SYNC_PARAMETER, token), ("limit", "1")],
                        auth_settings=["BearerToken"], _preload_content=False)

    return AuditLog(args.audit_log, args.user, probe=probe, timeout=30)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["mark", "count"])
    parser.add_argument("--repo-root", required=True)
    parser.add_argument("--audit-log", required=True)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--user", default="admin")
    parser.add_argument("--since", type=int, default=0)
    parser.add_argument("--namespace-prefix", default="core-")
    args = parser.parse_args()
    log = audit_log(args)
    if args.action == "mark":
        print(log.mark())
        return
    by_verb, requests, writes = {}, [], []
    for event in log.events(args.since, dry_run=None):
        ref = event.get("objectRef") or {}
        namespace = ref.get("namespace") or ""
        ours = namespace.startswith(args.namespace_prefix) or (
            not namespace and event.get("verb") == "list" and ref.get("resource") in CLUSTER_WIDE_KINDS)
        if not ours:
            continue
        verb = event.get("verb")
        by_verb[verb] = by_verb.get(verb, 0) + 1
        line = "{0} {1} {2}".format(verb, ref.get("resource"), "/".join(p for p in (namespace, ref.get("name")) if p))
        requests.append(line.strip())
        if verb in ("create", "update", "patch", "delete", "deletecollection"):
            writes.append(line.strip())
    print(json.dumps({"by_verb": by_verb, "writes": writes, "requests": requests}))


if __name__ == "__main__":
    main()
