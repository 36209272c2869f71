;; bad_nested_sort: a nested component's function import given an instance.
(component
  (component $c
    (import "needed" (func)))
  (instance $empty)
  (instance (instantiate $c (with "needed" (instance $empty))))
)
