#!/bin/sh
# bench-runtime.sh: the runtime's part of `make bench`: spawn-to-EXIT throughput of a trivial
# process.wasm (floor: 100,000 per second) and resident memory per idle sleeping WASM process
# with 100,000 alive (floor: 32 KiB each), measured by bench/runtime/rt_bench.c.
#
# usage: scripts/bench-runtime.sh <builddir>
# env:   BENCH_SMOKE=1   small counts: checks that it runs, measures nothing
# Exit 1 if a run went wrong or a floor was missed.
set -eu

build=${1:?usage: scripts/bench-runtime.sh <builddir>}
root=$(cd "$(dirname "$0")/.." && pwd)

[ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" >/dev/null
mkdir -p "$build/bench"
cmake --build "$build" --target rt-bench >"$build/bench/rt-build.log" 2>&1 ||
    { tail -n 30 "$build/bench/rt-build.log" >&2; echo "bench: cannot build rt-bench" >&2; exit 1; }

if [ -n "${BENCH_SMOKE:-}" ]; then
    echo "bench: runtime smoke sizes: this checks it runs; its figures mean nothing"
    exec "$build/bench/rt-bench" -n 2000 -s 1000
fi

echo "== runtime (2 workers per host unless the machine has more cores) =="
out=$("$build/bench/rt-bench" -n 300000 -s 100000) || { echo "$out"; exit 1; }
echo "$out"
# The floors of issue 5 (rt-bench itself fails past 32 KiB per sleeper).
echo "$out" | awk '
    /^spawn-to-EXIT, trivial process.wasm:/ { rate = $(NF-2) + 0 }
    END { if (rate < 100000) { print "bench: spawn-to-EXIT below 100,000/s"; exit 1 } }'
# The same memory figure for a C program built with wasi-libc (tests/wasi's sleep guest, when
# the wasm32-wasi toolchain built it).
guest=$build/tests/wasi/guests/sleep.wasm
if [ -f "$guest" ]; then
    "$build/bench/rt-bench" -n 0 -s 100000 -f "$guest"
fi

# Messages per second between two Lua processes (floor: 1,000,000): bench/lua/, a sender and a
# receiver process.lua on a 2-worker host, timed by the command that spawns them.
echo "== Lua messaging =="
lua=$("$build/wippy" run -p "$root/bench/lua" msgs 2000000) || { echo "$lua"; exit 1; }
echo "$lua"
echo "$lua" | awk '
    /per second/ { rate = $(NF-2) + 0 }
    END { if (rate < 1000000) { print "bench: Lua messages below 1,000,000/s"; exit 1 } }'

# funcs.call per second of a trivial core function from one Lua process on a 1-worker host
# (floor: 200,000 inline): bench/funcs/, inline and through a lazy pool (a process per call);
# then a component function with a string argument (tests/component/funcs_greet.wat, built by
# jco with the build), added to a copy of the project with its hash.
echo "== Function calls =="
fproj=$build/bench/funcs-project
rm -rf "$fproj" && cp -r "$root/bench/funcs" "$fproj"
greet=$build/component/funcs_greet.wasm
component=
if [ -f "$greet" ]; then
    mkdir -p "$fproj/wasm" && cp "$greet" "$fproj/wasm/greet.wasm"
    hash=$(sha256sum "$greet" | cut -d' ' -f1)
    {
        printf 'version: "1.0"\nnamespace: bench\nentries:\n'
        printf '  - name: bin\n    kind: fs.directory\n    directory: ./wasm\n'
        for p in inline lazy; do
            printf '  - name: greet_%s\n    kind: function.wasm\n    fs: bin\n' "$p"
            printf '    path: /greet.wasm\n    hash: sha256:%s\n    method: greet\n' "$hash"
            printf '    pool: {type: %s}\n' "$p"
        done
    } >"$fproj/src/greet.yaml"
    component=component
fi
calls=$("$build/wippy" run -p "$fproj" calls 1000000 $component) || { echo "$calls"; exit 1; }
echo "$calls"
echo "$calls" | awk '
    /core function, inline:/ { for (i = 1; i < NF; i++) if ($(i + 1) == "per" && $(i + 2) == "second") rate = $i + 0 }
    END { if (rate < 200000) { print "bench: funcs.call inline below 200,000/s"; exit 1 } }'
