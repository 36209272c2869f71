;; start_comp_trap: a component start function that traps fails the instantiation.
(component
  (core module $m (func (export "init") unreachable))
  (core instance $i (instantiate $m))
  (func $init (canon lift (core func $i "init")))
  (start $init)
)
