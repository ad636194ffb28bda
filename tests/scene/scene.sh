#!/usr/bin/env bash
# The seed tutorial's scene on the local cluster: the iris model in the local S3 server
# (bucket sklearn, path iris/) and, in namespace $NAMESPACE (default seldon-rehearsal), the
# kfserving-format secrets, the service account and the two SKLearn SeldonDeployments.
# Usage: tests/scene/scene.sh up|down|upload     (after: eval "$(make -s cluster-env)")
#   up: upload the model and apply the scene; upload: only the model; down: delete the namespace.
#   SCENE_SECRETS=1 (with SCENE_LITERAL_CREDENTIAL, SCENE_CONNECTION_KEY_ID, SCENE_CONNECTION_SECRET):
#   up also applies scene-secrets.yaml.tmpl - SeldonDeployments that hold credentials themselves.
# Credentials come from S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY and reach rclone and kubectl
# through the environment and a pipe only: never on a command line, in a file or in the output.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$root/tests/scene
python=$root/.cache/venv/bin/python
[ -x "$python" ] || python=python3
if [ -z "${KUBECONFIG:-}" ] || [ -z "${S3_ACCESS_KEY_ID:-}" ]; then
  eval "$("$root/hack/cluster.sh" env)"
fi
namespace=${NAMESPACE:-seldon-rehearsal}
s3_endpoint=${S3_ENDPOINT:-http://127.0.0.1:9900}
model_dir=$root/.cache/scene/model

upload_model() {
  "$python" "$here/make_iris_model.py" "$model_dir" >/dev/null
  # An env-only rclone remote named "scene"; the empty config file keeps ~/.config/rclone out.
  local empty_config
  empty_config=$(mktemp)
  RCLONE_CONFIG=$empty_config \
  RCLONE_CONFIG_SCENE_TYPE=s3 \
  RCLONE_CONFIG_SCENE_PROVIDER=Other \
  RCLONE_CONFIG_SCENE_ENV_AUTH=false \
  RCLONE_CONFIG_SCENE_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID \
  RCLONE_CONFIG_SCENE_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY \
  RCLONE_CONFIG_SCENE_ENDPOINT=$s3_endpoint \
    bash -c 'rclone mkdir scene:sklearn && rclone copy "$1" scene:sklearn/iris && rclone lsf scene:sklearn/iris' \
      upload "$model_dir"
  rm -f "$empty_config"
}

case "${1:-}" in
  up)
    echo "uploading the iris model to s3://sklearn/iris/ at $s3_endpoint"
    upload_model
    echo "applying the scene to namespace $namespace"
    "$python" "$here/render_scene.py" --namespace "$namespace" | kubectl apply -f -
    if [ "${SCENE_SECRETS:-0}" = 1 ]; then
      echo "applying the SeldonDeployments that hold credentials themselves"
      # create, not apply: kubectl apply would copy them into its last-applied annotation
      "$python" "$here/render_scene.py" --namespace "$namespace" --secrets | kubectl create -f -
    fi
    ;;
  upload)
    upload_model
    ;;
  down)
    kubectl delete namespace "$namespace" --ignore-not-found --wait=true
    ;;
  *)
    echo "usage: $0 up|down|upload   (NAMESPACE=$namespace)" >&2
    exit 2
    ;;
esac
