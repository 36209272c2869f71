#!/bin/sh
# component.sh: components through the real wippy: the seed's example (a Lua command doing
# process.spawn_monitored of a component exporting compute(u32, u32), arguments 6 and 7,
# receives 42), values as Lua tables, 200 sleeping components parked on 2 workers, import
# gating and the unused-import stub, the entry limits of components and host.max_memory_mb
# counting them, a wasi:cli/run command under `wippy run` and under
# `wippy exec` with the same output as `jco run`. Fixtures: <build>/component (jco).
. "$(dirname "$0")/lib.sh"
CDIR=$BUILD/component
JCO=$SRC/tests/component/node_modules/.bin/jco
# jco runs on the Node.js pinned beside it (Debian 12's is too old for it).
PATH=$SRC/tests/component/node_modules/.bin:$PATH
for f in compute shapes wasi2_sleep cmd_hello limits_guest; do
    if [ ! -f "$CDIR/$f.wasm" ]; then
        if [ -f "$SRC/tests/component/.npm-unreachable" ]; then
            echo "SKIPPED: component fixtures missing and npm unreachable"
            exit 77
        fi
        echo "FAIL missing $CDIR/$f.wasm: run scripts/setup.sh (jco) and build"
        exit 1
    fi
done

P=$(project component)
cp "$SRC"/tests/integration/lua/seed.lua "$SRC"/tests/integration/component/*.lua "$P/src/"
for f in compute shapes wasi2_sleep cmd_hello limits_guest; do
    cp "$CDIR/$f.wasm" "$P/wasm/"
done

# comp NAME FILE METHOD [IMPORTS] [KIND]
comp() {
    printf '  - name: %s\n    kind: %s\n    fs: bin\n    path: /%s.wasm\n' "$1" "${5:-process.wasm}" "$2"
    printf '    hash: sha256:%s\n    method: "%s"\n    imports: [%s]\n' \
        "$(sha "$P/wasm/$2.wasm")" "$3" "${4:-}"
}
lua_cmd() {
    printf '  - name: %s\n    kind: process.lua\n    meta: {command: {name: %s}}\n' "$1" "$1"
    printf '    source: file://%s\n    method: main\n    modules: [time]\n' "$2"
}
{
    cat <<'EOF2'
version: "1.0"
namespace: app
entries:
  - name: term
    kind: terminal.host
  - name: workers
    kind: process.host
    host: {workers: 2}
  - name: tight
    kind: process.host
    host: {workers: 1, max_memory_mb: 8}
  - name: bin
    kind: fs.directory
    directory: ./wasm
EOF2
    comp compute compute compute
    comp c_fuel_exact limits_guest count
    printf '    limits: {max_fuel: 92}\n'  # count(10): 9 * 10 + 2 instructions
    comp c_fuel_short limits_guest count
    printf '    limits: {max_fuel: 91}\n'
    comp c_deep limits_guest deep
    printf '    limits: {max_stack: 50}\n'
    comp c_big limits_guest count
    printf '    limits: {max_memory_mb: 1}\n'
    comp c_nap limits_guest sleep "wasi:clocks, wasi:poll"
    printf '    limits: {max_memory_mb: 2}\n'
    for m in make-point point-x classify half flip count; do
        comp "$(echo $m | tr - _)" shapes "$m"
    done
    comp sleep wasi2_sleep sleep "wasi:clocks, wasi:poll"
    comp sleep_ungated wasi2_sleep sleep "wasi:poll"
    comp hello cmd_hello _start "wasi:cli, wasi:io, wasi:clocks, wasi:filesystem"
    printf '    meta: {command: {name: hello}}\n    wasi:\n      args: [fixed]\n'
    comp mute cmd_hello "wasi:cli/run#run" "wasi:io"
    printf '    meta: {command: {name: mute}}\n'
    lua_cmd seed seed.lua
    lua_cmd shapes shapes.lua
    lua_cmd sleepers sleepers.lua
    lua_cmd ungated ungated.lua
    lua_cmd climits climits.lua
} >"$P/src/_index.yaml"

run "$P" run seed
check_eq "the seed's example through a component: compute(6, 7)" "$out:$rc" "42:0"
run "$P" run shapes
check_eq "records, variants, options, flags, lists as Lua tables; shape errors" "$out:$err:$rc" \
    "ok::0"
run "$P" run sleepers
check_eq "200 sleeping components on 2 workers park and all wake" "$out:$err:$rc" "ok 200::0"
run "$P" run ungated
check_eq "an import group the entry does not list is a stub naming the function" \
    "$out:$err:$rc" "ok::0"

# (function indices count the core module's three imports first: count is 4, deep 5)
run "$P" run climits
check_eq "component limits: status" "$rc:$err" "0:"
check_contains "max_fuel counts a component's instructions: exactly enough completes" "$out" \
    "app:c_fuel_exact: value 55"
check_contains "max_fuel counts a component's instructions: one short traps, naming it" "$out" \
    "app:c_fuel_short: TRAP: fuel exhausted in func 4 (limits.max_fuel: 91)"
check_contains "max_stack stops a component's recursion, naming it" "$out" \
    "app:c_deep: TRAP: call stack exhausted in function 'deep' (func 5) (limits.max_stack: 50 frames)"
check_contains "max_memory_mb refuses a component whose memory starts larger" "$out" \
    "app:c_big: NOMEM: memory 0 needs 17 pages (1088 KiB) at instantiation, over limits.max_memory_mb (1 MiB)"
check_contains "host.max_memory_mb counts what component processes reserve" "$out" \
    "tight: NOMEM: host app:tight is out of memory for one more process: it reserves 2048 KiB, 8192 of the host's 8192 KiB are reserved"
check_contains "host.max_memory_mb: room comes back after the exits" "$out" "room: 1"

run "$P" run hello extra
check_eq "wasi:cli/run under wippy run: status" "$rc" 0
check_eq "wasi:cli/run under wippy run: output" "$out" "argc=3
arg 1: fixed
arg 2: extra
GREETING=(unset)"
run "$P" run mute
check_eq "a command without wasi:cli: its first host call traps" "$rc" 1
# (the version is the one jco's adapter imports)
check_contains "a command without wasi:cli: the stub names the interface" "$err" \
    "wasi:cli/environment@0.2."
check_contains "a command without wasi:cli: the stub names the function" "$err" \
    "#get-arguments is not provided"

# wippy exec and jco run agree on the same command component.
for args in "" "one two" "exit=3 x"; do
    # shellcheck disable=SC2086
    (cd "$TMP" && GREETING=hello "$JCO" run "$CDIR/cmd_hello.wasm" $args) \
        >"$TMP/jco.out" 2>"$TMP/jco.err"
    jrc=$?
    # shellcheck disable=SC2086
    (cd "$TMP" && "$WIPPY" exec --env GREETING=hello "$CDIR/cmd_hello.wasm" $args) \
        >"$TMP/w.out" 2>"$TMP/w.err"
    wrc=$?
    check_eq "exec [$args]: stdout equals jco run's" "$(cat "$TMP/w.out")" "$(cat "$TMP/jco.out")"
    check_eq "exec [$args]: stderr equals jco run's" "$(cat "$TMP/w.err")" "$(cat "$TMP/jco.err")"
    check_eq "exec [$args]: status equals jco run's" "$wrc" "$jrc"
done
printf 'line one\nline two\n' >"$TMP/in.txt"
(cd "$TMP" && "$JCO" run "$CDIR/cmd_hello.wasm" cat <"$TMP/in.txt") >"$TMP/jco.out" 2>/dev/null
(cd "$TMP" && "$WIPPY" exec "$CDIR/cmd_hello.wasm" cat <"$TMP/in.txt") >"$TMP/w.out" 2>/dev/null
check_eq "exec cat: stdin copied as jco run copies it" "$(cat "$TMP/w.out")" "$(cat "$TMP/jco.out")"
check_contains "exec cat: the input is there" "$(cat "$TMP/w.out")" "line two"
late=$( (sleep 0.3; echo late) | "$WIPPY" exec "$CDIR/cmd_hello.wasm" cat 2>/dev/null | tail -n 1)
check_eq "exec cat: a blocking read waits for input that comes late" "$late" "late"
"$WIPPY" exec --invoke compute "$CDIR/compute.wasm" 6 7 >"$TMP/out" 2>"$TMP/err"
check_eq "exec --invoke on a component export" "$(cat "$TMP/out"):$?" "42:0"
"$WIPPY" exec --invoke log-it "$CDIR/compute.wasm" >"$TMP/out" 2>"$TMP/err"
check_eq "exec: calling an unprovided import traps (status 3)" "$?" 3
check_contains "exec: the trap names the import" "$(cat "$TMP/err")" \
    "example:host/logging@0.1.0#log is not provided"

# Problems the registry finds in component entries, each on its line.
B=$(project componentbad)
cp "$CDIR/compute.wasm" "$CDIR/cmd_hello.wasm" "$B/wasm/"
{
    printf 'version: "1.0"\nnamespace: app\nentries:\n'
    printf '  - name: term\n    kind: terminal.host\n'
    printf '  - name: bin\n    kind: fs.directory\n    directory: ./wasm\n'
    P=$B
    comp nomethod compute nothing
    comp withwit compute compute
    printf '    wit: "compute: func(a: u32, b: u32) -> u32;"\n'
    comp preview1 cmd_hello _start wasi1
    comp iface compute "example:nope/api#compute"
} >"$B/src/_index.yaml"
run "$B" run list
check_eq "bad component entries: status" "$rc" 1
check_contains "a method the component does not export" "$err" \
    "app:nomethod: method: method nothing is not a function the component exports"
check_contains "wit on a component" "$err" \
    "app:withwit: wit: a component carries its own types: remove wit"
check_contains "wasi1 on a component" "$err" \
    "app:preview1: imports: wasi1 (WASI preview 1) is for core modules"
check_contains "an interface the component does not export" "$err" \
    "method example:nope/api#compute is not a function the component exports"
finish
