#!/bin/sh
# commands.sh: `wippy run` on small projects: list, run by name, -x, --host, -p, -v, --help,
# results (strings, numbers, booleans, results, errors, traps), the canonical ABI for strings,
# WASI commands (argv, stdin, exit status), limits.
. "$(dirname "$0")/lib.sh"
need_guests args exitcode cat sleep

P=$(project app)
wat "$P" math <<'EOF'
(module
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
  (func (export "yes") (result i32) (i32.const 1))
  (func (export "no") (result i32) (i32.const 0))
  (func (export "nothing"))
  (func (export "crash") (unreachable))
  (func (export "spin") (loop (br 0)))
  (func (export "math#mul") (param i32 i32) (result i32) (i32.mul (local.get 0) (local.get 1))))
EOF
# Strings through the canonical ABI: a bump allocator as cabi_realloc; results by pointer.
wat "$P" text <<'EOF'
(module
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 1024))
  (func $alloc (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get 2))))
    (global.set $bump (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  ;; shout(s) = s + "!"
  (func (export "shout") (param $s i32) (param $n i32) (result i32)
    (local $q i32)
    (local.set $q (call $alloc (i32.const 0) (i32.const 0) (i32.const 1)
                               (i32.add (local.get $n) (i32.const 1))))
    (memory.copy (local.get $q) (local.get $s) (local.get $n))
    (i32.store8 (i32.add (local.get $q) (local.get $n)) (i32.const 33))
    (i32.store (i32.const 16) (local.get $q))
    (i32.store (i32.const 20) (i32.add (local.get $n) (i32.const 1)))
    (i32.const 16))
  ;; check(s) -> result<string, string>: ok(s) unless s is empty
  (func (export "check") (param $s i32) (param $n i32) (result i32)
    (i32.store8 (i32.const 32) (i32.eqz (local.get $n)))
    (i32.store (i32.const 36) (select (i32.const 100) (local.get $s) (i32.eqz (local.get $n))))
    (i32.store (i32.const 40) (select (i32.const 5) (local.get $n) (i32.eqz (local.get $n))))
    (i32.const 32))
  (data (i32.const 100) "empty"))
EOF
cp "$GUESTS/args.wasm" "$GUESTS/exitcode.wasm" "$GUESTS/cat.wasm" "$GUESTS/sleep.wasm" "$P/wasm/"

cat >"$P/src/_index.yaml" <<EOF
version: "1.0"
namespace: app
entries:
  - name: term
    kind: terminal.host
  - name: bin
    kind: fs.directory
    directory: ./wasm
  - name: web
    kind: http.service
    addr: ":8080"
  - name: add
    kind: process.wasm
    meta:
      command: {name: add, short: Add two numbers}
    fs: bin
    path: /math.wasm
    hash: sha256:$(sha "$P/wasm/math.wasm")
    method: add
    wit: "add: func(a: s32, b: s32) -> s32;"
  - name: double
    kind: process.wasm
    meta:
      command: {name: double}
    fs: app:bin
    path: math.wasm
    hash: sha256:$(sha "$P/wasm/math.wasm")
    method: double
  - name: yes
    kind: process.wasm
    meta: {command: {name: "yes"}}
    fs: bin
    path: /math.wasm
    hash: sha256:$(sha "$P/wasm/math.wasm")
    method: "yes"
    wit: "yes: func() -> bool;"
  - name: no
    kind: process.wasm
    meta: {command: {name: "no"}}
    fs: bin
    path: /math.wasm
    hash: sha256:$(sha "$P/wasm/math.wasm")
    method: "no"
    wit: "no: func() -> bool;"
  - name: nothing
    kind: process.wasm
    meta: {command: {name: nothing}}
    fs: bin
    path: /math.wasm
    hash: sha256:$(sha "$P/wasm/math.wasm")
    method: nothing
  - name: crash
    kind: process.wasm
    meta: {command: {name: crash}}
    fs: bin
    path: /math.wasm
    hash: sha256:$(sha "$P/wasm/math.wasm")
    method: crash
  - name: spin
    kind: process.wasm
    meta: {command: {name: spin}}
    fs: bin
    path: /math.wasm
    hash: sha256:$(sha "$P/wasm/math.wasm")
    method: spin
    limits:
      max_execution_ms: 200
  - name: spin_fuel
    kind: process.wasm
    fs: bin
    path: /math.wasm
    hash: sha256:$(sha "$P/wasm/math.wasm")
    method: spin
    limits:
      max_fuel: 10000
  - name: shout
    kind: process.wasm
    meta: {command: {name: shout, short: Shout it}}
    fs: bin
    path: /text.wasm
    hash: sha256:$(sha "$P/wasm/text.wasm")
    method: shout
    wit: |
      // strings go in through cabi_realloc and come back by pointer
      shout: func(s: string) -> string;
  - name: check
    kind: process.wasm
    meta: {command: {name: check}}
    fs: bin
    path: /text.wasm
    hash: sha256:$(sha "$P/wasm/text.wasm")
    method: check
    wit: "check: func(s: string) -> result<string, string>;"
  - name: args
    kind: process.wasm
    meta: {command: {name: args}}
    fs: bin
    path: /args.wasm
    hash: sha256:$(sha "$P/wasm/args.wasm")
    method: _start
    imports: [wasi1]
    wasi:
      args: [one, "two words"]
  - name: exitcode
    kind: process.wasm
    meta: {command: {name: exitcode}}
    fs: bin
    path: /exitcode.wasm
    hash: sha256:$(sha "$P/wasm/exitcode.wasm")
    method: _start
    imports: [wasi_snapshot_preview1]
  - name: cat
    kind: process.wasm
    meta: {command: {name: cat}}
    fs: bin
    path: /cat.wasm
    hash: sha256:$(sha "$P/wasm/cat.wasm")
    method: _start
    imports: [wasi1]
  - name: mul
    kind: function.wasm
    fs: bin
    path: /math.wasm
    hash: sha256:$(sha "$P/wasm/math.wasm")
    method: "math#mul"
    wit: |
      interface math {
        mul: func(a: s32, b: s32) -> s32;
      }
  - name: nap
    kind: process.wasm
    fs: bin
    path: /sleep.wasm
    hash: sha256:$(sha "$P/wasm/sleep.wasm")
    method: _start
    imports: [wasi1]
    limits: {max_execution_ms: 300}
  - name: answer
    kind: function.wat
    source: |
      (module (func (export "answer") (result i32) (i32.const 42)))
    method: answer
EOF

# ---- list -----------------------------------------------------------------------------------
run "$P" run list
check_eq "list: status" "$rc" 0
check_eq "list: output" "$out" "Available commands:
  add       Add two numbers  app:add
  args                       app:args
  cat                        app:cat
  check                      app:check
  crash                      app:crash
  double                     app:double
  exitcode                   app:exitcode
  no                         app:no
  nothing                    app:nothing
  shout     Shout it         app:shout
  spin                       app:spin
  yes                        app:yes

Run one with: wippy run <command> [args...]"
check_eq "list: nothing on stderr" "$err" ""

E=$(project empty)
printf 'namespace: e\nentries:\n  - name: t\n    kind: terminal.host\n' >"$E/src/_index.yaml"
run "$E" run list
check_eq "list, no commands: status" "$rc" 0
check_contains "list, no commands: message" "$out" "No commands found."
check_contains "list, no commands: hint" "$out" "meta.command.name"

# ---- results --------------------------------------------------------------------------------
run "$P" run add 2 40
check_eq "wit s32: the number is the exit status" "$rc" 42
check_eq "wit s32: prints nothing" "$out$err" ""
run "$P" run double 21
check_eq "core i32, no wit: argument parsed, result is the status" "$rc" 42
run "$P" run yes
check_eq "bool true: status 0" "$rc" 0
run "$P" run no
check_eq "bool false: status 1" "$rc" 1
run "$P" run nothing
check_eq "no result: status 0" "$rc:$out:$err" "0::"
run "$P" run shout hey
check_eq "string in and out: printed" "$out" "hey!"
check_eq "string in and out: status" "$rc" 0
run "$P" run shout "多字节 ok"
check_eq "string: UTF-8 kept" "$out" "多字节 ok!"
run "$P" run check fine
check_eq "result ok: the value is printed" "$out:$rc" "fine:0"
run "$P" run check ""
check_eq "result err: status" "$rc" 1
check_eq "result err: on stderr" "$err" 'wippy: app:check: error: "empty"'
run "$P" run crash
check_eq "trap: status" "$rc" 1
check_contains "trap: the error chain on stderr" "$err" "wippy: app:crash: trap: unreachable"
run "$P" run add 2 x
check_eq "bad argument: status" "$rc" 1
check_contains "bad argument: says which" "$err" "argument 2 (b): 'x' is not a valid s32"
run "$P" run add 2
check_contains "argument count" "$err" "add takes 2 arguments, 1 given"
run "$P" run add 1 99999999999
check_contains "argument out of range" "$err" "99999999999 is out of range for s32"

# ---- WASI commands --------------------------------------------------------------------------
run "$P" run args x "y z"
check_eq "_start: exit status is argc" "$rc" 5
check_eq "_start: wasi.args then the command's arguments" "$out" "argv[0] args
argc 5
argv[1] [one]
argv[2] [two words]
argv[3] [x]
argv[4] [y z]"
run "$P" run exitcode exit 7
check_eq "proc_exit status" "$rc" 7
run "$P" run exitcode return 3
check_eq "main's return value" "$rc" 3
run "$P" run exitcode trap
check_eq "a command that traps: status" "$rc" 1
check_contains "a command that traps: message" "$err" "trap: unreachable"
printf 'line one\nline two\n' | (cd "$P" && "$WIPPY" run cat) >"$TMP/cat.out" 2>"$TMP/cat.err"
check_eq "stdin reaches the guest" "$(cat "$TMP/cat.out")" "line one
line two"
(sleep 1; echo late) | (cd "$P" && "$WIPPY" run cat) >"$TMP/cat.out" 2>&1
check_eq "a guest waiting on a slow pipe gets the data" "$(cat "$TMP/cat.out")" "late"

# ---- limits ---------------------------------------------------------------------------------
start=$(date +%s)
run "$P" run spin
check_eq "max_execution_ms stops a busy loop: status" "$rc" 1
check_contains "max_execution_ms: message" "$err" "timeout: execution exceeded max_execution_ms (200 ms)"
[ $(($(date +%s) - start)) -lt 10 ] && pass "max_execution_ms: stopped in time" ||
    fail "max_execution_ms: took too long"
start=$(date +%s)
run "$P" run -x app:nap 5000
check_contains "max_execution_ms cuts a sleeping (pending) guest short" "$err" \
    "timeout: execution exceeded max_execution_ms (300 ms)"
[ $(($(date +%s) - start)) -lt 4 ] && pass "a sleeping guest is stopped in time" ||
    fail "a sleeping guest was not stopped in time"
run "$P" run -x app:nap 20
check_eq "a short sleep finishes: status" "$rc" 0
check_contains "a short sleep finishes: the guest measured it" "$out" "ok"
check_lacks "a short sleep finishes: no wrong timing" "$out" "WRONG"
run "$P" run -x app:spin_fuel
check_contains "fuel limit" "$err" "fuel exhausted"

# ---- -x, --host -----------------------------------------------------------------------------
run "$P" run -x app:shout hello
check_eq "-x runs an entry by ID" "$out" "hello!"
run "$P" run -x app:answer
check_eq "-x runs a function.wat once" "$rc" 42
run "$P" run -x app:mul 6 7
check_eq "method interface#function with a wit interface" "$rc" 42
run "$P" run -x app:shout --host app:term hi
check_eq "-x ID --host ID args" "$out" "hi!"
run "$P" run --host app:term shout yo
check_eq "--host before a command name" "$out" "yo!"
run "$P" run -x app:nope
check_eq "-x unknown entry: status" "$rc" 1
check_eq "-x unknown entry: message" "$err" "wippy: entry app:nope not found"
run "$P" run -x app:bin
check_eq "-x not a process" "$err" "wippy: entry app:bin is a fs.directory, not a process"
run "$P" run -x app:web
check_eq "-x on an unknown kind" "$err" "wippy: entry app:web is a http.service, not a process"
L=$(project lua)
printf 'namespace: l\nentries:\n  - name: t\n    kind: terminal.host\n  - name: m\n    kind: process.lua\n    meta: {command: {name: migrate, short: Lua}}\n    source: "return 7"\n' \
    >"$L/src/_index.yaml"
run "$L" run list
check_contains "a process.lua command is listed" "$out" "  migrate  Lua  l:m"
run "$L" run migrate
check_eq "a process.lua command runs (its chunk returns 7)" "$rc" 7
run "$P" run --host app:nope shout x
check_eq "--host unknown" "$err" 'wippy: terminal host "app:nope" not found'
run "$P" run -x app:add --host app:bin 1 2
check_eq "--host not a terminal host" "$err" 'wippy: terminal host "app:bin" not found'

N=$(project noterm)
cp "$P"/wasm/*.wasm "$N/wasm/"
sed -e '/name: term$/,+1d' "$P/src/_index.yaml" >"$N/src/_index.yaml"
run "$N" run add 1 2
check_eq "no terminal.host: status" "$rc" 1
check_eq "no terminal.host: message" "$err" "wippy: no terminal.host found in registry"
run "$N" run -x app:add 1 2
check_eq "no terminal.host with -x" "$err" "wippy: no terminal.host found in registry"

M=$(project twoterms)
cp "$P"/wasm/*.wasm "$M/wasm/"
cp "$P/src/_index.yaml" "$M/src/_index.yaml"
printf 'namespace: other\nentries:\n  - name: t2\n    kind: terminal.host\n' >"$M/src/other.yaml"
run "$M" run -x app:add 1 2
check_eq "two terminal hosts: status" "$rc" 1
check_eq "two terminal hosts: message" "$err" \
    "wippy: multiple terminal hosts found (app:term, other:t2), use --host to specify"
run "$M" run -x app:add --host other:t2 1 2
check_eq "two terminal hosts, --host picks one" "$rc" 3

# ---- unknown command, -p, -v ----------------------------------------------------------------
run "$P" run nope
check_eq "unknown command: status" "$rc" 1
check_eq "unknown command: message" "$err" \
    "wippy: command \"nope\" not found. Use 'wippy run list' to see available commands"
run "$TMP" run -p "$P" shout far
check_eq "-p DIR" "$out" "far!"
run "$TMP" run --project "$P" shout far
check_eq "--project DIR" "$out" "far!"
run "$TMP" run --project="$P" list
check_contains "--project=DIR" "$out" "Available commands:"
run "$TMP" run list
check_eq "no src in the current directory: status" "$rc" 1
check_contains "no src in the current directory: message" "$err" "no source directory"
run "$TMP" run -p "$TMP/none" list
check_contains "-p to a missing directory" "$err" "project directory $TMP/none not found"
run "$P" run -v shout v
check_eq "-v: the result is unchanged" "$out" "v!"
check_contains "-v: files read" "$err" "wippy: src/_index.yaml: namespace app, 19 entries"
check_contains "-v: unknown kinds are kept and named" "$err" "app:web: unknown kind http.service (kept, ignored)"
check_contains "-v: hashes verified" "$err" "sha256 verified"
check_contains "-v: boot order" "$err" "boot 1: app:term (terminal.host)"
check_contains "-v: what runs" "$err" "running app:shout on app:term with 1 argument"
check_contains "-v: the result" "$err" 'app:shout returned "v!"'
run "$P" run shout v
check_eq "without -v stderr is quiet" "$err" ""
# (run without a command serves the project's services until a signal: supervision.sh)

# ---- options and help -----------------------------------------------------------------------
run "$P" run --help
check_eq "run --help: status" "$rc" 0
check_contains "run --help: usage" "$out" "usage: wippy run [-p DIR] [-v] list"
run "$P" run list --help
check_contains "run list --help" "$out" "usage: wippy run"
run "$P" run -x
check_eq "-x without a value: status" "$rc" 2
check_contains "-x without a value: message" "$err" "wippy run: -x needs a value"
run "$P" --help
check_contains "wippy --help names run" "$out" "  run      run a project's command"
run "$P" run --bogus
check_eq "unknown option: status" "$rc" 2
check_contains "unknown option: message" "$err" "wippy run: unknown option '--bogus'"
run "$P" run list extra
check_eq "list takes no arguments" "$rc:$(echo "$err" | head -n 1)" "2:wippy run: list takes no arguments"
run "$P" run shout --help
check_eq "after the command name everything is the command's" "$out" "--help!"
run "$P" exec --invoke add "$P/wasm/math.wasm" 2 3
check_eq "wippy exec still works" "$out" "5"

finish
