;; rt_guest.wat: process.wasm guests for the runtime's tests: sleeping, busy loops, traps,
;; reading stdin. Sleeping and reading go through WASI, so they go pending and yield.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)

  ;; Sleeps ns nanoseconds (a relative monotonic clock subscription at address 0).
  (func $sleep (param $ns i64)
    (i64.store (i32.const 0) (i64.const 7))       ;; userdata
    (i32.store8 (i32.const 8) (i32.const 0))      ;; tag: clock
    (i32.store (i32.const 16) (i32.const 1))      ;; clock id: monotonic
    (i64.store (i32.const 24) (local.get $ns))    ;; timeout
    (i64.store (i32.const 32) (i64.const 0))      ;; precision
    (i32.store16 (i32.const 40) (i32.const 0))    ;; flags: relative
    (drop (call $poll_oneoff (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128))))

  ;; Sleeps ns, then returns v.
  (func (export "nap") (param $ns i64) (param $v i32) (result i32)
    (call $sleep (local.get $ns))
    (local.get $v))

  (func (export "answer") (result i32) (i32.const 42))

  ;; Never returns.
  (func (export "spin") (result i32)
    (loop $l (br $l))
    (i32.const 0))

  ;; Counts down from n in a loop: busy for a while.
  (func (export "count") (param $n i64) (result i64)
    (loop $l
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $l (i64.gt_s (local.get $n) (i64.const 0))))
    (local.get $n))

  (func (export "boom") (result i32) (unreachable))

  ;; Reads up to 64 bytes of stdin; returns how many (or -errno).
  (func (export "read_stdin") (result i32)
    (i32.store (i32.const 200) (i32.const 256))   ;; iovec: buf
    (i32.store (i32.const 204) (i32.const 64))    ;; iovec: len
    (if (result i32) (i32.eqz (call $fd_read (i32.const 0) (i32.const 200) (i32.const 1)
                                              (i32.const 208)))
      (then (i32.load (i32.const 208)))
      (else (i32.const -1))))
)
