;; inst_trap_elem: the second active element segment is partly out of bounds of the imported
;; table of 4; the first one's write stays.
(module
  (import "env" "t" (table 4 funcref))
  (import "env" "m" (memory 1))
  (func $f (result i32) (i32.const 0))
  (elem (i32.const 0) $f)
  (elem (i32.const 2) $f $f $f)
  (data (i32.const 0) "never"))
