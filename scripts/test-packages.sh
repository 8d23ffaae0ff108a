#!/usr/bin/env bash
# The Debian packages `npm test` needs, installed when missing (npm runs this as `pretest`,
# .ci/run before anything else), so that `npm ci && npm test` sets up a fresh machine.
# As root (or with password-less sudo) it runs apt-get; otherwise it names what is missing
# and stops. DOCKERGRAPH_TEST_INSTALL=0: never install, only check.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

# docker.io, busybox-static, iptables, docker-registry, iproute2, curl: the private Docker
# engines (scripts/engine.sh) and their registries; apache2-utils: the registry that asks
# for credentials; openssl: the certificates of the TLS engine (serverless tests).
# chromium: the browser tests (test/browser) drive Debian's Chromium with playwright-core.
# redis-server: the store replicas share (test/integration/shared-store.test.ts).
# podman: the "podman" project (test/podman) runs against a private Podman 4.3 service, with
# netavark as its network stack (only a Recommends of podman's dependencies).
readonly PACKAGES=(docker.io busybox-static iptables docker-registry apache2-utils openssl curl iproute2 chromium redis-server podman netavark)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true) != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=()
if [[ $EUID -ne 0 ]]; then
  if ! sudo -n true 2>/dev/null; then
    echo "test packages: missing ${missing[*]}; install them as root: apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  sudo=(sudo -n)
fi
if [[ ${DOCKERGRAPH_TEST_INSTALL:-1} != 1 ]] || ! command -v apt-get >/dev/null; then
  echo "test packages: missing ${missing[*]}; install them: apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "test packages: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -q >&2
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
