#!/bin/sh
# bench.sh: `make bench`. Builds each benchmark program twice with clang, to wasm32-wasi and
# natively, then bench-runner times both and checks they agree.
#
# usage: scripts/bench.sh <builddir>
# env:   BENCH_RUNS=3       best of this many runs on each side
#        BENCH_ONLY="a b"   run only these programs
#        BENCH_WABT=1       add a column for wabt's wasm-interp (slow: about 30 minutes)
#        BENCH_SMOKE=1      tiny sizes, one run: checks results, measures nothing
#        BENCH_FUEL=1       run the engine with fuel (the metered code limits.max_fuel runs)
# Exit 1 if something could not be built or a program gave a wrong result, else 0.
set -eu

build=${1:?usage: scripts/bench.sh <builddir>}
root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/bench
out=$build/bench/programs

# n sizes each program to about 0.5 s natively; memops is smaller (0.15 s) because interpreted
# memcpy is far slower than native memcpy: its engine side would dominate the run.
# name         source    n         smoke n  extra wasm flags
PROGRAMS='
fib            fib       40        20
coremix        coremix   15000     20
sieve          sieve     70        1
matmul         matmul    1300      2
hash           hash      5000      2
nbody          nbody     5000000   1000
memops         memops    20000     2
memops-bulk    memops    20000     2     -mbulk-memory
'

CFLAGS="-std=c11 -O2 -Wall -Wextra -Werror"
WASM_FLAGS="--target=wasm32-wasi -nostartfiles -Wl,--no-entry -Wl,--strip-debug"

die() {
    echo "bench: $*" >&2
    exit 1
}

# stale OUT DEP...: true if OUT is missing or older than a DEP.
stale() {
    target=$1
    shift
    [ -e "$target" ] || return 0
    for dep in "$@"; do
        [ -n "$(find "$dep" -newer "$target")" ] && return 0
    done
    return 1
}

# build_program NAME SOURCE N EXTRA_WASM_FLAGS: the three builds of one program.
build_program() {
    name=$1 prog=$src/programs/$2.c n=$3 extra=$4
    [ -f "$prog" ] || die "no source $prog"
    if stale "$out/$name.wasm" "$prog" "$0"; then
        # shellcheck disable=SC2086
        clang $CFLAGS $WASM_FLAGS $extra -Wl,--export=bench_run -o "$out/$name.wasm" "$prog" ||
            die "cannot build $name for wasm32-wasi (needs clang, lld, wasi-libc: scripts/setup.sh)"
    fi
    if stale "$out/$name.native" "$prog" "$0" "$src/native_main.c" "$src/clock.h"; then
        # shellcheck disable=SC2086
        clang $CFLAGS -I"$src" -DBENCH_SOURCE="\"$prog\"" -o "$out/$name.native" \
            "$src/native_main.c" -lm || die "cannot build $name natively"
    fi
    if [ -n "$wabt" ] && stale "$out/$name.wabt.wasm" "$prog" "$0" "$src/wabt_main.c"; then
        # shellcheck disable=SC2086
        clang $CFLAGS $WASM_FLAGS $extra -Wl,--export=bench_main -DBENCH_SOURCE="\"$prog\"" \
            -DBENCH_N="$n" -o "$out/$name.wabt.wasm" "$src/wabt_main.c" ||
            die "cannot build $name for wasm-interp"
    fi
}

selected() {
    [ -z "${BENCH_ONLY:-}" ] && return 0
    for want in $BENCH_ONLY; do
        [ "$want" = "$1" ] && return 0
    done
    return 1
}

runs=${BENCH_RUNS:-3}
wabt=""
if [ -n "${BENCH_WABT:-}" ] && [ -z "${BENCH_SMOKE:-}" ]; then
    command -v wasm-interp >/dev/null || die "BENCH_WABT is set but wasm-interp is missing"
    wabt=-w
fi
[ -n "${BENCH_SMOKE:-}" ] && runs=1

command -v clang >/dev/null || die "clang is missing: scripts/setup.sh"
mkdir -p "$out"

args=""
echo "$PROGRAMS" | {
    while read -r name prog n smoke_n extra; do
        if [ -z "$name" ] || ! selected "$name"; then
            continue
        fi
        [ -n "${BENCH_SMOKE:-}" ] && n=$smoke_n
        build_program "$name" "$prog" "$n" "${extra:-}"
        args="$args $name=$n"
    done
    [ -n "$args" ] || die "no program selected by BENCH_ONLY='${BENCH_ONLY:-}'"
    [ -n "${BENCH_SMOKE:-}" ] && echo "bench: smoke sizes: this checks results; its times mean nothing"
    [ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" >/dev/null
    cmake --build "$build" --target bench-runner >"$build/bench/build.log" 2>&1 ||
        { tail -n 30 "$build/bench/build.log" >&2; die "cannot build bench-runner"; }
    fuel=
    [ -n "${BENCH_FUEL:-}" ] && fuel=-f
    # shellcheck disable=SC2086
    exec "$build/bench/bench-runner" -r "$runs" $wabt $fuel "$out" $args
}
