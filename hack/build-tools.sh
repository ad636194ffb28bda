#!/usr/bin/env bash
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Builds every binary the local cluster needs into .cache/bin, from the Go module proxy only:
#   localkube (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl; hack/localcluster),
#   kwok, helm, rclone.
# Each tool has a stamp file (.cache/bin/.stamp-<tool>) holding everything its build depends on
# (version, flags, Go version, wrapper module hash); a rerun rebuilds a tool only when that changes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.cache/bin"
mkdir -p "$BIN"

# Pinned versions: the only place they are set.
K8S_VERSION=v1.34.4
KWOK_VERSION=v0.7.0   # v0.8.0 wants go >= 1.26.0; v0.7.0 (go 1.24) builds with any Go here
HELM_VERSION=v3.19.5
RCLONE_VERSION=v1.71.2

# Modules come from the proxy only; never from a VCS host. The machine's Go must build them
# (GOTOOLCHAIN=local): no toolchain download behind our back.
export GOPROXY=https://proxy.golang.org GOFLAGS=-buildvcs=false GOTOOLCHAIN=local

go_version="$(go env GOVERSION)"

# The servers report their real version only through these ldflags (helm and kubectl check it);
# helm and rclone likewise print a "-DEV"/short version without theirs.
k8s_minor="${K8S_VERSION#v1.}"; k8s_minor="${k8s_minor%%.*}"
K8S_LDFLAGS="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    K8S_LDFLAGS+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor -X $pkg.gitTreeState=clean"
done
HELM_LDFLAGS="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
RCLONE_LDFLAGS="-s -w -X github.com/rclone/rclone/fs.Version=$RCLONE_VERSION"
PLAIN_LDFLAGS="-s -w"

up_to_date() {  # tool, wanted stamp
    local tool=$1 want=$2
    [[ -x "$BIN/$tool" && -f "$BIN/.stamp-$tool" && "$(cat "$BIN/.stamp-$tool")" == "$want" ]]
}

timed() {  # tool, stamp, command...
    local tool=$1 stamp=$2; shift 2
    if up_to_date "$tool" "$stamp"; then
        echo "build-tools: $tool up to date"
        return 0
    fi
    echo "build-tools: building $tool ..."
    local start=$SECONDS
    rm -f "$BIN/.stamp-$tool"
    "$@"
    printf '%s\n' "$stamp" > "$BIN/.stamp-$tool"
    echo "build-tools: $tool built in $((SECONDS - start))s"
}

build_localkube() {
    (cd "$ROOT/hack/localcluster" && go build -trimpath -ldflags "$K8S_LDFLAGS" -o "$BIN/localkube" .)
}

localkube_stamp="k8s=$K8S_VERSION go=$go_version ldflags=$K8S_LDFLAGS src=$(cd "$ROOT/hack/localcluster" && cat go.mod go.sum main.go | sha256sum | cut -c1-16)"
timed localkube "$localkube_stamp" build_localkube
for name in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    ln -sfn localkube "$BIN/$name"
done

timed kwok "kwok=$KWOK_VERSION go=$go_version ldflags=$PLAIN_LDFLAGS" \
    env GOBIN="$BIN" go install -trimpath -ldflags "$PLAIN_LDFLAGS" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
timed helm "helm=$HELM_VERSION go=$go_version ldflags=$HELM_LDFLAGS" \
    env GOBIN="$BIN" go install -trimpath -ldflags "$HELM_LDFLAGS" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
timed rclone "rclone=$RCLONE_VERSION go=$go_version ldflags=$RCLONE_LDFLAGS" \
    env GOBIN="$BIN" go install -trimpath -ldflags "$RCLONE_LDFLAGS" "github.com/rclone/rclone@$RCLONE_VERSION"

echo "build-tools: all tools in $BIN"
