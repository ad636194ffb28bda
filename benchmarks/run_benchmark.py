"""Requests and time of the collection's migration step against a hand-written baseline.

Seeds two identical scenes (M namespaces x N SeldonDeployments, half env secrets, half service
accounts) on the cluster in KUBECONFIG, runs the hand-written kubernetes.core playbook on one and
the collection's modules on the other, then the collection again (must write nothing) and in
check mode (must write nothing). Requests are counted by verb from the API server's audit log;
time is reported as a ratio to the baseline measured in the same run, never as an absolute limit.
Writes a Markdown table to reports/benchmark.md and exits non-zero if a rerun or check mode wrote.
"""

import argparse
import collections
import json
import os
import secrets
import subprocess
import sys
import time

from kubernetes import client, config

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
from helpers.audit import ANY_USER, AuditLog, WRITE_VERBS  # noqa: E402  pylint: disable=wrong-import-position


def audit_log():
    config.load_kube_config()
    api = client.ApiClient()

    def probe(token):
        api.call_api("/version", "GET", query_params=[("audit-sync", token)], auth_settings=["BearerToken"],
                     _preload_content=False)

    return AuditLog(os.environ["AUDIT_LOG"], user=ANY_USER, probe=probe)


def seed(action, prefix, namespaces, deployments):
    subprocess.run([sys.executable, os.path.join(HERE, "seed_fleet.py"), action, "--prefix", prefix,
                    "--namespaces", str(namespaces), "--deployments", str(deployments)], check=True)
    return ["%s-%d" % (prefix, i) for i in range(namespaces)]


def playbook(name, variable, namespaces, *extra):
    """Runs a benchmark playbook; returns seconds taken. Output goes to a log, not the console."""
    log_path = os.path.join(ROOT, "reports", "benchmark-%s.log" % name)
    command = ["ansible-playbook", os.path.join(HERE, name), "-e", json.dumps({variable: namespaces})] + list(extra)
    start = time.monotonic()
    with open(log_path, "w") as log:
        result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False)
    seconds = time.monotonic() - start
    if result.returncode != 0:
        raise SystemExit("%s failed, see %s" % (name, log_path))
    return seconds


def requests_by_verb(audit, since, namespaces):
    """Requests of the playbook run: those in the scene's namespaces plus cluster-scoped discovery
    and lists (objects with no namespace), by verb."""
    counts = collections.Counter()
    for event in audit.events(since, user="admin"):
        namespace = (event.get("objectRef") or {}).get("namespace")
        if namespace is None or namespace in namespaces:
            counts[event["verb"]] += 1
    return counts


def measure(audit, label, runner, namespaces):
    since = audit.mark()
    seconds = runner()
    counts = requests_by_verb(audit, since, namespaces)
    return {"label": label, "seconds": seconds, "counts": counts,
            "writes": sum(n for verb, n in counts.items() if verb in WRITE_VERBS)}


def table(rows, baseline_seconds, namespaces, deployments):
    verbs = sorted({verb for row in rows for verb in row["counts"]})
    lines = [
        "# Benchmark: %d namespaces x %d SeldonDeployments (%d secrets)" % (namespaces, deployments, namespaces * deployments),
        "",
        "| run | " + " | ".join(verbs) + " | writes | total | time vs baseline |",
        "|---" * (len(verbs) + 4) + "|",
    ]
    for row in rows:
        lines.append("| %s | %s | %d | %d | %.2f |" % (
            row["label"], " | ".join(str(row["counts"].get(verb, 0)) for verb in verbs), row["writes"],
            sum(row["counts"].values()), row["seconds"] / baseline_seconds))
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespaces", type=int, default=3)
    parser.add_argument("--deployments", type=int, default=10)
    args = parser.parse_args()
    os.makedirs(os.path.join(ROOT, "reports"), exist_ok=True)
    audit = audit_log()
    # Fresh names each run: namespaces of an earlier run may still be terminating.
    run_id = secrets.token_hex(2)
    base = seed("up", "bench-base-" + run_id, args.namespaces, args.deployments)
    ours = seed("up", "bench-coll-" + run_id, args.namespaces, args.deployments)
    try:
        rows = [
            measure(audit, "hand-written kubernetes.core playbook", lambda: playbook(
                "handwritten_baseline.yml", "baseline_namespaces", base), base),
            measure(audit, "collection, first run", lambda: playbook("collection.yml", "bench_namespaces", ours), ours),
            measure(audit, "collection, second run", lambda: playbook("collection.yml", "bench_namespaces", ours), ours),
            measure(audit, "collection, check mode", lambda: playbook(
                "collection.yml", "bench_namespaces", ours, "--check"), ours),
        ]
    finally:
        seed("down", "bench-base-" + run_id, args.namespaces, args.deployments)
        seed("down", "bench-coll-" + run_id, args.namespaces, args.deployments)
    report = table(rows, rows[0]["seconds"], args.namespaces, args.deployments)
    with open(os.path.join(ROOT, "reports", "benchmark.md"), "w") as out:
        out.write(report)
    print(report)
    if rows[2]["writes"] or rows[3]["writes"]:
        raise SystemExit("a second run or check mode wrote to the cluster")


if __name__ == "__main__":
    main()
