#!/usr/bin/env bash
# What `make test` and CI run: static checks, unit tests, then everything that needs the local
# cluster. The cluster is stopped on exit whatever happened. Each suite's result is summed up in
# a closing "N passed, N failed" line; a failed suite's error lines are repeated just above it, so
# the end of the output (all a CI summary may keep) says why. Full logs stay in .cache/logs.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
passed=0 failed=0 failed_names=()
logs=$root/.cache/logs
mkdir -p "$logs"
run() {
  local name=$1; shift
  echo "=== $name: $*"
  local start=$SECONDS
  if "$@" 2>&1 | tee "$logs/$name.log"; then
    passed=$((passed + 1)); echo "=== $name: ok ($((SECONDS - start))s)"
  else
    failed=$((failed + 1)); failed_names+=("$name"); echo "=== $name: FAILED ($((SECONDS - start))s)"
  fi
}
make -s venv collection || { echo "0 passed, 1 failed"; exit 1; }
export PATH=$root/.cache/bin:$root/.cache/venv/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=$root/.cache/collections

run unit make -s unit
run sanity make -s sanity
run lint make -s lint
run execution-environment make -s ee-check
run tools make -s tools

trap 'make -s cluster-down >/dev/null 2>&1 || true' EXIT
if run cluster-up make -s cluster-up; then
  eval "$(hack/cluster.sh env)"
  run cluster-and-e2e python -m pytest -q tests/cluster tests/e2e
  run integration hack/integration.sh
  run rehearsal hack/rehearsal.sh
  run benchmark hack/benchmark.sh
fi
# Why a suite failed, in a few lines: the last Ansible failure before a play recap that counts it
# (failures a test provokes on purpose are rescued or ignored, so their recap says failed=0),
# ansible-test's and pytest's own failure lines; else the log's last lines.
failure_lines() {
  awk '/^(fatal|failed): \[/ || /^\[ERROR\]/ { last = $0 }
       / failed=[1-9]/ && last != "" { print last; last = "" }
       /^(FAILED |ERROR: |FATAL: |E   )/ { print }' "$1" | tail -n 12 | grep . || tail -n 12 "$1"
}
for name in "${failed_names[@]}"; do
  echo "--- $name: why (full log: .cache/logs/$name.log)"
  failure_lines "$logs/$name.log" | cut -c1-400
done
[ ${#failed_names[@]} -eq 0 ] || echo "failed suites: ${failed_names[*]}"
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
