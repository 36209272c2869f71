#!/usr/bin/env bash
# spec.sh: runs the WebAssembly spec test suite through <builddir>/spec-runner (`make spec`).
#
# Usage: SHARED=<dir> scripts/spec.sh <builddir> [NAME ...]
#   Converts each $SHARED/wasm-spec-testsuite/NAME.wast with wast2json into
#   <builddir>/spec/NAME/ (again only when the .wast is newer), runs spec-runner on it, prints
#   one line per file and last "spec: N passed, N failed, N skipped". Exits 1 if anything failed.
#   NAME arguments run only those files (e.g. `scripts/spec.sh build i32 f32`).
# Environment: SHARED (default ../shared beside the repository), SPEC_VERBOSE=1 (print every
#   failure), SPEC_JOBS (parallel files; default: the number of cores), SPEC_FILE_TIMEOUT
#   (seconds per file before it is killed, default 600), SPEC_TIME_LIMIT (seconds per call),
#   SPEC_SIMD=1 (run the simd_*.wast files too), SPEC_FUEL (give each script's store that much
#   fuel, so that the metered code runs the suite; `make asan` does).
set -u

# The one switch for SIMD: while 0, simd_*.wast files are counted as skipped. Set it to 1 here
# when the engine supports SIMD (SPEC_SIMD=1 in the environment tries it before then).
SPEC_SIMD=${SPEC_SIMD:-0}

die() {
    echo "spec: $*" >&2
    exit 1
}

# ---- One file (run as a child of the parallel loop below) ----------------------------------

# Prints the number of counted commands of a converted script (0 if it cannot be read).
command_count() {
    "$runner" --count "$1" 2>/dev/null || echo 0
}

# Converts NAME.wast into $out/NAME/ unless the cached conversion is newer than the .wast.
convert() {
    name=$1
    wast=$suite/$name.wast
    dir=$out/$name
    if [ -f "$dir/$name.json" ] && [ ! "$wast" -nt "$dir/$name.json" ]; then
        return 0
    fi
    rm -rf "$dir" "$dir.tmp"
    mkdir -p "$dir.tmp" || return 1
    # Into a temporary directory first, so an interrupted conversion is never taken as cached.
    if ! wast2json "$wast" -o "$dir.tmp/$name.json" >"$out/$name.convert.log" 2>&1; then
        rm -rf "$dir.tmp"
        return 1
    fi
    mv "$dir.tmp" "$dir"
}

# Runs one file; writes $out/NAME.report (lines to print) and $out/NAME.counts ("P F S").
run_one() {
    name=$1
    report=$out/$name.report
    json=$out/$name/$name.json
    if ! convert "$name"; then
        echo "$name.wast: wast2json failed: $(head -c 300 "$out/$name.convert.log")" >"$report"
        echo "0 1 0" >"$out/$name.counts"
        return
    fi
    case $name in simd_*)
        if [ "$SPEC_SIMD" != 1 ]; then
            n=$(command_count "$json")
            echo "$name.wast: skipped ($n commands): SIMD is not supported yet" >"$report"
            echo "0 0 $n" >"$out/$name.counts"
            return
        fi
    esac
    set -- "$json"
    [ "${SPEC_VERBOSE:-0}" = 1 ] && set -- -v "$@"
    [ -n "${SPEC_TIME_LIMIT:-}" ] && set -- -t "$SPEC_TIME_LIMIT" "$@"
    [ -n "${SPEC_FUEL:-}" ] && set -- -f "$SPEC_FUEL" "$@"
    limit=${SPEC_FILE_TIMEOUT:-600}
    # The braces keep the shell's own "Segmentation fault" notice out of the output: the
    # runner reports where it crashed on its stderr, shown below.
    { timeout -k 10 "$limit" "$runner" "$@" >"$out/$name.out" 2>"$out/$name.err"; } 2>/dev/null
    rc=$?
    why="runner died: exit $rc"
    [ $rc -eq 124 ] || [ $rc -eq 137 ] && why="killed after ${limit}s"
    summary=$(grep -E '^[^ ]+: [0-9]+ passed, [0-9]+ failed$' "$out/$name.out" | tail -n 1)
    {
        [ "${SPEC_VERBOSE:-0}" = 1 ] && grep -v -x -F "$summary" "$out/$name.out"
        if [ -n "$summary" ] && [ $rc -le 1 ]; then
            echo "$summary"
        elif [ -n "$summary" ]; then
            echo "$summary ($why)"
        else
            echo "$name.wast: 0 passed, $(command_count "$json") failed ($why)"
        fi
        # Messages the runner could not put in its counts (crashes, setup errors).
        [ -s "$out/$name.err" ] && sed 's/^/    /' "$out/$name.err" | head -n 20
    } >"$report"
    p=$(echo "$summary" | sed -n 's/.*: \([0-9]*\) passed.*/\1/p')
    f=$(echo "$summary" | sed -n 's/.* \([0-9]*\) failed$/\1/p')
    if [ -z "$summary" ]; then
        p=0
        f=$(command_count "$json")
        [ "$f" -gt 0 ] || f=1
    elif [ $rc -gt 1 ] && [ "$f" -eq 0 ]; then
        f=1 # a runner that died after all its commands still failed
    fi
    echo "$p $f 0" >"$out/$name.counts"
}

if [ "${1:-}" = "--one" ]; then
    out=$2 suite=$3 runner=$4
    run_one "$5"
    exit 0
fi

# ---- The suite -----------------------------------------------------------------------------

[ $# -ge 1 ] || die "usage: scripts/spec.sh <builddir> [NAME ...]"
root=$(cd "$(dirname "$0")/.." && pwd)
build=$1
shift
shared=${SHARED:-$root/../shared}
suite=$shared/wasm-spec-testsuite

if [ ! -d "$suite" ]; then
    echo "spec: SKIPPED: no spec suite at $suite (set SHARED=...)" >&2
    echo "spec: 0 passed, 0 failed, 0 skipped"
    exit 0
fi
suite=$(cd "$suite" && pwd)
command -v wast2json >/dev/null 2>&1 || die "wast2json not found: run scripts/setup.sh"
command -v timeout >/dev/null 2>&1 || die "timeout (coreutils) not found"
[ -d "$build" ] || die "no build directory $build: run make first"
build=$(cd "$build" && pwd)
cmake --build "$build" --target spec-runner >"$build/spec-runner.build.log" 2>&1 ||
    die "cannot build spec-runner (see $build/spec-runner.build.log)"
runner=$build/spec-runner
out=$build/spec
mkdir -p "$out" || die "cannot create $out"

if [ $# -gt 0 ]; then
    names=$*
    for n in $names; do
        [ -f "$suite/$n.wast" ] || die "no $suite/$n.wast"
    done
else
    names=""
    for f in "$suite"/*.wast; do
        [ -f "$f" ] && names="$names $(basename "$f" .wast)"
    done
fi
for n in $names; do
    rm -f "$out/$n.report" "$out/$n.counts"
done

jobs=${SPEC_JOBS:-$(nproc 2>/dev/null || echo 2)}
# shellcheck disable=SC2086 # names are words without spaces, split on purpose
printf '%s\n' $names | xargs -P "$jobs" -I{} bash "$0" --one "$out" "$suite" "$runner" {}

passed=0
failed=0
skipped=0
for n in $names; do
    if [ -f "$out/$n.counts" ]; then
        cat "$out/$n.report"
        read -r p f s <"$out/$n.counts"
    else
        echo "$n.wast: not run"
        p=0 f=1 s=0
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    skipped=$((skipped + s))
done
echo "spec: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
