/* wippy/config.h: tunables, each with its unit. Override any with -D at build time. */
#ifndef WIPPY_CONFIG_H
#define WIPPY_CONFIG_H

#ifndef WP_REDUCTIONS
#define WP_REDUCTIONS 4000 /* calls + loop back-edges per time slice */
#endif

#ifndef WP_DEFAULT_CALL_DEPTH
#define WP_DEFAULT_CALL_DEPTH 10000 /* wasm frames per exec */
#endif

#ifndef WP_DEFAULT_STACK_BYTES
#define WP_DEFAULT_STACK_BYTES (8u << 20) /* value stack bytes per exec */
#endif

#ifndef WP_DEFAULT_MAX_TABLE_ELEMS
#define WP_DEFAULT_MAX_TABLE_ELEMS 10000000u /* elements per table */
#endif

#ifndef WP_MAX_FUNC_LOCALS
#define WP_MAX_FUNC_LOCALS 50000u /* params + locals of one function */
#endif

#ifndef WP_MAX_OPERAND_DEPTH
#define WP_MAX_OPERAND_DEPTH (1u << 24) /* operand stack values or nested blocks in one function */
#endif

#ifndef WP_WAT_MAX_DEPTH
#define WP_WAT_MAX_DEPTH 1000u /* nesting of blocks and folded instructions in module text */
#endif

#ifndef WP_WASI_MAX_FDS
#define WP_WASI_MAX_FDS 4096u /* open descriptors per WASI guest */
#endif

#endif
