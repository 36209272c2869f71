;; exec_fuse.wat: the multiply-add read-modify-write forms, constant-first operators, a
;; read-modify-write at a constant address and pair handlers (tests/unit/test_exec.c).
(module
  (memory (export "memory") 1)
  ;; mem[c] += a * b (MADD_RMW); returns the new mem[c].
  (func (export "madd_rmw") (param $c i32) (param $a f64) (param $b f64) (result f64)
    (f64.store (local.get $c)
      (f64.add (f64.mul (local.get $a) (local.get $b)) (f64.load (local.get $c))))
    (f64.load (local.get $c)))
  ;; mem[c] += a * mem[p] (MADD_RMW_M).
  (func (export "madd_rmw_m") (param $c i32) (param $a f64) (param $p i32) (result f64)
    (f64.store (local.get $c)
      (f64.add (f64.mul (local.get $a) (f64.load (local.get $p))) (f64.load (local.get $c))))
    (f64.load (local.get $c)))
  ;; mem[c] += a * mem[p + 8] (MADD_RMW_MI).
  (func (export "madd_rmw_mi") (param $c i32) (param $a f64) (param $p i32) (result f64)
    (f64.store (local.get $c)
      (f64.add (f64.mul (local.get $a) (f64.load (i32.add (local.get $p) (i32.const 8))))
               (f64.load (local.get $c))))
    (f64.load (local.get $c)))
  (func (export "madd_rmw32") (param $c i32) (param $a f32) (param $b f32) (result f32)
    (f32.store (local.get $c)
      (f32.add (f32.mul (local.get $a) (local.get $b)) (f32.load (local.get $c))))
    (f32.load (local.get $c)))
  (func (export "madd_rmw32_mi") (param $c i32) (param $a f32) (param $p i32) (result f32)
    (f32.store (local.get $c)
      (f32.add (f32.mul (local.get $a) (f32.load (i32.add (local.get $p) (i32.const 4))))
               (f32.load (local.get $c))))
    (f32.load (local.get $c)))
  ;; The product also goes to a local: it must still be written there.
  (func (export "madd_rmw_tee") (param $c i32) (param $a f64) (param $b f64) (result f64)
    (local $t f64)
    (f64.store (local.get $c)
      (f64.add (local.tee $t (f64.mul (local.get $a) (local.get $b)))
               (f64.load (local.get $c))))
    (f64.add (local.get $t) (f64.load (local.get $c))))
  ;; mem[32] += x through two spellings of the same constant address; mem[36] += x through
  ;; different ones, which must stay a separate load and store.
  (func (export "rmw_const") (param $x i32) (result i32)
    (i32.store offset=4 (i32.const 28) (i32.add (i32.load (i32.const 32)) (local.get $x)))
    (i32.store (i32.const 36) (i32.add (i32.load (i32.const 32)) (local.get $x)))
    (i32.add (i32.load (i32.const 32)) (i32.mul (i32.load (i32.const 36)) (i32.const 1000))))
  ;; Constant first operand.
  (func (export "rsub32") (param i32) (result i32) (i32.sub (i32.const 10) (local.get 0)))
  (func (export "rsub64") (param i64) (result i64) (i64.sub (i64.const -1) (local.get 0)))
  (func (export "rsubf32") (param f32) (result f32) (f32.sub (f32.const 0) (local.get 0)))
  (func (export "rsubf64") (param f64) (result f64) (f64.sub (f64.const 1.5) (local.get 0)))
  (func (export "rdivf32") (param f32) (result f32) (f32.div (f32.const 1) (local.get 0)))
  (func (export "rdivf64") (param f64) (result f64) (f64.div (f64.const -3) (local.get 0)))
  ;; A pair (i32.add, i32.add) whose second instruction is also a loop head: the branch back
  ;; runs the second one alone.
  (func (export "pair_entry") (param i32 i32) (result i32) (local i32 i32)
    (local.set 2 (i32.add (local.get 0) (local.get 1)))
    (loop $l
      (local.set 1 (i32.add (local.get 1) (local.get 0)))
      (local.set 3 (i32.add (local.get 3) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get 1) (i32.const 100))))
    (i32.add (i32.add (local.get 1) (i32.mul (local.get 3) (i32.const 1000)))
             (i32.mul (local.get 2) (i32.const 1000000))))
  ;; A pair (i32.add, add-and-branch back): a budget that runs out at the branch must not
  ;; repeat the first add when the run goes on.
  (func (export "pair_budget") (param i32) (result i32) (local i32 i32)
    (loop $l
      (local.set 2 (i32.add (local.get 2) (i32.const 3)))
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br_if $l (i32.ne (local.get 1) (i32.const 50))))
    (i32.add (local.get 2) (local.get 0)))
)
