;; bad_alias: an alias of a core export the core instance does not have (a link error when
;; instantiating: the decoder does not look inside core modules' exports).
(component
  (core module $m (func (export "f")))
  (core instance $i (instantiate $m))
  (alias core export $i "nope" (core func $g))
)
