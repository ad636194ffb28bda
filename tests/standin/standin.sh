#!/usr/bin/env bash
# Start, stop or show the TEST-ONLY Seldon operator stand-in (tests/standin/seldon_operator_standin.py)
# in loop mode against the local cluster. pid and log live under .cache/cluster/.
# Usage: tests/standin/standin.sh start [stand-in options, e.g. --namespace NS] | stop | status | log
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state_dir=$root/.cache/cluster
pid_file=$state_dir/seldon-operator-standin.pid
log_file=$state_dir/seldon-operator-standin.log
script=$root/tests/standin/seldon_operator_standin.py
python=$root/.cache/venv/bin/python
[ -x "$python" ] || python=python3

running_pid() {
  # Prints the pid only if it is alive and really is the stand-in (never signal a recycled pid).
  [ -f "$pid_file" ] || return 1
  local pid
  pid=$(tr -dc '0-9' < "$pid_file")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "seldon_operator_standin.py" || return 1
  echo "$pid"
}

case "${1:-}" in
  start)
    shift
    if pid=$(running_pid); then
      echo "stand-in already running (pid $pid)"
      exit 0
    fi
    mkdir -p "$state_dir"
    rm -f "$pid_file"
    export KUBECONFIG=${KUBECONFIG:-$state_dir/admin.kubeconfig}
    nohup "$python" "$script" --pid-file "$pid_file" "$@" >>"$log_file" 2>&1 < /dev/null &
    for _ in $(seq 1 50); do
      if pid=$(running_pid); then
        echo "stand-in started (pid $pid, log $log_file)"
        exit 0
      fi
      sleep 0.2
    done
    echo "stand-in did not start; last log lines:" >&2
    tail -n 20 "$log_file" >&2 || true
    exit 1
    ;;
  stop)
    if ! pid=$(running_pid); then
      echo "stand-in not running"
      rm -f "$pid_file"
      exit 0
    fi
    kill -TERM "$pid"
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || { echo "stand-in stopped (pid $pid)"; rm -f "$pid_file"; exit 0; }
      sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pid_file"
    echo "stand-in killed (pid $pid)"
    ;;
  status)
    if pid=$(running_pid); then
      echo "stand-in running (pid $pid, log $log_file)"
    else
      echo "stand-in not running"
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
