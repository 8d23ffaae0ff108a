#!/usr/bin/env bash
# A real three-node Docker swarm on this machine, for dockergraph's swarm tests.
#
# Three private engines (scripts/engine.sh), each in its own network namespace and UTS namespace
# (so each node has its own host name), joined by a bridge on the host and one veth pair per
# namespace, on a private subnet that only these namespaces use. Node 1 is the manager, nodes 2
# and 3 are workers. Every node has the base image dockergraph/busybox:latest and a second tag of
# it, dockergraph/busybox:v2, for rolling updates (images are local to each node).
#
#   scripts/swarm.sh start    start (or reuse) the swarm; prints the `export` lines of `env`
#   scripts/swarm.sh stop     leave the swarm, stop the engines, remove everything start made
#   scripts/swarm.sh status   prints "running" (exit 0) when all nodes are up and Ready, else "stopped"
#   scripts/swarm.sh env      prints `export DOCKERGRAPH_SWARM_MANAGER=unix://...` and
#                             `export DOCKERGRAPH_SWARM_NODES=unix://...,unix://...,unix://...`
#
# Environment: DOCKERGRAPH_SWARM_PREFIX (default dgswarm; names the namespaces <prefix>1..3, the
# state folders /tmp/<prefix>1..3, the host names <prefix>-node1..3 and the bridge <prefix>br0;
# at most 10 characters), DOCKERGRAPH_SWARM_SUBNET (the first three octets of a /24 no one else
# uses, default 10.77.0; node i gets .(i+1), the bridge has no address).
# The ingress routing mesh needs IPVS, which this kernel lacks: publish ports with mode=host.
# Progress goes to stderr; stdout only carries useful output.
set -euo pipefail

export PATH="${PATH:-/usr/bin:/bin}:/usr/local/sbin:/usr/sbin:/sbin"

readonly PREFIX="${DOCKERGRAPH_SWARM_PREFIX:-dgswarm}"
readonly SUBNET="${DOCKERGRAPH_SWARM_SUBNET:-10.77.0}"
readonly NODES=(1 2 3)
readonly BRIDGE="${PREFIX}br0"
readonly LOCKFILE="/tmp/$PREFIX.lock"
readonly ENGINE_SCRIPT="$(dirname -- "$(realpath -- "${BASH_SOURCE[0]}")")/engine.sh"
readonly BASE_IMAGE="dockergraph/busybox:latest"
readonly UPDATE_REPO="dockergraph/busybox"
readonly UPDATE_TAG="v2"
readonly READY_TIMEOUT=90

[[ $PREFIX =~ ^[a-z][a-z0-9]{0,9}$ ]] || {
  echo "swarm: DOCKERGRAPH_SWARM_PREFIX must be 1-10 lowercase letters or digits" >&2
  exit 2
}
[[ $SUBNET =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || {
  echo "swarm: DOCKERGRAPH_SWARM_SUBNET must be three octets, e.g. 10.77.0" >&2
  exit 2
}

log() { printf 'swarm: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
}

node_dir() { printf '/tmp/%s%s' "$PREFIX" "$1"; }
node_ns() { printf '%s%s' "$PREFIX" "$1"; }
node_host() { printf '%s-node%s' "$PREFIX" "$1"; }
node_addr() { printf '%s.%s' "$SUBNET" "$(($1 + 1))"; }
node_sock() { printf '%s/docker.sock' "$(node_dir "$1")"; }
veth_host() { printf '%sv%s' "$PREFIX" "$1"; }
veth_node() { printf '%sp%s' "$PREFIX" "$1"; }

# engine I ARGS...: scripts/engine.sh for node I.
engine() {
  local i=$1
  shift
  DOCKERGRAPH_ENGINE_DIR="$(node_dir "$i")" DOCKERGRAPH_ENGINE_NETNS="$(node_ns "$i")" \
    DOCKERGRAPH_ENGINE_HOSTNAME="$(node_host "$i")" bash "$ENGINE_SCRIPT" "$@"
}

# api I METHOD PATH [JSON]: the body on stdout; fails (body on stderr) unless 2xx.
api() {
  local i=$1 method=$2 path=$3 body=${4:-} out code
  local -a data=()
  [[ -z $body ]] || data=(-H 'Content-Type: application/json' --data-binary "$body")
  out=$(mktemp)
  code=$(curl -sS --unix-socket "$(node_sock "$i")" --max-time 60 -o "$out" \
    -w '%{http_code}' -X "$method" "${data[@]}" "http://docker$path") || code=000
  if [[ $code != 2* ]]; then
    log "node $i: $method $path -> HTTP $code: $(head -c 1000 "$out")"
    rm -f "$out"
    return 1
  fi
  cat "$out"
  rm -f "$out"
}

ping_node() {
  [[ -S $(node_sock "$1") ]] &&
    [[ $(curl -sS --unix-socket "$(node_sock "$1")" --max-time 3 http://docker/_ping 2>/dev/null) == OK ]]
}

# ready_nodes: how many nodes the manager reports Ready and active.
ready_nodes() {
  local nodes
  nodes=$(api 1 GET /nodes 2>/dev/null) || {
    echo 0
    return
  }
  grep -o '"State":"ready"' <<<"$nodes" | wc -l
}

swarm_up() {
  local i
  for i in "${NODES[@]}"; do
    ping_node "$i" || return 1
  done
  [[ $(ready_nodes) -eq ${#NODES[@]} ]]
}

lock() {
  exec 9>>"$LOCKFILE"
  flock -w 600 9 || die "timed out waiting for the lock $LOCKFILE"
}

print_env() {
  local i sockets=()
  for i in "${NODES[@]}"; do
    sockets+=("unix://$(node_sock "$i")")
  done
  printf 'export DOCKERGRAPH_SWARM_MANAGER=%s\n' "${sockets[0]}"
  local IFS=,
  printf 'export DOCKERGRAPH_SWARM_NODES=%s\n' "${sockets[*]}"
}

# ensure_update_tag I: the second tag of the base image, for rolling updates.
ensure_update_tag() {
  api "$1" POST "/images/$BASE_IMAGE/tag?repo=$UPDATE_REPO&tag=$UPDATE_TAG" >/dev/null ||
    die "node $1: cannot tag $BASE_IMAGE as $UPDATE_REPO:$UPDATE_TAG"
}

# ensure_link I: namespace of node I, linked to the bridge with its address.
ensure_link() {
  local i=$1 ns host node
  ns=$(node_ns "$i")
  host=$(veth_host "$i")
  node=$(veth_node "$i")
  [[ -e /var/run/netns/$ns ]] || ip netns add "$ns" || die "ip netns add $ns failed"
  ip -n "$ns" link set lo up
  if ! ip -n "$ns" -o addr show dev "$node" 2>/dev/null | grep -q " $(node_addr "$i")/24 "; then
    ip link delete "$host" 2>/dev/null || true
    ip link add "$host" type veth peer name "$node" || die "cannot create veth $host"
    ip link set "$node" netns "$ns"
    ip link set "$host" master "$BRIDGE"
    ip link set "$host" up
    ip -n "$ns" addr add "$(node_addr "$i")/24" dev "$node"
    ip -n "$ns" link set "$node" up
  fi
}

stop_all() {
  local i
  for i in "${NODES[@]}"; do
    if ping_node "$i"; then
      # Leaving first keeps the other nodes from waiting on a manager that vanished.
      api "$i" POST '/swarm/leave?force=1' >/dev/null 2>&1 || true
    fi
  done
  for i in "${NODES[@]}"; do
    if [[ -e $(node_dir "$i") || -e /var/run/netns/$(node_ns "$i") ]]; then
      engine "$i" stop || log "warning: stopping node $i failed"
    fi
    # The swarm state lives in the data-root: a node started again must not rejoin an old swarm.
    rm -rf -- "$(node_dir "$i")" 2>/dev/null || log "warning: could not remove $(node_dir "$i")"
    ip link delete "$(veth_host "$i")" 2>/dev/null || true
  done
  ip link delete "$BRIDGE" 2>/dev/null || true
}

cmd_start() {
  [[ $EUID -eq 0 ]] || die "must run as root (engines, namespaces and links need it)"
  lock
  local i
  if swarm_up; then
    log "reusing the swarm already running"
    for i in "${NODES[@]}"; do
      ensure_update_tag "$i"
    done
    print_env
    return 0
  fi
  stop_all
  log "creating bridge $BRIDGE and three nodes on $SUBNET.0/24"
  ip link add "$BRIDGE" type bridge || die "cannot create bridge $BRIDGE"
  ip link set "$BRIDGE" up
  for i in "${NODES[@]}"; do
    ensure_link "$i"
  done
  local -a pids=()
  for i in "${NODES[@]}"; do
    engine "$i" start >/dev/null &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || {
      stop_all
      die "node $((i + 1)) did not start"
    }
  done
  local manager
  manager=$(node_addr 1)
  log "initialising the swarm on node 1 ($manager)"
  api 1 POST /swarm/init "{\"ListenAddr\":\"$manager:2377\",\"AdvertiseAddr\":\"$manager:2377\"}" \
    >/dev/null || die "swarm init failed"
  local token
  token=$(api 1 GET /swarm | grep -o '"Worker":"[^"]*"' | cut -d'"' -f4)
  [[ -n $token ]] || die "no worker join token"
  for i in "${NODES[@]:1}"; do
    log "node $i joins as a worker"
    api "$i" POST /swarm/join "{\"ListenAddr\":\"$(node_addr "$i"):2377\",\"AdvertiseAddr\":\"$(node_addr "$i")\",\"RemoteAddrs\":[\"$manager:2377\"],\"JoinToken\":\"$token\"}" \
      >/dev/null || die "node $i could not join"
  done
  local deadline=$((SECONDS + READY_TIMEOUT))
  until [[ $(ready_nodes) -eq ${#NODES[@]} ]]; do
    ((SECONDS < deadline)) || die "nodes not Ready within ${READY_TIMEOUT}s"
    sleep 0.2
  done
  for i in "${NODES[@]}"; do
    ensure_update_tag "$i"
  done
  log "swarm ready: 1 manager, $((${#NODES[@]} - 1)) workers"
  print_env
}

cmd_stop() {
  [[ $EUID -eq 0 ]] || die "must run as root"
  lock
  stop_all
  log "stopped"
}

cmd_status() {
  if swarm_up; then
    echo running
  else
    echo stopped
    return 1
  fi
}

case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
env) print_env ;;
-h | --help | help) usage ;;
*)
  usage
  exit 2
  ;;
esac
