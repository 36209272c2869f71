;; exec_bt.wat: call chains for backtraces (tests/unit/test_exec.c adds a name section and
;; provides "env" "host"; "lib" "boom" comes from exec_bt_lib.wat).
(module
  (import "env" "host" (func $host (param i32)))                ;; func 0
  (import "lib" "boom" (func $boom (param i32) (result i32)))   ;; func 1
  (table 1 funcref)
  (elem (i32.const 0) $host)
  ;; outer -> middle -> inner, which divides by its argument.
  (func $outer (export "outer") (param i32) (result i32)        ;; func 2
    (call $middle (local.get 0)))
  (func $middle (param i32) (result i32)                        ;; func 3
    (i32.add (i32.const 1) (call $inner (local.get 0))))
  (func $inner (param i32) (result i32)                         ;; func 4
    (i32.div_u (i32.const 10) (local.get 0)))
  ;; to_host -> middle_host -> the host function.
  (func $to_host (export "to_host") (param i32)                 ;; func 5
    (call $middle_host (local.get 0)))
  (func $middle_host (param i32)                                ;; func 6
    (call $host (local.get 0)))
  ;; Into another instance, which traps two calls down.
  (func $cross (export "cross") (param i32) (result i32)        ;; func 7
    (call $boom (local.get 0)))
  ;; Recursion without end.
  (func $rec (export "rec") (param i32) (result i32)            ;; func 8
    (call $rec (i32.add (local.get 0) (i32.const 1))))
  ;; The host function through the table.
  (func $indirect (export "indirect") (param i32)               ;; func 9
    (call_indirect (param i32) (local.get 0) (i32.const 0)))
)
