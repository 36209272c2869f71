;; census_unknown: a core module taken from a nested instance's export is only known by
;; instantiating: every module then counts once more than the census found ($other: 2).
(component
  (component $maker
    (core module $m (memory 1))
    (export "m" (core module $m)))
  (instance $i (instantiate $maker))
  (alias export $i "m" (core module $got))
  (core instance (instantiate $got))
  (core module $other (memory 1))
  (core instance (instantiate $other))
)
