# lib.sh: shared by the WASI shell tests (sourced). Arguments of every test script:
#   $1 the wippy binary, $2 the directory of built guests (NAME.wasm, NAME.native),
#   $3 this directory (expected outputs).
# Each check prints "ok" or "FAIL" with the difference; the script exits 1 if any failed.
set -u

if [ $# -lt 3 ]; then
    echo "usage: $0 WIPPY GUEST_DIR SOURCE_DIR" >&2
    exit 2
fi
# Absolute, since tests change directory.
WIPPY=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
GUESTS=$(cd "$2" && pwd) || exit 1
HERE=$(cd "$3" && pwd) || exit 1
checks=0
failures=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/wippy-wasi.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

pass() {
    checks=$((checks + 1))
    echo "ok   $1"
}

fail() {
    checks=$((checks + 1))
    failures=$((failures + 1))
    echo "FAIL $1"
}

# need NAME...: the guests must have been built; a missing one fails the whole script.
need() {
    for g in "$@"; do
        if [ ! -f "$GUESTS/$g.wasm" ]; then
            echo "FAIL missing $GUESTS/$g.wasm: is the wasm32-wasi toolchain installed" \
                 "(scripts/setup.sh)?"
            exit 1
        fi
    done
}

# check_eq NAME ACTUAL EXPECTED
check_eq() {
    if [ "$2" = "$3" ]; then
        pass "$1"
    else
        fail "$1: got [$2], expected [$3]"
    fi
}

# check_contains NAME TEXT NEEDLE
check_contains() {
    case "$2" in
    *"$3"*) pass "$1" ;;
    *) fail "$1: [$2] does not contain [$3]" ;;
    esac
}

# check_files NAME GOT EXPECTED: the files have the same bytes (a diff is shown if not).
check_files() {
    if cmp -s "$2" "$3"; then
        pass "$1"
    else
        fail "$1: $2 differs from $3"
        diff -u "$3" "$2" | head -40
    fi
}

finish() {
    echo "$checks checks, $failures failed"
    [ "$failures" -eq 0 ]
}
