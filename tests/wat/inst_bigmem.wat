;; inst_bigmem: a table, then a memory of 3 pages, for store limits and rollback.
(module
  (table 5 funcref)
  (memory 3))
