;; wasi2_sleep: a component that sleeps through WASI 0.2 (monotonic-clock.subscribe-duration, then
;; pollable.block) and returns how long it slept by the monotonic clock; also polls a list.
(component
  (type $poll-t (instance
    (export "pollable" (type $p (sub resource)))
    (export "[method]pollable.block" (func (param "self" (borrow $p))))
    (export "[method]pollable.ready" (func (param "self" (borrow $p)) (result bool)))
    (export "poll" (func (param "in" (list (borrow $p))) (result (list u32))))
  ))
  (import "wasi:io/poll@0.2.0" (instance $poll (type $poll-t)))
  (alias export $poll "pollable" (type $pollable))
  (type $clock-t (instance
    (alias outer 1 $pollable (type $p))
    (export "pollable" (type $pe (eq $p)))
    (export "now" (func (result u64)))
    (export "subscribe-duration" (func (param "when" u64) (result (own $pe))))
  ))
  (import "wasi:clocks/monotonic-clock@0.2.0" (instance $clock (type $clock-t)))

  (core func $now (canon lower (func $clock "now")))
  (core func $sub (canon lower (func $clock "subscribe-duration")))
  (core func $block (canon lower (func $poll "[method]pollable.block")))
  (core func $drop (canon resource.drop $pollable))

  (core module $m
    (import "h" "now" (func $now (result i64)))
    (import "h" "sub" (func $sub (param i64) (result i32)))
    (import "h" "block" (func $block (param i32)))
    (import "h" "drop" (func $drop (param i32)))
    (func (export "sleep") (param $ns i64) (result i64)
      (local $t i64) (local $p i32)
      (local.set $t (call $now))
      (local.set $p (call $sub (local.get $ns)))
      (call $block (local.get $p))
      (call $drop (local.get $p))
      (i64.sub (call $now) (local.get $t))))
  (core instance $h
    (export "now" (func $now))
    (export "sub" (func $sub))
    (export "block" (func $block))
    (export "drop" (func $drop)))
  (core instance $i (instantiate $m (with "h" (instance $h))))
  (func (export "sleep") (param "ns" u64) (result u64) (canon lift (core func $i "sleep")))
)
