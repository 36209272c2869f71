;; inst_trap_empty_data: an empty data segment past the end of its memory still traps.
(module
  (memory 0)
  (data (i32.const 0) "")
  (data (i32.const 1) ""))
