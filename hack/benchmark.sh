#!/usr/bin/env bash
# Request counts and time ratios of the collection against a hand-written playbook, on the running
# local cluster (or the one KUBECONFIG names). Sizes: BENCH_NAMESPACES, BENCH_DEPLOYMENTS.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${KUBECONFIG:-}" ]; then
  eval "$("$root/hack/cluster.sh" env)"
fi
exec python "$root/benchmarks/run_benchmark.py" --namespaces "${BENCH_NAMESPACES:-3}" --deployments "${BENCH_DEPLOYMENTS:-10}"
