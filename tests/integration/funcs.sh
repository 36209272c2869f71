#!/bin/sh
# funcs.sh: function calls from Lua through the real wippy (issue 7): funcs.call / async / new
# on function.wasm, function.wat and function.lua entries; each pool type under more callers
# than workers; timeouts; every error kind; pool and transport validation at load. Each
# scenario is a Lua command (tests/integration/funcs/*.lua) that asserts and returns "ok".
. "$(dirname "$0")/lib.sh"
FUNCS_SRC=$SRC/tests/integration/funcs

P=$(project funcs)
cp "$FUNCS_SRC"/*.lua "$P/src/"
wat "$P" mul <<'EOF2'
(module (func (export "mul") (param i32 i32) (result i32)
  (i32.mul (local.get 0) (local.get 1))))
EOF2
wat "$P" counter <<'EOF2'
(module (global $n (mut i32) (i32.const 0))
  (func (export "count") (result i32)
    (global.set $n (i32.add (global.get $n) (i32.const 1)))
    (global.get $n)))
EOF2
# nap(ms, v): sleeps ms milliseconds (WASI poll_oneoff on the monotonic clock), returns v.
wat "$P" nap <<'EOF2'
(module
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "nap") (param $ms i32) (param $v i32) (result i32)
    (i32.store8 (i32.const 208) (i32.const 0))
    (i32.store (i32.const 216) (i32.const 1))
    (i64.store (i32.const 224)
      (i64.mul (i64.extend_i32_u (local.get $ms)) (i64.const 1000000)))
    (drop (call $poll (i32.const 200) (i32.const 300) (i32.const 1) (i32.const 400)))
    (local.get $v)))
EOF2
guests "$P" spin boom # tests/integration/guests/*.wat
wat "$P" spin1 <<'EOF2'
(module (func (export "spin") (param i32) (result i32) (loop $l (br $l)) (i32.const 0)))
EOF2
wat "$P" twice <<'EOF2'
(module (func (export "twice") (param i32) (result i32)
  (i32.mul (local.get 0) (i32.const 2))))
EOF2
# relay(target, input): calls target through wippy:runtime/funcs call-string and returns its
# result<string, string> as it got it (the host wrote it at 1024).
wat "$P" relay <<'EOF2'
(module
  (import "wippy:runtime/funcs@0.1.0" "call-string"
    (func $call (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 4096))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.const 7)) (i32.const -8)))
    (global.set $heap (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func (export "relay") (param i32 i32 i32 i32) (result i32)
    (call $call (local.get 0) (local.get 1) (local.get 2) (local.get 3) (i32.const 1024))
    (i32.const 1024)))
EOF2
# relay_bytes(target, input): the same through call-bytes (list<u8> in and out).
wat "$P" relay_bytes <<'EOF2'
(module
  (import "wippy:runtime/funcs@0.1.0" "call-bytes"
    (func $call (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 4096))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.const 7)) (i32.const -8)))
    (global.set $heap (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func (export "relay-bytes") (param i32 i32 i32 i32) (result i32)
    (call $call (local.get 0) (local.get 1) (local.get 2) (local.get 3) (i32.const 1024))
    (i32.const 1024)))
EOF2
# Calls app:nothing / app:shout with no cabi_realloc to receive the answer.
wat "$P" norealloc <<'EOF2'
(module
  (import "wippy:runtime/funcs@0.1.0" "call-string" (func $call (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "app:nothingapp:shout")
  (func (export "missing") (result i32)
    (call $call (i32.const 16) (i32.const 11) (i32.const 0) (i32.const 0) (i32.const 1024))
    (i32.load8_u (i32.const 1024)))
  (func (export "shout") (result i32)
    (call $call (i32.const 27) (i32.const 9) (i32.const 0) (i32.const 0) (i32.const 1024))
    (i32.load8_u (i32.const 1024))))
EOF2
wat "$P" badname <<'EOF2'
(module (import "wippy:runtime/funcs@0.1.0" "call-other" (func (param i32 i32 i32 i32 i32)))
  (func (export "run") (result i32) (i32.const 0)))
EOF2
wat "$P" badsig <<'EOF2'
(module (import "wippy:runtime/funcs" "call-string" (func (param i32 i32) (result i32)))
  (func (export "run") (result i32) (i32.const 0)))
EOF2

# The component fixture (tests/component/funcs_greet.wat, built by jco with the build).
GREET=$BUILD/component/funcs_greet.wasm
HAVE_COMPONENT=
if [ -f "$GREET" ]; then
    cp "$GREET" "$P/wasm/greet.wasm"
    cp "$BUILD/component/funcs_relay.wasm" "$P/wasm/crelay.wasm" || fail "funcs_relay.wasm"
    HAVE_COMPONENT=1
elif [ ! -f "$SRC/tests/component/.npm-unreachable" ]; then
    fail "missing $GREET (jco: scripts/setup.sh)"
fi

# fn NAME FILE METHOD POOL [IMPORTS] [EXTRA]: a function.wasm entry.
fn() {
    printf '  - name: %s\n    kind: function.wasm\n    fs: bin\n    path: /%s.wasm\n' "$1" "$2"
    printf '    hash: sha256:%s\n    method: %s\n' "$(sha "$P/wasm/$2.wasm")" "$3"
    [ -n "$4" ] && printf '    pool: %s\n' "$4"
    [ -n "${5:-}" ] && printf '    imports: [%s]\n' "$5"
    [ -n "${6:-}" ] && printf '    %s\n' "$6"
    return 0
}
# lua_cmd NAME FILE METHOD: a process.lua command entry with funcs.
lua_cmd() {
    printf '  - name: %s\n    kind: process.lua\n    meta: {command: {name: %s}}\n' "$1" "$1"
    printf '    source: file://%s\n    method: %s\n    modules: [funcs, time]\n' "$2" "$3"
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
  - name: bin
    kind: fs.directory
    directory: ./wasm
  - name: answer
    kind: function.wat
    source: |
      (module (func (export "answer") (result i32) (i32.const 42)))
    method: answer
    pool: {type: inline}
  - name: double
    kind: function.lua
    source: file://funcs_lib.lua
    method: double
    pool: {type: lazy, max_size: 4}
  - name: lua_fail
    kind: function.lua
    source: file://funcs_lib.lua
    method: fail
  - name: shout
    kind: function.lua
    source: file://funcs_lib.lua
    method: shout
  - name: nested
    kind: function.lua
    source: file://funcs_lib.lua
    method: nested
    modules: [funcs]
  - name: as_table
    kind: function.lua
    source: file://funcs_lib.lua
    method: as_table
  - name: slow
    kind: function.lua
    source: file://funcs_lib.lua
    method: slow
    modules: [time]
  - name: single
    kind: process.host
    host: {workers: 1}
  - name: caller
    kind: process.lua
    source: file://pools.lua
    method: caller
    modules: [funcs, time]
  - name: abandon
    kind: process.lua
    source: file://futures.lua
    method: abandon
    modules: [funcs, time]
  - name: ticker
    kind: process.lua
    source: file://pools.lua
    method: ticker
    modules: [funcs, time]
  - name: single_caller
    kind: process.lua
    source: file://pools.lua
    method: single_caller
    modules: [funcs, time]
  - name: proc_entry
    kind: process.wasm
    fs: bin
    path: /mul.wasm
EOF2
    printf '    hash: sha256:%s\n    method: mul\n' "$(sha "$P/wasm/mul.wasm")"
    wit='wit: "relay: func(target: string, input: string) -> result<string, string>;"'
    printf '  - name: relay_proc\n    kind: process.wasm\n    fs: bin\n    path: /relay.wasm\n'
    printf '    hash: sha256:%s\n    method: relay\n    %s\n' "$(sha "$P/wasm/relay.wasm")" "$wit"
    fn relay relay relay "{type: inline}" "" "$wit"
    fn relay_lazy relay relay "{type: lazy, max_size: 8}" "" "$wit"
    fn twice twice twice "{type: lazy}"
    fn relay_bytes relay_bytes relay-bytes "{type: lazy}" "" \
        'wit: "relay-bytes: func(target: string, input: list<u8>) -> result<list<u8>, string>;"'
    fn norealloc_missing norealloc missing "{type: inline}"
    fn norealloc_shout norealloc shout "{type: lazy}"
    fn badname badname run "{type: inline}" "wippy:runtime/funcs"
    fn badsig badsig run "{type: inline}"
    fn mul_inline mul mul "{type: inline}"
    fn mul_lazy mul mul "{type: lazy, max_size: 2}"
    fn mul_static mul mul "{type: static, size: 2, workers: 1, buffer: 4}"
    fn mul_adaptive mul mul "{type: adaptive, max_size: 2}"
    fn mul_default mul mul ""
    fn counter_inline counter count "{type: inline}"
    fn counter_lazy counter count "{type: lazy}"
    fn boom boom boom "{type: inline}"
    fn boom_lazy boom boom "{type: lazy}"
    fn nap_lazy nap nap "{type: lazy, max_size: 2}" wasi1
    fn nap_adaptive nap nap "{type: adaptive, max_size: 2}" wasi1
    fn nap_static3 nap nap "{type: static, size: 3, buffer: 3}" wasi1
    fn nap_static1 nap nap "{type: static, size: 1, buffer: 2}" wasi1
    fn nap_inline nap nap "{type: inline}" wasi1
    fn spin_fn spin spin "{type: lazy}" "" "limits: {max_execution_ms: 100}"
    fn spin1_fn spin1 spin "{type: lazy}" "" "limits: {max_execution_ms: 100}"
    fn http_fn mul mul "{type: inline}" "" "transport: wasi-http"
    if [ -n "$HAVE_COMPONENT" ]; then
        fn greet greet greet "{type: lazy, max_size: 4}"
        fn greet_inline greet greet "{type: inline}"
        fn comp_relay crelay relay "{type: lazy}"
        lua_cmd component component.lua main
        lua_cmd crelay crelay.lua main
    fi
    for t in basic pools timeouts futures guest; do
        lua_cmd "$t" "$t.lua" main
    done
} >"$P/src/_index.yaml"

run "$P" run basic
check_eq "call: each pool, WAT, Lua, fresh instances, every error kind" "$out:$err:$rc" "ok::0"
run "$P" run pools
check_eq "pools under concurrent callers: limits, queues, a full static queue" \
    "$out:$err:$rc" "ok::0"
run "$P" run timeouts
check_eq "timeouts: executor, max_execution_ms, time in the queue; executors" \
    "$out:$err:$rc" "ok::0"
run "$P" run futures
check_eq "futures: response, result, error, cancel, select" "$out:$err:$rc" "ok::0"
run "$P" run guest
check_eq "a WASM guest calls Lua and WASM functions through wippy:runtime/funcs" \
    "$out:$err:$rc" "ok::0"

if [ -n "$HAVE_COMPONENT" ]; then
    run "$P" run component
    check_eq "component functions: string argument, pooled, inline, from a core guest" \
        "$out:$err:$rc" "ok::0"
    run "$P" run crelay
    check_eq "a component calls functions through wippy:runtime/funcs" "$out:$err:$rc" "ok::0"
else
    echo "skip component functions: no jco (npm unreachable)"
fi

# A project with no process.host: an inline WASM call runs in the command's step, any other
# call has nowhere to run.
N=$(project funcsnohost)
cp "$P/wasm/mul.wasm" "$N/wasm/"
cat >"$N/src/nohost.lua" <<'EOF2'
local funcs = require("funcs")
return { main = function()
    assert(funcs.call("n:inl", 6, 7) == 42, "inline without a process host")
    local v, err = funcs.call("n:lazy", 6, 7)
    assert(v == nil and err:kind() == errors.UNAVAILABLE, tostring(err))
    assert(tostring(err):find("no process.host", 1, true), tostring(err))
    return "ok"
end }
EOF2
{
    printf 'namespace: n\nentries:\n  - name: t\n    kind: terminal.host\n'
    printf '  - name: bin\n    kind: fs.directory\n    directory: ./wasm\n'
    for c in "inl|inline" "lazy|lazy"; do
        printf '  - name: %s\n    kind: function.wasm\n    fs: bin\n    path: /mul.wasm\n' \
            "${c%%|*}"
        printf '    hash: sha256:%s\n    method: mul\n    pool: {type: %s}\n' \
            "$(sha "$N/wasm/mul.wasm")" "${c#*|}"
    done
    printf '  - name: cmd\n    kind: process.lua\n    meta: {command: {name: cmd}}\n'
    printf '    source: file://nohost.lua\n    method: main\n    modules: [funcs]\n'
} >"$N/src/_index.yaml"
run "$N" run cmd
check_eq "no process.host: inline runs, lazy is UNAVAILABLE" "$out:$err:$rc" "ok::0"

# The example project's function call (examples/src/functions).
run "$SRC/examples" run fib 20
check_eq "examples: wippy run fib 20 calls the fib function from Lua" "$out:$rc" \
    "fib(20) = 6765
1 1 2 3 5 8 13 21 34 55 89 144 233 377 610 987 1597 2584 4181 6765:0"

# Pool and transport validation at load: the reference's messages.
B=$(project funcsbad)
cp "$P/wasm/mul.wasm" "$B/wasm/"
{
    printf 'namespace: b\nentries:\n  - name: t\n    kind: terminal.host\n'
    printf '  - name: bin\n    kind: fs.directory\n    directory: ./wasm\n'
    for c in "badtype|pool: {type: turbo}" "negative|pool: {type: lazy, max_size: -1}" \
        "nosize|pool: {type: static}" "zerosize|pool: {type: static, size: 0, workers: 0}" \
        "notmap|pool: 4" "transport|transport: carrier-pigeon" \
        "notint|pool: {type: lazy, max_size: many}" \
        "okhttp|transport: wasi-http" "okstatic|pool: {workers: 2}"; do
        printf '  - name: %s\n    kind: function.wasm\n    fs: bin\n    path: /mul.wasm\n' \
            "${c%%|*}"
        printf '    hash: sha256:%s\n    method: mul\n    %s\n' "$(sha "$B/wasm/mul.wasm")" \
            "${c#*|}"
    done
    printf '  - name: lpool\n    kind: function.lua\n    source: "return 1"\n'
    printf '    pool: {type: static, size: -3}\n'
} >"$B/src/_index.yaml"
run "$B" run list
check_eq "pool problems: status" "$rc" 1
check_contains "an unknown pool type" "$err" "b:badtype: pool.type: invalid pool type: turbo"
check_contains "a negative pool value" "$err" "b:negative: pool: pool values cannot be negative"
check_contains "a static pool without size" "$err" \
    "b:nosize: pool: pool.size must be greater than 0 for non-flex pools"
check_contains "a static pool of size 0" "$err" \
    "b:zerosize: pool: pool.size must be greater than 0 for non-flex pools"
check_contains "pool must be a mapping" "$err" "b:notmap: pool: pool must be a mapping"
check_contains "pool values are integers" "$err" "b:notint: pool: pool values must be integers"
check_contains "an unknown transport" "$err" "b:transport: transport: unknown transport"
check_contains "function.lua pools are validated too" "$err" \
    "b:lpool: pool: pool values cannot be negative"
check_lacks "transport wasi-http is accepted at load" "$err" "b:okhttp"
check_lacks "workers alone make a static pool" "$err" "b:okstatic"
finish
