#!/usr/bin/env bash
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# make rehearsal (after make cluster-up): the whole migration on the local cluster.
#   1. starts the TEST-ONLY Seldon operator stand-in (tests/standin), unless it runs already;
#   2. playbooks/rehearsal.yml on inventories/local: the seed's scene (iris model in the local S3
#      server, the env-secret and the service-account SKLearn deployments), the init container
#      runner on rclone-pinned copies (must fail: kfserving credentials mean nothing to rclone),
#      preflight.yml, migrate.yml, the runner on the migrated deployments (must download the model);
#   3. migrate.yml once more: a rerun must change nothing;
#   4. prints where the reports are. Exits non-zero when any step or check fails.
# Environment: SCENE_NAMESPACE (default seldon-rehearsal), KEEP_STANDIN=1 (leave the stand-in running);
# extra arguments go to ansible-playbook. Rerunnable: it first undoes a previous rehearsal.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
eval "$(hack/cluster.sh env)"
namespace=${SCENE_NAMESPACE:-seldon-rehearsal}
inventory=$root/inventories/local
reports=$root/reports
logs=$root/.cache/rehearsal
mkdir -p "$logs"
export ANSIBLE_FORCE_COLOR=${ANSIBLE_FORCE_COLOR:-0}

step() { printf '\n==== rehearsal: %s\n' "$*"; }
failures=()

step "operator stand-in (test-only)"
if tests/standin/standin.sh status >/dev/null 2>&1; then
    started_standin=false
else
    started_standin=true
fi
tests/standin/standin.sh start
# Stop the stand-in this script started (it reconciles every unlabelled namespace); KEEP_STANDIN=1 keeps it.
stop_standin() {
    if [[ $started_standin == true && ${KEEP_STANDIN:-0} != 1 ]]; then
        tests/standin/standin.sh stop
    fi
}
trap stop_standin EXIT

step "scene, expected failure before, preflight, migrate, checks (log: ${logs#"$root/"}/rehearsal.log)"
if ! ansible-playbook -i "$inventory" playbooks/rehearsal.yml -e "scene_namespace=$namespace" "$@" \
        2>&1 | tee "$logs/rehearsal.log"; then
    failures+=("playbooks/rehearsal.yml failed (see ${logs#"$root/"}/rehearsal.log)")
fi

if [[ ${#failures[@]} -eq 0 ]]; then
    step "rerun of migrate.yml: must change nothing (log: ${logs#"$root/"}/rerun.log)"
    if ! ansible-playbook -i "$inventory" playbooks/migrate.yml \
            -e "{\"rclone_migration_namespaces\": [\"$namespace\"], \"seldon_core_chart_repo_url\": \"\",
                 \"seldon_core_chart_ref\": \"$root/tests/chart/seldon-core-operator\"}" \
            "$@" 2>&1 | tee "$logs/rerun.log"; then
        failures+=("the rerun of migrate.yml failed (see ${logs#"$root/"}/rerun.log)")
    # PLAY RECAP lines: "<host> : ok=N changed=N ..."; every host must report changed=0.
    elif grep -E '^\S+\s+: ok=' "$logs/rerun.log" | grep -vq 'changed=0 '; then
        failures+=("the rerun of migrate.yml changed something: $(grep -E '^\S+\s+: ok=' "$logs/rerun.log" | tr -s ' ')")
    fi
fi

step "result"
echo "reports:   ${reports#"$root/"}/preflight/fleet.md  ${reports#"$root/"}/migrate/fleet.md  (fleet.html and <cluster>.json next to them)"
echo "scene:     namespace $namespace (NAMESPACE=$namespace tests/scene/scene.sh down removes it); KEEP_STANDIN=1 keeps the stand-in running"
if [[ ${#failures[@]} -gt 0 ]]; then
    printf 'REHEARSAL FAILED: %s\n' "${failures[@]}" >&2
    exit 1
fi
echo "REHEARSAL PASSED: rclone failed with the kfserving secrets before, downloaded the model after; a rerun changed nothing."
