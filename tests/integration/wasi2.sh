#!/bin/sh
# wasi2.sh: WASI 0.2 of a component entry through `wippy run`: the entry's wasi block (args, env,
# cwd, mounts with read_only) reaches the guest, a read-only mount refuses writes on the host
# side too, and an import group the entry leaves out is a stub that traps naming the function. The guest is
# tests/component/wasi2_cmd.c (a C program made a command by jco's preview-1 adapter).
. "$(dirname "$0")/lib.sh"
CMD=$BUILD/component/wasi2_cmd.wasm
if [ ! -f "$CMD" ]; then
    if [ -f "$SRC/tests/component/.npm-unreachable" ]; then
        echo "SKIPPED: component fixtures missing and npm unreachable"
        exit 77
    fi
    echo "FAIL missing $CMD: run scripts/setup.sh (jco) and build"
    exit 1
fi

P=$(project wasi2)
cp "$CMD" "$P/wasm/"
mkdir -p "$P/data/rw" "$P/data/ro"
echo "from the host" >"$P/data/ro/in.txt"
echo "outside" >"$P/data/secret"

# entry NAME IMPORTS: a command running wasi2_cmd with the full wasi block.
entry() {
    cat <<EOF2
  - name: $1
    kind: process.wasm
    meta: {command: {name: $1}}
    fs: bin
    path: /wasi2_cmd.wasm
    hash: sha256:$(sha "$P/wasm/wasi2_cmd.wasm")
    method: "wasi:cli/run#run"
    imports: [$2]
    wasi:
      args: [one, two]
      cwd: /rw
      env:
        - id: greeting
          name: GREETING
        - id: expect_cwd
          name: EXPECT_CWD
      mounts:
        - fs: rw
          guest: /rw
        - fs: ro
          guest: /ro
          read_only: true
EOF2
}
{
    cat <<'EOF2'
version: "1.0"
namespace: app
entries:
  - name: term
    kind: terminal.host
  - name: bin
    kind: fs.directory
    directory: ./wasm
  - name: rw
    kind: fs.directory
    directory: ./data/rw
  - name: ro
    kind: fs.directory
    directory: ./data/ro
  - name: static
    kind: env.storage.static
    values: {GREETING: hello=world, EXPECT_CWD: /rw}
  - name: greeting
    kind: env.variable
    storage: static
    variable: GREETING
  - name: expect_cwd
    kind: env.variable
    storage: static
    variable: EXPECT_CWD
EOF2
    entry all "wasi:cli, wasi:io, wasi:poll, wasi:clocks, wasi:filesystem, wasi:random"
    entry nofs "wasi:cli, wasi:io, wasi:poll, wasi:clocks, wasi:random"
} >"$P/src/_index.yaml"

# runin NAME: wippy run NAME with "input line" on stdin.
runin() {
    (cd "$P" && echo "input line" | "$WIPPY" run "$1") >"$TMP/out" 2>"$TMP/err"
    rc=$?
    out=$(cat "$TMP/out")
    err=$(cat "$TMP/err")
}

NL='
'
runin all
check_eq "wasi2_cmd under wippy run: status" "$rc" 0
check_lacks "wasi2_cmd under wippy run: every check passes" "$out" "FAIL"
for c in "arguments" "environment" "stdin" "create /rw/out.txt" "read /ro/in.txt" \
    "no write in /ro" "no escape from /rw" "readdir /rw/dir" "the relative path is in the cwd" \
    "nanosleep 20 ms" "random"; do
    check_contains "wasi2_cmd: $c" "$out
" "ok $c
"
done
check_eq "wasi2_cmd: stderr" "$err" "to stderr"
check_eq "the read-only mount is unchanged on the host" "$(ls "$P/data/ro")" "in.txt"
check_eq "the file written in /rw reached the host, then was moved and removed" \
    "$(ls "$P/data/rw")" ""

# Without wasi:filesystem the adapter's first file access calls a stub, which traps naming it.
runin nofs
check_eq "no wasi:filesystem: the command traps" "$rc" 1
check_contains "no wasi:filesystem: the stub names the function" "$err" \
    "get-directories is not provided"
check_contains "no wasi:filesystem: of the interface left out" "$err" "wasi:filesystem/preopens@"
check_eq "no wasi:filesystem: the host directory is untouched" "$(ls "$P/data/rw")" ""
finish
