;; census: how often each core module is instantiated (wp_component_module_instances, and so
;; what a component process reserves): $a twice here and once more through $user's outer
;; alias, $unused never, $b once per instance of $child (twice).
(component
  (core module $a (memory 2 4))
  (core module $unused (memory 8))
  (core instance (instantiate $a))
  (core instance (instantiate $a))
  (component $child
    (core module $b (memory 1 3))
    (core instance (instantiate $b)))
  (instance (instantiate $child))
  (instance (instantiate $child))
  (component $user
    (alias outer 1 $a (core module $a2))
    (core instance (instantiate $a2)))
  (instance (instantiate $user))
)
