;; start_trap: a core module whose start function traps while the component instantiates.
(component
  (core module $m (func $s unreachable) (start $s))
  (core instance $i (instantiate $m))
)
