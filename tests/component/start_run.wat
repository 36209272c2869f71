;; start_run: a component start function (canon lift of a core function) runs once while the
;; component instantiates: get then returns what it left, 41.
(component
  (core module $m
    (global $g (mut i32) (i32.const 0))
    (func (export "init") (global.set $g (i32.add (global.get $g) (i32.const 41))))
    (func (export "get") (result i32) (global.get $g)))
  (core instance $i (instantiate $m))
  (func $init (canon lift (core func $i "init")))
  (func $get (result u32) (canon lift (core func $i "get")))
  (start $init)
  (export "get" (func $get))
)
