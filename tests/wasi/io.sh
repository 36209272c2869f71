#!/bin/sh
# io.sh: blocking calls and the host's services: stdin from a pipe that delivers slowly
# (reads wait through the pending path), stdout into a pipe that drains slowly (writes wait),
# stdin from a file and from /dev/null, sleeping, poll with timeouts, clocks, random.
. "$(dirname "$0")/lib.sh"
need cat sleep poll clocks random

# Slow producer: each read returns what has arrived so far, so two separate reads happen.
(printf 'first\n'; sleep 0.4; printf 'second\n') |
    "$WIPPY" exec "$GUESTS/cat.wasm" -v >"$TMP/cat.out" 2>"$TMP/cat.err"
check_eq "stdin pipe: status" "$?" 0
check_eq "stdin pipe: data in order" "$(cat "$TMP/cat.out")" "first
second"
check_eq "stdin pipe: one read per arrival" "$(cat "$TMP/cat.err")" "read 6
read 7
total 13"

# Big input through a pipe both ways, the reader slower than the writer: the guest's writes
# to the full stdout pipe wait instead of failing or blocking the host call.
head -c 3000000 /dev/urandom >"$TMP/big"
cat "$TMP/big" | "$WIPPY" exec "$GUESTS/cat.wasm" | (sleep 0.5; cat) >"$TMP/big.out"
check_files "pipe in, slow pipe out: every byte" "$TMP/big.out" "$TMP/big"
"$WIPPY" exec "$GUESTS/cat.wasm" <"$TMP/big" >"$TMP/big.file"
check_files "stdin from a regular file" "$TMP/big.file" "$TMP/big"
"$WIPPY" exec "$GUESTS/cat.wasm" </dev/null >"$TMP/empty"
check_eq "stdin from /dev/null: status" "$?" 0
check_eq "stdin from /dev/null: nothing" "$(wc -c <"$TMP/empty" | tr -d ' ')" 0

# A reader that went away: the guest sees EPIPE and wippy survives it.
("$WIPPY" exec "$GUESTS/cat.wasm" <"$TMP/big" 2>"$TMP/epipe.err"; echo $? >"$TMP/epipe.rc") |
    head -c 10 >/dev/null
check_eq "closed stdout: the guest sees EPIPE" "$(cat "$TMP/epipe.err")" "write: EPIPE"
check_eq "closed stdout: the guest exits as it chose" "$(cat "$TMP/epipe.rc")" 1

# Sleeping: each way of sleeping takes at least as long as asked.
start=$(date +%s%N)
"$WIPPY" exec "$GUESTS/sleep.wasm" 150 >"$TMP/sleep.out" 2>&1
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
check_eq "sleep: every way" "$(cat "$TMP/sleep.out")" "nanosleep                ok
clock_nanosleep          ok
clock_nanosleep abstime  ok
poll                     ok"
if [ "$elapsed_ms" -ge 600 ]; then
    pass "sleep: four sleeps of 150 ms took ${elapsed_ms} ms"
else
    fail "sleep: four sleeps of 150 ms took only ${elapsed_ms} ms"
fi
"$GUESTS/sleep.native" 150 >"$TMP/sleep.native"
check_files "sleep: same as native" "$TMP/sleep.out" "$TMP/sleep.native"

# poll: a timeout while nothing has come, then readable when data arrives.
(sleep 1; echo hello) | "$WIPPY" exec "$GUESTS/poll.wasm" >"$TMP/poll.out" 2>&1
(sleep 1; echo hello) | "$GUESTS/poll.native" >"$TMP/poll.native" 2>&1
check_files "poll: same as native" "$TMP/poll.out" "$TMP/poll.native"
check_contains "poll: timed out first" "$(cat "$TMP/poll.out")" "first poll: timeout"

# Clocks and random: every line "ok", natively too.
now=$(date +%s)
"$WIPPY" exec "$GUESTS/clocks.wasm" "$now" >"$TMP/clocks.out" 2>&1
"$GUESTS/clocks.native" "$now" >"$TMP/clocks.native" 2>&1
check_files "clocks: same as native" "$TMP/clocks.out" "$TMP/clocks.native"
check_eq "clocks: no failure" "$(grep -c WRONG "$TMP/clocks.out")" 0
check_eq "clocks: every clock checked" "$(grep -c ok "$TMP/clocks.out")" 9
"$WIPPY" exec "$GUESTS/random.wasm" >"$TMP/random.out" 2>&1
"$GUESTS/random.native" >"$TMP/random.native" 2>&1
check_files "random: same as native" "$TMP/random.out" "$TMP/random.native"
check_eq "random: every check" "$(grep -c ok "$TMP/random.out")" 3

finish
