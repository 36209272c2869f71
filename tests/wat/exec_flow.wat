;; exec_flow.wat: control flow, multi-value and register-allocation cases of the compiler.
(module
  (memory 1)
  (data (i32.const 16) "\01\02\03\04\05\06\07\08")
  ;; Results come back in the order given even when they swap the params.
  (func (export "swap") (param i32 i32) (result i32 i32) (local.get 1) (local.get 0))
  (func (export "rot3") (param i32 i32 i32) (result i32 i32 i32)
    (local.get 2) (local.get 0) (local.get 1) (return))
  ;; A lazy copy of a local on the stack survives a later write of that local.
  (func (export "old_value") (param i32) (result i32)
    (local.get 0)
    (local.set 0 (i32.add (local.get 0) (i32.const 100)))
    (i32.sub (local.get 0)))
  ;; tee feeds both the stack and the local.
  (func (export "tee_twice") (param i32) (result i32) (local i32)
    (i32.add (local.tee 1 (i32.mul (local.get 0) (i32.const 3))) (local.get 1)))
  ;; A block with params and two results; br carries the values out.
  (func (export "block_params") (param i32 i32) (result i32 i32)
    (local.get 0) (local.get 1)
    (block (param i32 i32) (result i32 i32)
      (br_if 0 (i32.eqz (local.get 0)))
      (i32.add) (i32.const 7)))
  ;; Sums 1..n in a loop whose counter is also carried as a loop param.
  (func (export "loop_param_sum") (param i32) (result i32) (local i32)
    (local.get 0)
    (loop (param i32) (result i32)
      (local.set 1 (i32.add (local.get 1)))
      (local.get 1)
      (drop)
      (i32.sub (local.get 0) (i32.const 1))
      (local.tee 0)
      (br_if 0 (local.get 0))
      (drop)
      (local.get 1)))
  ;; br_table carrying a value: to an outer block (the value moves), an inner one (it is in
  ;; place) and the function (a return).
  (func (export "table_vals") (param i32) (result i32)
    (block $a (result i32)
      (i32.add (i32.const 100)
        (block $b (result i32)
          (drop (i32.const 1))
          (br_table $a $b 2 (i32.mul (local.get 0) (i32.const 3)) (local.get 0)))))
    (i32.add (i32.const 1000)))
  ;; br_table jumping backwards to a loop.
  (func (export "table_loop") (param i32) (result i32) (local i32)
    (block $out
      (loop $again
        (local.set 1 (i32.add (local.get 1) (i32.const 1)))
        (br_table $out $again (local.tee 0 (i32.sub (local.get 0) (i32.const 1))))))
    (local.get 1))
  ;; if/else with a param and a result.
  (func (export "if_param") (param i32 i32) (result i32)
    (local.get 1)
    (if (param i32) (result i32) (local.get 0)
      (then (i32.mul (i32.const 2)))
      (else (i32.sub (i32.const 1)))))
  ;; Constant conditions of select choose statically.
  (func (export "select_const") (param i32 i32) (result i32)
    (i32.add (select (local.get 0) (local.get 1) (i32.const 1))
             (select (local.get 0) (local.get 1) (i32.const 0))))
  (func (export "select") (param i32 i32 i32) (result i32)
    (select (local.get 0) (local.get 1) (local.get 2)))
  ;; A local set to zero is really zero on every loop iteration, not only the first.
  (func (export "zero_in_loop") (param i32) (result i32) (local i32 i32)
    (local.set 1 (i32.const 0))
    (loop $l
      (local.set 2 (i32.add (local.get 2) (local.get 1)))
      (local.set 1 (i32.const 0))
      (local.set 1 (i32.add (local.get 1) (i32.const 5)))
      (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
    (local.get 2))
  ;; Loads and stores at constant addresses, with and without an added index.
  (func (export "const_addr") (result i32)
    (i32.store8 (i32.const 100) (i32.const 9))
    (i32.add (i32.load8_u (i32.const 100)) (i32.load8_u offset=3 (i32.const 16))))
  ;; The address wraps at 32 bits before the offset is added.
  (func (export "wrap_addr") (param i32) (result i32)
    (i32.load8_u offset=1 (i32.add (local.get 0) (i32.const 0x20))))
  (func (export "add_addr_store") (param i32 i32) (result i32)
    (i32.store16 offset=2 (i32.add (local.get 0) (local.get 1)) (local.get 1))
    (i32.load16_u offset=2 (i32.add (local.get 0) (local.get 1))))
  ;; A memory operand fused into an arithmetic operator (and its bounds check).
  (func (export "mem_operand") (param i32 i64) (result i64)
    (i64.add (i64.load (local.get 0)) (local.get 1)))
  (func (export "mem_operand2") (param i32 f64) (result f64)
    (f64.mul (local.get 1) (f64.load (local.get 0))))
  ;; Fused comparisons and branches, forwards and backwards.
  (func (export "count_down") (param i32) (result i32) (local i32)
    (block $done
      (loop $l
        (br_if $done (i32.le_s (local.get 0) (i32.const 0)))
        (local.set 1 (i32.add (local.get 1) (i32.const 1)))
        (local.set 0 (i32.sub (local.get 0) (i32.const 2)))
        (br $l)))
    (local.get 1))
  (func (export "count64") (param i64) (result i32) (local i32)
    (loop $l
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br_if $l (i64.ne (i64.const 0) (local.tee 0 (i64.shr_u (local.get 0) (i64.const 1))))))
    (local.get 1))
  ;; Deep and mutual recursion.
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func $three (result i32 i32 i32) (i32.const 1) (i32.const 2) (i32.const 3))
  (func (export "call_multi") (result i32)
    (call $three)
    (i32.sub) (i32.mul (i32.const 10)) (i32.add))
  (table funcref (elem $fib $three))
  (type $t (func (param i32) (result i32)))
  (func (export "indirect") (param i32 i32) (result i32)
    (call_indirect (type $t) (local.get 1) (local.get 0)))
  ;; memory.grow moves memory: accesses after it see the new size.
  (func (export "grow_and_touch") (param i32) (result i32)
    (drop (memory.grow (local.get 0)))
    (i32.store (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4)) (i32.const 77))
    (i32.load (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4))))
;; Loop counters: an add fused with the backward compare-and-branch after it.
  (func (export "count_up") (param i32) (result i32) (local i32 i32)
    (loop $l
      (local.set 2 (i32.add (local.get 2) (local.get 1)))
      (br_if $l (i32.lt_u (local.tee 1 (i32.add (local.get 1) (i32.const 1))) (local.get 0))))
    (local.get 2))
  (func (export "count_down_nz") (param i32) (result i32) (local i32)
    (loop $l
      (local.set 1 (i32.add (local.get 1) (i32.const 2)))
      (br_if $l (local.tee 0 (i32.add (local.get 0) (i32.const -1)))))
    (local.get 1))
  (func (export "count_up64") (param i64 i64) (result i64) (local i64 i64)
    (loop $l
      (local.set 3 (i64.add (local.get 3) (i64.const 1)))
      (br_if $l (i64.lt_u (local.tee 2 (i64.add (local.get 2) (local.get 1))) (local.get 0))))
    (local.get 3))
  ;; Multiply-add keeps the two roundings of the two instructions.
  (func (export "madd") (param f64 f64 f64) (result f64)
    (f64.add (local.get 2) (f64.mul (local.get 0) (local.get 1))))
  (func (export "msub") (param f64 f64 f64) (result f64)
    (f64.sub (f64.mul (local.get 0) (local.get 1)) (local.get 2)))
  (func (export "nmsub") (param f64 f64 f64) (result f64)
    (f64.sub (local.get 2) (f64.mul (local.get 0) (local.get 1))))
  (func (export "madd32") (param f32 f32 f32) (result f32)
    (f32.add (f32.mul (local.get 0) (local.get 1)) (local.get 2)))
  ;; Read-modify-write of memory, with either operand order.
  (func (export "rmw") (param i32 i32) (result i32)
    (i32.store (i32.const 200) (i32.const 100))
    (i32.store (i32.const 200) (i32.add (local.get 0) (i32.load (i32.const 200))))
    (i32.store (i32.const 200) (i32.sub (local.get 1) (i32.load (i32.const 200))))
    (i32.store (i32.const 204) (i32.const 7))
    (i32.store (i32.const 204) (i32.sub (i32.load (i32.const 204)) (local.get 1)))
    (i32.add (i32.mul (i32.load (i32.const 200)) (i32.const 1000)) (i32.load (i32.const 204))))
  (func (export "rmw_f64") (param f64) (result f64)
    (f64.store (i32.const 208) (f64.const 1.5))
    (f64.store (i32.const 208) (f64.mul (local.get 0) (f64.load (i32.const 208))))
    (f64.load (i32.const 208)))
  ;; A load stored unchanged: one copy instruction.
  (func (export "copy8") (param i32 i32) (result i64)
    (i64.store (i32.add (local.get 0) (i32.const 8))
               (i64.load (i32.add (local.get 1) (i32.const 8))))
    (i64.load offset=8 (local.get 0)))
  ;; A store whose address add comes before the instruction computing its value: the add
  ;; moves into the store...
  (func (export "store_after_add") (param i32 i32) (result i32)
    (i32.store offset=4 (i32.add (local.get 0) (i32.const 8)) (i32.mul (local.get 1) (local.get 1)))
    (i32.load offset=12 (local.get 0)))
  ;; ...but not when that instruction overwrites the add's operand slot.
  (func (export "store_clobber") (param i32 i32) (result i32)
    (i32.store (i32.const 0) (i32.const 4))
    (i32.store (i32.const 4) (i32.const 0x11223344))
    (i32.store (i32.add (local.get 0) (i32.load8_u (local.get 1))) (i32.load8_u (i32.const 4)))
    (i32.load (i32.add (local.get 0) (i32.const 4))))
  ;; Small copies: a load stored unchanged (bytes, overlapping, at a constant address).
  (func (export "copy_bytes") (param i32 i32) (result i32)
    (i32.store8 (local.get 0) (i32.load8_u (local.get 1)))
    (i32.store8 offset=1 (local.get 0) (i32.load8_s offset=1 (local.get 1)))
    (i32.store16 (i32.const 400) (i32.load16_u (i32.const 17)))
    (i32.add (i32.load16_u (local.get 0)) (i32.shl (i32.load16_u (i32.const 400)) (i32.const 16))))
  (func (export "copy_oob") (param i32 i32)
    (i64.store (local.get 0) (i64.load (local.get 1))))
  ;; int16 memory operands, sign-extended.
  (func (export "mul16") (param i32 i32) (result i32)
    (i32.store16 (i32.const 700) (i32.const 0xfffe))
    (i32.add (i32.mul (local.get 0) (i32.load16_s (i32.const 700)))
             (i32.add (local.get 1) (i32.load16_s (i32.add (local.get 1) (i32.const 700))))))
)
