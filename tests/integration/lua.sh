#!/bin/sh
# lua.sh: process.lua and function.lua through the real wippy: the seed's spawn-and-receive
# example in both API styles, 1,000 sleeping WASM processes on a 2-worker host, busy loops
# beside sleepers, monitors, links, cancel, terminate, names, traps, messages and the Lua
# modules. Each scenario is a Lua command (tests/integration/lua/*.lua) that asserts and
# returns "ok..." (any failed assert is an error: exit status 1 and its message on stderr).
. "$(dirname "$0")/lib.sh"
LUA_SRC=$SRC/tests/integration/lua

P=$(project lua)
cp "$LUA_SRC"/*.lua "$P/src/"
guests "$P" compute sleeper spin boom # tests/integration/guests/*.wat

# lua_cmd NAME FILE METHOD [MODULES]: a process.lua command entry.
lua_cmd() {
    printf '  - name: %s\n    kind: process.lua\n    meta: {command: {name: %s}}\n' "$1" "$1"
    printf '    source: file://%s\n    method: %s\n    modules: [%s]\n' "$2" "$3" "${4:-time}"
}
# wasm_entry NAME FILE METHOD [IMPORTS]
wasm_entry() {
    printf '  - name: %s\n    kind: process.wasm\n    fs: bin\n    path: /%s.wasm\n' "$1" "$2"
    printf '    hash: sha256:%s\n    method: %s\n    imports: [%s]\n' \
        "$(sha "$P/wasm/$2.wasm")" "$3" "${4:-}"
}
{
    cat <<'EOF'
version: "1.0"
namespace: app
entries:
  - name: term
    kind: terminal.host
  - name: workers
    kind: process.host
    host: {workers: 2}
  - name: single
    kind: process.host
    host: {workers: 1}
  - name: bin
    kind: fs.directory
    directory: ./wasm
  - name: static
    kind: env.storage.static
    values: {GREETING: hi from static}
  - name: mem
    kind: env.storage.memory
  - name: greeting
    kind: env.variable
    storage: static
    variable: GREETING
  - name: mutable
    kind: env.variable
    storage: mem
    variable: MUTABLE
    default: initial
  - name: no_time
    kind: process.lua
    meta: {command: {name: no-time}}
    source: |
      return require("time")
  - name: chunk
    kind: function.lua
    source: |
      local a, b = ...
      return a .. "+" .. b
EOF
    wasm_entry compute compute compute
    wasm_entry sleeper sleeper nap wasi1
    wasm_entry spin spin spin
    wasm_entry boom boom boom
    for m in wait_msg echo until_cancel forever linker named fail raise_kind add; do
        printf '  - name: %s\n    kind: process.lua\n    source: file://worker.lua\n' "$m"
        printf '    method: %s\n    modules: [time]\n' "$m"
    done
    printf '  - name: lua_spin\n    kind: process.lua\n    source: file://lua_busy.lua\n'
    printf '    method: spin\n    modules: [time]\n'
    printf '  - name: sleepy\n    kind: process.lua\n    source: file://lua_busy.lua\n'
    printf '    method: sleepy\n    modules: [time]\n'
    for t in seed current sleepers busy monitors links cancel names trap messages; do
        lua_cmd "$t" "$t.lua" main
    done
    lua_cmd modules modules.lua main "time, env, io"
    lua_cmd lua_busy lua_busy.lua main
} >"$P/src/_index.yaml"

run "$P" run seed
check_eq "the seed's example as written: receive(time.seconds(10)), type, value" "$out:$rc" "42:0"
run "$P" run current
check_eq "the current API: events(), select, time.after, kind, result.value" "$out:$rc" "40:0"
run "$P" run sleepers
check_eq "1,000 sleeping WASM processes on 2 workers: every EXIT" "$out:$rc" "ok 1000:0"
[ -z "$err" ] || fail "sleepers: stderr: $err"
run "$P" run busy
check_contains "busy WASM loops beside sleepers that wake on time" "$out:$rc" "ok "
check_eq "busy: status" "$rc" 0
[ -z "$err" ] || fail "busy: stderr: $err"
run "$P" run lua_busy
check_eq "a Lua busy loop is preempted (count hook)" "$out:$rc" "ok:0"
run "$P" run monitors
check_eq "monitor, unmonitor, error EXITs with traceback and kind" "$out:$err:$rc" "ok::0"
run "$P" run links
check_eq "links with and without trap_links" "$out:$err:$rc" "ok::0"
run "$P" run cancel
check_eq "cancel (Lua and WASM) and terminate" "$out:$err:$rc" "ok::0"
run "$P" run names
check_eq "names: register, lookup, send by name, released on exit" "$out:$err:$rc" "ok::0"
run "$P" run trap
check_eq "a trapping guest: EXIT error names the trap, others run on" "$out:$err:$rc" "ok::0"
run "$P" run messages
check_eq "messages, topics, inbox, exec" "$out:$err:$rc" "ok::0"
run "$P" run modules
check_eq "channel, time, errors, coroutines, env, io in one process" "$out:$err:$rc" \
    "written by io.print
ok::0"
run "$P" run no-time
check_eq "a module not listed is not there: status" "$rc" 1
check_contains "a module not listed is not there: message" "$err" \
    "module 'time' is not enabled for app:no_time: list it under modules:"
run "$P" run -x app:chunk a b
check_eq "a function.lua without method runs its chunk with the arguments" "$out:$rc" "a+b:0"
run "$P" run -x app:add 40 2
check_eq "CLI arguments reach Lua as strings (arithmetic coerces them)" "$rc" 42
run "$P" run -x app:fail
check_eq "a Lua error: status" "$rc" 1
check_contains "a Lua error: message" "$err" "worker.lua:"
check_contains "a Lua error: traceback" "$err" "stack traceback:"
run "$P" run -x app:raise_kind
check_contains "an error object's kind reaches the CLI" "$err" \
    "wippy: app:raise_kind: not found: no such thing"

# The messaging benchmark's project (make bench runs it with 2,000,000 messages) works.
run "$SRC/bench/lua" run msgs 20000
check_contains "the Lua messaging benchmark runs" "$out:$rc" "20000 in "
check_eq "the Lua messaging benchmark: status" "$rc" 0

# Problems found at load: a syntax error (file and line), a missing source, unknown module.
B=$(project luabad)
printf 'local x = = 1\n' >"$B/src/bad.lua"
cat >"$B/src/_index.yaml" <<'EOF'
namespace: b
entries:
  - name: t
    kind: terminal.host
  - name: syntax
    kind: process.lua
    source: file://bad.lua
  - name: nosource
    kind: function.lua
    method: main
  - name: missing
    kind: process.lua
    source: file://missing.lua
  - name: mods
    kind: process.lua
    source: "return 1"
    modules: [time, json]
EOF
run "$B" run list
check_eq "problems: status" "$rc" 1
check_contains "a syntax error is a problem with file and line" "$err" \
    "src/_index.yaml:7: b:syntax: source: src/bad.lua:1: unexpected symbol near '='"
check_contains "source is required" "$err" "b:nosource: source: source is required"
check_contains "a missing file" "$err" "b:missing: source: cannot read"
check_contains "an unknown module" "$err" "b:mods: modules[2]: unknown module json"
finish
