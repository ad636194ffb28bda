#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection (ansible-test needs the ansible_collections path).
# --venv lets ansible-test build each sanity tool's pinned virtualenv from PyPI once (cached under ~/.ansible/test).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
copy=$("$root/hack/collection-copy.sh")
cd "$copy"
exec ansible-test sanity --venv --python 3.11 --color no "$@"
