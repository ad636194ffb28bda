#!/usr/bin/env bash
# Start, stop or show the TEST-ONLY job runner (tests/standin/job_runner.py), which plays the kubelet
# for rclone_access_check's Jobs on the local cluster. pid, log and the webhook's certificate live
# under .cache/cluster/.
# Usage: tests/standin/jobrunner.sh start [job runner options] | stop | status | log [lines]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state_dir=$root/.cache/cluster
name="job runner"
pid_file=$state_dir/rclone-job-runner.pid
log_file=$state_dir/rclone-job-runner.log
cert_dir=$state_dir/rclone-job-runner
script=$root/tests/standin/job_runner.py
python=$root/.cache/venv/bin/python
[ -x "$python" ] || python=python3
export PATH=$root/.cache/bin:$PATH
export KUBECONFIG=${KUBECONFIG:-$state_dir/admin.kubeconfig}
# shellcheck source=tests/standin/background.sh
. "$root/tests/standin/background.sh"

case "${1:-}" in
  start)
    shift
    # The pid file appears once the webhook is registered: from then on every labelled pod is gated.
    start_background --state-dir "$cert_dir" "$@"
    ;;
  stop)
    stop_background
    # A runner that was killed leaves its webhook behind (failurePolicy Fail on labelled pods only).
    kubectl delete mutatingwebhookconfiguration rclone-job-runner.seldon-ops.test --ignore-not-found >/dev/null
    ;;
  *)
    background_command "$@"
    ;;
esac
