;; stamp.wat: a service that crashes. run(ms) appends the wall clock (8 bytes, little-endian
;; nanoseconds) to /out/starts.bin, sleeps ms milliseconds, then traps (unreachable).
(module
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $now (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "starts.bin")
  (func (export "run") (param $ms i32) (local $fd i32)
    (drop (call $now (i32.const 0) (i64.const 1) (i32.const 0)))
    ;; path_open(3, 0, "starts.bin", creat, fd_write right, 0, append)
    (if (call $open (i32.const 3) (i32.const 0) (i32.const 100) (i32.const 10) (i32.const 1)
                    (i64.const 64) (i64.const 0) (i32.const 1) (i32.const 16))
      (then (return)))
    (local.set $fd (i32.load (i32.const 16)))
    (i32.store (i32.const 32) (i32.const 0))
    (i32.store (i32.const 36) (i32.const 8))
    (drop (call $write (local.get $fd) (i32.const 32) (i32.const 1) (i32.const 40)))
    (drop (call $close (local.get $fd)))
    (if (local.get $ms)
      (then
        (i32.store8 (i32.const 208) (i32.const 0))
        (i32.store (i32.const 216) (i32.const 1))
        (i64.store (i32.const 224)
          (i64.mul (i64.extend_i32_u (local.get $ms)) (i64.const 1000000)))
        (drop (call $poll (i32.const 200) (i32.const 300) (i32.const 1) (i32.const 400)))))
    (unreachable)))
