#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The resourceVersion guard against the real API server.

    conflict_check.py --repo-root R --kubeconfig K --namespace N --kind Secret --name S

Sends, through kube_access, a patch built from a stale copy of the object (as if someone wrote it
since it was read): the server must answer 409. Then write_planned from the same stale copy
must re-read and succeed on the second plan. Prints JSON {"stale": message, "attempts": n, "error": ""}.
The patch only adds a label; no secret data is read into the output.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import collections
import json
import os
import sys


def collections_root(repo_root):
    """Where ansible_collections/seldon_ops/rclone_migration is: the collection Ansible runs
    (ANSIBLE_COLLECTIONS_PATH, set by ansible-test), else the repository's ``make collection`` link."""
    candidates = []
    for variable in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"):
        candidates.extend(part for part in os.environ.get(variable, "").split(os.pathsep) if part)
    candidates.append(os.path.join(repo_root, ".cache", "collections"))
    for root in candidates:
        if os.path.isdir(os.path.join(root, "ansible_collections", "seldon_ops", "rclone_migration")):
            return root
    raise SystemExit("cannot find ansible_collections/seldon_ops/rclone_migration in {0}".format(candidates))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo-root", required=True)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--kind", required=True)
    parser.add_argument("--name", required=True)
    args = parser.parse_args()
    Plan = collections.namedtuple("Plan", "patch")
    sys.path.insert(0, collections_root(args.repo_root))
    import kubernetes
    from kubernetes.dynamic import DynamicClient
    from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import json_patch
    from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_access

    access = kube_access.KubeAccess(DynamicClient(kubernetes.config.new_client_from_config(config_file=args.kubeconfig)))
    current = access.get(args.kind, args.namespace, args.name)
    stale = dict(current, metadata=dict(current["metadata"],
                                        resourceVersion=str(int(current["metadata"]["resourceVersion"]) - 1)))

    plans = []

    def build(obj):
        return [json_patch.guard(obj), {"op": "add", "path": "/metadata/labels", "value": {"core-conflict-check": "done"}}]

    def plan_for(obj):
        plans.append(obj)
        return Plan(build(obj))

    outcome = {}
    try:
        access.patch(args.kind, args.namespace, args.name, build(stale))
        outcome["stale"] = "accepted"
    except kube_access.KubeAccessError as error:
        outcome["stale"] = str(error)
    written = kube_access.write_planned(access, args.kind, stale, plan_for)
    outcome["attempts"] = len(plans)
    outcome["error"] = written.error
    print(json.dumps(outcome))


if __name__ == "__main__":
    main()
