/* code.h: the internal code format shared by the compiler (compile*.c) and interpreter (exec.c).
 *
 * A function compiles to an array of 8-byte cells. An instruction is one handler cell (the
 * computed-goto label address, or the internal opcode number in the switch build) followed by
 * operand cells. Operands are slot indices into the frame (fp[i]), immediates (constants,
 * offsets, indices, pointers) or branch offsets. A branch offset in cell k of an instruction
 * at pc is relative to that cell: the target is &pc[k] + pc[k].i.
 *
 * Frame layout (slots of 8 bytes): params, declared locals, then one slot per position of the
 * wasm operand stack. A call's arguments sit in consecutive slots at the top of the caller's
 * frame; the callee's frame starts there, and results come back in the same place.
 *
 * The code is immutable after wp__compile and shared by every instance and thread.
 */
#ifndef WP_WASM_CODE_H
#define WP_WASM_CODE_H

#include "internal.h"

typedef union wp_cell {
    const void *h; /* handler address (computed goto) */
    const void *p; /* pointer immediate (callee code) */
    uint64_t u;
    int64_t i;
} wp_cell;

/* Binary operators: each has two forms, _SS (dst, slot a, slot b) and _SI (dst, slot a,
 * immediate b). X(wasm opcode ident, commutative) */
#define WP_BINOPS(X)                                                                               \
    X(I32_EQ, 1) X(I32_NE, 1) X(I32_LT_S, 0) X(I32_LT_U, 0) X(I32_GT_S, 0) X(I32_GT_U, 0)         \
    X(I32_LE_S, 0) X(I32_LE_U, 0) X(I32_GE_S, 0) X(I32_GE_U, 0)                                    \
    X(I64_EQ, 1) X(I64_NE, 1) X(I64_LT_S, 0) X(I64_LT_U, 0) X(I64_GT_S, 0) X(I64_GT_U, 0)         \
    X(I64_LE_S, 0) X(I64_LE_U, 0) X(I64_GE_S, 0) X(I64_GE_U, 0)                                    \
    X(F32_EQ, 1) X(F32_NE, 1) X(F32_LT, 0) X(F32_GT, 0) X(F32_LE, 0) X(F32_GE, 0)                 \
    X(F64_EQ, 1) X(F64_NE, 1) X(F64_LT, 0) X(F64_GT, 0) X(F64_LE, 0) X(F64_GE, 0)                 \
    X(I32_ADD, 1) X(I32_SUB, 0) X(I32_MUL, 1) X(I32_DIV_S, 0) X(I32_DIV_U, 0) X(I32_REM_S, 0)     \
    X(I32_REM_U, 0) X(I32_AND, 1) X(I32_OR, 1) X(I32_XOR, 1) X(I32_SHL, 0) X(I32_SHR_S, 0)        \
    X(I32_SHR_U, 0) X(I32_ROTL, 0) X(I32_ROTR, 0)                                                  \
    X(I64_ADD, 1) X(I64_SUB, 0) X(I64_MUL, 1) X(I64_DIV_S, 0) X(I64_DIV_U, 0) X(I64_REM_S, 0)     \
    X(I64_REM_U, 0) X(I64_AND, 1) X(I64_OR, 1) X(I64_XOR, 1) X(I64_SHL, 0) X(I64_SHR_S, 0)        \
    X(I64_SHR_U, 0) X(I64_ROTL, 0) X(I64_ROTR, 0)                                                  \
    X(F32_ADD, 1) X(F32_SUB, 0) X(F32_MUL, 1) X(F32_DIV, 0) X(F32_MIN, 1) X(F32_MAX, 1)           \
    X(F32_COPYSIGN, 0)                                                                             \
    X(F64_ADD, 1) X(F64_SUB, 0) X(F64_MUL, 1) X(F64_DIV, 0) X(F64_MIN, 1) X(F64_MAX, 1)           \
    X(F64_COPYSIGN, 0)

/* Integer comparisons that also exist fused with a branch: BR_<cmp>_SS (slot a, slot b,
 * target) and BR_<cmp>_SI (slot a, immediate b, target) jump when the comparison holds. The
 * BRB_ twins branch backwards (to a loop) and spend one reduction when they do. */
#define WP_BRCMPS(X)                                                                               \
    X(I32_EQ) X(I32_NE) X(I32_LT_S) X(I32_LT_U) X(I32_GT_S) X(I32_GT_U) X(I32_LE_S) X(I32_LE_U)   \
    X(I32_GE_S) X(I32_GE_U)                                                                        \
    X(I64_EQ) X(I64_NE) X(I64_LT_S) X(I64_LT_U) X(I64_GT_S) X(I64_GT_U) X(I64_LE_S) X(I64_LE_U)   \
    X(I64_GE_S) X(I64_GE_U)

/* Unary operators (dst, slot a). X(wasm opcode ident) for one-byte opcodes. */
#define WP_UNOPS(X)                                                                                \
    X(I32_EQZ) X(I64_EQZ) X(I32_CLZ) X(I32_CTZ) X(I32_POPCNT) X(I64_CLZ) X(I64_CTZ) X(I64_POPCNT) \
    X(F32_ABS) X(F32_NEG) X(F32_CEIL) X(F32_FLOOR) X(F32_TRUNC) X(F32_NEAREST) X(F32_SQRT)        \
    X(F64_ABS) X(F64_NEG) X(F64_CEIL) X(F64_FLOOR) X(F64_TRUNC) X(F64_NEAREST) X(F64_SQRT)        \
    X(I32_WRAP_I64) X(I32_TRUNC_F32_S) X(I32_TRUNC_F32_U) X(I32_TRUNC_F64_S) X(I32_TRUNC_F64_U)   \
    X(I64_EXTEND_I32_S) X(I64_TRUNC_F32_S) X(I64_TRUNC_F32_U) X(I64_TRUNC_F64_S)                  \
    X(I64_TRUNC_F64_U) X(F32_CONVERT_I32_S) X(F32_CONVERT_I32_U) X(F32_CONVERT_I64_S)             \
    X(F32_CONVERT_I64_U) X(F32_DEMOTE_F64) X(F64_CONVERT_I32_S) X(F64_CONVERT_I32_U)              \
    X(F64_CONVERT_I64_S) X(F64_CONVERT_I64_U) X(F64_PROMOTE_F32) X(I32_EXTEND8_S)                 \
    X(I32_EXTEND16_S) X(I64_EXTEND8_S) X(I64_EXTEND16_S) X(I64_EXTEND32_S)

/* Saturating truncations (0xFC prefix), also unary: X(wasm 0xFC ident). */
#define WP_UNOPS_FC(X)                                                                             \
    X(I32_TRUNC_SAT_F32_S) X(I32_TRUNC_SAT_F32_U) X(I32_TRUNC_SAT_F64_S) X(I32_TRUNC_SAT_F64_U)   \
    X(I64_TRUNC_SAT_F32_S) X(I64_TRUNC_SAT_F32_U) X(I64_TRUNC_SAT_F64_S) X(I64_TRUNC_SAT_F64_U)

/* Loads and stores. Each load has three forms: NAME (dst, slot addr, offset), NAME_AI (dst,
 * slot a, offset, immediate b) and NAME_AS (dst, slot a, offset, slot b), the last two with
 * the address (uint32)(a + b): an i32.add fused into the access. Each store has four: NAME
 * (slot addr, slot value, offset), NAME_VI (slot addr, immediate value, offset), NAME_AI and
 * NAME_AS (slot a, slot value, offset, immediate or slot b). */
#define WP_LOADS(X)                                                                                \
    X(I32_LOAD) X(I64_LOAD) X(F32_LOAD) X(F64_LOAD) X(I32_LOAD8_S) X(I32_LOAD8_U)                  \
    X(I32_LOAD16_S) X(I32_LOAD16_U) X(I64_LOAD8_S) X(I64_LOAD8_U) X(I64_LOAD16_S)                 \
    X(I64_LOAD16_U) X(I64_LOAD32_S) X(I64_LOAD32_U)
#define WP_STORES(X)                                                                               \
    X(I32_STORE) X(I64_STORE) X(F32_STORE) X(F64_STORE) X(I32_STORE8) X(I32_STORE16)              \
    X(I64_STORE8) X(I64_STORE16) X(I64_STORE32)

/* Binary operators with their second operand loaded from memory at its natural width (an
 * i32/i64/f32/f64.load fused into the operator): NAME_SM (dst, slot a, slot addr, offset),
 * NAME_SMI (dst, slot a, slot addr, offset, immediate k) loading at (uint32)(addr + k), and
 * NAME_RMW (slot a, slot addr, offset) storing the result back where it loaded from. */
#define WP_BINOPS_MEM(X)                                                                           \
    X(I32_ADD) X(I32_SUB) X(I32_MUL) X(I32_AND) X(I32_OR) X(I32_XOR)                               \
    X(I64_ADD) X(I64_SUB) X(I64_MUL) X(I64_AND) X(I64_OR) X(I64_XOR)                               \
    X(F32_ADD) X(F32_SUB) X(F32_MUL) X(F32_DIV) X(F64_ADD) X(F64_SUB) X(F64_MUL) X(F64_DIV)

/* The same for i32 operators on an i16 loaded with sign extension (int16 arithmetic):
 * NAME_SM16 and NAME_SMI16, laid out as NAME_SM and NAME_SMI. */
#define WP_BINOPS_MEM16(X) X(I32_ADD) X(I32_MUL)

/* An add fused with a following compare-and-branch backwards (a loop counter): ABR_<cmp>_<add
 * form><compare form> (x, y, k or slot z, a, b, target): x = y + k (K) or y + z (V), then jump
 * back when a <cmp> b, b a slot (S) or an immediate (I). The add and compare have one width. */
#define WP_ABRCMPS(X) WP_BRCMPS(X)

/* Float multiply fused with the add or subtract that consumes it (two roundings, as the two
 * instructions): MADD d = a*b + c, MSUB d = a*b - c, NMSUB d = c - a*b; (d, a, b, c). */
#define WP_MULADDS(X) X(F32_MADD) X(F32_MSUB) X(F32_NMSUB) X(F64_MADD) X(F64_MSUB) X(F64_NMSUB)

/* A float multiply whose rounded product is added to memory in place (c[j] += a * b[j]; the
 * add's operands in the order the unfused add_RMW has them: product, then memory):
 *   <F>_MADD_RMW     a, b, addr, off        mem[addr + off] += a * b
 *   <F>_MADD_RMW_M   a, baddr, boff, addr, off     the same with b loaded from baddr + boff
 *   <F>_MADD_RMW_MI  a, baddr, boff, k, addr, off  b loaded from (uint32)(baddr + k) + boff
 * b's load is checked before the in-place access, as the unfused instructions would. */
#define WP_MADD_RMWS(X)                                                                            \
    X(F32_MADD_RMW) X(F32_MADD_RMW_M) X(F32_MADD_RMW_MI)                                           \
    X(F64_MADD_RMW) X(F64_MADD_RMW_M) X(F64_MADD_RMW_MI)

/* Non-commutative operators with a constant first operand: NAME_IS (dst, slot a, immediate
 * k) computes dst = k OP a (0 - x, 1.0 / x). */
#define WP_BINOPS_IS(X)                                                                            \
    X(I32_SUB_IS) X(I64_SUB_IS) X(F32_SUB_IS) X(F64_SUB_IS) X(F32_DIV_IS) X(F64_DIV_IS)

/* Every other internal instruction, with its operand cells. */
#define WP_IOPS_MISC(X)                                                                            \
    X(FUEL)          /* n: spends n instructions of the store's fuel (metered code only) */    \
    X(UNREACHABLE)   /* */                                                                         \
    X(JMP)           /* target */                                                                  \
    X(JMP_NZ)        /* slot (i32), target */                                                      \
    X(JMP_Z)         /* slot (i32), target */                                                      \
    X(JMP_NZ64)      /* slot (i64), target */                                                      \
    X(JMP_Z64)       /* slot (i64), target */                                                      \
    X(JMP_BACK)      /* the same five, backwards to a loop: each taken one spends a reduction */   \
    X(JMP_NZ_BACK)                                                                                 \
    X(JMP_Z_BACK)                                                                                  \
    X(JMP_NZ64_BACK)                                                                               \
    X(JMP_Z64_BACK)                                                                                \
    X(BR_TABLE)      /* slot, n, n+1 targets (the last is the default) */                          \
    X(RET)           /* (results already in fp[0..n)) */                                           \
    X(RET1)          /* slot: fp[0] = fp[slot], then return */                                     \
    X(CALL)          /* callee wp_code *, base slot */                                             \
    X(CALL_FUNC)     /* function index in the instance, base slot */                               \
    X(CALL_INDIRECT) /* type index, table index, base slot, index slot */                          \
    X(MOV)           /* dst, src */                                                                \
    X(MOV2)          /* dst, src, dst2, src2: two MOVs in order */                                 \
    X(COPY1)         /* d, kd, offd, s, ks, offs: a load of N bytes at (uint32)(s + ks) + offs */  \
    X(COPY2)         /* stored at (uint32)(d + kd) + offd (both checked, the load first) */       \
    X(COPY4)                                                                                       \
    X(COPY8)                                                                                       \
    X(CONST)         /* dst, bits */                                                               \
    X(SELECT)        /* dst, a, b, cond */                                                         \
    X(GLOBAL_GET)    /* dst, global index */                                                       \
    X(GLOBAL_SET)    /* global index, src */                                                       \
    X(MEMORY_SIZE)   /* dst */                                                                     \
    X(MEMORY_GROW)   /* dst, delta slot */                                                         \
    X(MEMORY_INIT)   /* data index, d, s, n */                                                     \
    X(DATA_DROP)     /* data index */                                                              \
    X(MEMORY_COPY)   /* d, s, n */                                                                 \
    X(MEMORY_FILL)   /* d, v, n */                                                                 \
    X(TABLE_GET)     /* dst, table, index slot */                                                  \
    X(TABLE_SET)     /* table, index slot, value slot */                                           \
    X(TABLE_SIZE)    /* dst, table */                                                              \
    X(TABLE_GROW)    /* dst, table, init slot, n slot */                                           \
    X(TABLE_FILL)    /* table, i, value, n */                                                      \
    X(TABLE_COPY)    /* dst table, src table, d, s, n */                                           \
    X(TABLE_INIT)    /* elem index, table, d, s, n */                                              \
    X(ELEM_DROP)     /* elem index */                                                              \
    X(REF_FUNC)      /* dst, function index */                                                     \
    X(ABR_NZ_K)      /* x, y, k, a, target: x = y + k (i32), then jump back when a != 0 */

/* Pairs of instructions that often run one right after the other, X(first, second), picked
 * from dispatch profiles of bench/programs (docs/interpreter.md). As its last step the
 * compiler gives the first instruction of each such pair the handler PAIR_<first>__<second>,
 * which does the first instruction's work and then goes to the second's handler directly
 * instead of dispatching. The cells stay as they were, so a branch to the second instruction
 * still finds it. A first instruction never branches, calls or returns. Listed are only pairs
 * that the programs' runs actually enter: a pair starting at another pair's second instruction
 * is jumped over by that pair's direct jump. */
#define WP_PAIRS(X)                                                                                \
    X(I32_ADD_SS, I32_ADD_SS) X(I32_ADD_SS, I32_ADD_SI) X(I32_ADD_SI, I32_ADD_SS)                  \
    X(I32_ADD_SI, I32_ADD_SI) X(I32_ADD_SI, ABR_I32_NE_KI) X(I32_ADD_SI, ABR_NZ_K)               \
    X(I32_ADD_SS, RET1) X(I32_ADD_SI, CALL) X(I32_ADD_SS, ABR_I32_GT_U_KI)                         \
    X(I32_ADD_SI, ABR_I64_NE_KS) X(I64_MUL_SI, I64_SHR_U_SI) X(I64_SHR_U_SI, I64_ADD_SS)          \
    X(I64_ADD_SS, I64_MUL_SI) X(I64_LOAD_AI, I64_XOR_SS) X(I32_ADD_SI, I32_SHR_U_SI)              \
    X(I32_SHR_U_SI, I32_STORE8) X(I32_STORE8, I32_ADD_SI) X(COPY1, COPY1)                          \
    X(I32_STORE8_VI, I32_ADD_SS) X(I32_WRAP_I64, I32_LOAD8_U_AS) X(I32_LOAD8_U_AI, I32_XOR_SS)    \
    X(F64_MADD_RMW_M, I32_ADD_SI) X(F64_MADD_RMW_MI, ABR_I32_NE_KI) X(I32_ADD_SI, F64_MUL_SS)     \
    X(F64_MUL_SS, F64_MADD_RMW) X(F64_MADD_RMW, I32_ADD_SI) X(F64_NMSUB, F64_STORE)               \
    X(F64_LOAD, F64_MUL_SS) X(F64_MUL_SS, F64_SUB_SMI) X(F64_SUB_SMI, F64_MUL_SS)                 \
    X(I32_MUL_SMI16, I32_LOAD16_S_AI)

/* The internal opcodes, in this order (the compiler relies on the forms being adjacent). */
#define WP_IOPS(X_BIN, X_BR, X_BRB, X_ABR, X_ONE, X_LOAD, X_STORE, X_MEM, X_MEM16, X_PAIR)         \
    WP_BINOPS(X_BIN) WP_BRCMPS(X_BR) WP_BRCMPS(X_BRB) WP_ABRCMPS(X_ABR) WP_UNOPS(X_ONE)           \
        WP_UNOPS_FC(X_ONE) WP_LOADS(X_LOAD) WP_STORES(X_STORE) WP_BINOPS_MEM(X_MEM)                \
            WP_BINOPS_MEM16(X_MEM16) WP_MULADDS(X_ONE) WP_MADD_RMWS(X_ONE)                         \
                WP_BINOPS_IS(X_ONE) WP_IOPS_MISC(X_ONE) WP_PAIRS(X_PAIR)

typedef enum wp_iop {
#define X_BIN(name, comm) WP_I_##name##_SS, WP_I_##name##_SI,
#define X_BR(name) WP_I_BR_##name##_SS, WP_I_BR_##name##_SI,
#define X_BRB(name) WP_I_BRB_##name##_SS, WP_I_BRB_##name##_SI,
#define X_ONE(name) WP_I_##name,
#define X_LOAD(name) WP_I_##name, WP_I_##name##_AI, WP_I_##name##_AS,
#define X_STORE(name) WP_I_##name, WP_I_##name##_VI, WP_I_##name##_AI, WP_I_##name##_AS,
#define X_MEM(name) WP_I_##name##_SM, WP_I_##name##_SMI, WP_I_##name##_RMW,
#define X_ABR(name) WP_I_ABR_##name##_KS, WP_I_ABR_##name##_KI, WP_I_ABR_##name##_VS,             \
                    WP_I_ABR_##name##_VI,
#define X_MEM16(name) WP_I_##name##_SM16, WP_I_##name##_SMI16,
#define X_PAIR(first, second) WP_I_PAIR_##first##__##second,
    WP_IOPS(X_BIN, X_BR, X_BRB, X_ABR, X_ONE, X_LOAD, X_STORE, X_MEM, X_MEM16, X_PAIR)
#undef X_PAIR
#undef X_MEM16
#undef X_BIN
#undef X_BR
#undef X_BRB
#undef X_ONE
#undef X_LOAD
#undef X_STORE
#undef X_MEM
#undef X_ABR
        WP_I_COUNT
} wp_iop;

/* One compiled function. */
typedef struct wp_code {
    uint32_t func_index; /* in its module */
    uint32_t nparams;
    uint32_t nlocals;  /* slots zeroed on entry, after the params: the declared locals and one
                          more that stays zero (the base of constant addresses) */
    uint32_t nresults;
    uint32_t nslots;   /* frame size: params + locals + deepest operand stack */
    uint32_t ncells;
    wp_cell *cells;
} wp_code;

/* The interpreter's handler table, indexed by wp_iop: label addresses with computed goto, or
 * NULL for the switch build (cells then hold the wp_iop number). Static. */
const void *const *wp__exec_handlers(void);

#endif
