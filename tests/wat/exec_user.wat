;; exec_user.wat: imports exec_lib.wat's functions; its own memory holds different bytes.
(module
  (import "lib" "peek" (func $peek (param i32) (result i32)))
  (import "lib" "grow" (func $grow (result i32)))
  (memory 1)
  (global $mine (mut i32) (i32.const 40))
  (data (i32.const 0) "user")
  ;; lib's byte, then ours, then lib's again: memory and globals switch on call and return.
  (func (export "mix") (param i32) (result i32)
    (i32.add
      (i32.add (i32.mul (call $peek (local.get 0)) (i32.const 65536))
               (i32.mul (i32.load8_u (local.get 0)) (i32.const 256)))
      (i32.add (call $peek (local.get 0)) (global.get $mine))))
  (func (export "grow_lib") (result i32)
    (drop (call $grow))
    (i32.load8_u (i32.const 1)))
)
