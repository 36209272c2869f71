;; bad_nested_type: a nested component's function import given a function of another type.
(component
  (core module $m (func (export "f") (param i32)))
  (core instance $i (instantiate $m))
  (func $f (param "b" u32) (canon lift (core func $i "f")))
  (component $c
    (import "needed" (func (param "a" u32))))
  (instance (instantiate $c (with "needed" (func $f))))
)
