#!/usr/bin/env bash
# Runs the ansible-test integration targets against the running local cluster (or any cluster
# KUBECONFIG names). Usage: hack/integration.sh [target ...]   (default: every target)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${KUBECONFIG:-}" ]; then
  eval "$("$root/hack/cluster.sh" env)"
fi
copy=$("$root/hack/collection-copy.sh")
trap 'rm -rf "${copy%/ansible_collections/*}"' EXIT
# ansible-test passes no environment to the targets except PATH; integration_config.yml is how
# they learn where the cluster, its audit log and the S3 server are. It stays under .cache.
cat > "$copy/tests/integration/integration_config.yml" <<CONFIG
kubeconfig_path: ${KUBECONFIG}
audit_log: ${AUDIT_LOG:-}
s3_endpoint: ${S3_ENDPOINT:-}
s3_access_key_id: ${S3_ACCESS_KEY_ID:-}
s3_secret_access_key: ${S3_SECRET_ACCESS_KEY:-}
repo_root: ${root}
CONFIG
cd "$copy"
# --continue-on-error: one failing target still lets the others run and be reported.
ansible-test integration --local --python 3.11 --color no --continue-on-error "$@"
