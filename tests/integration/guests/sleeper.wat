;; nap(ms, v): sleeps ms milliseconds (WASI poll_oneoff on the monotonic clock), returns v.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "nap") (param $ms i32) (param $v i32) (result i32)
    (i32.store8 (i32.const 208) (i32.const 0))
    (i32.store (i32.const 216) (i32.const 1))
    (i64.store (i32.const 224)
      (i64.mul (i64.extend_i32_u (local.get $ms)) (i64.const 1000000)))
    (drop (call $poll (i32.const 200) (i32.const 300) (i32.const 1) (i32.const 400)))
    (local.get $v)))
