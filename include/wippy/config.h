/* wippy/config.h: tunables, each with its unit. Override any with -D at build time. */
#ifndef WIPPY_CONFIG_H
#define WIPPY_CONFIG_H

#ifndef WP_REDUCTIONS
#define WP_REDUCTIONS 4000 /* calls + loop back-edges per time slice */
#endif

#ifndef WP_WORKER_SPIN
#define WP_WORKER_SPIN 200 /* looks at an empty run queue before a worker sleeps (a futex) */
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

/* Six bytes of body can declare 50,000 locals, so a module's declarations are capped as a
 * whole: at 4 bytes per decoded local, 64 MiB at most. clang -O0 output declares about 80
 * locals per KB of module, so this admits some 200 MB of unoptimised code (-O2: 4 per KB). */
#ifndef WP_MAX_MODULE_LOCALS
#define WP_MAX_MODULE_LOCALS (1u << 24) /* declared locals summed over all functions of a module */
#endif

/* Each call, block or branch moves its types: capping them bounds validation time per byte. */
#ifndef WP_MAX_FUNC_PARAMS
#define WP_MAX_FUNC_PARAMS 1000u /* params of one function type (V8's limit) */
#endif

#ifndef WP_MAX_FUNC_RESULTS
#define WP_MAX_FUNC_RESULTS 1000u /* results of one function type (V8's limit) */
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

#ifndef WP_WASI2_MAX_RESOURCES
#define WP_WASI2_MAX_RESOURCES 65536u /* live WASI 0.2 resources (streams, pollables) per guest */
#endif

#ifndef WP_LUA_MAX_DEPTH
#define WP_LUA_MAX_DEPTH 100u /* nesting of tables converted to or from a wp_value */
#endif

#ifndef WP_LUA_HOOK_INSTRUCTIONS
#define WP_LUA_HOOK_INSTRUCTIONS 1000 /* Lua VM instructions between two looks at the slice */
#endif

#ifndef WP_LUA_INSTRUCTIONS_PER_REDUCTION
#define WP_LUA_INSTRUCTIONS_PER_REDUCTION 10 /* a Lua slice of budget b runs about 10 * b */
#endif

#endif
