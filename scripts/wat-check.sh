#!/usr/bin/env bash
# wat-check.sh: checks the text reader against wabt on the spec suite. Every module of every
# non-SIMD .wast (top-level ones and those inside assert_invalid, assert_trap, ...) must
# translate to a binary equivalent to wast2json's (same bytes or same wasm2wat text), and every
# text assert_malformed must be rejected by the reader.
#   scripts/wat-check.sh BUILD_DIR        (the suite comes from ${SHARED:-../shared})
# Exit: 0 all good, 1 some failed, 77 skipped (no suite or no wabt).
set -u
build=${1:-build}
shared=${SHARED:-../shared}
suite=$shared/wasm-spec-testsuite
tool=$build/wat2bin

skip() {
    echo "wat-check: SKIPPED: $1" >&2
    exit 77
}
[ -d "$suite" ] || skip "no spec suite at $suite"
for t in wast2json wasm2wat; do
    command -v $t >/dev/null || skip "$t not found (run scripts/setup.sh)"
done
[ -x "$tool" ] || { echo "wat-check: $tool not built" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
modules=0 modules_ok=0 identical=0 unprintable=0 malformed=0 malformed_ok=0
report() { # at most 40 failures in full; the counts say the rest
    fails=$((${fails:-0} + 1))
    [ "$fails" -le 40 ] && echo "FAIL $*"
}

for wast in "$suite"/*.wast; do
    name=$(basename "$wast" .wast)
    case $name in simd_*) continue ;; esac
    dir=$tmp/$name
    mkdir -p "$dir"
    if ! wast2json "$wast" -o "$dir/$name.json" >/dev/null 2>&1; then
        report "$name: wast2json failed"
        continue
    fi
    last_line=0 k=0
    while read -r type line file; do
        if [ "$line" = "$last_line" ]; then k=$((k + 1)); else k=0; fi # K-th module on the line
        last_line=$line
        if [ "$type" != assert_malformed ]; then
            modules=$((modules + 1))
            if ! "$tool" --wast "$wast" "$line" "$k" "$dir/ours.wasm" 2>"$dir/err"; then
                report "$name.wast:$line: $(head -c 300 "$dir/err")"
            elif cmp -s "$dir/ours.wasm" "$dir/$file"; then
                modules_ok=$((modules_ok + 1)) identical=$((identical + 1))
            elif ! wasm2wat --no-check "$dir/$file" -o "$dir/theirs.wat" 2>/dev/null; then
                # wabt cannot print its own binary (data.drop without a data count section)
                modules_ok=$((modules_ok + 1)) unprintable=$((unprintable + 1))
            elif wasm2wat --no-check "$dir/ours.wasm" -o "$dir/ours.wat" 2>"$dir/err" &&
                cmp -s "$dir/ours.wat" "$dir/theirs.wat"; then
                modules_ok=$((modules_ok + 1))
            else
                report "$name.wast:$line: differs from wast2json's $file"
            fi
        elif [ "${file##*.}" = wat ]; then
            malformed=$((malformed + 1))
            if "$tool" "$dir/$file" "$dir/out.wasm" 2>/dev/null; then
                report "$name.wast:$line: malformed $file accepted"
            else
                malformed_ok=$((malformed_ok + 1))
            fi
        fi
    done < <(grep -E '^ *\{"type": "(module|assert_[a-z_]+)", "line".*"filename"' "$dir/$name.json" |
        sed -E 's/^ *\{"type": "([a-z_]+)", "line": ([0-9]+).*"filename": "([^"]+)".*/\1 \2 \3/')
done

passed=$((modules_ok + malformed_ok))
failed=$((modules + malformed - passed))
echo "wat-check: modules translated equivalently $modules_ok/$modules" \
    "($identical byte for byte, $unprintable against a wabt binary wasm2wat cannot read)," \
    "malformed text rejected $malformed_ok/$malformed"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
