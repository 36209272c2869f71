#!/bin/sh
# limits.sh: limits and fault isolation through the real wippy (docs/limits.md): each limit and
# each way a guest can fail (trap, timeout busy or asleep, fuel, stack, memory growth, memory at
# instantiation, garbage on stdout, proc_exit in a method) beside healthy processes whose
# results all arrive; host.max_processes and host.max_memory_mb refusing a spawn; a mapping the
# system refuses (prlimit); 10,000 processes with one in ten failing; every validation error.
. "$(dirname "$0")/lib.sh"
LIM_SRC=$SRC/tests/integration/limits

P=$(project limits)
cp "$LIM_SRC"/*.lua "$P/src/"
guests "$P" compute sleeper spin boom # tests/integration/guests/*.wat
# recurse: calls itself without end.
wat "$P" recurse <<'EOF'
(module (func $r (export "recurse") (result i32) (i32.add (call $r) (i32.const 1))))
EOF
# count(n): n + (n-1) + ... + 1, in 9n + 2 instructions: 'loop'; per iteration local.get,
# local.get, i32.add, local.set, local.get, i32.const, i32.sub, local.tee, br_if; local.get.
wat "$P" count <<'EOF'
(module (func (export "count") (param $n i32) (result i32) (local $s i32)
  (loop $l
    (local.set $s (i32.add (local.get $s) (local.get $n)))
    (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
  (local.get $s)))
EOF
# grow: grows one page at a time until memory.grow says -1; returns the size in pages.
wat "$P" grow <<'EOF'
(module (memory 1)
  (func (export "grow") (result i32)
    (block $full (loop $more
      (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
      (br $more)))
    (memory.size)))
EOF
# hog: grows 16 pages at a time, writing into each new piece, and traps when it cannot grow.
wat "$P" hog <<'EOF'
(module (memory 1)
  (func (export "hog") (result i32) (local $old i32)
    (loop $more
      (local.set $old (memory.grow (i32.const 16)))
      (if (i32.eq (local.get $old) (i32.const -1)) (then unreachable))
      (i32.store (i32.mul (local.get $old) (i32.const 65536)) (i32.const 1))
      (br $more))
    (i32.const 0)))
EOF
# grow_big: grows 256 pages (16 MiB) at a time until memory.grow says -1, touching nothing;
# returns the size in pages.
wat "$P" grow_big <<'EOF'
(module (memory 1)
  (func (export "grow") (result i32)
    (block $full (loop $more
      (br_if $full (i32.eq (memory.grow (i32.const 256)) (i32.const -1)))
      (br $more)))
    (memory.size)))
EOF
# bigmem: a memory of 64 pages (4 MiB) from the start.
wat "$P" bigmem <<'EOF'
(module (memory 64) (func (export "f") (result i32) (i32.const 1)))
EOF
# big: a memory of 16,384 pages (1 GiB) from the start, written at its end.
wat "$P" big <<'EOF'
(module (memory 16384)
  (func (export "f") (result i32) (i32.store (i32.const 1073741820) (i32.const 1)) (i32.const 7)))
EOF
# garbage: writes 255 * 256 bytes of 1..255 (escape sequences, invalid UTF-8) to stdout.
wat "$P" garbage <<'EOF'
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "garbage") (result i32) (local $i i32)
    (local.set $i (i32.const 1))
    (loop $fill
      (i32.store8 (i32.add (i32.const 1024) (local.get $i)) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $i) (i32.const 256))))
    (i32.store (i32.const 0) (i32.const 1025))
    (i32.store (i32.const 4) (i32.const 255))
    (local.set $i (i32.const 0))
    (loop $out
      (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $out (i32.lt_u (local.get $i) (i32.const 256))))
    (i32.const 1)))
EOF
# exiter: mid() calls inner(), which calls proc_exit(7).
wat "$P" exiter <<'EOF'
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (func $inner (call $exit (i32.const 7)))
  (func (export "mid") (result i32) (call $inner) (i32.const 1)))
EOF

# wasm_entry NAME FILE METHOD IMPORTS [LIMITS]
wasm_entry() {
    printf '  - name: %s\n    kind: process.wasm\n    fs: bin\n    path: /%s.wasm\n' "$1" "$2"
    printf '    hash: sha256:%s\n    method: %s\n    imports: [%s]\n' \
        "$(sha "$P/wasm/$2.wasm")" "$3" "$4"
    [ -z "${5:-}" ] || printf '    limits: {%s}\n' "$5"
}
lua_cmd() {
    printf '  - name: %s\n    kind: process.lua\n    meta: {command: {name: %s}}\n' "$1" "$1"
    printf '    source: file://%s.lua\n    method: main\n    modules: [time]\n' "$1"
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
  - name: small
    kind: process.host
    host: {workers: 1, max_processes: 3}
  - name: tight
    kind: process.host
    host: {workers: 1, max_memory_mb: 8}
  - name: bin
    kind: fs.directory
    directory: ./wasm
EOF
    wasm_entry compute compute compute ""
    wasm_entry nap sleeper nap wasi1
    wasm_entry nap_long sleeper nap wasi1 "max_execution_ms: 100"
    wasm_entry nap_short_limit sleeper nap wasi1 "max_execution_ms: 20"
    wasm_entry mem2 sleeper nap wasi1 "max_memory_mb: 2"
    wasm_entry spin spin spin "" "max_execution_ms: 100"
    wasm_entry spin_short_limit spin spin "" "max_execution_ms: 20"
    wasm_entry fuel spin spin "" "max_fuel: 10000"
    wasm_entry fuel_exact count count "" "max_fuel: 92"  # count(10): 9 * 10 + 2
    wasm_entry fuel_short count count "" "max_fuel: 91"
    wasm_entry deep recurse recurse "" "max_stack: 100"
    wasm_entry deep_default recurse recurse ""
    wasm_entry grow grow grow "" "max_memory_mb: 2"
    wasm_entry hog hog hog "" "max_memory_mb: 64"
    wasm_entry grow_unlimited grow_big grow ""
    wasm_entry bigmem bigmem f "" "max_memory_mb: 1"
    wasm_entry big big f ""
    wasm_entry garbage garbage garbage wasi1
    wasm_entry exiter exiter mid wasi1
    wasm_entry boom boom boom ""
    for t in isolation admission load memfail; do
        lua_cmd "$t"
    done
} >"$P/src/_index.yaml"

# ---- each limit and each failure, beside healthy processes ------------------------------------
start=$(date +%s)
run "$P" run isolation
check_eq "isolation: status" "$rc" 0
[ -z "$err" ] || fail "isolation: stderr: $err"
bytes=$(wc -c <"$TMP/out")
out=${out##*== report ==}
check_contains "healthy processes beside the failing ones: every result" "$out" "healthy 100/100"
check_contains "max_execution_ms stops a busy loop, naming the limit" "$out" \
    "spin: TIMEOUT: execution exceeded max_execution_ms (100 ms)"
check_contains "max_execution_ms counts time asleep" "$out" \
    "nap_long: TIMEOUT: execution exceeded max_execution_ms (100 ms)"
check_contains "max_fuel: exhaustion traps, naming the limit" "$out" "fuel: TRAP: fuel exhausted"
check_contains "max_fuel: the limit in the message" "$out" "(limits.max_fuel: 10000)"
check_contains "max_fuel counts instructions: exactly enough completes" "$out" \
    "fuel_exact: value 55"
check_contains "max_fuel counts instructions: one short traps" "$out" \
    "fuel_short: TRAP: fuel exhausted in func 0 (limits.max_fuel: 91)"
check_contains "max_stack: exhaustion traps, naming the limit" "$out" \
    "deep: TRAP: call stack exhausted"
check_contains "max_stack: the limit in the message" "$out" "(limits.max_stack: 100 frames)"
check_contains "unbounded recursion without max_stack traps at the default depth" "$out" \
    "deep_default: TRAP: call stack exhausted"
check_contains "max_memory_mb: memory.grow returns -1 at 2 MiB (32 pages)" "$out" \
    "grow: value 32"
check_contains "a guest growing memory without end ends alone" "$out" "hog: TRAP: unreachable"
check_contains "without max_memory_mb, growth stops at a 32-bit memory's 4 GiB" "$out" \
    "grow_unlimited: value 65281"
check_contains "max_memory_mb: instantiation of a larger memory fails with a clear error" "$out" \
    "bigmem: NOMEM: memory 0 needs 64 pages (4096 KiB) at instantiation, over limits.max_memory_mb (1 MiB)"
check_contains "garbage on stdout: the guest returns normally" "$out" "garbage: value 1"
check_contains "proc_exit in the middle of a method: an EXIT error saying so" "$out" \
    "exiter: TRAP: proc_exit(7) during mid: the call ended without its result"
check_contains "a trap" "$out" "boom: TRAP: unreachable"
[ "$bytes" -ge 65280 ] && pass "the garbage reached stdout ($bytes bytes)" ||
    fail "the garbage did not reach stdout ($bytes bytes)"
[ $(($(date +%s) - start)) -lt 60 ] && pass "isolation: in time" || fail "isolation: took too long"

# ---- host limits: a spawn past them is refused ----------------------------------------------
run "$P" run admission
check_eq "admission: status" "$rc" 0
[ -z "$err" ] || fail "admission: stderr: $err"
check_contains "host.max_processes: the spawn past it fails" "$out" \
    "small: UNAVAILABLE: host app:small is full: max_processes (3) processes are alive"
check_contains "host.max_memory_mb: a host out of memory refuses one more instance" "$out" \
    "tight: NOMEM: host app:tight is out of memory for one more process: it reserves 2048 KiB, 8192 of the host's 8192 KiB are reserved"
check_eq "admission: room comes back after exits" "$(printf '%s\n' "$out" | tail -n 1)" "ok"

# ---- the system refuses a mapping: that instance alone fails ----------------------------------
# Under an address-space limit (prlimit), where the sanitizers' shadow memory allows one.
if grep -a -q -e __asan_init -e __tsan_init "$WIPPY"; then
    pass "mapping refused by the system: skipped under a sanitizer"
elif ! command -v prlimit >/dev/null; then
    pass "mapping refused by the system: skipped, no prlimit"
else
    (cd "$P" && prlimit --as=800000000 "$WIPPY" run memfail) >"$TMP/out" 2>"$TMP/err" </dev/null
    check_eq "mapping refused by the system: status" "$?" 0
    check_eq "mapping refused by the system: that process fails with NOMEM, others go on" \
        "$(cat "$TMP/out")" "big: NOMEM: memory 0: cannot map a memory of 16384 pages
healthy 20/20"
    (cd "$P" && "$WIPPY" run -x app:big) >"$TMP/out" 2>&1 </dev/null
    check_eq "without the address-space limit the same instance runs" "$?" 7
fi

# ---- load: 10,000 processes, one in ten failing -----------------------------------------------
start=$(date +%s)
run "$P" run load 10000
check_contains "10,000 processes, 1 in 10 failing: every result and failure" "$out:$rc" \
    "ok 9000 333 667 "
[ -z "$err" ] || fail "load: stderr: $err"
took=$(($(date +%s) - start))
[ "$took" -lt 60 ] && pass "load: ${took}s (${out##* } ms inside)" || fail "load: took ${took}s"

# ---- validation: each limit's errors, found at load -------------------------------------------
V=$(project limits_bad)
cp "$P/wasm/compute.wasm" "$V/wasm/"
H=$(sha "$V/wasm/compute.wasm")
{
    cat <<'EOF'
namespace: v
entries:
  - name: t
    kind: terminal.host
  - name: bin
    kind: fs.directory
    directory: ./wasm
EOF
    n=0
    for l in "max_execution_ms: -1" "max_execution_ms: 1.5" "max_execution_ms: 1099511627777" \
             "max_memory_mb: -2" "max_memory_mb: lots" "max_memory_mb: 4097" \
             "max_fuel: -3" "max_fuel: 1e9" "max_fuel: 18446744073709551616" \
             "max_stack: -4" "max_stack: deep" "max_stack: 1000001" \
             "fuel: 10" "max_memory: 1M" "max_call_depth: 10" "limits_as_list"; do
        n=$((n + 1))
        printf '  - name: e%d\n    kind: process.wasm\n    fs: bin\n    path: /compute.wasm\n' "$n"
        printf '    hash: sha256:%s\n    method: compute\n' "$H"
        if [ "$l" = limits_as_list ]; then
            printf '    limits: [1, 2]\n'
        else
            printf '    limits: {%s}\n' "$l"
        fi
    done
    for h in "max_processes: -1" "max_processes: many" "max_processes: 1048577" \
             "max_memory_mb: -1" "max_memory_mb: 1G" "max_memory_mb: 1048577"; do
        n=$((n + 1))
        printf '  - name: e%d\n    kind: process.host\n    host: {%s}\n' "$n" "$h"
    done
    cat <<'EOF'
  - name: good
    kind: process.wasm
    fs: bin
    path: /compute.wasm
    hash: sha256:HASH
    method: compute
    limits: {max_execution_ms: 0, max_memory_mb: 4096, max_fuel: 18446744073709551615, max_stack: 1000000}
  - name: good_host
    kind: process.host
    host: {max_processes: 0, max_memory_mb: 1048576}
EOF
} >"$V/src/_index.yaml"
sed -i "s/HASH/$H/" "$V/src/_index.yaml"
run "$V" run list
check_eq "invalid limits: status" "$rc" 1
for x in "e1: limits.max_execution_ms: limits.max_execution_ms cannot be negative" \
         "e2: limits.max_execution_ms: limits.max_execution_ms must be a non-negative integer" \
         "e3: limits.max_execution_ms: limits.max_execution_ms must be at most 1099511627776" \
         "e4: limits.max_memory_mb: limits.max_memory_mb cannot be negative" \
         "e5: limits.max_memory_mb: limits.max_memory_mb must be a non-negative integer" \
         "e6: limits.max_memory_mb: limits.max_memory_mb must be at most 4096" \
         "e7: limits.max_fuel: limits.max_fuel cannot be negative" \
         "e8: limits.max_fuel: limits.max_fuel must be a non-negative integer" \
         "e9: limits.max_fuel: limits.max_fuel must be a non-negative integer" \
         "e10: limits.max_stack: limits.max_stack cannot be negative" \
         "e11: limits.max_stack: limits.max_stack must be a non-negative integer" \
         "e12: limits.max_stack: limits.max_stack must be at most 1000000" \
         "e13: limits.fuel: unknown limit fuel (known: max_execution_ms, max_memory_mb, max_fuel, max_stack)" \
         "e14: limits.max_memory: unknown limit max_memory" \
         "e15: limits.max_call_depth: unknown limit max_call_depth" \
         "e16: limits: limits must be a mapping" \
         "e17: host.max_processes: host.max_processes cannot be negative" \
         "e18: host.max_processes: host.max_processes must be a non-negative integer" \
         "e19: host.max_processes: host.max_processes must be at most 1048576" \
         "e20: host.max_memory_mb: host.max_memory_mb cannot be negative" \
         "e21: host.max_memory_mb: host.max_memory_mb must be a non-negative integer" \
         "e22: host.max_memory_mb: host.max_memory_mb must be at most 1048576"; do
    check_contains "reported: $x" "$err" "v:$x"
done
check_lacks "the largest valid limits are accepted" "$err" "v:good:"
check_lacks "the largest valid host limits are accepted" "$err" "v:good_host:"
finish
