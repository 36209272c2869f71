;; inst_trap_empty_elem: an empty element segment past the end of its table still traps.
(module
  (table 0 funcref)
  (elem (i32.const 0))
  (elem (i32.const 1)))
