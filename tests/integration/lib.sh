# lib.sh: shared by the `wippy run` integration tests (sourced). Arguments of every script:
#   $1 the wippy binary, $2 the build directory (WASI guests in tests/wasi/guests),
#   $3 the source tree.
# Each check prints "ok" or "FAIL" with the difference; the script exits 1 if any failed.
set -u

if [ $# -lt 3 ]; then
    echo "usage: $0 WIPPY BUILD_DIR SOURCE_DIR" >&2
    exit 2
fi
WIPPY=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
BUILD=$(cd "$2" && pwd) || exit 1
SRC=$(cd "$3" && pwd) || exit 1
GUESTS=$BUILD/tests/wasi/guests
checks=0
failures=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/wippy-run.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

command -v wat2wasm >/dev/null || { echo "FAIL wat2wasm not found (scripts/setup.sh)"; exit 1; }

pass() {
    checks=$((checks + 1))
    echo "ok   $1"
}

fail() {
    checks=$((checks + 1))
    failures=$((failures + 1))
    echo "FAIL $1"
}

# run DIR ARGS...: runs wippy in DIR; stdout in $out, stderr in $err, status in $rc.
run() {
    dir=$1
    shift
    (cd "$dir" && "$WIPPY" "$@") >"$TMP/out" 2>"$TMP/err" </dev/null
    rc=$?
    out=$(cat "$TMP/out")
    err=$(cat "$TMP/err")
}

check_eq() {
    if [ "$2" = "$3" ]; then
        pass "$1"
    else
        fail "$1: got [$2], expected [$3]"
    fi
}

check_contains() {
    case "$2" in
    *"$3"*) pass "$1" ;;
    *) fail "$1: [$2] does not contain [$3]" ;;
    esac
}

check_lacks() {
    case "$2" in
    *"$3"*) fail "$1: [$2] contains [$3]" ;;
    *) pass "$1" ;;
    esac
}

# project NAME: a fresh project directory with src/; prints its path.
project() {
    rm -rf "${TMP:?}/$1"
    mkdir -p "$TMP/$1/src" "$TMP/$1/wasm"
    echo "$TMP/$1"
}

# wat DIR NAME: compiles standard input (module text) into DIR/wasm/NAME.wasm.
wat() {
    cat >"$TMP/in.wat"
    wat2wasm --enable-all "$TMP/in.wat" -o "$1/wasm/$2.wasm" || fail "wat2wasm $2"
}

# guests DIR NAME...: compiles the shared guests tests/integration/guests/NAME.wat into
# DIR/wasm/NAME.wasm.
guests() {
    dir=$1
    shift
    for g in "$@"; do
        wat "$dir" "$g" <"$SRC/tests/integration/guests/$g.wat"
    done
}

# sha FILE: its SHA-256 in hex.
sha() {
    sha256sum "$1" | cut -d' ' -f1
}

need_guests() {
    for g in "$@"; do
        if [ ! -f "$GUESTS/$g.wasm" ]; then
            echo "FAIL missing $GUESTS/$g.wasm: is the wasm32-wasi toolchain installed" \
                "(scripts/setup.sh)?"
            exit 1
        fi
    done
}

finish() {
    echo "$checks checks, $failures failed"
    [ "$failures" -eq 0 ]
}
