#!/bin/sh
# examples.sh: the examples/ project a new user runs from the README. Its modules are built
# from examples/guests/*.c by the build; their SHA-256 must equal the hashes in the YAML (so
# sources, binaries and definitions never drift), and each command must do what it says.
. "$(dirname "$0")/lib.sh"
EX=$SRC/examples

# Every path/hash pair of the definitions against the built file.
pairs=$(awk '/^ *path: /{p=$2} /^ *hash: sha256:/{sub("sha256:", "", $2); print p, $2}' \
    "$EX"/src/*.yaml "$EX"/src/*/*.yaml)
[ -n "$pairs" ] || fail "no path/hash pairs found in examples/src"
echo "$pairs" | {
    while read -r path hash; do
        file=$EX/wasm${path}
        if [ ! -f "$file" ]; then
            echo "FAIL $file was not built"
            exit 1
        fi
        got=$(sha "$file")
        if [ "$got" != "$hash" ]; then
            echo "FAIL examples/wasm$path: built sha256 $got, the YAML says $hash"
            exit 1
        fi
        echo "ok   examples/wasm$path matches its hash"
    done
} || failures=$((failures + 1))
checks=$((checks + 1))

run "$EX" run list
check_eq "list: status" "$rc" 0
check_eq "list" "$out" "Available commands:
  compute  Multiply two numbers; the product is the exit status     app.commands:compute_worker
  env      Print the environment the entry gives its guest          app.commands:env
  fib      Call the fib function from Lua (funcs.call)              app.functions:fib_command
  files    List or print the files of the read-only data directory  app.commands:files
  greet    Greet someone                                            app.commands:greet
  spawn    Spawn compute_worker from Lua and print what it returns  app.commands:spawn_compute

Run one with: wippy run <command> [args...]"
run "$EX" run greet World
check_eq "greet World" "$out:$rc" "Hello, World!:0"
run "$EX" run compute 6 7
check_eq "compute 6 7 exits 42" "$rc:$out" "42:"
run "$EX" run spawn
check_eq "spawn: Lua spawns compute_worker and prints its 42" "$out:$rc" "42:0"
run "$EX" run spawn 5 5
check_eq "spawn 5 5: arguments reach the worker" "$out:$rc" "25:0"
run "$EX" run files
check_eq "files lists the mount" "$out" "hello.txt
notes.txt"
run "$EX" run files hello.txt
check_eq "files prints a file" "$out" "$(cat "$EX/data/hello.txt")"
run "$EX" run files --touch
check_eq "files: the mount is read-only" "$out" \
    "files: cannot write /data/new.txt: Read-only file system"
[ ! -e "$EX/data/new.txt" ] && pass "files: nothing was written" || fail "files wrote a file"
(cd "$EX" && env -u GREETING "$WIPPY" run env) >"$TMP/out" 2>&1
check_eq "env: the static default through the router" "$(cat "$TMP/out")" \
    "GREETING=Hello from the static storage"
(cd "$EX" && GREETING=Howdy "$WIPPY" run env GREETING) >"$TMP/out" 2>&1
check_eq "env: the OS value first" "$(cat "$TMP/out")" "GREETING=Howdy"
run "$EX" run -x app.commands:fib 10
check_eq "function.wat from a file: fib(10)" "$rc" 55
run "$EX" run -x app.commands:answer
check_eq "inline function.wat" "$rc" 42
finish
