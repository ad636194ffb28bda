#!/usr/bin/env bash
# Start, stop or show the TEST-ONLY job runner (tests/standin/job_runner.py), which plays the kubelet
# for rclone_access_check's Jobs on the local cluster. pid, log and the webhook's certificate live
# under .cache/cluster/.
# Usage: tests/standin/jobrunner.sh start [job runner options] | stop | status | log [lines]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state_dir=$root/.cache/cluster
pid_file=$state_dir/rclone-job-runner.pid
log_file=$state_dir/rclone-job-runner.log
cert_dir=$state_dir/rclone-job-runner
script=$root/tests/standin/job_runner.py
python=$root/.cache/venv/bin/python
[ -x "$python" ] || python=python3
export PATH=$root/.cache/bin:$PATH
export KUBECONFIG=${KUBECONFIG:-$state_dir/admin.kubeconfig}

running_pid() {
  # Prints the pid only if it is alive and really is the job runner (never signal a recycled pid).
  [ -f "$pid_file" ] || return 1
  local pid
  pid=$(tr -dc '0-9' < "$pid_file")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "job_runner.py" || return 1
  echo "$pid"
}

case "${1:-}" in
  start)
    shift
    if pid=$(running_pid); then
      echo "job runner already running (pid $pid)"
      exit 0
    fi
    mkdir -p "$state_dir"
    rm -f "$pid_file"
    nohup "$python" "$script" --pid-file "$pid_file" --state-dir "$cert_dir" "$@" >>"$log_file" 2>&1 < /dev/null &
    started=$!
    # The pid file appears once the webhook is registered: from then on every labelled pod is gated.
    for _ in $(seq 1 100); do
      if pid=$(running_pid); then
        echo "job runner started (pid $pid, log $log_file)"
        exit 0
      fi
      kill -0 "$started" 2>/dev/null || break
      sleep 0.2
    done
    echo "job runner did not start; last log lines:" >&2
    tail -n 20 "$log_file" >&2 || true
    exit 1
    ;;
  stop)
    if pid=$(running_pid); then
      kill -TERM "$pid"
      for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
      done
      if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        echo "job runner killed (pid $pid)"
      else
        echo "job runner stopped (pid $pid)"
      fi
    else
      echo "job runner not running"
    fi
    rm -f "$pid_file"
    # A runner that was killed leaves its webhook behind (failurePolicy Fail on labelled pods only).
    kubectl delete mutatingwebhookconfiguration rclone-job-runner.seldon-ops.test --ignore-not-found >/dev/null
    ;;
  status)
    if pid=$(running_pid); then
      echo "job runner running (pid $pid, log $log_file)"
    else
      echo "job runner not running"
      exit 3
    fi
    ;;
  log)
    tail -n "${2:-50}" "$log_file"
    ;;
  *)
    echo "usage: $0 start [options]|stop|status|log [lines]" >&2
    exit 2
    ;;
esac
