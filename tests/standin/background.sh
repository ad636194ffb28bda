#!/usr/bin/env bash
# Sourced by standin.sh and jobrunner.sh: start, stop and show one TEST-ONLY Python process in the
# background, known by its pid file. The caller sets: name (for messages), script, pid_file,
# log_file, python; the script writes the pid file itself once it is ready to serve.
# shellcheck disable=SC2154  # those variables are the caller's

running_pid() {
  # Prints the pid only if it is alive and really runs $script (never signal a recycled pid).
  [ -f "$pid_file" ] || return 1
  local pid
  pid=$(tr -dc '0-9' < "$pid_file")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "$(basename "$script")" || return 1
  echo "$pid"
}

start_background() {
  # start_background ARGS...: runs "$python $script --pid-file $pid_file ARGS..." and waits up to
  # 20 s for its pid file.
  local pid started
  if pid=$(running_pid); then
    echo "$name already running (pid $pid)"
    return 0
  fi
  mkdir -p "$(dirname "$pid_file")"
  rm -f "$pid_file"
  nohup "$python" "$script" --pid-file "$pid_file" "$@" >>"$log_file" 2>&1 < /dev/null &
  started=$!
  for _ in $(seq 1 100); do
    if pid=$(running_pid); then
      echo "$name started (pid $pid, log $log_file)"
      return 0
    fi
    kill -0 "$started" 2>/dev/null || break
    sleep 0.2
  done
  echo "$name did not start; last log lines:" >&2
  tail -n 20 "$log_file" >&2 || true
  return 1
}

stop_background() {
  # TERM, then KILL after 10 s.
  local pid
  if ! pid=$(running_pid); then
    echo "$name not running"
    rm -f "$pid_file"
    return 0
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    echo "$name killed (pid $pid)"
  else
    echo "$name stopped (pid $pid)"
  fi
  rm -f "$pid_file"
}

background_command() {
  # background_command start|stop|status|log ARGS...: the usual subcommands.
  local pid
  case "${1:-}" in
    start)
      shift
      start_background "$@"
      ;;
    stop)
      stop_background
      ;;
    status)
      if pid=$(running_pid); then
        echo "$name running (pid $pid, log $log_file)"
      else
        echo "$name not running"
        return 3
      fi
      ;;
    log)
      tail -n "${2:-50}" "$log_file"
      ;;
    *)
      echo "usage: $0 start [options]|stop|status|log [lines]" >&2
      return 2
      ;;
  esac
}
