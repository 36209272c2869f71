;; exec_lib.wat: an instance with its own memory and global, imported by exec_user.wat.
(module
  (memory 1)
  (global $calls (mut i32) (i32.const 0))
  (data (i32.const 0) "LIB!")
  (func (export "peek") (param i32) (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i32.load8_u (local.get 0)))
  (func (export "calls") (result i32) (global.get $calls))
  (func (export "grow") (result i32) (memory.grow (i32.const 1)))
)
