#!/bin/sh
# exec.sh: `wippy exec` itself: arguments, environment, exit statuses, traps, stdout/stderr
# order, --invoke, the limits (--fuel, --max-stack, --max-memory-mb), and the command-line,
# file, module and import errors.
. "$(dirname "$0")/lib.sh"
need args exitcode

# run ARGS...: runs wippy exec, leaving stdout in $out, stderr in $err, status in $rc.
run() {
    "$WIPPY" exec "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    out=$(cat "$TMP/out")
    err=$(cat "$TMP/err")
}

# Arguments and environment: exactly as given, nothing inherited; argv[0] is FILE.
run --env A=1 --env "B=two words" --env C= "$GUESTS/args.wasm" x "y z" "" --not-an-option
check_eq "args: status is argc" "$rc" 5
check_eq "args: output" "$out" "argv[0] $GUESTS/args.wasm
argc 5
argv[1] [x]
argv[2] [y z]
argv[3] []
argv[4] [--not-an-option]
env [A=1]
env [B=two words]
env [C=]"
run "$GUESTS/args.wasm"
check_eq "env: nothing inherited" "$out" "argv[0] $GUESTS/args.wasm
argc 1"

# The same program natively, with the same environment (argv[0] differs by nature).
env -i A=1 "B=two words" C= "$GUESTS/args.native" x "y z" "" --not-an-option \
    | tail -n +2 >"$TMP/native"
"$WIPPY" exec --env A=1 --env "B=two words" --env C= "$GUESTS/args.wasm" x "y z" "" \
    --not-an-option | tail -n +2 >"$TMP/wasm"
check_files "args: same as native" "$TMP/wasm" "$TMP/native"

# Exit statuses: the guest's own, 0 when main returns 0.
run "$GUESTS/exitcode.wasm" return 0
check_eq "return 0" "$rc" 0
run "$GUESTS/exitcode.wasm" return 5
check_eq "return 5" "$rc" 5
run "$GUESTS/exitcode.wasm" exit 42
check_eq "exit 42: status" "$rc" 42
check_eq "exit 42: output flushed" "$out" "exiting with 42"
"$GUESTS/exitcode.native" exit 42 >/dev/null
check_eq "exit 42: native agrees" "$?" 42

# Traps: status 3, the trap named on stderr, nothing on stdout.
run "$GUESTS/exitcode.wasm" trap
check_eq "trap: status" "$rc" 3
check_contains "trap: message" "$err" "wippy: trap: unreachable in function 'main'"
run "$GUESTS/exitcode.wasm" abort
check_eq "abort: status" "$rc" 3
check_contains "abort: message" "$err" "in function 'abort'"
run "$GUESTS/exitcode.wasm" divzero
check_eq "divide by zero: status" "$rc" 3
check_contains "divide by zero: message" "$err" "integer divide by zero"
run "$GUESTS/exitcode.wasm" deep
check_eq "stack overflow: status" "$rc" 3
check_contains "stack overflow: message" "$err" "trap:"
cat >"$TMP/recurse.wat" <<'EOF'
(module (func $f (export "_start") call $f))
EOF
run "$TMP/recurse.wat"
check_eq "call stack exhausted: status" "$rc" 3
check_contains "call stack exhausted: message" "$err" "call stack exhausted"

check_contains "call stack exhausted: backtrace is capped" "$err" "more frames"

# A backtrace lists the active frames innermost first, by name or by index.
cat >"$TMP/nested.wat" <<'EOF'
(module
  (func $outer (export "_start") call $middle)
  (func $middle call $inner)
  (func $inner unreachable))
EOF
run "$TMP/nested.wat"
check_eq "backtrace: status" "$rc" 3
check_contains "backtrace: innermost" "$err" "  0: func 2"
check_contains "backtrace: middle" "$err" "  1: func 1"
check_contains "backtrace: outermost" "$err" "  2: func 0"
run "$GUESTS/exitcode.wasm" trap
check_contains "backtrace: names from the name section" "$err" "  0: main"

# stdout and stderr reach the terminal unbuffered, in the order written.
"$WIPPY" exec "$GUESTS/exitcode.wasm" interleave >"$TMP/both" 2>&1
"$GUESTS/exitcode.native" interleave >"$TMP/both.native" 2>&1
check_files "stdout/stderr interleaved as native" "$TMP/both" "$TMP/both.native"

# --invoke: another export, with numeric arguments; WASI is linked for it too.
cat >"$TMP/lib.wat" <<'EOF'
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "from invoke\n")
  (global $inits (mut i32) (i32.const 0))
  (func (export "_initialize") (global.set $inits (i32.add (global.get $inits) (i32.const 1))))
  (func (export "add") (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))
  (func (export "inits") (result i32) (global.get $inits))
  (func (export "say") (result i32)
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 12))
    (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
EOF
run --invoke add "$TMP/lib.wat" 40 2
check_eq "invoke add" "$out" 42
run --invoke inits "$TMP/lib.wat"
check_eq "invoke runs _initialize first" "$out" 1
run --invoke say "$TMP/lib.wat"
check_eq "invoke with WASI output" "$out" "from invoke
0"
run --invoke add "$TMP/lib.wat" 1
check_eq "invoke: wrong argument count" "$rc" 2
run --invoke add "$TMP/lib.wat" 1 x
check_eq "invoke: bad number" "$rc" 2
run --invoke nope "$TMP/lib.wat"
check_eq "invoke: no such export" "$rc" 1
check_contains "invoke: names the export" "$err" "no exported function 'nope'"

# Limits: --fuel counts instructions (spin(n) runs 9n + 2: 'loop'; per iteration local.get,
# i32.const, i32.add, local.set, local.get, i32.const, i32.sub, local.tee, br_if; local.get),
# --max-stack frames, --max-memory-mb MiB per memory.
cat >"$TMP/lim.wat" <<'EOF'
(module (memory 1)
  (func (export "spin") (param i32) (result i32) (local i32)
    (loop $l
      (local.set 1 (i32.add (local.get 1) (i32.const 3)))
      (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
    (local.get 1))
  (func $deep (export "deep") (param i32) (result i32)
    (if (result i32) (local.get 0)
      (then (i32.add (call $deep (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))
      (else (i32.const 0))))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))
EOF
run --fuel 902 --invoke spin "$TMP/lim.wat" 100
check_eq "--fuel: exactly enough instructions" "$out:$rc" "300:0"
run --fuel 901 --invoke spin "$TMP/lim.wat" 100
check_eq "--fuel: one instruction short traps (status 3)" "$rc" 3
check_contains "--fuel: the trap says so" "$err" "fuel exhausted"
run --max-stack 10 --invoke deep "$TMP/lim.wat" 9
check_eq "--max-stack: ten frames deep runs" "$out:$rc" "9:0"
run --max-stack 10 --invoke deep "$TMP/lim.wat" 10
check_eq "--max-stack: eleven frames deep traps" "$rc" 3
check_contains "--max-stack: the trap says so" "$err" "call stack exhausted"
run --max-memory-mb 1 --invoke grow "$TMP/lim.wat" 15
check_eq "--max-memory-mb 1: growing to 16 pages succeeds (returns the old size)" "$out" 1
run --max-memory-mb 1 --invoke grow "$TMP/lim.wat" 16
check_eq "--max-memory-mb 1: growing to 17 pages returns -1" "$out" -1
for bad in "--fuel 0" "--fuel -1" "--fuel 1x" "--max-stack 0" "--max-stack 1000001" \
           "--max-memory-mb 0" "--max-memory-mb 4097" "--max-memory-mb lots"; do
    # shellcheck disable=SC2086
    run $bad --invoke spin "$TMP/lim.wat" 1
    check_eq "bad limit $bad: status 2" "$rc" 2
    check_contains "bad limit $bad: named" "$err" "${bad#* }'"
done

# Command line errors: status 2 and the usage.
run
check_eq "no file" "$rc" 2
run --bogus "$GUESTS/args.wasm"
check_eq "unknown option" "$rc" 2
check_contains "unknown option named" "$err" "--bogus"
run --env NOEQUALS "$GUESTS/args.wasm"
check_eq "--env without =" "$rc" 2
run --dir "$TMP::" "$GUESTS/args.wasm"
check_eq "--dir with empty guest path" "$rc" 2
run --dir
check_eq "--dir without value" "$rc" 2
run --help
check_eq "--help: status" "$rc" 0
check_contains "--help: exit statuses" "$out" "exit status"
check_contains "--help: options" "$out" "--dir-ro HOST[::GUEST]"

# File, module, mount and import errors: status 1, the culprit named.
run "$TMP/missing.wasm"
check_eq "missing file: status" "$rc" 1
check_contains "missing file: named" "$err" "$TMP/missing.wasm"
printf 'not a module' >"$TMP/bad.wasm"
run "$TMP/bad.wasm"
check_eq "malformed module: status" "$rc" 1
check_contains "malformed module: named" "$err" "bad.wasm"
cat >"$TMP/env.wat" <<'EOF'
(module (import "env" "frobnicate" (func)) (func (export "_start")))
EOF
run "$TMP/env.wat"
check_eq "unknown import: status" "$rc" 1
check_contains "unknown import: named" "$err" "unknown import 'env'.'frobnicate'"
cat >"$TMP/wasi_bogus.wat" <<'EOF'
(module (import "wasi_snapshot_preview1" "fd_frobnicate" (func)) (func (export "_start")))
EOF
run "$TMP/wasi_bogus.wat"
check_eq "unknown WASI function: status" "$rc" 1
check_contains "unknown WASI function: named" "$err" \
    "unknown WASI function 'wasi_snapshot_preview1'.'fd_frobnicate'"
cat >"$TMP/wasi_type.wat" <<'EOF'
(module (import "wasi_snapshot_preview1" "fd_close" (func (param i64) (result i32)))
        (func (export "_start")))
EOF
run "$TMP/wasi_type.wat"
check_eq "WASI function with a wrong type: status" "$rc" 1
check_contains "WASI function with a wrong type: named" "$err" \
    "WASI function 'fd_close' imported as (i64) -> (i32); it is (i32) -> (i32)"
run --dir "$TMP/no-such-dir" "$GUESTS/args.wasm"
check_eq "missing mount: status" "$rc" 1
check_contains "missing mount: named" "$err" "$TMP/no-such-dir"
run --dir "$TMP::/data" --cwd /elsewhere "$GUESTS/args.wasm"
check_eq "cwd outside mounts: status" "$rc" 1
check_contains "cwd outside mounts: named" "$err" "/elsewhere"
cat >"$TMP/nostart.wat" <<'EOF'
(module (func (export "other")))
EOF
run "$TMP/nostart.wat"
check_eq "no _start: status" "$rc" 1
check_contains "no _start: explained" "$err" "no exported function '_start'"

finish
