#!/bin/sh
# Installs the Debian packages wippy needs to build, test and benchmark. Safe to run again:
# it only calls apt-get when something is missing.
set -eu

PACKAGES="make cmake gcc clang lld libclang-rt-14-dev libclang-rt-14-dev-wasm32 wasi-libc wabt
          pkg-config libyaml-dev libssl-dev liblua5.4-dev libuv1-dev"

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "setup: installing$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
