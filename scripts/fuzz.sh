#!/bin/sh
# fuzz.sh: `make fuzz`. Builds the libFuzzer targets (fuzz/) with clang, ASan and UBSan,
# replays tests/regress/, seeds each target's corpus and fuzzes each for FUZZ_SECONDS.
#
# usage: scripts/fuzz.sh <builddir>
# env:   FUZZ_SECONDS=60      time per target (they run one after the other)
#        SHARED=../shared     where the spec suite is (seeds), relative to the repository
#        SPEC_DIR=build/spec  wast2json output of `make spec`, used for seeds when present
# Exit 1 if the targets cannot be built or anything crashes, leaks, hangs or trips a
# sanitizer; the input that did it is kept under <builddir>/crashes/ and its path printed.
set -eu

[ $# -eq 1 ] || { echo "usage: scripts/fuzz.sh <builddir>" >&2; exit 2; }
mkdir -p "$1"
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${FUZZ_SECONDS:-60}
shared=${SHARED:-../shared}
spec_dir=${SPEC_DIR:-build/spec}
targets="fuzz_module fuzz_process fuzz_wat fuzz_registry fuzz_wit"
# The component decoder's target, once it is written (fuzz/CMakeLists.txt builds it).
[ ! -f "$root/fuzz/fuzz_component.c" ] || targets="$targets fuzz_component"
max_len=32768 # bytes; larger seeds are left out, libFuzzer would cut them anyway

die() {
    echo "fuzz: $*" >&2
    exit 1
}

count_files() {
    find "$1" -type f | wc -l
}

check_tools() {
    command -v clang >/dev/null || die "clang is missing: scripts/setup.sh"
    probe=$build/probe-libfuzzer.c
    echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d && n; }' >"$probe"
    clang -fsanitize=fuzzer,address,undefined "$probe" -o "$build/probe-libfuzzer" 2>/dev/null ||
        die "clang cannot link libFuzzer: install libclang-rt-14-dev (scripts/setup.sh)"
    rm -f "$probe" "$build/probe-libfuzzer"
}

build_targets() {
    cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DWIPPY_FUZZ=ON -DWIPPY_SANITIZE=ON \
        >/dev/null || die "cannot configure $build"
    # shellcheck disable=SC2086
    cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target $targets >"$build/build.log" 2>&1 ||
        { tail -n 30 "$build/build.log" >&2; die "cannot build the fuzz targets (log: $build/build.log)"; }
}

# spec_modules DIR: fills DIR with module binaries from the spec suite: the output of
# `make spec` when present, else a few .wast files converted here.
spec_modules() {
    if [ -n "$(find "$spec_dir" -name '*.wasm' 2>/dev/null | head -n 1)" ]; then
        find "$spec_dir" -type f \( -name '*.wasm' -o -name '*.wat' \) -exec cp -t "$1" {} +
        echo "fuzz: seeds from $spec_dir"
        return
    fi
    suite=$shared/wasm-spec-testsuite
    if [ -d "$suite" ] && command -v wast2json >/dev/null; then
        suite=$(cd "$suite" && pwd) # the conversion runs in another directory
        for w in binary block br_table call_indirect elem data global imports memory \
                 memory_grow table bulk ref_func select conversions loop if start i32 f64; do
            if [ -f "$suite/$w.wast" ]; then
                (cd "$1" && wast2json "$suite/$w.wast" -o "$w.json" >/dev/null 2>&1) || true
            fi
        done
        echo "fuzz: seeds converted from $suite"
        return
    fi
    echo "fuzz: NO SPEC SUITE at $suite (set SHARED=...): starting from built-in seeds only" >&2
}

# builtin_seeds DIR_MODULE DIR_WAT: a handful of modules, so a corpus is never empty.
builtin_seeds() {
    printf '\000asm\001\000\000\000' >"$1/builtin-empty"
    # (func (export "f") (param i32) (result i32) local.get 0 i32.const 1 i32.add)
    printf '\000asm\001\000\000\000\001\006\001\140\001\177\001\177\003\002\001\000\007\005\001\001f\000\000\012\011\001\007\000\040\000\101\001\152\013' \
        >"$1/builtin-add"
    printf '(module)' >"$2/builtin-empty"
    printf '(module (memory 1) (func (export "f") (param i32) (result i32)\n  (loop (br_if 0 (i32.eqz (local.get 0)))) (i32.load (local.get 0))))' \
        >"$2/builtin-loop"
}

# copy_seeds FROM TO NAME: copies the files called NAME under FROM into corpus TO, leaving out
# those over max_len.
copy_seeds() {
    find "$1" -type f -name "$3" -size -"$((max_len + 1))"c -exec cp -t "$2" {} +
}

# seed_corpora: fills empty corpora (a corpus that has grown is kept as it is).
seed_corpora() {
    mods=$build/corpus/fuzz_module
    wats=$build/corpus/fuzz_wat
    mkdir -p "$mods" "$wats"
    [ -z "$(ls -A "$mods")" ] || [ -z "$(ls -A "$wats")" ] || return 0
    tmp=$(mktemp -d)
    spec_modules "$tmp"
    builtin_seeds "$mods" "$wats"
    copy_seeds "$tmp" "$mods" '*.wasm'
    copy_seeds "$tmp" "$wats" '*.wat'
    copy_seeds tests/wat "$wats" '*.wat'
    # Text seeds from valid binaries: every 8th, to keep the text corpus small.
    if command -v wasm2wat >/dev/null; then
        i=0
        for f in "$mods"/*.wasm; do
            i=$((i + 1))
            [ $((i % 8)) -eq 0 ] || continue
            wasm2wat --enable-all "$f" -o "$wats/wasm2wat-$i.wat" 2>/dev/null || true
        done
        find "$wats" -type f -size +"$max_len"c -delete
    fi
    rm -rf "$tmp"
    echo "fuzz: corpora seeded: $(count_files "$mods") modules, $(count_files "$wats") texts"
}

# seed_process_corpus: fuzz_process starts from fuzz_module's modules (the WASI test guests
# are larger than max_len).
seed_process_corpus() {
    procs=$build/corpus/fuzz_process
    mkdir -p "$procs"
    [ -z "$(ls -A "$procs")" ] || return 0
    find "$build/corpus/fuzz_module" -type f -exec cp -t "$procs" {} +
    echo "fuzz: fuzz_process corpus seeded: $(count_files "$procs") modules"
}

# seed_text_corpora: the registry and WIT targets start from the project's own definitions
# (examples/, a few written here) and signatures.
seed_text_corpora() {
    regs=$build/corpus/fuzz_registry
    wits=$build/corpus/fuzz_wit
    mkdir -p "$regs" "$wits"
    if [ -z "$(ls -A "$regs")" ]; then
        i=0
        for f in examples/src/*.yaml examples/src/*/*.yaml; do
            i=$((i + 1))
            [ -f "$f" ] && cp "$f" "$regs/example-$i.yaml"
        done
        printf 'namespace: a\nentries:\n  - {name: s, kind: env.storage.static, values: {A: b}}\n  - {name: v, kind: env.variable, variable: A, storage: s}\n  - {name: r, kind: env.storage.router, storages: [s, r]}\n' >"$regs/env.yaml"
        printf 'namespace: a\nentries:\n  - name: w\n    kind: function.wat\n    source: "(module (func (export \\"f\\")))"\n    method: f\n    wit: "f: func();"\n    wasi: {env: [{id: a:v, name: X}], mounts: [{fs: d, guest: /x}], cwd: /x}\n    limits: {max_fuel: 10, max_memory_mb: 1, max_stack: 50, max_execution_ms: 5}\n    imports: [wasi1, "wasi:io"]\n    meta: {command: {name: w}}\n' >"$regs/wat.yaml"
        printf 'a: &a [1, *a]\nnamespace: x\nname: y\nkind: process.host\n' >"$regs/alias.yaml"
        printf 'namespace: h\nentries:\n  - name: w\n    kind: process.host\n    host: {workers: 2, max_processes: 10, max_memory_mb: 64}\n' >"$regs/host.yaml"
    fi
    if [ -z "$(ls -A "$wits")" ]; then
        printf 'add: func(a: s32, b: s32) -> s32;' >"$wits/add.wit"
        printf 'greet: func(name: string) -> string;\nx: func(l: list<option<u8>>) -> result<_, string>;' >"$wits/strings.wit"
        printf 'record p { x: f32, y: f64 }\nvariant v { a, b(p), c(list<p>) }\nenum e { r, g }\nflags f { a, b }\ntype t = tuple<p, v, e, f, char>;\ninterface i { g: func(t: t) -> t; }\n' >"$wits/types.wit"
    fi
}

# seed_component_corpus: the component fixtures of a normal build (build/component), if any,
# and a few small components written here.
seed_component_corpus() {
    comps=$build/corpus/fuzz_component
    mkdir -p "$comps"
    [ -z "$(ls -A "$comps")" ] || return 0
    for d in build build-*; do
        [ -d "$d/component" ] && copy_seeds "$d/component" "$comps" '*.wasm'
    done
    printf '\0asm\r\0\1\0' >"$comps/empty.wasm"
    printf '\0asm\r\0\1\0\7\6\1\162\1\1a\171' >"$comps/record.wasm"
    return 0
}

# write_dict: a libFuzzer dictionary of text tokens: module field keywords and every
# instruction name in opcodes.def.
write_dict() {
    {
        for k in module func param result local global memory table elem data type import \
                 export start mut offset item declare funcref externref i32 i64 f32 f64 \
                 'then' 'align=' 'offset=' 0x nan inf; do
            printf '"%s"\n' "$k"
        done
        sed -n 's/^WP_OP[FC]*([^,]*, *[A-Z0-9_]*, *\("[^"]*"\).*/\1/p' src/wasm/opcodes.def
    } | sort -u >"$build/wat.dict"
}

# replay TARGET EXT: runs TARGET once on each tests/regress/*.EXT, so fixed crashes stay fixed.
replay() {
    inputs=$(find tests/regress -name "*.$2" 2>/dev/null | sort)
    [ -n "$inputs" ] || return 0
    # shellcheck disable=SC2086
    if ! "$build/fuzz/$1" $inputs >"$build/$1-regress.log" 2>&1; then
        tail -n 40 "$build/$1-regress.log" >&2
        echo "fuzz: $1 FAILED on a tests/regress input (log: $build/$1-regress.log)" >&2
        return 1
    fi
    echo "fuzz: $1: $(echo "$inputs" | wc -l) regression inputs pass"
}

# fuzz TARGET: runs it for $seconds; on failure prints the log's end and the kept input.
fuzz() {
    t=$1
    log=$build/$t.log
    dict=""
    [ "$t" = fuzz_wat ] && dict=-dict=$build/wat.dict
    [ "$t" = fuzz_wit ] && dict=-dict=$build/wit.dict
    echo "fuzz: $t for ${seconds}s (log: $log)"
    # shellcheck disable=SC2086
    if "$build/fuzz/$t" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/crashes/$t-" $dict \
        "$build/corpus/$t" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "fuzz: $t: ${runs:-?} runs, corpus $(count_files "$build/corpus/$t"), no crash"
        return 0
    fi
    tail -n 40 "$log" >&2
    kept=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    echo "fuzz: $t FAILED; input kept at ${kept:-(none written: see $log)}" >&2
    return 1
}

check_tools
build_targets
seed_corpora
seed_process_corpus
seed_text_corpora
seed_component_corpus
write_dict
printf '"%s"\n' func record variant enum flags type interface package export list option \
    result tuple string char bool s8 u8 s16 u16 s32 u32 s64 u64 f32 f64 '->' '_' >"$build/wit.dict"
mkdir -p "$build/crashes"
failed=0
replay fuzz_module wasm || failed=1
replay fuzz_process wasm || failed=1
replay fuzz_wat wat || failed=1
replay fuzz_registry yaml || failed=1
replay fuzz_wit wit || failed=1
replay fuzz_component component || failed=1
for t in $targets; do
    fuzz "$t" || failed=1
done
exit $failed
