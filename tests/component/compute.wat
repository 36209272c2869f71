;; The seed's example: compute(a, b) = a * b, in a component that imports a host interface
;; which compute never calls (log-it does: it traps when nothing provides the import).
(component
  (type $host-t (instance
    (export "log" (func (param "msg" string)))))
  (import "example:host/logging@0.1.0" (instance $host (type $host-t)))
  (core module $mem (memory (export "memory") 1) (data (i32.const 16) "hello"))
  (core instance $mem (instantiate $mem))
  (alias core export $mem "memory" (core memory $memory))
  (core func $log (canon lower (func $host "log") (memory $memory)))
  (core module $m
    (import "host" "log" (func $log (param i32 i32)))
    (func (export "compute") (param i32 i32) (result i32)
      local.get 0 local.get 1 i32.mul)
    (func (export "log-it")
      i32.const 16 i32.const 5 call $log))
  (core instance $i (instantiate $m (with "host" (instance (export "log" (func $log))))))
  (func (export "compute") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "compute")))
  (func (export "log-it") (canon lift (core func $i "log-it")))
  ;; the import itself, re-exported: an embedder cannot call it
  (export "log" (func $host "log"))
)
