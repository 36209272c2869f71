;; cabi_guest.wat: exports in the Canonical ABI's core shapes, for test_cabi.c: a bump
;; allocator as cabi_realloc, and functions taking and returning strings, lists, records,
;; variants and more than 16 values.
(module
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 4096))
  (global $posts (mut i32) (i32.const 0))
  (global $reallocs (mut i32) (i32.const 0))
  (func $alloc (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (global.set $reallocs (i32.add (global.get $reallocs) (i32.const 1)))
    (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get 2))))
    (global.set $bump (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func (export "reallocs") (result i32) (global.get $reallocs))
  (func (export "posts") (result i32) (global.get $posts))

  ;; echo: func(s: string) -> string    (the result goes by pointer: 2 flat values > 1)
  (func (export "echo") (param i32 i32) (result i32)
    (i32.store (i32.const 16) (local.get 0))
    (i32.store (i32.const 20) (local.get 1))
    (i32.const 16))
  (func (export "cabi_post_echo") (param i32)
    (global.set $posts (i32.add (global.get $posts) (i32.const 1))))

  ;; sum: func(xs: list<s32>) -> s64
  (func (export "sum") (param $p i32) (param $n i32) (result i64)
    (local $acc i64)
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_s (i32.load (local.get $p)))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next)))
    (local.get $acc))

  ;; many: func(a1: u8, ..., a17: u8) -> u32: more than 16 flat params come by pointer to a
  ;; tuple of 17 bytes; returns their sum
  (func (export "many") (param $p i32) (result i32)
    (local $i i32) (local $acc i32)
    (block $done (loop $next
      (br_if $done (i32.eq (local.get $i) (i32.const 17)))
      (local.set $acc (i32.add (local.get $acc) (i32.load8_u (i32.add (local.get $p) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (local.get $acc))

  ;; point: func(x: s32, y: f64) -> point   where record point { x: s32, y: f64, tag: u8 }
  ;; layout: x at 0, y at 8, tag at 16, size 24, align 8
  (func (export "point") (param i32 f64) (result i32)
    (i32.store (i32.const 64) (local.get 0))
    (f64.store (i32.const 72) (local.get 1))
    (i32.store8 (i32.const 80) (i32.const 7))
    (i32.const 64))

  ;; maybe: func(n: s32) -> option<u32>: some(n) when n >= 0   (2 flat values: by pointer)
  (func (export "maybe") (param i32) (result i32)
    (i32.store8 (i32.const 96) (i32.ge_s (local.get 0) (i32.const 0)))
    (i32.store (i32.const 100) (local.get 0))
    (i32.const 96))

  ;; pick: func(c: shape) -> f32    variant shape { none, circle(f32), square(u32) }
  ;; flat: i32 discriminant, then the joined payload i32 (f32 bits or u32)
  (func (export "pick") (param $d i32) (param $v i32) (result f32)
    (if (result f32) (i32.eq (local.get $d) (i32.const 1))
      (then (f32.reinterpret_i32 (local.get $v)))
      (else (if (result f32) (i32.eq (local.get $d) (i32.const 2))
        (then (f32.convert_i32_u (local.get $v)))
        (else (f32.const -1))))))

  ;; color: func(c: color) -> color   enum color { red, green, blue }: the next one
  (func (export "color") (param i32) (result i32)
    (i32.rem_u (i32.add (local.get 0) (i32.const 1)) (i32.const 3)))

  ;; perms: func(p: perms) -> perms   flags perms { read, write, exec }: toggles write
  (func (export "perms") (param i32) (result i32) (i32.xor (local.get 0) (i32.const 2)))

  ;; bad_utf8: func() -> string     returns bytes that are not UTF-8
  (func (export "bad_utf8") (result i32)
    (i32.store (i32.const 16) (i32.const 200))
    (i32.store (i32.const 20) (i32.const 2))
    (i32.const 16))
  (data (i32.const 200) "\ff\fe")

  ;; out_of_bounds: func() -> string   a pointer past the end of memory
  (func (export "out_of_bounds") (result i32)
    (i32.store (i32.const 16) (i32.const 65530))
    (i32.store (i32.const 20) (i32.const 100))
    (i32.const 16))

  ;; bad_case: func() -> option<u32>   discriminant 5
  (func (export "bad_case") (result i32)
    (i32.store8 (i32.const 96) (i32.const 5))
    (i32.const 96))

  ;; chars: func(c: char) -> char   the next code point
  (func (export "chars") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))

  ;; pair: func(t: tuple<u8, string>) -> tuple<s16, bool>  (returns (-t.0, true))
  (func (export "pair") (param i32 i32 i32) (result i32)
    (i32.store16 (i32.const 128) (i32.sub (i32.const 0) (local.get 0)))
    (i32.store8 (i32.const 130) (i32.const 1))
    (i32.const 128))

  ;; wide: func(a: u64, b: f32) -> result<u64, f32>: ok(a + 1) if b == 0, else err(b)
  (func (export "wide") (param i64 f32) (result i32)
    (if (f32.eq (local.get 1) (f32.const 0))
      (then (i32.store8 (i32.const 160) (i32.const 0))
            (i64.store (i32.const 168) (i64.add (local.get 0) (i64.const 1))))
      (else (i32.store8 (i32.const 160) (i32.const 1))
            (f32.store (i32.const 168) (local.get 1))))
    (i32.const 160))
)
