;; inst_trap_data: element segments all fit; the second data segment runs past the imported
;; memory's end; the first segment's bytes and the elements stay.
(module
  (import "env" "t" (table 4 funcref))
  (import "env" "m" (memory 1))
  (func $f (result i32) (i32.const 0))
  (elem (i32.const 3) $f)
  (data (i32.const 0) "abc")
  (data (i32.const 65534) "zzz")
  (data (i32.const 100) "later"))
