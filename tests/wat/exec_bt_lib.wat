;; exec_bt_lib.wat: the other instance of exec_bt.wat's cross-instance backtrace.
(module
  (func $boom (export "boom") (param i32) (result i32)          ;; func 0
    (i32.add (local.get 0) (call $deeper (local.get 0))))
  (func $deeper (param i32) (result i32)                        ;; func 1
    unreachable)
)
