#!/bin/sh
# runtime.sh: `wippy run` with the runtime's hosts: process.host settings, SIGTERM while a guest
# sleeps after writing a file (the file is complete, wippy stops at once), SIGINT likewise.
. "$(dirname "$0")/lib.sh"

P=$(project rt)
mkdir -p "$P/out"
# Writes 100 blocks of 1000 bytes to out/data.txt, closes it, prints "written", sleeps 60 s.
wat "$P" writer <<'EOF'
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "data.txt")
  (data (i32.const 120) "written\n")
  (func $fill (local $i i32)
    (loop $l
      (i32.store8 (i32.add (i32.const 1024) (local.get $i))
                  (i32.add (i32.const 97) (i32.rem_u (local.get $i) (i32.const 26))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000)))))
  (func (export "_start") (local $fd i32) (local $n i32)
    (call $fill)
    ;; path_open(3, 0, "data.txt", creat|trunc, fd_write right)
    (if (call $open (i32.const 3) (i32.const 0) (i32.const 100) (i32.const 8) (i32.const 9)
                    (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 16))
      (then (unreachable)))
    (local.set $fd (i32.load (i32.const 16)))
    (i32.store (i32.const 32) (i32.const 1024))
    (i32.store (i32.const 36) (i32.const 1000))
    (loop $w
      (drop (call $write (local.get $fd) (i32.const 32) (i32.const 1) (i32.const 40)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $w (i32.lt_u (local.get $n) (i32.const 100))))
    (drop (call $close (local.get $fd)))
    (i32.store (i32.const 32) (i32.const 120))
    (i32.store (i32.const 36) (i32.const 8))
    (drop (call $write (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 40)))
    ;; sleep 60 s
    (i32.store8 (i32.const 208) (i32.const 0))
    (i32.store (i32.const 216) (i32.const 1))
    (i64.store (i32.const 224) (i64.const 60000000000))
    (drop (call $poll (i32.const 200) (i32.const 300) (i32.const 1) (i32.const 400)))))
EOF
wat "$P" small <<'EOF'
(module (func (export "answer") (result i32) (i32.const 42)))
EOF

cat >"$P/src/_index.yaml" <<EOF
version: "1.0"
namespace: app
entries:
  - name: term
    kind: terminal.host
  - name: workers
    kind: process.host
    host:
      workers: 2
      queue_size: 64
      local_queue_size: 16
    lifecycle:
      auto_start: true
      stop_timeout: 2s
  - name: idle
    kind: process.host
    lifecycle:
      auto_start: false
  - name: bin
    kind: fs.directory
    directory: ./wasm
  - name: out
    kind: fs.directory
    directory: ./out
  - name: writer
    kind: process.wasm
    meta:
      command:
        name: writer
    fs: bin
    path: /writer.wasm
    hash: sha256:$(sha "$P/wasm/writer.wasm")
    method: _start
    imports: [wasi1]
    wasi:
      mounts:
        - fs: out
          guest: /out
  - name: answer
    kind: process.wasm
    meta:
      command:
        name: answer
    fs: bin
    path: /small.wasm
    hash: sha256:$(sha "$P/wasm/small.wasm")
    method: answer
EOF

run "$P" run -v answer
check_eq "a command runs on the terminal host beside the process hosts" "$rc" 42
check_contains "-v: the process host started" "$err" "host app:workers: started"
check_contains "-v: the terminal host started" "$err" "host app:term: started (terminal)"
check_contains "-v: auto_start false keeps a host down" "$err" \
    "host app:idle: not started (lifecycle.auto_start is false)"

# signal_test NAME SIGNAL: runs writer, signals it once the file is written, checks the file
# and that wippy ended at once.
signal_test() {
    rm -f "$P/out/data.txt" "$TMP/sig.out" "$TMP/sig.err" # no line of the last run may be seen
    (cd "$P" && exec "$WIPPY" run writer) >"$TMP/sig.out" 2>"$TMP/sig.err" </dev/null &
    pid=$!
    i=0
    while [ $i -lt 100 ] && ! grep -q written "$TMP/sig.out" 2>/dev/null; do
        sleep 0.05
        i=$((i + 1))
    done
    start=$(date +%s)
    kill -"$2" $pid
    wait $pid
    rc=$?
    elapsed=$(($(date +%s) - start))
    check_eq "$1: the guest wrote before the signal" "$(cat "$TMP/sig.out")" "written"
    check_eq "$1: the file is complete" "$(wc -c <"$P/out/data.txt" | tr -d ' ')" 100000
    check_eq "$1: exit status" "$rc" 1
    check_contains "$1: the process was canceled" "$(cat "$TMP/sig.err")" "canceled: shutdown"
    if [ "$elapsed" -le 2 ]; then
        pass "$1: wippy stopped at once (${elapsed}s)"
    else
        fail "$1: wippy took ${elapsed}s to stop"
    fi
}
signal_test SIGTERM TERM
signal_test SIGINT INT

# A Lua command that reads its events and ignores CANCEL: the first SIGTERM cancels it and
# starts the grace period (the hosts' longest lifecycle.stop_timeout); a second signal ends
# wippy at once with status 1; with a short grace period it is terminated when it ends.
# lua_project DIR GRACE: the project, its terminal host with stop_timeout GRACE.
lua_project() {
    mkdir -p "$1/src"
    cat >"$1/src/_index.yaml" <<EOF2
version: "1.0"
namespace: app
entries:
  - name: term
    kind: terminal.host
    lifecycle:
      stop_timeout: $2
  - name: workers
    kind: process.host
  - name: stubborn
    kind: process.lua
    meta:
      command:
        name: stubborn
    source: |
      local events = process.events()
      while true do
        events:receive()
      end
EOF2
}
# until_booted FILE: waits (up to 10 s) until wippy -v has said its terminal host started,
# which is after its signal handlers are in place.
until_booted() {
    i=0
    while [ $i -lt 200 ] && ! grep -q "started (terminal)" "$1" 2>/dev/null; do
        sleep 0.05
        i=$((i + 1))
    done
}
L1=$(project rt_stubborn)
lua_project "$L1" 30s
(cd "$L1" && exec "$WIPPY" run -v stubborn) >"$TMP/stub.out" 2>"$TMP/stub.err" </dev/null &
pid=$!
until_booted "$TMP/stub.err"
kill -TERM $pid
sleep 0.5
if kill -0 $pid 2>/dev/null; then
    pass "SIGTERM: a process that ignores CANCEL runs on in the grace period"
else
    fail "SIGTERM: a process that ignores CANCEL was stopped before its grace period"
fi
start=$(date +%s)
kill -TERM $pid
wait $pid
rc=$?
check_eq "a second SIGTERM: exit status" "$rc" 1
[ $(($(date +%s) - start)) -le 2 ] && pass "a second SIGTERM ends wippy at once" ||
    fail "a second SIGTERM did not end wippy at once"

L2=$(project rt_grace)
lua_project "$L2" 1s
# A file of its own: a reused one could still hold the first run's "started" line.
(cd "$L2" && exec "$WIPPY" run -v stubborn) >"$TMP/grace.out" 2>"$TMP/grace.err" </dev/null &
pid=$!
until_booted "$TMP/grace.err"
start=$(date +%s)
kill -INT $pid
wait $pid
rc=$?
elapsed=$(($(date +%s) - start))
check_eq "grace period over: exit status" "$rc" 1
check_contains "grace period over: the process was terminated" "$(cat "$TMP/grace.err")" \
    "terminated"
if [ "$elapsed" -ge 1 ] && [ "$elapsed" -le 4 ]; then
    pass "grace period over: stopped after the 1 s stop_timeout (${elapsed}s)"
else
    fail "grace period over: stopped after ${elapsed}s, not after the 1 s stop_timeout"
fi

finish
