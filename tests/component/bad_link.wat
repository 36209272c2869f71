;; bad_link: a core module instantiated without the instance its import needs.
(component
  (core module $m (import "env" "f" (func)))
  (core instance $i (instantiate $m))
)
