#!/usr/bin/env bash
# Start, stop or show the TEST-ONLY Seldon operator stand-in (tests/standin/seldon_operator_standin.py)
# in loop mode against the local cluster. pid and log live under .cache/cluster/.
# Usage: tests/standin/standin.sh start [stand-in options, e.g. --namespace NS] | stop | status | log
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state_dir=$root/.cache/cluster
name=stand-in
pid_file=$state_dir/seldon-operator-standin.pid
log_file=$state_dir/seldon-operator-standin.log
script=$root/tests/standin/seldon_operator_standin.py
python=$root/.cache/venv/bin/python
[ -x "$python" ] || python=python3
export KUBECONFIG=${KUBECONFIG:-$state_dir/admin.kubeconfig}
# shellcheck source=tests/standin/background.sh
. "$root/tests/standin/background.sh"

background_command "$@"
