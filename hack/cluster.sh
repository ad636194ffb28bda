#!/usr/bin/env bash
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# The project's local Kubernetes cluster, on 127.0.0.1 only, from the binaries hack/build-tools.sh
# builds into .cache/bin:
#   etcd, kube-apiserver (RBAC, audit log), kube-controller-manager, kube-scheduler, kwok (two fake
#   Nodes whose pods it plays), rclone serve s3 (a real S3 server over a local folder),
#   the SeldonDeployment CRD and the local seldon-core-operator chart.
# Usage: hack/cluster.sh up|down|status|env
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.cache/bin"
STATE="$ROOT/.cache/cluster"
PKI="$STATE/pki"
PIDS="$STATE/pids"
LOGS="$STATE/logs"
MANIFESTS="$ROOT/tests/manifests"
KUBECONFIG_ADMIN="$STATE/admin.kubeconfig"
AUDIT_LOG="$STATE/audit.log"
S3_DIR="$STATE/s3"
VENV_BIN="$ROOT/.cache/venv/bin"

CONTEXT=seldon-local
ADMIN_USER="admin"

# Ports can be moved (LOCAL_CLUSTER_<NAME>=...) to run a second clone's cluster beside this one.
ETCD_PORT=${LOCAL_CLUSTER_ETCD_PORT:-23790}
ETCD_PEER_PORT=${LOCAL_CLUSTER_ETCD_PEER_PORT:-23800}
APISERVER_PORT=${LOCAL_CLUSTER_APISERVER_PORT:-6443}
CONTROLLER_MANAGER_PORT=${LOCAL_CLUSTER_CONTROLLER_MANAGER_PORT:-10257}
SCHEDULER_PORT=${LOCAL_CLUSTER_SCHEDULER_PORT:-10259}
S3_PORT=${LOCAL_CLUSTER_S3_PORT:-9900}
SERVICE_CIDR=10.96.0.0/16
SERVICE_IP=10.96.0.1     # first address of SERVICE_CIDR: the `kubernetes` Service

# Fixed credentials of the loopback-only test S3 server; printed by `env` on purpose.
S3_ACCESS_KEY_ID=seldon-local-access
S3_SECRET_ACCESS_KEY=seldon-local-secret-0123456789

CHART="$ROOT/tests/chart/seldon-core-operator"
RELEASE=seldon-core
RELEASE_NAMESPACE=seldon-system

# Start order; `down` goes in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok s3)

log() { printf 'cluster: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

kubectl_admin() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

# ---------------------------------------------------------------- certificates and kubeconfigs

# Self-signed CA. name, CN.
issue_ca() {
    [[ -s "$PKI/$1.crt" ]] && return 0
    openssl genrsa -out "$PKI/$1.key" 2048 2>/dev/null
    openssl req -x509 -new -key "$PKI/$1.key" -subj "/CN=$2" -days 3650 -sha256 \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
        -out "$PKI/$1.crt" 2>/dev/null
}

# Leaf certificate. name, subject, extensions (openssl -extfile syntax), CA name (default ca).
issue_cert() {
    local name=$1 subject=$2 extensions=$3 ca=${4:-ca}
    [[ -s "$PKI/$name.crt" ]] && return 0
    openssl genrsa -out "$PKI/$name.key" 2048 2>/dev/null
    openssl req -new -key "$PKI/$name.key" -subj "$subject" -out "$PKI/$name.csr" 2>/dev/null
    printf '%s\n' "$extensions" "authorityKeyIdentifier=keyid" "subjectKeyIdentifier=hash" \
        "basicConstraints=critical,CA:FALSE" > "$PKI/$name.ext"
    openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$ca.crt" -CAkey "$PKI/$ca.key" \
        -CAcreateserial -days 3650 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
    rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

client_cert() {  # name, CN, O (may be empty), CA name (default ca)
    local subject="/CN=$2"
    [[ -n "${3:-}" ]] && subject="/O=$3$subject"
    issue_cert "$1" "$subject" $'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth' "${4:-ca}"
}

# kubeconfig with the certificates embedded, so it keeps working if .cache/cluster/pki moves.
write_kubeconfig() {  # file, cert name, user name
    local file=$1 cert=$2 user=$3
    [[ -s "$file" ]] && return 0
    umask 077
    cat > "$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $CONTEXT
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $(base64 -w0 < "$PKI/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 < "$PKI/$cert.crt")
    client-key-data: $(base64 -w0 < "$PKI/$cert.key")
contexts:
- name: $CONTEXT
  context:
    cluster: $CONTEXT
    user: $user
current-context: $CONTEXT
EOF
    umask 022
}

ensure_pki() {
    mkdir -p "$PKI" "$PIDS" "$LOGS" "$S3_DIR"
    chmod 700 "$PKI"
    [[ -s "$PKI/ca.crt" ]] || log "generating CA and certificates in $PKI"
    issue_ca ca seldon-local-ca
    # The front-proxy (request header) CA as kubeadm sets it up: without it the controller-manager
    # and scheduler log errors about a missing requestheader CA bundle every few seconds.
    issue_ca front-proxy-ca seldon-local-front-proxy-ca
    client_cert front-proxy-client front-proxy-client "" front-proxy-ca
    issue_cert apiserver "/CN=kube-apiserver" "keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,IP:$SERVICE_IP,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    # system:masters: the admin bypasses RBAC, as kubeadm's admin.conf does.
    client_cert admin "$ADMIN_USER" system:masters
    # The bootstrap RBAC policy grants these two users exactly what the components need.
    client_cert controller-manager system:kube-controller-manager
    client_cert scheduler system:kube-scheduler
    # kwok writes node and pod status and leases of many nodes; it gets its own user so that
    # tests can tell its requests apart from theirs in the audit log.
    client_cert kwok kwok-controller system:masters
    if [[ ! -s "$PKI/sa.key" ]]; then
        openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
        openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
    fi
    write_kubeconfig "$KUBECONFIG_ADMIN" admin "$ADMIN_USER"
    write_kubeconfig "$STATE/controller-manager.kubeconfig" controller-manager system:kube-controller-manager
    write_kubeconfig "$STATE/scheduler.kubeconfig" scheduler system:kube-scheduler
    write_kubeconfig "$STATE/kwok.kubeconfig" kwok kwok-controller
}

# ---------------------------------------------------------------- processes

# Sets CMD to the command line of a component. Every one names a path under $STATE, which is
# how `down` recognises leftovers of this clone even without a pid file.
component_command() {
    case $1 in
    etcd)
        CMD=("$BIN/etcd" --name=seldon-local --data-dir="$STATE/etcd" \
            --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
            --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
            --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
            --initial-cluster="seldon-local=http://127.0.0.1:$ETCD_PEER_PORT" \
            --unsafe-no-fsync=true --log-level=warn)
        ;;
    kube-apiserver)
        CMD=("$BIN/kube-apiserver" --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
            --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
            --cert-dir="$PKI/generated" \
            --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
            --client-ca-file="$PKI/ca.crt" \
            --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" \
            --requestheader-allowed-names=front-proxy-client \
            --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
            --requestheader-extra-headers-prefix=X-Remote-Extra- \
            --proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key" \
            --service-account-issuer=https://kubernetes.default.svc.cluster.local \
            --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
            --service-cluster-ip-range="$SERVICE_CIDR" \
            --authorization-mode="Node,RBAC" --allow-privileged=true --profiling=false \
            --audit-policy-file="$MANIFESTS/audit-policy.yaml" --audit-log-path="$AUDIT_LOG" \
            --audit-log-format=json --audit-log-mode=blocking --audit-log-maxsize=0)
        ;;
    kube-controller-manager)
        CMD=("$BIN/kube-controller-manager" --kubeconfig="$STATE/controller-manager.kubeconfig" \
            --authentication-kubeconfig="$STATE/controller-manager.kubeconfig" \
            --authorization-kubeconfig="$STATE/controller-manager.kubeconfig" \
            --bind-address=127.0.0.1 --secure-port="$CONTROLLER_MANAGER_PORT" --cert-dir="$PKI/generated" \
            --leader-elect=false --use-service-account-credentials=true \
            --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
            --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
            --service-cluster-ip-range="$SERVICE_CIDR" --profiling=false)
        ;;
    kube-scheduler)
        CMD=("$BIN/kube-scheduler" --kubeconfig="$STATE/scheduler.kubeconfig" \
            --authentication-kubeconfig="$STATE/scheduler.kubeconfig" \
            --authorization-kubeconfig="$STATE/scheduler.kubeconfig" \
            --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --cert-dir="$PKI/generated" \
            --leader-elect=false --profiling=false)
        ;;
    kwok)
        CMD=("$BIN/kwok" --kubeconfig="$STATE/kwok.kubeconfig" --config="$MANIFESTS/kwok.yaml")
        ;;
    s3)
        CMD=("$BIN/rclone" serve s3 "$S3_DIR" --addr="127.0.0.1:$S3_PORT" \
            --auth-key="$S3_ACCESS_KEY_ID,$S3_SECRET_ACCESS_KEY" --config="" --log-level=INFO)
        ;;
    esac
}

# The pid of a running component started by this script, or nothing.
component_pid() {
    local name=$1 pid exe
    [[ -f "$PIDS/$name.pid" ]] || return 0
    pid=$(cat "$PIDS/$name.pid")
    [[ -n "$pid" && -d /proc/$pid ]] || return 0
    # Guard against a reused pid: the process must still be one of ours.
    exe=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null || true)
    [[ "$exe" == "$BIN/"* ]] && echo "$pid"
    return 0
}

# shellcheck disable=SC2016 # the $ is a character to escape, not an expansion
ere_escape() { printf '%s' "$1" | sed 's/[][\.*^$(){}+?|]/\\&/g'; }

# Pids of processes running a component of this clone, found by command and state folder
# (a kubectl or rclone that someone else runs is never matched: components are long-running
# servers whose command line starts with the server's own words).
leftover_pids() {
    local words=1
    component_command "$1"
    [[ "$1" == s3 ]] && words=3  # rclone serve s3
    pgrep -f -- "^$(ere_escape "${CMD[*]:0:words}") .*$(ere_escape "$STATE/")" || true
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_component() {
    local name=$1 port=$2 pid
    pid=$(component_pid "$name")
    if [[ -n "$pid" ]]; then
        log "$name already running (pid $pid)"
        return 0
    fi
    if [[ -n "$port" ]] && port_in_use "$port"; then
        die "port 127.0.0.1:$port needed by $name is taken by another process; stop it or run 'hack/cluster.sh down'"
    fi
    component_command "$name"
    # setsid: the component outlives the shell (make, CI step) that started it, and a Ctrl-C
    # there does not kill it half way; `down` stops it by pid. 9>&-: it must not inherit (and
    # hold forever) the lock of this script.
    setsid "${CMD[@]}" >> "$LOGS/$name.log" 2>&1 < /dev/null 9>&- &
    echo $! > "$PIDS/$name.pid"
    log "started $name (pid $!, log ${LOGS#"$ROOT/"}/$name.log)"
}

# Polls a command until it succeeds; on timeout shows the component's log tail.
wait_for() {  # description, timeout seconds, component (for its log), command...
    local what=$1 timeout=$2 component=$3; shift 3
    local deadline=$((SECONDS + timeout))
    until "$@" > /dev/null 2>&1; do
        if [[ -n "$component" && -z "$(component_pid "$component")" ]]; then
            tail -n 30 "$LOGS/$component.log" >&2 || true
            die "$component exited while waiting for $what (log: $LOGS/$component.log)"
        fi
        if (( SECONDS >= deadline )); then
            [[ -n "$component" ]] && { tail -n 30 "$LOGS/$component.log" >&2 || true; }
            die "timed out after ${timeout}s waiting for $what"
        fi
        sleep 0.5
    done
}

curl_admin() {  # path on the apiserver
    curl -fsS --max-time 5 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
        "https://127.0.0.1:$APISERVER_PORT$1"
}

etcd_healthy() { curl -fsS --max-time 3 "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }
apiserver_ready() { [[ "$(curl_admin /readyz)" == ok ]]; }
# /healthz of the controller-manager and scheduler is open to anyone (always-allowed path).
component_healthy() { [[ "$(curl -ksS --max-time 3 "https://127.0.0.1:$1/healthz")" == ok ]]; }
s3_answers() { curl -sS --max-time 3 -o /dev/null "http://127.0.0.1:$S3_PORT/"; }
default_sa_exists() { kubectl_admin -n default get serviceaccount default; }
nodes_ready() {
    [[ "$(kubectl_admin get nodes -l type=kwok \
        -o 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' \
        | grep -c True)" -ge 2 ]]
}

# ---------------------------------------------------------------- commands

cmd_up() {
    local start=$SECONDS tool
    for tool in localkube etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok helm rclone; do
        [[ -x "$BIN/$tool" ]] || die "$BIN/$tool missing: run 'make tools' (hack/build-tools.sh) first"
    done
    ensure_pki

    start_component etcd "$ETCD_PORT"
    wait_for "etcd health" 60 etcd etcd_healthy

    start_component kube-apiserver "$APISERVER_PORT"
    wait_for "kube-apiserver /readyz" 120 kube-apiserver apiserver_ready

    start_component kube-controller-manager "$CONTROLLER_MANAGER_PORT"
    start_component kube-scheduler "$SCHEDULER_PORT"
    start_component kwok ""
    start_component s3 "$S3_PORT"
    wait_for "kube-controller-manager /healthz" 60 kube-controller-manager component_healthy "$CONTROLLER_MANAGER_PORT"
    wait_for "kube-scheduler /healthz" 60 kube-scheduler component_healthy "$SCHEDULER_PORT"
    wait_for "S3 server on 127.0.0.1:$S3_PORT" 30 s3 s3_answers

    # apply and the release check below only read when nothing changed, so a second `up` writes nothing.
    kubectl_admin apply -f "$MANIFESTS/nodes.yaml" > /dev/null
    kubectl_admin apply -f "$MANIFESTS/seldondeployment-crd.yaml" > /dev/null
    wait_for "2 Ready kwok nodes" 60 kwok nodes_ready
    wait_for "the default service account" 60 kube-controller-manager default_sa_exists
    kubectl_admin wait --for=condition=Established --timeout=60s \
        crd/seldondeployments.machinelearning.seldon.io > /dev/null

    # Installed once: tests and rehearsals upgrade this release, and a later `up` must not undo that.
    if ! "$BIN/helm" --kubeconfig "$KUBECONFIG_ADMIN" status "$RELEASE" -n "$RELEASE_NAMESPACE" > /dev/null 2>&1; then
        log "installing helm release $RELEASE from ${CHART#"$ROOT/"}"
        "$BIN/helm" --kubeconfig "$KUBECONFIG_ADMIN" upgrade --install "$RELEASE" "$CHART" \
            -n "$RELEASE_NAMESPACE" --create-namespace --wait --timeout 120s > /dev/null
    fi
    log "up in $((SECONDS - start))s; use it with: eval \"\$(make -s cluster-env)\""
}

# A process that exists and is not a zombie waiting to be reaped.
alive() { [[ -d /proc/$1 ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

cmd_down() {
    local i name pid pids=() deadline left=()
    for (( i=${#COMPONENTS[@]}-1; i>=0; i-- )); do
        name=${COMPONENTS[i]}
        pid=$(component_pid "$name")
        # Also catch a component of this clone whose pid file was lost.
        for pid in $pid $(leftover_pids "$name"); do
            [[ " ${pids[*]} " == *" $pid "* ]] && continue
            kill -TERM "$pid" 2>/dev/null && log "stopping $name (pid $pid)"
            pids+=("$pid")
        done
        rm -f "$PIDS/$name.pid"
    done
    deadline=$((SECONDS + 20))
    for pid in "${pids[@]}"; do
        while alive "$pid" && (( SECONDS < deadline )); do sleep 0.2; done
    done
    for pid in "${pids[@]}"; do
        if alive "$pid"; then
            log "pid $pid did not stop on TERM within 20s, killing"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    deadline=$((SECONDS + 10))
    for pid in "${pids[@]}"; do
        while alive "$pid" && (( SECONDS < deadline )); do sleep 0.2; done
        alive "$pid" && left+=("$pid")
    done
    for name in "${COMPONENTS[@]}"; do
        for pid in $(leftover_pids "$name"); do
            alive "$pid" && [[ " ${left[*]} " != *" $pid "* ]] && left+=("$pid")
        done
    done
    (( ${#left[@]} == 0 )) || die "processes still running: ${left[*]}"
    log "down: no cluster process left"
}

cmd_status() {
    local name pid health rc=0
    printf '%-24s %-8s %s\n' COMPONENT PID HEALTH
    for name in "${COMPONENTS[@]}"; do
        pid=$(component_pid "$name")
        if [[ -z "$pid" ]]; then
            health="stopped"
        else
            case $name in
            etcd) etcd_healthy && health="healthy" || health="unhealthy" ;;
            kube-apiserver) apiserver_ready && health="readyz ok" || health="not ready" ;;
            kube-controller-manager) component_healthy "$CONTROLLER_MANAGER_PORT" && health="healthz ok" || health="unhealthy" ;;
            kube-scheduler) component_healthy "$SCHEDULER_PORT" && health="healthz ok" || health="unhealthy" ;;
            kwok) nodes_ready 2>/dev/null && health="2 nodes Ready" || health="nodes not Ready" ;;
            s3) s3_answers && health="answers on http://127.0.0.1:$S3_PORT" || health="not answering" ;;
            esac
        fi
        [[ "$health" == stopped || "$health" == un* || "$health" == not* || "$health" == nodes\ not* ]] && rc=1
        printf '%-24s %-8s %s\n' "$name" "${pid:--}" "$health"
    done
    if apiserver_ready 2>/dev/null; then
        printf '%-24s %-8s %s\n' "helm release" - \
            "$("$BIN/helm" --kubeconfig "$KUBECONFIG_ADMIN" status "$RELEASE" -n "$RELEASE_NAMESPACE" -o json 2>/dev/null \
               | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["name"], "revision", d["version"], d["info"]["status"])' 2>/dev/null \
               || echo "$RELEASE not installed")"
    fi
    return $rc
}

cmd_env() {
    cat <<EOF
export KUBECONFIG='$KUBECONFIG_ADMIN'
export CLUSTER_CONTEXT='$CONTEXT'
export AUDIT_LOG='$AUDIT_LOG'
export S3_ENDPOINT='http://127.0.0.1:$S3_PORT'
export S3_ACCESS_KEY_ID='$S3_ACCESS_KEY_ID'
export S3_SECRET_ACCESS_KEY='$S3_SECRET_ACCESS_KEY'
export ANSIBLE_COLLECTIONS_PATH='$ROOT/.cache/collections'
export PATH='$BIN:$VENV_BIN':"\$PATH"
EOF
}

# up and down from two shells at once (helpers, CI steps) would race for the same ports and pids.
with_lock() {
    mkdir -p "$STATE"
    exec 9> "$STATE/.lock"
    flock -w 300 9 || die "another 'hack/cluster.sh up|down' holds $STATE/.lock"
    "$@"
}

case "${1:-}" in
    up) with_lock cmd_up ;;
    down) with_lock cmd_down ;;
    status) cmd_status ;;
    env) cmd_env ;;
    *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
