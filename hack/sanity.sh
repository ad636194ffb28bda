#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection (see hack/collection-copy.sh), with ansible-test
# building each sanity tool's pinned virtualenv from PyPI. The pip bootstrap it would download from
# elsewhere is replaced by hack/ansible_test_get_pip.py (ensurepip + PyPI).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pip_version=$(python - <<'PY'
from ansible_test._internal.python_requirements import get_venv_packages
from ansible_test._internal.host_configs import NativePythonConfig
print(get_venv_packages(NativePythonConfig(version='3.11'))['pip'])
PY
)
cache=$HOME/.ansible/test/cache
mkdir -p "$cache"
cp "$root/hack/ansible_test_get_pip.py" "$cache/get_pip_${pip_version//./_}.py"
copy=$("$root/hack/collection-copy.sh")
trap 'rm -rf "${copy%/ansible_collections/*}"' EXIT
cd "$copy"
ansible-test sanity --venv --python 3.11 --color no "$@"
