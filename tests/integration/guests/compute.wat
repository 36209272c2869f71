;; compute(a, b): a * b.
(module (func (export "compute") (param i32 i32) (result i32)
  (i32.mul (local.get 0) (local.get 1))))
