;; funcs_probe.wat: a core guest of the wippy:runtime/funcs import for tests/unit/test_funcs.c:
;; probe() calls "t:nap_lazy" with call-string and returns its result<string, string> (the
;; host wrote it at 1024).
(module
  (import "wippy:runtime/funcs@0.1.0" "call-string" (func $call (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (data (i32.const 16) "t:nap_lazy")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func (export "probe") (result i32)
    (call $call (i32.const 16) (i32.const 10) (i32.const 0) (i32.const 0) (i32.const 1024))
    (i32.const 1024)))
