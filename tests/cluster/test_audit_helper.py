# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""helpers.audit on hand-written audit lines (no cluster needed): what counts and what does not."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from helpers.audit import ANY_USER, AuditLog


def entry(verb, resource, namespace=None, name=None, stage="ResponseComplete", user="admin", query="", subresource=None):
    ref = {"resource": resource, "apiVersion": "v1"}
    if namespace:
        ref["namespace"] = namespace
    if name:
        ref["name"] = name
    if subresource:
        ref["subresource"] = subresource
    path = "/api/v1/%s%s%s" % ("namespaces/%s/" % namespace if namespace else "", resource, "/" + name if name else "")
    return {"kind": "Event", "stage": stage, "verb": verb, "objectRef": ref, "user": {"username": user},
            "requestURI": path + ("?" + query if query else "")}


def write_log(path, entries, tail=b""):
    with open(path, "ab") as log:
        for item in entries:
            log.write(json.dumps(item).encode() + b"\n")
        log.write(tail)


def test_counts_completed_requests_of_the_user_only(tmp_path):
    path = str(tmp_path / "audit.log")
    write_log(path, [entry("list", "secrets")])
    audit = AuditLog(path, user="admin")
    since = audit.mark()
    write_log(path, [
        entry("get", "secrets", "ns", "a", stage="ResponseStarted"),
        entry("get", "secrets", "ns", "a"),
        entry("patch", "secrets", "ns", "a"),
        entry("update", "leases", "kube-node-lease", "n1", user="kwok-controller"),
        entry("get", "secrets", "other", "b"),
    ])
    assert audit.count(since) == 3
    assert audit.count(since, verb="get", resource="secrets", namespace="ns") == 1
    assert audit.count(since, verb=("get", "patch"), namespace="ns") == 2
    assert audit.count(since, user=ANY_USER) == 4
    assert audit.count(0, verb="list") == 1
    assert audit.writes(since) == ["patch secrets ns/a"]


def test_dry_run_requests_are_kept_apart(tmp_path):
    path = str(tmp_path / "audit.log")
    audit = AuditLog(path, user="admin")
    write_log(path, [
        entry("create", "secrets", "ns", "s", query="dryRun=All&fieldManager=x"),
        entry("patch", "secrets", "ns", "s", query="fieldManager=x"),
    ])
    assert audit.writes(0) == ["patch secrets ns/s"]
    assert audit.dry_run_writes(0) == ["create secrets ns/s"]
    assert audit.count(0, resource="secrets") == 1
    assert audit.count(0, resource="secrets", dry_run=None) == 2


def test_partial_last_line_and_sync_probes_are_not_counted(tmp_path):
    path = str(tmp_path / "audit.log")
    probe = {"stage": "ResponseComplete", "verb": "get", "user": {"username": "admin"},
             "requestURI": "/version?audit-sync=abc"}
    write_log(path, [entry("delete", "pods", "ns", "p"), probe], tail=b'{"stage": "ResponseCompl')
    audit = AuditLog(path, user="admin")
    assert audit.writes(0) == ["delete pods ns/p"]
    assert audit.count(0) == 1


def test_subresource_filter(tmp_path):
    path = str(tmp_path / "audit.log")
    write_log(path, [entry("patch", "deployments", "ns", "d"),
                     entry("patch", "deployments", "ns", "d", subresource="status")])
    audit = AuditLog(path, user="admin")
    assert audit.count(0, subresource="") == 1
    assert audit.count(0, subresource="status") == 1
    assert audit.writes(0) == ["patch deployments ns/d", "patch deployments/status ns/d"]


def test_sync_waits_for_the_probe_entry(tmp_path):
    path = str(tmp_path / "audit.log")
    write_log(path, [])
    calls = []

    def probe(token):
        calls.append(token)
        write_log(path, [entry("create", "configmaps", "ns", "c"),
                         {"stage": "ResponseComplete", "verb": "get", "user": {"username": "admin"},
                          "requestURI": "/version?audit-sync=" + token}])

    audit = AuditLog(path, user="admin", probe=probe)
    assert audit.writes(0) == ["create configmaps ns/c"]
    assert len(calls) == 1
