;; bad_nested: a nested component instantiated without the argument its import needs.
(component
  (component $c
    (import "needed" (func)))
  (instance (instantiate $c))
)
