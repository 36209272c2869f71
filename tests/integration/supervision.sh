#!/bin/sh
# supervision.sh: `wippy run` with no command keeps process.service entries alive: a crashing
# WASM service restarted with its backoff and given up after max_attempts (delays measured by
# the guest's own clock), a stable service whose counter resets, requires ordering seen in start
# and stop order, graceful shutdown that lets a service finish writing a file, stop_timeout,
# a second signal, a dependency cycle and bad lifecycle fields refused at load.
. "$(dirname "$0")/lib.sh"
HERE=$SRC/tests/integration/supervision

# serve DIR LOG: starts `wippy run -v` in DIR in the background (stdout to LOG.out, stderr to
# LOG.err); $pid is its process.
serve() {
    (cd "$1" && exec "$WIPPY" run -v) >"$2.out" 2>"$2.err" </dev/null &
    pid=$!
}

# wait_for FILE TEXT SECONDS: waits until FILE contains TEXT; false after SECONDS.
wait_for() {
    i=0
    while [ $i -lt $(($3 * 20)) ]; do
        grep -q -F -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

# stop_serve [SIGNAL]: SIGTERM (or SIGNAL) to $pid, waits; $rc its status, $elapsed_ms how
# long it took.
stop_serve() {
    t0=$(date +%s%N)
    kill -"${1:-TERM}" $pid
    wait $pid
    rc=$?
    elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
}

# stamps FILE: the guest's start times (ns), one per line.
stamps() {
    od -An -v -t u8 -w8 "$1" | tr -d ' '
}

# in_range NAME VALUE LO HI: LO <= VALUE <= HI (ms).
in_range() {
    if [ "$2" -ge "$3" ] && [ "$2" -le "$4" ]; then
        pass "$1 (${2}ms, expected $3..$4)"
    else
        fail "$1: ${2}ms, expected $3..$4"
    fi
}

P=$(project sup)
mkdir -p "$P/out"
wat "$P" stamp <"$HERE/stamp.wat"
wat "$P" flush <"$HERE/flush.wat"
cp "$HERE/svc.lua" "$P/src/svc.lua"

# common DIR: the hosts, file systems and process entries every project here uses.
common() {
    cat <<EOF
version: "1.0"
namespace: app
entries:
  - name: workers
    kind: process.host
    host:
      workers: 2
  - name: bin
    kind: fs.directory
    directory: ./wasm
  - name: out
    kind: fs.directory
    directory: ./out
  - name: stamp
    kind: process.wasm
    fs: bin
    path: /stamp.wasm
    hash: sha256:$(sha "$1/wasm/stamp.wasm")
    method: run
    imports: [wasi1]
    wasi:
      mounts:
        - fs: out
          guest: /out
  - name: flush
    kind: process.wasm
    fs: bin
    path: /flush.wasm
    hash: sha256:$(sha "$1/wasm/flush.wasm")
    method: _start
    imports: [wasi1]
    wasi:
      mounts:
        - fs: out
          guest: /out
  - name: svc
    kind: process.lua
    source: file://svc.lua
    method: main
    modules: [time]
EOF
}

# ---- A crashing service: backoff 200, 400, then capped at 700 ms; gives up after 3 retries --
{
    common "$P"
    cat <<EOF
  - name: crasher
    kind: process.service
    process: stamp
    host: workers
    input: [0]
    lifecycle:
      auto_start: true
      restart:
        initial_delay: 200ms
        backoff_factor: 2
        max_delay: 700ms
        jitter: 0
        max_attempts: 3
EOF
} >"$P/src/_index.yaml"
serve "$P" "$TMP/crash"
if wait_for "$TMP/crash.err" "giving up" 30; then
    pass "crasher: given up"
else
    fail "crasher: never gave up: $(cat "$TMP/crash.err")"
fi
sleep 0.3 # a fifth start would come 700 ms after the fourth
starts=$(stamps "$P/out/starts.bin")
check_eq "crasher: 1 start + max_attempts 3 restarts" "$(echo "$starts" | wc -l | tr -d ' ')" 4
set -- $starts
if [ $# -ge 4 ]; then
    in_range "crasher: first restart after initial_delay" $((($2 - $1) / 1000000)) 200 1200
    in_range "crasher: second after initial_delay * 2" $((($3 - $2) / 1000000)) 400 1400
    in_range "crasher: third capped at max_delay" $((($4 - $3) / 1000000)) 700 1700
fi
err=$(cat "$TMP/crash.err")
check_contains "-v: start" "$err" "service app:crasher: Unknown -> Starting: auto_start"
check_contains "-v: running" "$err" "service app:crasher: Starting -> Running: app:stamp started as {app:workers|"
check_contains "-v: a failure with its reason and the delay" "$err" \
    "service app:crasher: Running -> Failed: trap: unreachable"
check_contains "-v: the first retry" "$err" "restart 1 of 3 in 200ms"
check_contains "-v: the capped retry" "$err" "restart 3 of 3 in 700ms"
check_contains "-v: giving up" "$err" "giving up after 3 restart attempts"
check_contains "-v: a retry starts again" "$err" "service app:crasher: Failed -> Starting: restart 2"
stop_serve
check_eq "crasher: SIGTERM exits 0" "$rc" 0

# ---- A service that runs past stable_threshold: the counter resets, it is never given up ----
rm -f "$P/out/starts.bin"
{
    common "$P"
    cat <<EOF
  - name: steady
    kind: process.service
    process: stamp
    host: workers
    input: [300]
    lifecycle:
      auto_start: true
      stable_threshold: 100ms
      restart:
        initial_delay: 100ms
        backoff_factor: 4
        jitter: 0
        max_attempts: 1
EOF
} >"$P/src/_index.yaml"
serve "$P" "$TMP/steady"
i=0
while [ $i -lt 200 ] && [ "$(stat -c %s "$P/out/starts.bin" 2>/dev/null || echo 0)" -lt 32 ]; do
    sleep 0.05
    i=$((i + 1))
done
stop_serve INT
err=$(cat "$TMP/steady.err")
set -- $(stamps "$P/out/starts.bin")
if [ $# -ge 4 ]; then
    pass "steady: $# starts with max_attempts 1 (the counter reset)"
else
    fail "steady: only $# starts: $err"
fi
check_lacks "steady: never given up" "$err" "giving up"
check_contains "steady: the reset is logged" "$err" \
    "service app:steady: Running: stable after 100ms: restart counter reset (was 1)"
check_lacks "steady: the delay never grows" "$err" "in 400ms"
if [ $# -ge 3 ]; then
    in_range "steady: each restart 300 ms of work + 100 ms" $((($3 - $2) / 1000000)) 400 1400
fi
check_eq "steady: SIGINT exits 0" "$rc" 0
check_contains "steady: SIGINT starts the ordered stop" "$err" \
    "supervisor: stopping services in reverse order"

# ---- requires: c needs b needs a; they start in that order and stop in reverse -------------
rm -f "$P/out/data.txt"
{
    common "$P"
    for s in c b a stubborn; do
        case $s in
        c) req="requires: [b]" ;;
        b) req="depends_on: [app:a]" ;;
        *) req="" ;;
        esac
        cat <<EOF
  - name: $s
    kind: process.service
    process: svc
    host: workers
    input: [$s]
    lifecycle:
      auto_start: true
      stop_timeout: 1s
      $req
EOF
    done
} >"$P/src/_index.yaml"
serve "$P" "$TMP/order"
wait_for "$TMP/order.out" "start c" 20 || fail "order: c never started: $(cat "$TMP/order.err")"
wait_for "$TMP/order.out" "start stubborn" 20 || fail "order: stubborn never started"
stop_serve
out=$(cat "$TMP/order.out")
err=$(cat "$TMP/order.err")
running=$(grep -o 'service app:[a-z]*: Starting -> Running' "$TMP/order.err" |
    sed 's/service app:\([a-z]*\).*/\1/' | tr '\n' ' ')
case "$running" in
*a*b*c*) pass "order: a, b, c reach Running in that order ($running)" ;;
*) fail "order: Running order is [$running]" ;;
esac
check_eq "order: stopped in reverse, each after what requires it" \
    "$(grep '^stop' "$TMP/order.out" | tr '\n' ' ')" "stop c stop b stop a "
check_eq "graceful: c finished writing its file while stopping" \
    "$(wc -c <"$P/out/data.txt" 2>/dev/null | tr -d ' ')" 100000
check_contains "graceful: Stopping -> Stopped" "$err" \
    "service app:a: Stopping -> Stopped: returned \"stopped\""
check_contains "stop_timeout: the stubborn one is terminated" "$err" \
    "service app:stubborn: Stopping: stop_timeout (1000ms) passed: terminating"
check_contains "stop_timeout: then stopped" "$err" \
    "service app:stubborn: Stopping -> Stopped: terminated after stop_timeout"
check_eq "order: exit status 0" "$rc" 0
in_range "order: the shutdown waited for the stubborn one's 1 s stop_timeout" "$elapsed_ms" 1000 8000

# A second signal while a service is still stopping ends wippy at once with status 1.
serve "$P" "$TMP/twice"
wait_for "$TMP/twice.out" "start stubborn" 20 || fail "twice: stubborn never started"
kill -TERM $pid
wait_for "$TMP/twice.err" "app:stubborn: Running -> Stopping" 10
stop_serve
check_eq "a second SIGTERM: exit status 1" "$rc" 1
in_range "a second SIGTERM: at once" "$elapsed_ms" 0 900

# ---- The example project's supervised WASM service (a copy: it writes examples/state) -------
EX=$TMP/examples
cp -r "$SRC/examples" "$EX"
rm -rf "$EX/state"
serve "$EX" "$TMP/example"
if wait_for "$EX/state/heartbeat.log" "beat 2" 20; then
    pass "example: the heartbeat service beats"
else
    fail "example: no heartbeat: $(cat "$TMP/example.err")"
fi
stop_serve
check_eq "example: SIGTERM exits 0" "$rc" 0
check_contains "example: the service was cancelled in order" "$(cat "$TMP/example.err")" \
    "service app.services:heartbeat: Stopping -> Stopped: canceled: shutdown"

# ---- load errors: a cycle, bad lifecycle fields ------------------------------------------------
{
    common "$P"
    cat <<EOF
  - name: x
    kind: process.service
    process: svc
    host: workers
    lifecycle:
      requires: [y]
  - name: y
    kind: process.service
    process: svc
    host: workers
    lifecycle:
      requires: [x]
  - name: bad
    kind: process.service
    process: workers
    lifecycle:
      auto_start: yes
      stop_timeout: soon
      restart:
        max_attempt: 3
        jitter: 2
        initial_delay: 2s
        max_delay: 1s
EOF
} >"$P/src/_index.yaml"
F=src/_index.yaml
line() { grep -n -F -- "$1" "$P/$F" | head -n 1 | cut -d: -f1; }
run "$P" run
check_eq "load errors: exit status 1" "$rc" 1
check_contains "a cycle names its entries" "$err" \
    "dependency cycle through app:x: app:x -> app:y -> app:x"
check_contains "nothing starts" "$err" "nothing was started"
check_contains "process must be a process kind" "$err" \
    "$F:$(line 'process: workers'): app:bad: process: app:workers is a process.host, not a process.wasm or process.lua"
check_contains "host is required" "$err" "app:bad: host: host is required"
check_contains "auto_start is a boolean" "$err" \
    "$F:$(line 'auto_start: yes'): app:bad: lifecycle.auto_start: lifecycle.auto_start must be true or false"
check_contains "durations" "$err" \
    "$F:$(line 'stop_timeout: soon'): app:bad: lifecycle.stop_timeout: lifecycle.stop_timeout must be a duration"
check_contains "unknown restart fields" "$err" \
    "$F:$(line 'max_attempt: 3'): app:bad: lifecycle.restart.max_attempt: unknown field"
check_contains "jitter range" "$err" \
    "$F:$(line 'jitter: 2'): app:bad: lifecycle.restart.jitter: lifecycle.restart.jitter must be a number from 0 to 1"
check_contains "max_delay below initial_delay" "$err" \
    "lifecycle.restart.max_delay is shorter than initial_delay"

finish
