;; gen_res: resource types are generative. The root instantiates $def twice ($a, $b): each
;; instance of $def defines its own type r, with its own destructor (each counts its calls in
;; its own core instance). The root's core code makes handles through both and passes them to
;; either (x-*); the embedder reaches each instance's functions through "a" and "b".
(component
  (component $def
    (core module $dd
      (global $dtors (mut i32) (i32.const 0))
      (global $last (mut i32) (i32.const 0))
      (func (export "dtor") (param $rep i32)
        (global.set $last (local.get $rep))
        (global.set $dtors (i32.add (global.get $dtors) (i32.const 1))))
      (func (export "dtors") (result i32) (global.get $dtors))
      (func (export "last") (result i32) (global.get $last)))
    (core instance $d (instantiate $dd))
    (alias core export $d "dtor" (core func $dtor))
    (type $r (resource (rep i32) (dtor (func $dtor))))
    (core func $rnew (canon resource.new $r))
    (core func $rdrop (canon resource.drop $r))
    (core module $dm
      (import "res" "new" (func $new (param i32) (result i32)))
      (import "res" "drop" (func $drop (param i32)))
      ;; the representation is the value itself
      (func (export "make") (param $v i32) (result i32) (call $new (local.get $v)))
      (func (export "get") (param $rep i32) (result i32) (local.get $rep))
      (func (export "take") (param $h i32) (result i32) (call $drop (local.get $h)) (i32.const 1)))
    (core instance $m (instantiate $dm
      (with "res" (instance (export "new" (func $rnew)) (export "drop" (func $rdrop))))))
    (export $re "r" (type $r))
    (func (export "make") (param "v" u32) (result (own $re)) (canon lift (core func $m "make")))
    (func (export "get") (param "x" (borrow $re)) (result u32) (canon lift (core func $m "get")))
    (func (export "take") (param "x" (own $re)) (result u32) (canon lift (core func $m "take")))
    (func (export "dtors") (result u32) (canon lift (core func $d "dtors")))
    (func (export "last") (result u32) (canon lift (core func $d "last"))))

  ;; $use takes an instance of $def whole and drops the handles it makes itself: its
  ;; resource.drop names the type of the instance it was given
  (component $use
    (import "d" (instance $d
      (export "r" (type $r (sub resource)))
      (export "make" (func (param "v" u32) (result (own $r))))))
    (alias export $d "r" (type $r))
    (alias export $d "make" (func $make))
    (core func $make-l (canon lower (func $make)))
    (core func $rdrop (canon resource.drop $r))
    (core module $um
      (import "i" "make" (func $make (param i32) (result i32)))
      (import "i" "drop" (func $drop (param i32)))
      (func (export "cycle") (param $v i32) (result i32) (local $h i32)
        (local.set $h (call $make (local.get $v)))
        (call $drop (local.get $h))
        (local.get $h)))
    (core instance $u (instantiate $um
      (with "i" (instance (export "make" (func $make-l)) (export "drop" (func $rdrop))))))
    (func (export "cycle") (param "v" u32) (result u32) (canon lift (core func $u "cycle"))))

  (instance $a (instantiate $def))
  (instance $b (instantiate $def))
  (instance $ub (instantiate $use (with "d" (instance $b))))
  (export "ub" (instance $ub))
  (alias export $a "make" (func $a-make))
  (alias export $a "get" (func $a-get))
  (alias export $a "take" (func $a-take))
  (alias export $b "make" (func $b-make))
  (alias export $b "get" (func $b-get))
  (alias export $b "take" (func $b-take))
  (core func $a-make-l (canon lower (func $a-make)))
  (core func $a-get-l (canon lower (func $a-get)))
  (core func $a-take-l (canon lower (func $a-take)))
  (core func $b-make-l (canon lower (func $b-make)))
  (core func $b-get-l (canon lower (func $b-get)))
  (core func $b-take-l (canon lower (func $b-take)))
  (core module $pm
    (import "a" "make" (func $a-make (param i32) (result i32)))
    (import "a" "get" (func $a-get (param i32) (result i32)))
    (import "a" "take" (func $a-take (param i32) (result i32)))
    (import "b" "make" (func $b-make (param i32) (result i32)))
    (import "b" "get" (func $b-get (param i32) (result i32)))
    (import "b" "take" (func $b-take (param i32) (result i32)))
    (global $ha (mut i32) (i32.const 0))
    (global $hb (mut i32) (i32.const 0))
    ;; one handle of each type, held by the root: their numbers in its table
    (func (export "x-make") (param $v i32) (result i32)
      (global.set $ha (call $a-make (local.get $v)))
      (global.set $hb (call $b-make (i32.add (local.get $v) (i32.const 1))))
      (i32.add (i32.mul (global.get $ha) (i32.const 10)) (global.get $hb)))
    (func (export "x-get-aa") (result i32) (call $a-get (global.get $ha)))
    (func (export "x-get-bb") (result i32) (call $b-get (global.get $hb)))
    (func (export "x-get-ab") (result i32) (call $b-get (global.get $ha)))
    (func (export "x-get-ba") (result i32) (call $a-get (global.get $hb)))
    (func (export "x-take-ab") (result i32) (call $b-take (global.get $ha)))
    (func (export "x-take-aa") (result i32) (call $a-take (global.get $ha)))
    (func (export "x-take-bb") (result i32) (call $b-take (global.get $hb))))
  (core instance $p (instantiate $pm
    (with "a" (instance (export "make" (func $a-make-l)) (export "get" (func $a-get-l))
                        (export "take" (func $a-take-l))))
    (with "b" (instance (export "make" (func $b-make-l)) (export "get" (func $b-get-l))
                        (export "take" (func $b-take-l))))))
  (func (export "x-make") (param "v" u32) (result u32) (canon lift (core func $p "x-make")))
  (func (export "x-get-aa") (result u32) (canon lift (core func $p "x-get-aa")))
  (func (export "x-get-bb") (result u32) (canon lift (core func $p "x-get-bb")))
  (func (export "x-get-ab") (result u32) (canon lift (core func $p "x-get-ab")))
  (func (export "x-get-ba") (result u32) (canon lift (core func $p "x-get-ba")))
  (func (export "x-take-ab") (result u32) (canon lift (core func $p "x-take-ab")))
  (func (export "x-take-aa") (result u32) (canon lift (core func $p "x-take-aa")))
  (func (export "x-take-bb") (result u32) (canon lift (core func $p "x-take-bb")))
  (export "a" (instance $a))
  (export "b" (instance $b))
)
