;; boom: traps (unreachable).
(module (func (export "boom") (result i32) unreachable))
