;; inst_imports: one import of each kind, with limits, for the link checks of test_instance.c.
(module
  (import "env" "f" (func $f (param i32) (result i32)))
  (import "env" "t" (table 2 10 funcref))
  (import "env" "m" (memory 1 4))
  (import "env" "g" (global i32))
  (import "env" "mg" (global (mut i64)))
  (import "env" "ft" (table 0 externref))
  (export "f" (func $f))
  (export "m" (memory 0))
  (export "t" (table 0))
  (export "g" (global 0))
  (export "mg" (global 1))
  (elem (i32.const 1) $f))
