;; flush.wat: what a service does on its way out: writes 100 blocks of 1000 bytes to
;; /out/data.txt (a whole file or none of it is the test's question).
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "data.txt")
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
    (drop (call $close (local.get $fd)))))
