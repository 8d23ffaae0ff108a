#!/usr/bin/env bash
# Private Docker engine for dockergraph development and tests.
#
# Runs Debian's dockerd 20.10 (API 1.41) in its own network namespace with its own
# socket, data-root and exec-root, so it never touches another engine on the machine.
#
#   scripts/engine.sh start           start (or reuse) the engine; prints `export DOCKER_HOST=...`
#   scripts/engine.sh stop            stop everything this script started (idempotent)
#   scripts/engine.sh status          prints "running" (exit 0) or "stopped" (exit 1)
#   scripts/engine.sh env             prints `export DOCKER_HOST=...` (eval-able)
#   scripts/engine.sh registry-start  local registry at 127.0.0.1:5000 inside the engine's netns
#   scripts/engine.sh registry-stop   stop that registry
#   scripts/engine.sh auth-registry-start
#                                     registry at 127.0.0.1:5001 inside the engine's netns that
#                                     asks for credentials (htpasswd, user "dockergraph", a
#                                     password made at its start); prints address=, username=
#                                     and password= lines
#   scripts/engine.sh auth-registry-stop
#                                     stop that registry
#
# With --json after the command, stdout is exactly one JSON line for programs to read
# (src/docker/embedded-engine.ts): start {"dockerHost","started","tlsHost"?}, env
# {"dockerHost","tlsHost"?}, status {"running"} (exit 0 either way), registry-start {"address"},
# auth-registry-start {"address","username","password"}, the stop commands {"stopped":true}.
#
# Environment: DOCKERGRAPH_ENGINE_DIR (default /tmp/dockergraph-engine; keep it short, the
# unix socket paths below it are limited to 107 bytes), DOCKERGRAPH_ENGINE_NETNS (default
# dockergraph), DOCKERGRAPH_ENGINE_START_TIMEOUT (seconds, default 60),
# DOCKERGRAPH_ENGINE_INSTALL (default 1: as root, apt-get install what is missing; 0: never
# install, name the missing packages and fail).
#
# Each instance has a trust key of its own ($DIR/key.json, set in $DIR/daemon.json), so each
# reports its own engine ID (GET /info "ID").
#
# DOCKERGRAPH_ENGINE_HOSTNAME: when set at `start`, dockerd runs in a UTS namespace of its own
# with that host name (swarm nodes report it as theirs; see scripts/swarm.sh).
#
# DOCKERGRAPH_ENGINE_TLS_DIR: when set at `start`, the engine also listens on
# tcp://$DOCKERGRAPH_ENGINE_TLS_ADDRESS:2376 (default 10.231.0.2) with --tlsverify, using ca.pem,
# server-cert.pem and server-key.pem of that folder, and a veth pair links the engine's netns to
# the host (DOCKERGRAPH_ENGINE_TLS_HOST_ADDRESS, default 10.231.0.1, on the host side of a /30),
# so that clients on the host reach it; `start` prints DOCKERGRAPH_ENGINE_TLS_HOST too, and
# `stop` removes the veth pair. Meant for an instance of its own (DOCKERGRAPH_ENGINE_DIR and
# DOCKERGRAPH_ENGINE_NETNS), as the tests use it.
# Progress goes to stderr; stdout only carries useful output.
set -euo pipefail

export PATH="${PATH:-/usr/bin:/bin}:/usr/local/sbin:/usr/sbin:/sbin"

DIR="${DOCKERGRAPH_ENGINE_DIR:-/tmp/dockergraph-engine}"
DIR="$(realpath -m -- "$DIR")"
readonly DIR
readonly NS="${DOCKERGRAPH_ENGINE_NETNS:-dockergraph}"
readonly START_TIMEOUT="${DOCKERGRAPH_ENGINE_START_TIMEOUT:-60}"
readonly INSTALL="${DOCKERGRAPH_ENGINE_INSTALL:-1}"
JSON=0

TLS_DIR="${DOCKERGRAPH_ENGINE_TLS_DIR:-}"
if [[ -n $TLS_DIR ]]; then
  TLS_DIR="$(realpath -m -- "$TLS_DIR")"
fi
readonly TLS_DIR
readonly HOSTNAME_OF_ENGINE="${DOCKERGRAPH_ENGINE_HOSTNAME:-}"
readonly TLS_ADDRESS="${DOCKERGRAPH_ENGINE_TLS_ADDRESS:-10.231.0.2}"
readonly TLS_HOST_ADDRESS="${DOCKERGRAPH_ENGINE_TLS_HOST_ADDRESS:-10.231.0.1}"
readonly TLS_PORT=2376
# Interface names are limited to 15 bytes: named after a hash of the netns.
VETH_ID="$(printf '%s' "$NS" | md5sum | cut -c1-8)"
readonly VETH_HOST="dgh$VETH_ID"
readonly VETH_ENGINE="dge$VETH_ID"

readonly SOCK="$DIR/docker.sock"
readonly PIDFILE="$DIR/docker.pid"
readonly LOG="$DIR/dockerd.log"
readonly DATA_ROOT="$DIR/data"
readonly DAEMON_JSON="$DIR/daemon.json"
readonly LOCKFILE="$DIR/engine.lock"
readonly NETNS_PATH="/var/run/netns/$NS"
readonly CGROUP_PARENT="/$NS"

readonly REGISTRY_ADDR="127.0.0.1:5000"
readonly REGISTRY_CONFIG="$DIR/registry.yml"
readonly REGISTRY_PIDFILE="$DIR/registry.pid"
readonly REGISTRY_LOG="$DIR/registry.log"
readonly REGISTRY_ROOT="$DIR/registry"

readonly AUTH_REGISTRY_ADDR="127.0.0.1:5001"
readonly AUTH_REGISTRY_USER="dockergraph"
readonly AUTH_REGISTRY_CONFIG="$DIR/registry-auth.yml"
readonly AUTH_REGISTRY_PIDFILE="$DIR/registry-auth.pid"
readonly AUTH_REGISTRY_LOG="$DIR/registry-auth.log"
readonly AUTH_REGISTRY_ROOT="$DIR/registry-auth"
readonly AUTH_REGISTRY_HTPASSWD="$DIR/registry-auth.htpasswd"
readonly AUTH_REGISTRY_PASSWORD_FILE="$DIR/registry-auth.password"

readonly BASE_REPO="dockergraph/busybox"
readonly BASE_TAG="latest"
readonly BASE_IMAGE="$BASE_REPO:$BASE_TAG"
readonly IMAGE_PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

readonly APT_PACKAGES=(docker.io busybox-static iptables docker-registry iproute2 curl)
readonly INSTALL_HINT="apt-get install -y ${APT_PACKAGES[*]} (as root)"

DOCKERD=/usr/sbin/dockerd
BUSYBOX=/usr/bin/busybox
REGISTRY_BIN=/usr/bin/docker-registry

log() { printf 'engine: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
}

is_root() { [[ $EUID -eq 0 ]]; }

# ---------------------------------------------------------------------------------------------
# dependencies

busybox_is_static() {
  [[ -x $BUSYBOX ]] || return 1
  if command -v dpkg-query >/dev/null 2>&1 &&
    [[ $(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null) == "install ok installed" ]]; then
    return 0
  fi
  # ldd exits non-zero ("not a dynamic executable") for a static binary.
  ! ldd "$BUSYBOX" >/dev/null 2>&1
}

missing_packages() {
  local -a missing=()
  if [[ ! -x $DOCKERD ]] || ! command -v containerd >/dev/null || ! command -v runc >/dev/null ||
    ! command -v docker-proxy >/dev/null; then
    missing+=(docker.io)
  fi
  busybox_is_static || missing+=(busybox-static)
  command -v iptables >/dev/null || missing+=(iptables)
  [[ -x $REGISTRY_BIN ]] || missing+=(docker-registry)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v curl >/dev/null || missing+=(curl)
  command -v nsenter >/dev/null && command -v flock >/dev/null && command -v setsid >/dev/null ||
    missing+=(util-linux)
  printf '%s\n' "${missing[@]}"
}

ensure_deps() {
  local -a missing
  mapfile -t missing < <(missing_packages)
  if [[ ${#missing[@]} -eq 0 || -z ${missing[0]} ]]; then
    return 0
  fi
  if [[ $INSTALL != 1 ]] || ! is_root || ! command -v apt-get >/dev/null; then
    die "missing packages: ${missing[*]}; install them with: $INSTALL_HINT"
  fi
  log "installing missing packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2 || die "apt-get update failed"
  apt-get install -y -q --no-install-recommends "${APT_PACKAGES[@]}" >&2 ||
    die "apt-get install failed; install manually: $INSTALL_HINT"
  mapfile -t missing < <(missing_packages)
  if [[ ${#missing[@]} -gt 0 && -n ${missing[0]} ]]; then
    die "still missing after apt-get install: ${missing[*]}"
  fi
}

require_root() {
  is_root || die "must run as root (dockerd, network namespaces and mounts need it)"
}

# ---------------------------------------------------------------------------------------------
# processes

# alive PID: the process exists and is not a zombie.
alive() {
  local pid=$1 stat
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  read -r stat 2>/dev/null <"/proc/$pid/stat" || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# read_pidfile FILE: the pid in FILE (dockerd writes it without a trailing newline).
read_pidfile() {
  local pid=""
  read -r pid 2>/dev/null <"$1" || [[ -n $pid ]] || return 1
  printf '%s\n' "$pid"
}

# cmdline_of PID: the process's arguments joined by spaces (no fork).
cmdline_of() {
  local -a args=()
  mapfile -d '' args 2>/dev/null <"/proc/$1/cmdline" || return 1
  printf '%s' "${args[*]}"
}

# wait_gone SECONDS PID...: wait until none of the processes is alive.
wait_gone() {
  local seconds=$1 pid i any
  shift
  for ((i = 0; i < seconds * 10; i++)); do
    any=0
    for pid in "$@"; do
      if alive "$pid"; then
        any=1
        break
      fi
    done
    [[ $any -eq 0 ]] && return 0
    sleep 0.1
  done
  return 1
}

# terminate SECONDS PID...: TERM, wait, then KILL what is left (and return 1 if KILL was needed).
terminate() {
  local seconds=$1
  shift
  [[ $# -gt 0 ]] || return 0
  kill -TERM "$@" 2>/dev/null || true
  wait_gone "$seconds" "$@" && return 0
  log "killing processes that ignored TERM for ${seconds}s: $*"
  kill -KILL "$@" 2>/dev/null || true
  wait_gone 10 "$@" || log "warning: processes still alive: $*"
  return 1
}

netns_inode() {
  [[ -e $NETNS_PATH ]] || return 1
  stat -L -c %i "$NETNS_PATH" 2>/dev/null
}

# scan_procs: fills DOCKERD_PIDS (our dockerd), HELPER_PIDS (our containerd and its shims),
# PROXY_PIDS (docker-proxy in our netns) and CONTAINER_PIDS (processes in our cgroup parent).
scan_procs() {
  DOCKERD_PIDS=()
  HELPER_PIDS=()
  PROXY_PIDS=()
  CONTAINER_PIDS=()
  local ns_ino="" proc pid cmd comm link
  ns_ino=$(netns_inode) || ns_ino=""
  for proc in /proc/[0-9]*; do
    pid=${proc#/proc/}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    cmd=$(cmdline_of "$pid") || continue
    [[ -n $cmd ]] || continue
    read -r comm 2>/dev/null <"$proc/comm" || continue
    if [[ $comm == dockerd && $cmd == *"unix://$SOCK"* ]]; then
      DOCKERD_PIDS+=("$pid")
    elif [[ $cmd == *"$DIR/exec-"* && $comm == containerd* ]]; then
      HELPER_PIDS+=("$pid")
    elif [[ $comm == docker-proxy && -n $ns_ino ]]; then
      link=$(readlink "$proc/ns/net" 2>/dev/null) || continue
      if [[ $link == "net:[$ns_ino]" ]]; then
        PROXY_PIDS+=("$pid")
      fi
    fi
  done
  local procs
  shopt -s nullglob
  for procs in /sys/fs/cgroup"$CGROUP_PARENT"/*/cgroup.procs \
    /sys/fs/cgroup/*"$CGROUP_PARENT"/*/cgroup.procs; do
    while read -r pid; do
      if [[ -n $pid ]]; then
        CONTAINER_PIDS+=("$pid")
      fi
    done 2>/dev/null <"$procs" || true
  done
  shopt -u nullglob
  if [[ ${#CONTAINER_PIDS[@]} -gt 0 ]]; then
    mapfile -t CONTAINER_PIDS < <(printf '%s\n' "${CONTAINER_PIDS[@]}" | sort -un)
  fi
}

dockerd_pid() {
  local pid
  pid=$(read_pidfile "$PIDFILE") || return 1
  alive "$pid" || return 1
  [[ $(cmdline_of "$pid") == *"unix://$SOCK"* ]] || return 1
  printf '%s\n' "$pid"
}

# ---------------------------------------------------------------------------------------------
# mounts, cgroups, netns

# unmount_under PREFIX: unmount every mount point strictly below PREFIX, deepest first.
unmount_under() {
  local prefix=$1 pass mp
  local -a mps
  for pass in 1 2 3 4 5; do
    mps=()
    while read -r _ _ _ _ mp _; do
      if [[ $mp == "$prefix"/* ]]; then
        mps+=("$mp")
      fi
    done </proc/self/mountinfo
    [[ ${#mps[@]} -eq 0 ]] && return 0
    while read -r mp; do
      [[ -n $mp ]] || continue
      umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null ||
        { [[ $pass -eq 5 ]] && log "warning: could not unmount $mp"; }
    done < <(printf '%s\n' "${mps[@]}" | awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2-)
  done
}

# unmount_self_bind DIR: dockerd bind-mounts its data-root onto itself (to make it private) and
# leaves that behind when killed -9; undo it, but never touch a real filesystem mounted there.
unmount_self_bind() {
  local dir=$1 root mp
  while read -r _ _ _ root mp _; do
    if [[ $mp == "$dir" && $root == "$dir" ]]; then
      umount "$dir" 2>/dev/null || umount -l "$dir" 2>/dev/null ||
        log "warning: could not unmount $dir"
    fi
  done </proc/self/mountinfo
}

remove_cgroups() {
  local base d
  shopt -s nullglob
  for base in /sys/fs/cgroup"$CGROUP_PARENT" /sys/fs/cgroup/*"$CGROUP_PARENT"; do
    for d in "$base"/*/; do
      rmdir "$d" 2>/dev/null || true
    done
    rmdir "$base" 2>/dev/null || true
  done
  shopt -u nullglob
}

netns_ok() {
  [[ -e $NETNS_PATH ]] && nsenter --net="$NETNS_PATH" true 2>/dev/null
}

ensure_netns() {
  if ! netns_ok; then
    if [[ -e $NETNS_PATH ]]; then
      ip netns delete "$NS" 2>/dev/null || { umount "$NETNS_PATH" 2>/dev/null || true; }
      rm -f "$NETNS_PATH"
    fi
    log "creating network namespace $NS"
    ip netns add "$NS" || die "ip netns add $NS failed"
  fi
  ip -n "$NS" link set lo up || die "cannot bring lo up in netns $NS"
}

delete_netns() {
  if [[ -e $NETNS_PATH ]]; then
    ip netns delete "$NS" 2>/dev/null || { umount "$NETNS_PATH" 2>/dev/null || true; }
    rm -f "$NETNS_PATH" 2>/dev/null || true
  fi
}

in_netns() { nsenter --net="$NETNS_PATH" "$@"; }

# veth_ok: the veth pair exists, up, with its addresses on both sides.
veth_ok() {
  ip -o addr show dev "$VETH_HOST" 2>/dev/null | grep -q " $TLS_HOST_ADDRESS/30 " &&
    ip -n "$NS" -o addr show dev "$VETH_ENGINE" 2>/dev/null | grep -q " $TLS_ADDRESS/30 " &&
    [[ $(cat "/sys/class/net/$VETH_HOST/operstate" 2>/dev/null) == up ]]
}

# ensure_veth: a veth pair from the host (TLS_HOST_ADDRESS/30) into the netns (TLS_ADDRESS/30).
ensure_veth() {
  veth_ok && return 0
  delete_veth
  log "linking netns $NS to the host: $TLS_HOST_ADDRESS/30 ($VETH_HOST) <-> $TLS_ADDRESS/30"
  ip link add "$VETH_HOST" type veth peer name "$VETH_ENGINE" || die "cannot create veth $VETH_HOST"
  if ! { ip link set "$VETH_ENGINE" netns "$NS" &&
    ip addr add "$TLS_HOST_ADDRESS/30" dev "$VETH_HOST" &&
    ip link set "$VETH_HOST" up &&
    ip -n "$NS" addr add "$TLS_ADDRESS/30" dev "$VETH_ENGINE" &&
    ip -n "$NS" link set "$VETH_ENGINE" up; }; then
    delete_veth
    die "cannot set up veth $VETH_HOST between the host and netns $NS"
  fi
}

# delete_veth: removing one end of a veth pair removes both.
delete_veth() {
  if [[ -e /sys/class/net/$VETH_HOST ]]; then
    ip link delete "$VETH_HOST" 2>/dev/null || true
  fi
  if netns_ok; then
    ip -n "$NS" link delete "$VETH_ENGINE" 2>/dev/null || true
  fi
}

# tls_port_open: the TLS listener accepts connections from the host.
tls_port_open() {
  timeout 3 bash -c "exec 3<>/dev/tcp/$TLS_ADDRESS/$TLS_PORT" 2>/dev/null
}

# ---------------------------------------------------------------------------------------------
# engine API helpers (curl on the unix socket, never the docker CLI)

ping_engine() {
  [[ -S $SOCK ]] || return 1
  [[ $(curl -sS --unix-socket "$SOCK" --max-time 3 http://docker/_ping 2>/dev/null) == OK ]]
}

# api METHOD PATH [curl args...]: body on stdout; fails (with the body on stderr) unless 2xx.
api() {
  local method=$1 path=$2 out code
  shift 2
  out=$(mktemp)
  code=$(curl -sS --unix-socket "$SOCK" --max-time 300 -o "$out" -w '%{http_code}' \
    -X "$method" "$@" "http://docker$path") || code=000
  if [[ $code != 2* ]]; then
    log "$method $path -> HTTP $code: $(head -c 2000 "$out")"
    rm -f "$out"
    return 1
  fi
  cat "$out"
  rm -f "$out"
}

# api_json METHOD PATH JSON
api_json() { api "$1" "$2" -H 'Content-Type: application/json' --data-binary "$3"; }

# api_stream METHOD PATH [curl args...]: like api, but the body is a JSON progress stream;
# fails if the stream reports an error.
api_stream() {
  local body
  body=$(api "$@") || return 1
  if grep -q '"error' <<<"$body"; then
    log "$1 $2 reported: $(grep '"error' <<<"$body" | head -c 2000)"
    return 1
  fi
  printf '%s\n' "$body"
}

http_code() {
  curl -sS --unix-socket "$SOCK" --max-time 30 -o /dev/null -w '%{http_code}' "http://docker$1" ||
    true
}

json_id() { sed -n 's/.*"Id":"\([^"]*\)".*/\1/p' | head -n1; }

urlencode() {
  local s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
    [a-zA-Z0-9.~_-]) out+=$c ;;
    *)
      printf -v c '%%%02X' "'$c"
      out+=$c
      ;;
    esac
  done
  printf '%s' "$out"
}

# run_check CREATE_JSON EXPECTED_OUTPUT: run a container to completion, check exit 0 and output.
run_check() {
  local spec=$1 expected=$2 id status logs
  id=$(api_json POST /containers/create "$spec" | json_id) || return 1
  [[ -n $id ]] || return 1
  status=fail
  logs=""
  if api POST "/containers/$id/start" >/dev/null &&
    status=$(api POST "/containers/$id/wait" --max-time 60); then
    logs=$(api GET "/containers/$id/logs?stdout=1&stderr=1" | tr -d '\000-\010') || true
  fi
  api DELETE "/containers/$id?force=1" >/dev/null || true
  if [[ $status != *'"StatusCode":0'* || $logs != *"$expected"* ]]; then
    log "container $spec: status=$status logs=$logs"
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# base image

build_rootfs() {
  local root=$1 applet
  mkdir -p "$root"/{bin,etc,root,tmp,home,var/www,usr}
  chmod 1777 "$root/tmp"
  chmod 700 "$root/root"
  cp "$BUSYBOX" "$root/bin/busybox"
  chmod 755 "$root/bin/busybox"
  while read -r applet; do
    [[ -n $applet && $applet != busybox && $applet != */* ]] || continue
    ln -sf busybox "$root/bin/$applet"
  done < <("$BUSYBOX" --list)
  ln -s bin "$root/sbin"
  ln -s ../bin "$root/usr/bin"
  ln -s ../bin "$root/usr/sbin"
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/home:/bin/false' \
    >"$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$root/etc/group"
  local required
  for required in sh sleep echo cat httpd top ls env; do
    [[ -L $root/bin/$required ]] || die "busybox at $BUSYBOX has no '$required' applet"
  done
}

ensure_base_image() {
  if [[ $(http_code "/images/$BASE_IMAGE/json") == 200 ]]; then
    return 0
  fi
  log "importing base image $BASE_IMAGE from $BUSYBOX"
  local work query change
  work=$(mktemp -d "$DIR/image.XXXXXX")
  build_rootfs "$work/rootfs"
  tar --numeric-owner --owner=0 --group=0 -C "$work/rootfs" -cf "$work/rootfs.tar" .
  query="fromSrc=-&repo=$(urlencode "$BASE_REPO")&tag=$BASE_TAG"
  query+="&message=$(urlencode "busybox-static rootfs for dockergraph tests")"
  for change in 'CMD ["sh"]' "ENV PATH=$IMAGE_PATH" 'WORKDIR /' \
    'LABEL org.dockergraph.base-image=busybox'; do
    query+="&changes=$(urlencode "$change")"
  done
  if ! api_stream POST "/images/create?$query" -H 'Content-Type: application/x-tar' \
    --data-binary "@$work/rootfs.tar" >/dev/null; then
    rm -rf "$work"
    die "importing $BASE_IMAGE failed"
  fi
  rm -rf "$work"
  run_check '{"Image":"'"$BASE_IMAGE"'","Cmd":["sh","-c","echo hi"]}' hi ||
    die "a container from $BASE_IMAGE could not run sh -c 'echo hi'"
  log "base image $BASE_IMAGE ready"
}

# ---------------------------------------------------------------------------------------------
# engine lifecycle

lock() {
  mkdir -p "$DIR"
  exec 9>>"$LOCKFILE"
  flock -w 300 9 || die "timed out waiting for the lock $LOCKFILE"
}

# json_string TEXT: TEXT as a JSON string (paths may hold quotes or backslashes).
json_string() {
  local text=${1//\\/\\\\}
  text=${text//\"/\\\"}
  printf '"%s"' "$text"
}

# print_env [STARTED]: where the engine answers; STARTED (true/false) only for `start`.
print_env() {
  if [[ $JSON -eq 1 ]]; then
    printf '{"dockerHost":%s' "$(json_string "unix://$SOCK")"
    [[ -z ${1:-} ]] || printf ',"started":%s' "$1"
    [[ -z $TLS_DIR ]] || printf ',"tlsHost":%s' "$(json_string "tcp://$TLS_ADDRESS:$TLS_PORT")"
    printf '}\n'
    return 0
  fi
  printf 'export DOCKER_HOST=unix://%s\n' "$SOCK"
  if [[ -n $TLS_DIR ]]; then
    printf 'export DOCKERGRAPH_ENGINE_TLS_HOST=tcp://%s:%s\n' "$TLS_ADDRESS" "$TLS_PORT"
  fi
}

# print_stopped: what the stop commands report with --json.
print_stopped() {
  if [[ $JSON -eq 1 ]]; then
    printf '{"stopped":true}\n'
  fi
}

# kill_running_containers: SIGKILL every running or paused container through the API, so that
# dockerd's own shutdown does not wait each container's stop timeout (10 s by default).
kill_running_containers() {
  local id
  local -a ids=()
  ping_engine || return 0
  mapfile -t ids < <(api GET /containers/json 2>/dev/null | grep -o '"Id":"[0-9a-f]*"' |
    cut -d'"' -f4 || true)
  [[ ${#ids[@]} -gt 0 && -n ${ids[0]} ]] || return 0
  log "killing ${#ids[@]} running container(s)"
  for id in "${ids[@]}"; do
    api POST "/containers/$id/kill" >/dev/null 2>&1 ||
      { api POST "/containers/$id/unpause" >/dev/null 2>&1 &&
        api POST "/containers/$id/kill" >/dev/null 2>&1; } || true
  done
}

# stop_engine: stop our dockerd and everything it left behind; keeps data-root, netns, registries.
stop_engine() {
  local pid graceful=0
  scan_procs
  if pid=$(dockerd_pid) && [[ " ${DOCKERD_PIDS[*]} " != *" $pid "* ]]; then
    DOCKERD_PIDS+=("$pid")
  fi
  if [[ ${#DOCKERD_PIDS[@]} -gt 0 ]]; then
    kill_running_containers
    log "stopping dockerd (pid ${DOCKERD_PIDS[*]})"
    if terminate 45 "${DOCKERD_PIDS[@]}"; then
      graceful=1
    fi
    scan_procs
  fi
  if [[ $graceful -eq 1 && ${#HELPER_PIDS[@]} -gt 0 ]]; then
    # dockerd stops its containerd itself; give it a moment before forcing anything.
    wait_gone 10 "${HELPER_PIDS[@]}" || true
    scan_procs
  fi
  if [[ ${#CONTAINER_PIDS[@]} -gt 0 ]]; then
    log "killing leftover container processes: ${CONTAINER_PIDS[*]}"
    kill -KILL "${CONTAINER_PIDS[@]}" 2>/dev/null || true
    wait_gone 10 "${CONTAINER_PIDS[@]}" || true
  fi
  if [[ ${#HELPER_PIDS[@]} -gt 0 || ${#PROXY_PIDS[@]} -gt 0 ]]; then
    log "stopping leftover containerd/shim/proxy processes: ${HELPER_PIDS[*]} ${PROXY_PIDS[*]}"
    terminate 10 "${HELPER_PIDS[@]}" "${PROXY_PIDS[@]}" || true
  fi
  # Nothing of ours runs any more: every exec-root is stale, and so is any mount left below
  # the data-root (overlay "merged" dirs of containers killed with a dockerd -9).
  local d
  shopt -s nullglob
  for d in "$DIR"/exec-*/; do
    d=${d%/}
    unmount_under "$d"
    rm -rf "$d" 2>/dev/null || log "warning: could not remove $d"
  done
  shopt -u nullglob
  unmount_under "$DATA_ROOT"
  unmount_self_bind "$DATA_ROOT"
  remove_cgroups
  rm -f "$PIDFILE" "$SOCK"
}

start_engine() {
  ensure_netns
  local -a tls_args=()
  if [[ -n $TLS_DIR ]]; then
    local file
    for file in ca.pem server-cert.pem server-key.pem; do
      [[ -r $TLS_DIR/$file ]] || die "DOCKERGRAPH_ENGINE_TLS_DIR has no readable $file: $TLS_DIR"
    done
    ensure_veth
    tls_args=(--host "tcp://$TLS_ADDRESS:$TLS_PORT" --tlsverify
      --tlscacert "$TLS_DIR/ca.pem" --tlscert "$TLS_DIR/server-cert.pem"
      --tlskey "$TLS_DIR/server-key.pem")
  fi
  mkdir -p "$DATA_ROOT"
  # dockerd 20.10 derives its engine ID (GET /info "ID") from a trust key that defaults to
  # /etc/docker/key.json, the same file for every engine on the machine: a key of the instance's
  # own gives each instance its own ID (a config-file key; the flag is gone from this dockerd).
  if [[ ! -f $DAEMON_JSON || $(<"$DAEMON_JSON") == '{}' ]]; then
    printf '{"deprecated-key-path": %s}\n' "$(json_string "$DIR/key.json")" >"$DAEMON_JSON"
  fi
  local exec_root n=0 launcher
  exec_root="$DIR/exec-$(date +%s)"
  while [[ -e $exec_root ]]; do
    n=$((n + 1))
    exec_root="$DIR/exec-$(date +%s)-$n"
  done
  mkdir -p "$exec_root"
  ((${#exec_root} + 30 < 108)) || die "state folder path too long for unix sockets: $DIR"
  if [[ -f $LOG ]]; then
    mv -f "$LOG" "$LOG.prev"
  fi
  log "starting dockerd (exec-root $exec_root, log $LOG)"
  # setsid: own session, so Ctrl-C in the caller's terminal or the caller exiting leaves it be.
  # nsenter --net (not `ip netns exec`, which remounts /sys and hides the cgroup mounts).
  local -a uts=()
  if [[ -n $HOSTNAME_OF_ENGINE ]]; then
    # A UTS namespace of its own: `hostname` there names this engine only.
    uts=(unshare --uts sh -c 'hostname "$0" && exec "$@"' "$HOSTNAME_OF_ENGINE")
  fi
  setsid nsenter --net="$NETNS_PATH" "${uts[@]}" "$DOCKERD" \
    --host "unix://$SOCK" \
    --data-root "$DATA_ROOT" \
    --exec-root "$exec_root" \
    --pidfile "$PIDFILE" \
    --config-file "$DAEMON_JSON" \
    --exec-opt native.cgroupdriver=cgroupfs \
    --cgroup-parent "$CGROUP_PARENT" \
    --shutdown-timeout 5 \
    "${tls_args[@]}" \
    </dev/null >>"$LOG" 2>&1 9>&- &
  launcher=$!
  local deadline=$((SECONDS + START_TIMEOUT))
  until ping_engine; do
    if ((SECONDS >= deadline)); then
      log "dockerd did not answer /_ping within ${START_TIMEOUT}s; last lines of $LOG:"
      tail -n 40 "$LOG" >&2 || true
      stop_engine
      die "dockerd failed to start"
    fi
    if ! alive "$launcher" && ! dockerd_pid >/dev/null; then
      log "dockerd exited; last lines of $LOG:"
      tail -n 40 "$LOG" >&2 || true
      stop_engine
      die "dockerd failed to start"
    fi
    sleep 0.2
  done
  if [[ -n $TLS_DIR ]]; then
    until tls_port_open; do
      if ((SECONDS >= deadline)); then
        stop_engine
        die "dockerd answers on $SOCK but not on $TLS_ADDRESS:$TLS_PORT (TLS)"
      fi
      sleep 0.2
    done
    log "dockerd listens on tcp://$TLS_ADDRESS:$TLS_PORT with --tlsverify"
  fi
  log "dockerd is up (pid $(dockerd_pid || echo '?'))"
}

cmd_start() {
  if ping_engine; then
    log "reusing the engine already answering on $SOCK"
    lock
    ensure_base_image
    print_env false
    return 0
  fi
  ensure_deps
  require_root
  lock
  local started=false
  if ! ping_engine; then
    started=true
    # Whatever is left (a dockerd killed -9, its containerd, stale pidfile/socket/exec-root)
    # must go first: a live old containerd holds the data-root's metadata lock.
    stop_engine
    start_engine
  else
    log "reusing the engine a concurrent start just brought up"
  fi
  ensure_base_image
  print_env "$started"
}

cmd_stop() {
  if ! is_root; then
    if ! ping_engine && [[ ! -e $NETNS_PATH ]]; then
      print_stopped
      return 0
    fi
    require_root
  fi
  lock
  stop_engine
  stop_registry
  stop_auth_registry
  delete_veth
  delete_netns
  log "stopped"
  print_stopped
}

cmd_status() {
  if ping_engine; then
    if [[ $JSON -eq 1 ]]; then echo '{"running":true}'; else echo running; fi
  elif [[ $JSON -eq 1 ]]; then
    echo '{"running":false}'
  else
    echo stopped
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# registries: an open one at 127.0.0.1:5000 and one behind htpasswd auth at 127.0.0.1:5001, both
# inside the engine's netns. dockerd talks plain http to registries on 127.0.0.0/8 by default.

# registry_process_pid PIDFILE CONFIG: the pid of the registry that serves CONFIG.
registry_process_pid() {
  local pid
  pid=$(read_pidfile "$1") || return 1
  alive "$pid" || return 1
  [[ $(cmdline_of "$pid") == *"$2"* ]] || return 1
  printf '%s\n' "$pid"
}

# registry_answers ADDR STATUS: GET /v2/ answers STATUS (200 open, 401 asking for credentials).
registry_answers() {
  local code
  netns_ok || return 1
  code=$(in_netns curl -sS --max-time 3 -o /dev/null -w '%{http_code}' "http://$1/v2/" \
    2>/dev/null) || return 1
  [[ $code == "$2" ]]
}

# write_registry_config CONFIG ADDR ROOT [HTPASSWD]: a registry config, with htpasswd auth when
# HTPASSWD is given.
write_registry_config() {
  local config=$1 addr=$2 root=$3 htpasswd=${4:-} auth="no auth"
  [[ -z $htpasswd ]] || auth="htpasswd auth"
  {
    cat <<EOF
# Written by scripts/engine.sh: local registry for dockergraph tests (plain http, $auth).
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $root
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: $addr
  secret: dockergraph-local-test-registry-${addr##*:}
EOF
    if [[ -n $htpasswd ]]; then
      cat <<EOF
auth:
  htpasswd:
    realm: dockergraph-test-registry
    path: $htpasswd
EOF
    fi
  } >"$config"
}

# stop_registry_process NAME PIDFILE CONFIG
stop_registry_process() {
  local pid
  if pid=$(registry_process_pid "$2" "$3"); then
    log "stopping $1 (pid $pid)"
    terminate 10 "$pid" || true
  fi
  rm -f "$2"
}

# launch_registry NAME ADDR CONFIG PIDFILE LOG STATUS: start a registry serving CONFIG and wait
# until /v2/ answers STATUS.
launch_registry() {
  local name=$1 addr=$2 config=$3 pidfile=$4 logfile=$5 status=$6
  log "starting $name at $addr inside netns $NS (log $logfile)"
  setsid nsenter --net="$NETNS_PATH" "$REGISTRY_BIN" serve "$config" \
    </dev/null >>"$logfile" 2>&1 9>&- &
  local pid=$! deadline=$((SECONDS + 30))
  echo "$pid" >"$pidfile"
  until registry_answers "$addr" "$status"; do
    if ((SECONDS >= deadline)) || ! alive "$pid"; then
      log "$name did not come up; last lines of $logfile:"
      tail -n 30 "$logfile" >&2 || true
      stop_registry_process "$name" "$pidfile" "$config"
      die "$name failed to start"
    fi
    sleep 0.1
  done
  registry_process_pid "$pidfile" "$config" >/dev/null || die "$name answers but pid $pid is not it"
  log "$name is up (pid $pid)"
}

registry_pid() { registry_process_pid "$REGISTRY_PIDFILE" "$REGISTRY_CONFIG"; }
registry_ping() { registry_answers "$REGISTRY_ADDR" 200; }
stop_registry() { stop_registry_process registry "$REGISTRY_PIDFILE" "$REGISTRY_CONFIG"; }

cmd_registry_start() {
  ensure_deps
  require_root
  lock
  ensure_netns
  if registry_pid >/dev/null && registry_ping; then
    log "registry already running at $REGISTRY_ADDR (inside netns $NS)"
    print_registry
    return 0
  fi
  stop_registry
  mkdir -p "$REGISTRY_ROOT"
  write_registry_config "$REGISTRY_CONFIG" "$REGISTRY_ADDR" "$REGISTRY_ROOT"
  launch_registry registry "$REGISTRY_ADDR" "$REGISTRY_CONFIG" "$REGISTRY_PIDFILE" \
    "$REGISTRY_LOG" 200
  print_registry
}

print_registry() {
  if [[ $JSON -eq 1 ]]; then
    printf '{"address":%s}\n' "$(json_string "$REGISTRY_ADDR")"
  else
    echo "$REGISTRY_ADDR"
  fi
}

cmd_registry_stop() {
  if ! is_root && [[ ! -f $REGISTRY_PIDFILE ]]; then
    print_stopped
    return 0
  fi
  require_root
  lock
  stop_registry
  print_stopped
}

auth_registry_pid() { registry_process_pid "$AUTH_REGISTRY_PIDFILE" "$AUTH_REGISTRY_CONFIG"; }
stop_auth_registry() {
  stop_registry_process "auth registry" "$AUTH_REGISTRY_PIDFILE" "$AUTH_REGISTRY_CONFIG"
}

# ensure_htpasswd: the htpasswd tool (apache2-utils) makes the bcrypt hash the registry checks.
ensure_htpasswd() {
  command -v htpasswd >/dev/null && return 0
  if [[ $INSTALL != 1 ]] || ! is_root || ! command -v apt-get >/dev/null; then
    die "htpasswd is missing; install it with: apt-get install -y apache2-utils (as root)"
  fi
  log "installing apache2-utils (htpasswd)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends apache2-utils >&2 ||
    { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends apache2-utils >&2; } ||
    die "apt-get install apache2-utils failed"
  command -v htpasswd >/dev/null || die "htpasswd still missing after installing apache2-utils"
}

# print_auth_registry: what clients need, as KEY=VALUE lines on stdout.
print_auth_registry() {
  local password
  read -r password <"$AUTH_REGISTRY_PASSWORD_FILE" || die "cannot read $AUTH_REGISTRY_PASSWORD_FILE"
  if [[ $JSON -eq 1 ]]; then
    printf '{"address":%s,"username":%s,"password":%s}\n' "$(json_string "$AUTH_REGISTRY_ADDR")" \
      "$(json_string "$AUTH_REGISTRY_USER")" "$(json_string "$password")"
    return 0
  fi
  printf 'address=%s\nusername=%s\npassword=%s\n' "$AUTH_REGISTRY_ADDR" "$AUTH_REGISTRY_USER" \
    "$password"
}

# The registry reads its htpasswd file once, at start: a new password means a new registry.
cmd_auth_registry_start() {
  ensure_deps
  require_root
  ensure_htpasswd
  lock
  ensure_netns
  if auth_registry_pid >/dev/null && registry_answers "$AUTH_REGISTRY_ADDR" 401 &&
    [[ -s $AUTH_REGISTRY_PASSWORD_FILE ]]; then
    log "auth registry already running at $AUTH_REGISTRY_ADDR (inside netns $NS)"
    print_auth_registry
    return 0
  fi
  stop_auth_registry
  mkdir -p "$AUTH_REGISTRY_ROOT"
  local password
  password="dg-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  (
    umask 077
    printf '%s\n' "$password" >"$AUTH_REGISTRY_PASSWORD_FILE"
    # -i reads the password from stdin, keeping it out of the process list.
    printf '%s\n' "$password" | htpasswd -niB "$AUTH_REGISTRY_USER" >"$AUTH_REGISTRY_HTPASSWD"
  ) || die "could not write $AUTH_REGISTRY_HTPASSWD"
  write_registry_config "$AUTH_REGISTRY_CONFIG" "$AUTH_REGISTRY_ADDR" "$AUTH_REGISTRY_ROOT" \
    "$AUTH_REGISTRY_HTPASSWD"
  launch_registry "auth registry" "$AUTH_REGISTRY_ADDR" "$AUTH_REGISTRY_CONFIG" \
    "$AUTH_REGISTRY_PIDFILE" "$AUTH_REGISTRY_LOG" 401
  print_auth_registry
}

cmd_auth_registry_stop() {
  if ! is_root && [[ ! -f $AUTH_REGISTRY_PIDFILE ]]; then
    print_stopped
    return 0
  fi
  require_root
  lock
  stop_auth_registry
  print_stopped
}

main() {
  local cmd=${1:-}
  case ${2:-} in
  "") ;;
  --json) JSON=1 ;;
  *)
    usage
    exit 2
    ;;
  esac
  case $cmd in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) print_env ;;
  registry-start) cmd_registry_start ;;
  registry-stop) cmd_registry_stop ;;
  auth-registry-start) cmd_auth_registry_start ;;
  auth-registry-stop) cmd_auth_registry_stop ;;
  -h | --help | help)
    usage
    ;;
  *)
    usage
    exit 2
    ;;
  esac
}

main "$@"
