;; limits_guest: a component whose core module has its own memory of 17 pages (max 40), for the
;; entry limits of components (component.sh, climits.lua): sleep(ns) parks through WASI 0.2,
;; count(n) = n + ... + 1 in 9n + 2 instructions, deep() recurses without end.
(component
  (type $poll-t (instance
    (export "pollable" (type $p (sub resource)))
    (export "[method]pollable.block" (func (param "self" (borrow $p))))
  ))
  (import "wasi:io/poll@0.2.0" (instance $poll (type $poll-t)))
  (alias export $poll "pollable" (type $pollable))
  (type $clock-t (instance
    (alias outer 1 $pollable (type $p))
    (export "pollable" (type $pe (eq $p)))
    (export "subscribe-duration" (func (param "when" u64) (result (own $pe))))
  ))
  (import "wasi:clocks/monotonic-clock@0.2.0" (instance $clock (type $clock-t)))

  (core func $sub (canon lower (func $clock "subscribe-duration")))
  (core func $block (canon lower (func $poll "[method]pollable.block")))
  (core func $drop (canon resource.drop $pollable))

  (core module $m
    (import "h" "sub" (func $sub (param i64) (result i32)))
    (import "h" "block" (func $block (param i32)))
    (import "h" "drop" (func $drop (param i32)))
    (memory 17 40)
    (func (export "sleep") (param $ns i64) (result i64) (local $p i32)
      (local.set $p (call $sub (local.get $ns)))
      (call $block (local.get $p))
      (call $drop (local.get $p))
      (local.get $ns))
    ;; 'loop'; per iteration local.get, local.get, i32.add, local.set, local.get, i32.const,
    ;; i32.sub, local.tee, br_if; then local.get
    (func (export "count") (param $n i32) (result i32) (local $s i32)
      (loop $l
        (local.set $s (i32.add (local.get $s) (local.get $n)))
        (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
      (local.get $s))
    (func $deep (export "deep") (result i32) (i32.add (call $deep) (i32.const 1))))
  (core instance $h
    (export "sub" (func $sub))
    (export "block" (func $block))
    (export "drop" (func $drop)))
  (core instance $i (instantiate $m (with "h" (instance $h))))
  (func (export "sleep") (param "ns" u64) (result u64) (canon lift (core func $i "sleep")))
  (func (export "count") (param "n" u32) (result u32) (canon lift (core func $i "count")))
  (func (export "deep") (result u32) (canon lift (core func $i "deep")))
)
