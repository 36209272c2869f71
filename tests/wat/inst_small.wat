;; inst_small: a small module as a host would run many of: one page, a few functions, a table.
(module
  (memory (export "memory") 1)
  (global $sp (mut i32) (i32.const 65536))
  (table 2 funcref)
  (func $a (export "a") (result i32) (i32.const 1))
  (func $b (export "b") (result i32) (i32.const 2))
  (elem (i32.const 0) $a $b)
  (data (i32.const 8) "hello, world"))
