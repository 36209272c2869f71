;; funcs_relay: a component importing wippy:runtime/funcs@0.1.0 (call-string) and exporting
;; relay(target, input) -> result<string, string>: it calls target with input through the
;; import and returns what it got (tests/integration/funcs.sh). A bump allocator.
(component
  (type $funcs-t (instance
    (export "call-string" (func (param "target" string) (param "input" string)
                                (result (result string (error string)))))))
  (import "wippy:runtime/funcs@0.1.0" (instance $funcs (type $funcs-t)))
  (core module $libc
    (memory (export "memory") 1)
    (global $top (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $top) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $top (i32.add (local.get $p) (local.get 3)))
      (if (i32.ge_u (global.get $top) (i32.mul (memory.size) (i32.const 65536)))
        (then (drop (memory.grow
          (i32.add (i32.shr_u (global.get $top) (i32.const 16)) (i32.const 1))))))
      (local.get $p)))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "memory" (core memory $mem))
  (alias core export $libc "realloc" (core func $realloc))
  (core func $call (canon lower (func $funcs "call-string") (memory $mem) (realloc $realloc)))
  (core module $m
    (import "funcs" "call-string" (func $call (param i32 i32 i32 i32 i32)))
    (func (export "relay") (param i32 i32 i32 i32) (result i32)
      (call $call (local.get 0) (local.get 1) (local.get 2) (local.get 3) (i32.const 1024))
      (i32.const 1024)))
  (core instance $i (instantiate $m (with "funcs" (instance (export "call-string" (func $call))))))
  (func (export "relay") (param "target" string) (param "input" string)
        (result (result string (error string)))
    (canon lift (core func $i "relay") (memory $mem) (realloc $realloc)))
)
