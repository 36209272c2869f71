/* exec_ops.h: the interpreter loop and its instruction handlers; included once, by exec.c.
 *
 * interp() runs frames above 'base' until the frame at 'base' returns (done), a trap, a
 * pending host call or the end of the budget. Dispatch is computed goto where the compiler has
 * it (WP_HAVE_COMPUTED_GOTO), else a switch; handlers are written once for both through OP()
 * and NEXT(). With x == NULL it only hands out the handler table (labels exist only inside the
 * function that defines them). */
#ifndef WP_WASM_EXEC_OPS_H
#define WP_WASM_EXEC_OPS_H

/* Operand access: slot k of the instruction, immediate k, branch target in cell k. */
#define SL(k) fp[pc[k].u]
#define IM(k) pc[k].u
#define TARGET(k) (pc + (k) + pc[k].i)

#define AS_U32(v) ((wp_slot)(uint32_t)(v))
#define AS_U64(v) ((wp_slot)(v))
#define AS_BOOL(v) ((wp_slot)((v) ? 1 : 0))
#define LD_U32(s) ((uint32_t)(s))
#define LD_U64(s) ((uint64_t)(s))

/* Most handlers are written as a step, which does one instruction's work and moves pc past
 * it, inside OP(name) { step NEXT(); }, so that a pair handler (WP_PAIRS in code.h) can run
 * the step of its first instruction and then go straight to the second one's handler. */

/* A binary operator in both forms: dst = a OP b with b from a slot or an immediate. */
#define BIN_STEP(T, LD, ST, expr, bval)                                                            \
    {                                                                                              \
        T a = LD(SL(2));                                                                           \
        T b = LD(bval);                                                                            \
        SL(1) = ST(expr);                                                                          \
        pc += 4;                                                                                   \
    }

#define BIN(name, T, LD, ST, expr)                                                                 \
    OP(name##_SS) {                                                                                \
        BIN_STEP(T, LD, ST, expr, SL(3))                                                           \
        NEXT();                                                                                    \
    }                                                                                              \
    OP(name##_SI) {                                                                                \
        BIN_STEP(T, LD, ST, expr, IM(3))                                                           \
        NEXT();                                                                                    \
    }

/* A binary operator that may trap: 'check' sets tk and jumps to trap. */
#define BIN_CHECKED(name, T, LD, ST, check, expr)                                                  \
    OP(name##_SS) {                                                                                \
        T a = LD(SL(2));                                                                           \
        T b = LD(SL(3));                                                                           \
        check;                                                                                     \
        SL(1) = ST(expr);                                                                          \
        pc += 4;                                                                                   \
        NEXT();                                                                                    \
    }                                                                                              \
    OP(name##_SI) {                                                                                \
        T a = LD(SL(2));                                                                           \
        T b = LD(IM(3));                                                                           \
        check;                                                                                     \
        SL(1) = ST(expr);                                                                          \
        pc += 4;                                                                                   \
        NEXT();                                                                                    \
    }

/* Takes a branch backwards (to a loop head): that spends one reduction. On an empty budget
 * pc still names the branch, so the resumed run evaluates it again. */
#define TAKE_BACK(k)                                                                               \
    do {                                                                                           \
        if (WP_UNLIKELY(budget == 0))                                                              \
            goto out_of_budget;                                                                    \
        budget--;                                                                                  \
        pc = TARGET(k);                                                                            \
    } while (0)

/* A comparison fused with a branch: jump to cell 3's target when it holds. */
#define BRCMP(name, T, LD, expr)                                                                   \
    OP(BR_##name##_SS) {                                                                           \
        T a = LD(SL(1));                                                                           \
        T b = LD(SL(2));                                                                           \
        pc = (expr) ? TARGET(3) : pc + 4;                                                          \
        NEXT();                                                                                    \
    }                                                                                              \
    OP(BR_##name##_SI) {                                                                           \
        T a = LD(SL(1));                                                                           \
        T b = LD(IM(2));                                                                           \
        pc = (expr) ? TARGET(3) : pc + 4;                                                          \
        NEXT();                                                                                    \
    }                                                                                              \
    OP(BRB_##name##_SS) {                                                                          \
        T a = LD(SL(1));                                                                           \
        T b = LD(SL(2));                                                                           \
        if (expr)                                                                                  \
            TAKE_BACK(3);                                                                          \
        else                                                                                       \
            pc += 4;                                                                               \
        NEXT();                                                                                    \
    }                                                                                              \
    OP(BRB_##name##_SI) {                                                                          \
        T a = LD(SL(1));                                                                           \
        T b = LD(IM(2));                                                                           \
        if (expr)                                                                                  \
            TAKE_BACK(3);                                                                          \
        else                                                                                       \
            pc += 4;                                                                               \
        NEXT();                                                                                    \
    }

#define UN_STEP(T, LD, ST, expr)                                                                   \
    {                                                                                              \
        T a = LD(SL(2));                                                                           \
        SL(1) = ST(expr);                                                                          \
        pc += 3;                                                                                   \
    }

#define UN(name, T, LD, ST, expr)                                                                  \
    OP(name) {                                                                                     \
        UN_STEP(T, LD, ST, expr)                                                                   \
        NEXT();                                                                                    \
    }

#define UN_CHECKED(name, T, LD, ST, check, expr)                                                   \
    OP(name) {                                                                                     \
        T a = LD(SL(2));                                                                           \
        check;                                                                                     \
        SL(1) = ST(expr);                                                                          \
        pc += 3;                                                                                   \
        NEXT();                                                                                    \
    }

/* Loads and stores: the effective address is a 32-bit address plus the offset, checked in 64
 * bits. ADDR_AI / ADDR_AS: the address is (uint32)(a + b), an i32.add fused into the access. */
#define ADDR(k) ((uint64_t)(uint32_t)SL(k))
#define ADDR_AI(k, j) ((uint64_t)(uint32_t)(SL(k) + IM(j)))
#define ADDR_AS(k, j) ((uint64_t)(uint32_t)(SL(k) + SL(j)))

#define LOAD_STEP(T, ST, addr, len)                                                                \
    {                                                                                              \
        uint64_t ea = addr + IM(3);                                                                \
        T v;                                                                                       \
        if (WP_UNLIKELY(ea + sizeof(T) > msize))                                                   \
            goto trap_oob;                                                                         \
        memcpy(&v, mbase + ea, sizeof(T));                                                         \
        SL(1) = ST(v);                                                                             \
        pc += len;                                                                                 \
    }

#define LOAD_FORM(label, T, ST, addr, len)                                                         \
    OP(label) {                                                                                    \
        LOAD_STEP(T, ST, addr, len)                                                                \
        NEXT();                                                                                    \
    }

#define LOAD(name, T, ST)                                                                          \
    LOAD_FORM(name, T, ST, ADDR(2), 4)                                                             \
    LOAD_FORM(name##_AI, T, ST, ADDR_AI(2, 4), 5)                                                  \
    LOAD_FORM(name##_AS, T, ST, ADDR_AS(2, 4), 5)

#define STORE_STEP(T, value, addr, len)                                                            \
    {                                                                                              \
        uint64_t ea = addr + IM(3);                                                                \
        T v = (T)(value);                                                                          \
        if (WP_UNLIKELY(ea + sizeof(T) > msize))                                                   \
            goto trap_oob;                                                                         \
        memcpy(mbase + ea, &v, sizeof(T));                                                         \
        pc += len;                                                                                 \
    }

#define STORE_FORM(label, T, value, addr, len)                                                     \
    OP(label) {                                                                                    \
        STORE_STEP(T, value, addr, len)                                                            \
        NEXT();                                                                                    \
    }

#define STORE(name, T)                                                                             \
    STORE_FORM(name, T, SL(2), ADDR(1), 4)                                                         \
    STORE_FORM(name##_VI, T, IM(2), ADDR(1), 4)                                                    \
    STORE_FORM(name##_AI, T, SL(2), ADDR_AI(1, 4), 5)                                              \
    STORE_FORM(name##_AS, T, SL(2), ADDR_AS(1, 4), 5)

/* A binary operator whose second operand is loaded (type LT) from memory. */
#define BIN_MEM_STEP(T, LT, LD, ST, expr, addr, len)                                               \
    {                                                                                              \
        uint64_t ea = addr + IM(4);                                                                \
        LT m;                                                                                      \
        if (WP_UNLIKELY(ea + sizeof(LT) > msize))                                                  \
            goto trap_oob;                                                                         \
        memcpy(&m, mbase + ea, sizeof(LT));                                                        \
        T a = LD(SL(2));                                                                           \
        T b = LD(m);                                                                               \
        SL(1) = ST(expr);                                                                          \
        pc += len;                                                                                 \
    }

#define BIN_MEM_FORM(label, T, LT, LD, ST, expr, addr, len)                                        \
    OP(label) {                                                                                    \
        BIN_MEM_STEP(T, LT, LD, ST, expr, addr, len)                                               \
        NEXT();                                                                                    \
    }

#define BIN_MEM(name, T, LT, LD, ST, expr)                                                         \
    BIN_MEM_FORM(name##_SM, T, LT, LD, ST, expr, ADDR(3), 5)                                       \
    BIN_MEM_FORM(name##_SMI, T, LT, LD, ST, expr, ADDR_AI(3, 5), 6)                                \
    OP(name##_RMW) {                                                                               \
        uint64_t ea = ADDR(2) + IM(3);                                                             \
        LT m;                                                                                      \
        if (WP_UNLIKELY(ea + sizeof(LT) > msize))                                                  \
            goto trap_oob;                                                                         \
        memcpy(&m, mbase + ea, sizeof(LT));                                                        \
        T a = LD(SL(1));                                                                           \
        T b = LD(m);                                                                               \
        m = (LT)ST(expr);                                                                          \
        memcpy(mbase + ea, &m, sizeof(LT));                                                        \
        pc += 4;                                                                                   \
        NEXT();                                                                                    \
    }

/* An add and a backward compare-and-branch (ABR_*): the add's target is written first, as the
 * two instructions would; if the budget stops the branch, the add is undone so that the
 * resumed run can execute the whole instruction again. */
#define ABR_FORM(label, T, LD, ST, addend, bval, expr)                                             \
    OP(label) {                                                                                    \
        wp_slot old = SL(1);                                                                       \
        SL(1) = ST(LD(SL(2)) + addend);                                                            \
        T a = LD(SL(4));                                                                           \
        T b = LD(bval);                                                                            \
        if (expr) {                                                                                \
            if (WP_UNLIKELY(budget == 0)) {                                                        \
                SL(1) = old;                                                                       \
                goto out_of_budget;                                                                \
            }                                                                                      \
            budget--;                                                                              \
            pc = TARGET(6);                                                                        \
        } else {                                                                                   \
            pc += 7;                                                                               \
        }                                                                                          \
        NEXT();                                                                                    \
    }

#define ABRCMP(name, T, LD, ST, expr)                                                              \
    ABR_FORM(ABR_##name##_KS, T, LD, ST, IM(3), SL(5), expr)                                       \
    ABR_FORM(ABR_##name##_KI, T, LD, ST, IM(3), IM(5), expr)                                       \
    ABR_FORM(ABR_##name##_VS, T, LD, ST, LD(SL(3)), SL(5), expr)                                   \
    ABR_FORM(ABR_##name##_VI, T, LD, ST, LD(SL(3)), IM(5), expr)

/* A float multiply and the add or subtract consuming it. The product is its own statement so
 * that it is rounded before the add: a compiler may not contract across statements. */
#define MULADD_STEP(T, LD, ST, expr)                                                               \
    {                                                                                              \
        T p = LD(SL(2)) * LD(SL(3));                                                               \
        T c = LD(SL(4));                                                                           \
        SL(1) = ST(expr);                                                                          \
        pc += 5;                                                                                   \
    }

#define MULADD(name, T, LD, ST, expr)                                                              \
    OP(name) {                                                                                     \
        MULADD_STEP(T, LD, ST, expr)                                                               \
        NEXT();                                                                                    \
    }

/* c[j] += a * b in place (MADD_RMW*, code.h). The product is its own statement, rounded before
 * the add; b's load (the _M forms) is checked first, then the in-place access. */
#define MADD_RMW_STEP(T, LT, LD, ST, bdecl, addr_k, len)                                           \
    {                                                                                              \
        bdecl;                                                                                     \
        uint64_t ea = ADDR(addr_k) + IM(addr_k + 1);                                               \
        LT m;                                                                                      \
        if (WP_UNLIKELY(ea + sizeof(LT) > msize))                                                  \
            goto trap_oob;                                                                         \
        T p = LD(SL(1)) * b;                                                                       \
        memcpy(&m, mbase + ea, sizeof(LT));                                                        \
        m = (LT)ST(p + LD(m));                                                                     \
        memcpy(mbase + ea, &m, sizeof(LT));                                                        \
        pc += len;                                                                                 \
    }

#define MADD_RMW_FORM(label, T, LT, LD, ST, bdecl, addr_k, len)                                    \
    OP(label) {                                                                                    \
        MADD_RMW_STEP(T, LT, LD, ST, bdecl, addr_k, len)                                           \
        NEXT();                                                                                    \
    }

/* Declares b, loaded from memory at 'addr' (+ offset in cell k) for the _M forms. */
#define MEM_OPERAND(T, LT, LD, addr, k)                                                            \
    T b;                                                                                           \
    {                                                                                              \
        uint64_t eb = addr + IM(k);                                                                \
        LT mb;                                                                                     \
        if (WP_UNLIKELY(eb + sizeof(LT) > msize))                                                  \
            goto trap_oob;                                                                         \
        memcpy(&mb, mbase + eb, sizeof(LT));                                                       \
        b = LD(mb);                                                                                \
    }

#define MADD_RMW(name, T, LT, LD, ST)                                                              \
    MADD_RMW_FORM(name##_MADD_RMW, T, LT, LD, ST, T b = LD(SL(2)), 3, 5)                           \
    MADD_RMW_FORM(name##_MADD_RMW_M, T, LT, LD, ST, MEM_OPERAND(T, LT, LD, ADDR(2), 3), 4, 6)      \
    MADD_RMW_FORM(name##_MADD_RMW_MI, T, LT, LD, ST, MEM_OPERAND(T, LT, LD, ADDR_AI(2, 4), 3), 5, \
                  7)

/* dst = k OP a, the constant first (NAME_IS). */
#define BIN_IS(name, T, LD, ST, expr)                                                              \
    OP(name##_IS) {                                                                                \
        T a = LD(IM(3));                                                                           \
        T b = LD(SL(2));                                                                           \
        SL(1) = ST(expr);                                                                          \
        pc += 4;                                                                                   \
        NEXT();                                                                                    \
    }

/* A load of N bytes stored elsewhere unchanged (memcpy of a small fixed size). */
#define COPY_STEP(T)                                                                               \
    {                                                                                              \
        uint64_t src = ADDR_AI(4, 5) + IM(6);                                                      \
        uint64_t dst = ADDR_AI(1, 2) + IM(3);                                                      \
        T v;                                                                                       \
        if (WP_UNLIKELY(src + sizeof(T) > msize || dst + sizeof(T) > msize))                       \
            goto trap_oob;                                                                         \
        memcpy(&v, mbase + src, sizeof(T));                                                        \
        memcpy(mbase + dst, &v, sizeof(T));                                                        \
        pc += 7;                                                                                   \
    }

#define COPY(name, T)                                                                              \
    OP(name) {                                                                                     \
        COPY_STEP(T)                                                                               \
        NEXT();                                                                                    \
    }

#define TRAP_IF(cond, kind)                                                                        \
    if (WP_UNLIKELY(cond)) {                                                                       \
        tk = WP_TRAP_##kind;                                                                       \
        goto trap;                                                                                 \
    }

/* libm may return a signalling NaN unchanged; wasm wants it quieted. */
#define QUIET(fn, a) ((a) != (a) ? (a) + (a) : fn(a))

#define F32_LD(s) f32_of(s)
#define F64_LD(s) f64_of(s)
#define F32_ST(v) of_f32(v)
#define F64_ST(v) of_f64(v)
#define I8_ST32(v) AS_U32((int32_t)(v))
#define I8_ST64(v) AS_U64((int64_t)(v))

/* The steps of the first instructions of WP_PAIRS (code.h). Each restates its instruction's
 * line in the handler list below (type, operand forms, expression); every pair runs in the
 * bench programs it was picked from, which bench_smoke checks against native results. */
#define STEP_I32_ADD_SS BIN_STEP(uint32_t, LD_U32, AS_U32, a + b, SL(3))
#define STEP_I32_ADD_SI BIN_STEP(uint32_t, LD_U32, AS_U32, a + b, IM(3))
#define STEP_I32_SHR_U_SI BIN_STEP(uint32_t, LD_U32, AS_U32, a >> (b & 31), IM(3))
#define STEP_I64_ADD_SS BIN_STEP(uint64_t, LD_U64, AS_U64, a + b, SL(3))
#define STEP_I64_MUL_SI BIN_STEP(uint64_t, LD_U64, AS_U64, a * b, IM(3))
#define STEP_I64_SHR_U_SI BIN_STEP(uint64_t, LD_U64, AS_U64, a >> (b & 63), IM(3))
#define STEP_F64_MUL_SS BIN_STEP(double, F64_LD, F64_ST, a * b, SL(3))
#define STEP_I32_WRAP_I64 UN_STEP(uint64_t, LD_U64, AS_U32, a)
#define STEP_I64_LOAD_AI LOAD_STEP(uint64_t, AS_U64, ADDR_AI(2, 4), 5)
#define STEP_F64_LOAD LOAD_STEP(uint64_t, AS_U64, ADDR(2), 4)
#define STEP_I32_LOAD8_U_AI LOAD_STEP(uint8_t, AS_U32, ADDR_AI(2, 4), 5)
#define STEP_I32_STORE8 STORE_STEP(uint8_t, SL(2), ADDR(1), 4)
#define STEP_I32_STORE8_VI STORE_STEP(uint8_t, IM(2), ADDR(1), 4)
#define STEP_COPY1 COPY_STEP(uint8_t)
#define STEP_F64_SUB_SMI                                                                           \
    BIN_MEM_STEP(double, uint64_t, F64_LD, F64_ST, a - b, ADDR_AI(3, 5), 6)
#define STEP_I32_MUL_SMI16                                                                         \
    BIN_MEM_STEP(uint32_t, int16_t, LD_U32, AS_U32, a * b, ADDR_AI(3, 5), 6)
#define STEP_F64_NMSUB MULADD_STEP(double, F64_LD, F64_ST, c - p)
#define STEP_F64_MADD_RMW                                                                          \
    MADD_RMW_STEP(double, uint64_t, F64_LD, F64_ST, double b = F64_LD(SL(2)), 3, 5)
#define STEP_F64_MADD_RMW_M                                                                        \
    MADD_RMW_STEP(double, uint64_t, F64_LD, F64_ST,                                                \
                  MEM_OPERAND(double, uint64_t, F64_LD, ADDR(2), 3), 4, 6)
#define STEP_F64_MADD_RMW_MI                                                                       \
    MADD_RMW_STEP(double, uint64_t, F64_LD, F64_ST,                                                \
                  MEM_OPERAND(double, uint64_t, F64_LD, ADDR_AI(2, 4), 3), 5, 7)

WP_NO_SANITIZE_POINTER_OVERFLOW
static wp_run_state interp(wp_exec *x, uint32_t base, uint64_t budget,
                           const void *const **table_out) {
#if WP_HAVE_COMPUTED_GOTO
    static const void *const labels[WP_I_COUNT] = {
#define X_BIN(name, comm) &&L_##name##_SS, &&L_##name##_SI,
#define X_BR(name) &&L_BR_##name##_SS, &&L_BR_##name##_SI,
#define X_BRB(name) &&L_BRB_##name##_SS, &&L_BRB_##name##_SI,
#define X_ONE(name) &&L_##name,
#define X_LOAD(name) &&L_##name, &&L_##name##_AI, &&L_##name##_AS,
#define X_STORE(name) &&L_##name, &&L_##name##_VI, &&L_##name##_AI, &&L_##name##_AS,
#define X_MEM(name) &&L_##name##_SM, &&L_##name##_SMI, &&L_##name##_RMW,
#define X_ABR(name) &&L_ABR_##name##_KS, &&L_ABR_##name##_KI, &&L_ABR_##name##_VS,                \
                    &&L_ABR_##name##_VI,
#define X_MEM16(name) &&L_##name##_SM16, &&L_##name##_SMI16,
#define X_PAIR(first, second) &&L_PAIR_##first##__##second,
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
    };
    if (!x) {
        *table_out = labels;
        return WP_RUN_DONE;
    }
#define OP(name) L_##name:
#define NEXT() goto *pc->h
#define JUMP_TO(name) goto L_##name
#else
    if (!x) {
        *table_out = NULL;
        return WP_RUN_DONE;
    }
#define OP(name) case WP_I_##name:
#define NEXT() goto dispatch
#define JUMP_TO(name) goto dispatch
#endif
    /* Only these change in the loop; few, so that they stay in registers. The rest of the
     * state is in x, read on the cold paths. */
    const bool nested = x->nesting > 0;
    wp_frame *fr = &x->frames[x->depth - 1]; /* the running function's record */
    const wp_cell *pc = x->pc;
    wp_slot *fp = fr->fp;
    wp_instance *inst = fr->inst;
    wp_global **globals = inst->globals;
    wp_memory *mem = mem_of(inst);
    uint8_t *mbase = mem->base;
    uint64_t msize = mem->size;
    wp_trap_kind tk;         /* set before every jump to trap */
    uint32_t trap_index = 0; /* the element index, for trap_elem */
    /* Operands of the shared call paths. */
    const wp_code *callee = NULL;
    wp_instance *callee_inst = NULL;
    wp_slot *nfp = NULL;
    const wp_cell *ret_pc = NULL;
    wp_func *fn = NULL;

#if WP_HAVE_COMPUTED_GOTO
    NEXT();
#else
dispatch:
    switch ((wp_iop)pc->u) {
#endif

    /* ---- Comparisons and arithmetic ---- */
    BIN(I32_EQ, uint32_t, LD_U32, AS_BOOL, a == b)
    BIN(I32_NE, uint32_t, LD_U32, AS_BOOL, a != b)
    BIN(I32_LT_S, uint32_t, LD_U32, AS_BOOL, (int32_t)a < (int32_t)b)
    BIN(I32_LT_U, uint32_t, LD_U32, AS_BOOL, a < b)
    BIN(I32_GT_S, uint32_t, LD_U32, AS_BOOL, (int32_t)a > (int32_t)b)
    BIN(I32_GT_U, uint32_t, LD_U32, AS_BOOL, a > b)
    BIN(I32_LE_S, uint32_t, LD_U32, AS_BOOL, (int32_t)a <= (int32_t)b)
    BIN(I32_LE_U, uint32_t, LD_U32, AS_BOOL, a <= b)
    BIN(I32_GE_S, uint32_t, LD_U32, AS_BOOL, (int32_t)a >= (int32_t)b)
    BIN(I32_GE_U, uint32_t, LD_U32, AS_BOOL, a >= b)
    BIN(I64_EQ, uint64_t, LD_U64, AS_BOOL, a == b)
    BIN(I64_NE, uint64_t, LD_U64, AS_BOOL, a != b)
    BIN(I64_LT_S, uint64_t, LD_U64, AS_BOOL, (int64_t)a < (int64_t)b)
    BIN(I64_LT_U, uint64_t, LD_U64, AS_BOOL, a < b)
    BIN(I64_GT_S, uint64_t, LD_U64, AS_BOOL, (int64_t)a > (int64_t)b)
    BIN(I64_GT_U, uint64_t, LD_U64, AS_BOOL, a > b)
    BIN(I64_LE_S, uint64_t, LD_U64, AS_BOOL, (int64_t)a <= (int64_t)b)
    BIN(I64_LE_U, uint64_t, LD_U64, AS_BOOL, a <= b)
    BIN(I64_GE_S, uint64_t, LD_U64, AS_BOOL, (int64_t)a >= (int64_t)b)
    BIN(I64_GE_U, uint64_t, LD_U64, AS_BOOL, a >= b)
    BIN(F32_EQ, float, F32_LD, AS_BOOL, a == b)
    BIN(F32_NE, float, F32_LD, AS_BOOL, a != b)
    BIN(F32_LT, float, F32_LD, AS_BOOL, a < b)
    BIN(F32_GT, float, F32_LD, AS_BOOL, a > b)
    BIN(F32_LE, float, F32_LD, AS_BOOL, a <= b)
    BIN(F32_GE, float, F32_LD, AS_BOOL, a >= b)
    BIN(F64_EQ, double, F64_LD, AS_BOOL, a == b)
    BIN(F64_NE, double, F64_LD, AS_BOOL, a != b)
    BIN(F64_LT, double, F64_LD, AS_BOOL, a < b)
    BIN(F64_GT, double, F64_LD, AS_BOOL, a > b)
    BIN(F64_LE, double, F64_LD, AS_BOOL, a <= b)
    BIN(F64_GE, double, F64_LD, AS_BOOL, a >= b)

    BIN(I32_ADD, uint32_t, LD_U32, AS_U32, a + b)
    BIN(I32_SUB, uint32_t, LD_U32, AS_U32, a - b)
    BIN(I32_MUL, uint32_t, LD_U32, AS_U32, a * b)
    BIN_CHECKED(I32_DIV_S, uint32_t, LD_U32, AS_U32,
                TRAP_IF(b == 0, DIV_ZERO) TRAP_IF(a == 0x80000000u && b == 0xffffffffu,
                                                  INT_OVERFLOW),
                (int32_t)a / (int32_t)b)
    BIN_CHECKED(I32_DIV_U, uint32_t, LD_U32, AS_U32, TRAP_IF(b == 0, DIV_ZERO), a / b)
    BIN_CHECKED(I32_REM_S, uint32_t, LD_U32, AS_U32, TRAP_IF(b == 0, DIV_ZERO),
                b == 0xffffffffu ? 0 : (int32_t)a % (int32_t)b)
    BIN_CHECKED(I32_REM_U, uint32_t, LD_U32, AS_U32, TRAP_IF(b == 0, DIV_ZERO), a % b)
    BIN(I32_AND, uint32_t, LD_U32, AS_U32, a & b)
    BIN(I32_OR, uint32_t, LD_U32, AS_U32, a | b)
    BIN(I32_XOR, uint32_t, LD_U32, AS_U32, a ^ b)
    BIN(I32_SHL, uint32_t, LD_U32, AS_U32, a << (b & 31))
    BIN(I32_SHR_S, uint32_t, LD_U32, AS_U32, sar32(a, b))
    BIN(I32_SHR_U, uint32_t, LD_U32, AS_U32, a >> (b & 31))
    BIN(I32_ROTL, uint32_t, LD_U32, AS_U32, rotl32(a, b))
    BIN(I32_ROTR, uint32_t, LD_U32, AS_U32, rotr32(a, b))

    BIN(I64_ADD, uint64_t, LD_U64, AS_U64, a + b)
    BIN(I64_SUB, uint64_t, LD_U64, AS_U64, a - b)
    BIN(I64_MUL, uint64_t, LD_U64, AS_U64, a * b)
    BIN_CHECKED(I64_DIV_S, uint64_t, LD_U64, AS_U64,
                TRAP_IF(b == 0, DIV_ZERO) TRAP_IF(a == 0x8000000000000000ull && b == UINT64_MAX,
                                                  INT_OVERFLOW),
                (int64_t)a / (int64_t)b)
    BIN_CHECKED(I64_DIV_U, uint64_t, LD_U64, AS_U64, TRAP_IF(b == 0, DIV_ZERO), a / b)
    BIN_CHECKED(I64_REM_S, uint64_t, LD_U64, AS_U64, TRAP_IF(b == 0, DIV_ZERO),
                b == UINT64_MAX ? 0 : (int64_t)a % (int64_t)b)
    BIN_CHECKED(I64_REM_U, uint64_t, LD_U64, AS_U64, TRAP_IF(b == 0, DIV_ZERO), a % b)
    BIN(I64_AND, uint64_t, LD_U64, AS_U64, a & b)
    BIN(I64_OR, uint64_t, LD_U64, AS_U64, a | b)
    BIN(I64_XOR, uint64_t, LD_U64, AS_U64, a ^ b)
    BIN(I64_SHL, uint64_t, LD_U64, AS_U64, a << (b & 63))
    BIN(I64_SHR_S, uint64_t, LD_U64, AS_U64, sar64(a, b))
    BIN(I64_SHR_U, uint64_t, LD_U64, AS_U64, a >> (b & 63))
    BIN(I64_ROTL, uint64_t, LD_U64, AS_U64, rotl64(a, b))
    BIN(I64_ROTR, uint64_t, LD_U64, AS_U64, rotr64(a, b))

    BIN(F32_ADD, float, F32_LD, F32_ST, a + b)
    BIN(F32_SUB, float, F32_LD, F32_ST, a - b)
    BIN(F32_MUL, float, F32_LD, F32_ST, a * b)
    BIN(F32_DIV, float, F32_LD, F32_ST, a / b)
    BIN(F32_MIN, float, F32_LD, F32_ST, fmin32(a, b))
    BIN(F32_MAX, float, F32_LD, F32_ST, fmax32(a, b))
    BIN(F32_COPYSIGN, wp_slot, LD_U64, AS_U64, copysign32(a, b))
    BIN(F64_ADD, double, F64_LD, F64_ST, a + b)
    BIN(F64_SUB, double, F64_LD, F64_ST, a - b)
    BIN(F64_MUL, double, F64_LD, F64_ST, a * b)
    BIN(F64_DIV, double, F64_LD, F64_ST, a / b)
    BIN(F64_MIN, double, F64_LD, F64_ST, fmin64(a, b))
    BIN(F64_MAX, double, F64_LD, F64_ST, fmax64(a, b))
    BIN(F64_COPYSIGN, wp_slot, LD_U64, AS_U64, copysign64(a, b))

    /* ---- Comparisons fused with a branch ---- */
    BRCMP(I32_EQ, uint32_t, LD_U32, a == b)
    BRCMP(I32_NE, uint32_t, LD_U32, a != b)
    BRCMP(I32_LT_S, uint32_t, LD_U32, (int32_t)a < (int32_t)b)
    BRCMP(I32_LT_U, uint32_t, LD_U32, a < b)
    BRCMP(I32_GT_S, uint32_t, LD_U32, (int32_t)a > (int32_t)b)
    BRCMP(I32_GT_U, uint32_t, LD_U32, a > b)
    BRCMP(I32_LE_S, uint32_t, LD_U32, (int32_t)a <= (int32_t)b)
    BRCMP(I32_LE_U, uint32_t, LD_U32, a <= b)
    BRCMP(I32_GE_S, uint32_t, LD_U32, (int32_t)a >= (int32_t)b)
    BRCMP(I32_GE_U, uint32_t, LD_U32, a >= b)
    BRCMP(I64_EQ, uint64_t, LD_U64, a == b)
    BRCMP(I64_NE, uint64_t, LD_U64, a != b)
    BRCMP(I64_LT_S, uint64_t, LD_U64, (int64_t)a < (int64_t)b)
    BRCMP(I64_LT_U, uint64_t, LD_U64, a < b)
    BRCMP(I64_GT_S, uint64_t, LD_U64, (int64_t)a > (int64_t)b)
    BRCMP(I64_GT_U, uint64_t, LD_U64, a > b)
    BRCMP(I64_LE_S, uint64_t, LD_U64, (int64_t)a <= (int64_t)b)
    BRCMP(I64_LE_U, uint64_t, LD_U64, a <= b)
    BRCMP(I64_GE_S, uint64_t, LD_U64, (int64_t)a >= (int64_t)b)
    BRCMP(I64_GE_U, uint64_t, LD_U64, a >= b)

    ABRCMP(I32_EQ, uint32_t, LD_U32, AS_U32, a == b)
    ABRCMP(I32_NE, uint32_t, LD_U32, AS_U32, a != b)
    ABRCMP(I32_LT_S, uint32_t, LD_U32, AS_U32, (int32_t)a < (int32_t)b)
    ABRCMP(I32_LT_U, uint32_t, LD_U32, AS_U32, a < b)
    ABRCMP(I32_GT_S, uint32_t, LD_U32, AS_U32, (int32_t)a > (int32_t)b)
    ABRCMP(I32_GT_U, uint32_t, LD_U32, AS_U32, a > b)
    ABRCMP(I32_LE_S, uint32_t, LD_U32, AS_U32, (int32_t)a <= (int32_t)b)
    ABRCMP(I32_LE_U, uint32_t, LD_U32, AS_U32, a <= b)
    ABRCMP(I32_GE_S, uint32_t, LD_U32, AS_U32, (int32_t)a >= (int32_t)b)
    ABRCMP(I32_GE_U, uint32_t, LD_U32, AS_U32, a >= b)
    ABRCMP(I64_EQ, uint64_t, LD_U64, AS_U64, a == b)
    ABRCMP(I64_NE, uint64_t, LD_U64, AS_U64, a != b)
    ABRCMP(I64_LT_S, uint64_t, LD_U64, AS_U64, (int64_t)a < (int64_t)b)
    ABRCMP(I64_LT_U, uint64_t, LD_U64, AS_U64, a < b)
    ABRCMP(I64_GT_S, uint64_t, LD_U64, AS_U64, (int64_t)a > (int64_t)b)
    ABRCMP(I64_GT_U, uint64_t, LD_U64, AS_U64, a > b)
    ABRCMP(I64_LE_S, uint64_t, LD_U64, AS_U64, (int64_t)a <= (int64_t)b)
    ABRCMP(I64_LE_U, uint64_t, LD_U64, AS_U64, a <= b)
    ABRCMP(I64_GE_S, uint64_t, LD_U64, AS_U64, (int64_t)a >= (int64_t)b)
    ABRCMP(I64_GE_U, uint64_t, LD_U64, AS_U64, a >= b)
    OP(ABR_NZ_K) {
        wp_slot old = SL(1);
        SL(1) = AS_U32(SL(2) + IM(3));
        if ((uint32_t)SL(4)) {
            if (WP_UNLIKELY(budget == 0)) {
                SL(1) = old;
                goto out_of_budget;
            }
            budget--;
            pc = TARGET(5);
        } else {
            pc += 6;
        }
        NEXT();
    }

    MULADD(F32_MADD, float, F32_LD, F32_ST, p + c)
    MULADD(F32_MSUB, float, F32_LD, F32_ST, p - c)
    MULADD(F32_NMSUB, float, F32_LD, F32_ST, c - p)
    MULADD(F64_MADD, double, F64_LD, F64_ST, p + c)
    MULADD(F64_MSUB, double, F64_LD, F64_ST, p - c)
    MULADD(F64_NMSUB, double, F64_LD, F64_ST, c - p)
    MADD_RMW(F32, float, uint32_t, F32_LD, F32_ST)
    MADD_RMW(F64, double, uint64_t, F64_LD, F64_ST)

    BIN_IS(I32_SUB, uint32_t, LD_U32, AS_U32, a - b)
    BIN_IS(I64_SUB, uint64_t, LD_U64, AS_U64, a - b)
    BIN_IS(F32_SUB, float, F32_LD, F32_ST, a - b)
    BIN_IS(F64_SUB, double, F64_LD, F64_ST, a - b)
    BIN_IS(F32_DIV, float, F32_LD, F32_ST, a / b)
    BIN_IS(F64_DIV, double, F64_LD, F64_ST, a / b)

    /* ---- Pairs: the first instruction's step, then the second's handler ---- */
#define X_PAIR(first, second)                                                                      \
    OP(PAIR_##first##__##second) {                                                                 \
        STEP_##first                                                                               \
        JUMP_TO(second);                                                                           \
    }
    WP_PAIRS(X_PAIR)
#undef X_PAIR

    /* ---- Unary operators and conversions ---- */
    UN(I32_EQZ, uint32_t, LD_U32, AS_BOOL, a == 0)
    UN(I64_EQZ, uint64_t, LD_U64, AS_BOOL, a == 0)
    UN(I32_CLZ, uint32_t, LD_U32, AS_U32, clz32(a))
    UN(I32_CTZ, uint32_t, LD_U32, AS_U32, ctz32(a))
    UN(I32_POPCNT, uint32_t, LD_U32, AS_U32, popcnt64(a))
    UN(I64_CLZ, uint64_t, LD_U64, AS_U64, clz64(a))
    UN(I64_CTZ, uint64_t, LD_U64, AS_U64, ctz64(a))
    UN(I64_POPCNT, uint64_t, LD_U64, AS_U64, popcnt64(a))
    UN(F32_ABS, wp_slot, LD_U64, AS_U64, a & 0x7fffffffu)
    UN(F32_NEG, wp_slot, LD_U64, AS_U64, a ^ 0x80000000u)
    UN(F32_CEIL, float, F32_LD, F32_ST, QUIET(ceilf, a))
    UN(F32_FLOOR, float, F32_LD, F32_ST, QUIET(floorf, a))
    UN(F32_TRUNC, float, F32_LD, F32_ST, QUIET(truncf, a))
    UN(F32_NEAREST, float, F32_LD, F32_ST, QUIET(rintf, a))
    UN(F32_SQRT, float, F32_LD, F32_ST, sqrtf(a))
    UN(F64_ABS, wp_slot, LD_U64, AS_U64, a & 0x7fffffffffffffffull)
    UN(F64_NEG, wp_slot, LD_U64, AS_U64, a ^ 0x8000000000000000ull)
    UN(F64_CEIL, double, F64_LD, F64_ST, QUIET(ceil, a))
    UN(F64_FLOOR, double, F64_LD, F64_ST, QUIET(floor, a))
    UN(F64_TRUNC, double, F64_LD, F64_ST, QUIET(trunc, a))
    UN(F64_NEAREST, double, F64_LD, F64_ST, QUIET(rint, a))
    UN(F64_SQRT, double, F64_LD, F64_ST, sqrt(a))
    UN(I32_WRAP_I64, uint64_t, LD_U64, AS_U32, a)
    UN_CHECKED(I32_TRUNC_F32_S, float, F32_LD, AS_U32,
               TRAP_IF(a != a, INVALID_CONVERSION)
                   TRAP_IF(!(a >= -2147483648.0f && a < 2147483648.0f), INT_OVERFLOW),
               (int32_t)a)
    UN_CHECKED(I32_TRUNC_F32_U, float, F32_LD, AS_U32,
               TRAP_IF(a != a, INVALID_CONVERSION)
                   TRAP_IF(!(a > -1.0f && a < 4294967296.0f), INT_OVERFLOW),
               (uint32_t)a)
    UN_CHECKED(I32_TRUNC_F64_S, double, F64_LD, AS_U32,
               TRAP_IF(a != a, INVALID_CONVERSION)
                   TRAP_IF(!(a > -2147483649.0 && a < 2147483648.0), INT_OVERFLOW),
               (int32_t)a)
    UN_CHECKED(I32_TRUNC_F64_U, double, F64_LD, AS_U32,
               TRAP_IF(a != a, INVALID_CONVERSION)
                   TRAP_IF(!(a > -1.0 && a < 4294967296.0), INT_OVERFLOW),
               (uint32_t)a)
    UN(I64_EXTEND_I32_S, uint32_t, LD_U32, AS_U64, (int64_t)(int32_t)a)
    UN_CHECKED(I64_TRUNC_F32_S, float, F32_LD, AS_U64,
               TRAP_IF(a != a, INVALID_CONVERSION)
                   TRAP_IF(!(a >= -9223372036854775808.0f && a < 9223372036854775808.0f),
                           INT_OVERFLOW),
               (int64_t)a)
    UN_CHECKED(I64_TRUNC_F32_U, float, F32_LD, AS_U64,
               TRAP_IF(a != a, INVALID_CONVERSION)
                   TRAP_IF(!(a > -1.0f && a < 18446744073709551616.0f), INT_OVERFLOW),
               (uint64_t)a)
    UN_CHECKED(I64_TRUNC_F64_S, double, F64_LD, AS_U64,
               TRAP_IF(a != a, INVALID_CONVERSION)
                   TRAP_IF(!(a >= -9223372036854775808.0 && a < 9223372036854775808.0),
                           INT_OVERFLOW),
               (int64_t)a)
    UN_CHECKED(I64_TRUNC_F64_U, double, F64_LD, AS_U64,
               TRAP_IF(a != a, INVALID_CONVERSION)
                   TRAP_IF(!(a > -1.0 && a < 18446744073709551616.0), INT_OVERFLOW),
               (uint64_t)a)
    UN(F32_CONVERT_I32_S, uint32_t, LD_U32, F32_ST, (float)(int32_t)a)
    UN(F32_CONVERT_I32_U, uint32_t, LD_U32, F32_ST, (float)a)
    UN(F32_CONVERT_I64_S, uint64_t, LD_U64, F32_ST, (float)(int64_t)a)
    UN(F32_CONVERT_I64_U, uint64_t, LD_U64, F32_ST, (float)a)
    UN(F32_DEMOTE_F64, double, F64_LD, F32_ST, (float)a)
    UN(F64_CONVERT_I32_S, uint32_t, LD_U32, F64_ST, (double)(int32_t)a)
    UN(F64_CONVERT_I32_U, uint32_t, LD_U32, F64_ST, (double)a)
    UN(F64_CONVERT_I64_S, uint64_t, LD_U64, F64_ST, (double)(int64_t)a)
    UN(F64_CONVERT_I64_U, uint64_t, LD_U64, F64_ST, (double)a)
    UN(F64_PROMOTE_F32, float, F32_LD, F64_ST, (double)a)
    UN(I32_EXTEND8_S, uint32_t, LD_U32, AS_U32, (int32_t)(int8_t)(uint8_t)a)
    UN(I32_EXTEND16_S, uint32_t, LD_U32, AS_U32, (int32_t)(int16_t)(uint16_t)a)
    UN(I64_EXTEND8_S, uint64_t, LD_U64, AS_U64, (int64_t)(int8_t)(uint8_t)a)
    UN(I64_EXTEND16_S, uint64_t, LD_U64, AS_U64, (int64_t)(int16_t)(uint16_t)a)
    UN(I64_EXTEND32_S, uint64_t, LD_U64, AS_U64, (int64_t)(int32_t)(uint32_t)a)
    UN(I32_TRUNC_SAT_F32_S, float, F32_LD, AS_U32, sat_i32(a))
    UN(I32_TRUNC_SAT_F32_U, float, F32_LD, AS_U32, sat_u32(a))
    UN(I32_TRUNC_SAT_F64_S, double, F64_LD, AS_U32, sat_i32(a))
    UN(I32_TRUNC_SAT_F64_U, double, F64_LD, AS_U32, sat_u32(a))
    UN(I64_TRUNC_SAT_F32_S, float, F32_LD, AS_U64, sat_i64(a))
    UN(I64_TRUNC_SAT_F32_U, float, F32_LD, AS_U64, sat_u64(a))
    UN(I64_TRUNC_SAT_F64_S, double, F64_LD, AS_U64, sat_i64(a))
    UN(I64_TRUNC_SAT_F64_U, double, F64_LD, AS_U64, sat_u64(a))

    /* ---- Memory ---- */
    LOAD(I32_LOAD, uint32_t, AS_U32)
    LOAD(I64_LOAD, uint64_t, AS_U64)
    LOAD(F32_LOAD, uint32_t, AS_U32)
    LOAD(F64_LOAD, uint64_t, AS_U64)
    LOAD(I32_LOAD8_S, int8_t, I8_ST32)
    LOAD(I32_LOAD8_U, uint8_t, AS_U32)
    LOAD(I32_LOAD16_S, int16_t, I8_ST32)
    LOAD(I32_LOAD16_U, uint16_t, AS_U32)
    LOAD(I64_LOAD8_S, int8_t, I8_ST64)
    LOAD(I64_LOAD8_U, uint8_t, AS_U64)
    LOAD(I64_LOAD16_S, int16_t, I8_ST64)
    LOAD(I64_LOAD16_U, uint16_t, AS_U64)
    LOAD(I64_LOAD32_S, int32_t, I8_ST64)
    LOAD(I64_LOAD32_U, uint32_t, AS_U64)
    STORE(I32_STORE, uint32_t)
    STORE(I64_STORE, uint64_t)
    STORE(F32_STORE, uint32_t)
    STORE(F64_STORE, uint64_t)
    STORE(I32_STORE8, uint8_t)
    STORE(I32_STORE16, uint16_t)
    STORE(I64_STORE8, uint8_t)
    STORE(I64_STORE16, uint16_t)
    STORE(I64_STORE32, uint32_t)

    BIN_MEM(I32_ADD, uint32_t, uint32_t, LD_U32, AS_U32, a + b)
    BIN_MEM(I32_SUB, uint32_t, uint32_t, LD_U32, AS_U32, a - b)
    BIN_MEM(I32_MUL, uint32_t, uint32_t, LD_U32, AS_U32, a * b)
    BIN_MEM(I32_AND, uint32_t, uint32_t, LD_U32, AS_U32, a & b)
    BIN_MEM(I32_OR, uint32_t, uint32_t, LD_U32, AS_U32, a | b)
    BIN_MEM(I32_XOR, uint32_t, uint32_t, LD_U32, AS_U32, a ^ b)
    BIN_MEM(I64_ADD, uint64_t, uint64_t, LD_U64, AS_U64, a + b)
    BIN_MEM(I64_SUB, uint64_t, uint64_t, LD_U64, AS_U64, a - b)
    BIN_MEM(I64_MUL, uint64_t, uint64_t, LD_U64, AS_U64, a * b)
    BIN_MEM(I64_AND, uint64_t, uint64_t, LD_U64, AS_U64, a & b)
    BIN_MEM(I64_OR, uint64_t, uint64_t, LD_U64, AS_U64, a | b)
    BIN_MEM(I64_XOR, uint64_t, uint64_t, LD_U64, AS_U64, a ^ b)
    BIN_MEM(F32_ADD, float, uint32_t, F32_LD, F32_ST, a + b)
    BIN_MEM(F32_SUB, float, uint32_t, F32_LD, F32_ST, a - b)
    BIN_MEM(F32_MUL, float, uint32_t, F32_LD, F32_ST, a * b)
    BIN_MEM(F32_DIV, float, uint32_t, F32_LD, F32_ST, a / b)
    BIN_MEM(F64_ADD, double, uint64_t, F64_LD, F64_ST, a + b)
    BIN_MEM(F64_SUB, double, uint64_t, F64_LD, F64_ST, a - b)
    BIN_MEM(F64_MUL, double, uint64_t, F64_LD, F64_ST, a * b)
    BIN_MEM(F64_DIV, double, uint64_t, F64_LD, F64_ST, a / b)

    COPY(COPY1, uint8_t)
    COPY(COPY2, uint16_t)
    COPY(COPY4, uint32_t)
    COPY(COPY8, uint64_t)

    BIN_MEM_FORM(I32_ADD_SM16, uint32_t, int16_t, LD_U32, AS_U32, a + b, ADDR(3), 5)
    BIN_MEM_FORM(I32_ADD_SMI16, uint32_t, int16_t, LD_U32, AS_U32, a + b, ADDR_AI(3, 5), 6)
    BIN_MEM_FORM(I32_MUL_SM16, uint32_t, int16_t, LD_U32, AS_U32, a * b, ADDR(3), 5)
    BIN_MEM_FORM(I32_MUL_SMI16, uint32_t, int16_t, LD_U32, AS_U32, a * b, ADDR_AI(3, 5), 6)

    OP(MEMORY_SIZE) {
        SL(1) = mem->pages;
        pc += 2;
        NEXT();
    }
    OP(MEMORY_GROW) {
        int64_t r = inst->mem0 ? wp_memory_grow(inst->mem0, (uint32_t)SL(2)) : -1;
        SL(1) = AS_U32((int32_t)r);
        mbase = mem->base;
        msize = mem->size;
        pc += 3;
        NEXT();
    }
    OP(MEMORY_INIT) {
        const wp_dataseg *seg = &inst->module->datas[IM(1)];
        uint64_t len = inst->data_dropped[IM(1)] ? 0 : seg->len;
        TRAP_IF(!wp__memory_init(mem, (uint32_t)SL(2), inst->module->bytes + seg->data_offset,
                                 len, (uint32_t)SL(3), (uint32_t)SL(4)),
                MEMORY_OOB)
        pc += 5;
        NEXT();
    }
    OP(DATA_DROP) {
        inst->data_dropped[IM(1)] = 1;
        pc += 2;
        NEXT();
    }
    OP(MEMORY_COPY) {
        TRAP_IF(!wp__memory_copy(mem, (uint32_t)SL(1), (uint32_t)SL(2), (uint32_t)SL(3)),
                MEMORY_OOB)
        pc += 4;
        NEXT();
    }
    OP(MEMORY_FILL) {
        TRAP_IF(!wp__memory_fill(mem, (uint32_t)SL(1), (uint8_t)SL(2), (uint32_t)SL(3)),
                MEMORY_OOB)
        pc += 4;
        NEXT();
    }

    /* ---- Tables and references ---- */
    OP(TABLE_GET) {
        wp_table *t = inst->tables[IM(2)];
        uint32_t i = (uint32_t)SL(3);
        TRAP_IF(i >= t->size, TABLE_OOB)
        SL(1) = (wp_slot)(uintptr_t)t->elems[i];
        pc += 4;
        NEXT();
    }
    OP(TABLE_SET) {
        wp_table *t = inst->tables[IM(1)];
        uint32_t i = (uint32_t)SL(2);
        TRAP_IF(i >= t->size, TABLE_OOB)
        t->elems[i] = (void *)(uintptr_t)SL(3);
        pc += 4;
        NEXT();
    }
    OP(TABLE_SIZE) {
        SL(1) = inst->tables[IM(2)]->size;
        pc += 3;
        NEXT();
    }
    OP(TABLE_GROW) {
        int64_t r = wp__table_grow(inst->tables[IM(2)], (uint32_t)SL(4),
                                   (void *)(uintptr_t)SL(3));
        SL(1) = AS_U32((int32_t)r);
        pc += 5;
        NEXT();
    }
    OP(TABLE_FILL) {
        TRAP_IF(!wp__table_fill(inst->tables[IM(1)], (uint32_t)SL(2), (void *)(uintptr_t)SL(3),
                                (uint32_t)SL(4)),
                TABLE_OOB)
        pc += 5;
        NEXT();
    }
    OP(TABLE_COPY) {
        TRAP_IF(!wp__table_copy(inst->tables[IM(1)], (uint32_t)SL(3), inst->tables[IM(2)],
                                (uint32_t)SL(4), (uint32_t)SL(5)),
                TABLE_OOB)
        pc += 6;
        NEXT();
    }
    OP(TABLE_INIT) {
        uint64_t seg = IM(1);
        TRAP_IF(!wp__table_init(inst->tables[IM(2)], (uint32_t)SL(3), inst->elem_items[seg],
                                inst->elem_counts[seg], (uint32_t)SL(4), (uint32_t)SL(5)),
                TABLE_OOB)
        pc += 6;
        NEXT();
    }
    OP(ELEM_DROP) {
        inst->elem_counts[IM(1)] = 0;
        pc += 2;
        NEXT();
    }
    OP(REF_FUNC) {
        SL(1) = (wp_slot)(uintptr_t)inst->funcs[IM(2)];
        pc += 3;
        NEXT();
    }

    /* ---- Variables ---- */
    OP(MOV) {
        SL(1) = SL(2);
        pc += 3;
        NEXT();
    }
    OP(MOV2) {
        SL(1) = SL(2);
        SL(3) = SL(4);
        pc += 5;
        NEXT();
    }
    OP(CONST) {
        SL(1) = IM(2);
        pc += 3;
        NEXT();
    }
    OP(SELECT) {
        SL(1) = (uint32_t)SL(4) ? SL(2) : SL(3);
        pc += 5;
        NEXT();
    }
    OP(GLOBAL_GET) {
        SL(1) = globals[IM(2)]->value;
        pc += 3;
        NEXT();
    }
    OP(GLOBAL_SET) {
        globals[IM(1)]->value = SL(2);
        pc += 3;
        NEXT();
    }

    /* ---- Control ---- */
    /* A straight-line run of the metered code (compile.c) is about to execute: charge its
     * instructions to the store's fuel, all or none. */
    OP(FUEL) {
        uint64_t *fuel = &x->store->fuel;
        if (WP_UNLIKELY(*fuel < IM(1))) {
            tk = WP_TRAP_FUEL;
            goto trap;
        }
        *fuel -= IM(1);
        pc += 2;
        NEXT();
    }

    OP(UNREACHABLE) {
        tk = WP_TRAP_UNREACHABLE;
        goto trap;
    }
    OP(JMP) {
        pc = TARGET(1);
        NEXT();
    }
    OP(JMP_NZ) {
        pc = (uint32_t)SL(1) ? TARGET(2) : pc + 3;
        NEXT();
    }
    OP(JMP_Z) {
        pc = (uint32_t)SL(1) ? pc + 3 : TARGET(2);
        NEXT();
    }
    OP(JMP_NZ64) {
        pc = SL(1) ? TARGET(2) : pc + 3;
        NEXT();
    }
    OP(JMP_Z64) {
        pc = SL(1) ? pc + 3 : TARGET(2);
        NEXT();
    }
    OP(JMP_BACK) {
        TAKE_BACK(1);
        NEXT();
    }
    OP(JMP_NZ_BACK) {
        if ((uint32_t)SL(1))
            TAKE_BACK(2);
        else
            pc += 3;
        NEXT();
    }
    OP(JMP_Z_BACK) {
        if (!(uint32_t)SL(1))
            TAKE_BACK(2);
        else
            pc += 3;
        NEXT();
    }
    OP(JMP_NZ64_BACK) {
        if (SL(1))
            TAKE_BACK(2);
        else
            pc += 3;
        NEXT();
    }
    OP(JMP_Z64_BACK) {
        if (!SL(1))
            TAKE_BACK(2);
        else
            pc += 3;
        NEXT();
    }
    OP(BR_TABLE) {
        uint32_t i = (uint32_t)SL(1);
        uint64_t n = IM(2);
        if (i > n)
            i = (uint32_t)n;
        pc = TARGET(3 + i);
        NEXT();
    }
    OP(CALL) {
        callee = pc[1].p;
        callee_inst = inst;
        nfp = fp + IM(2);
        ret_pc = pc + 3;
        goto enter;
    }
    OP(CALL_FUNC) {
        fn = inst->funcs[IM(1)];
        nfp = fp + IM(2);
        ret_pc = pc + 3;
        goto call_func;
    }
    OP(CALL_INDIRECT) {
        wp_table *t = inst->tables[IM(2)];
        uint32_t i = (uint32_t)SL(4);
        if (WP_UNLIKELY(i >= t->size)) {
            trap_index = i;
            tk = WP_TRAP_UNDEFINED_ELEMENT;
            goto trap_elem;
        }
        fn = t->elems[i];
        if (WP_UNLIKELY(!fn)) {
            trap_index = i;
            tk = WP_TRAP_UNINITIALIZED_ELEMENT;
            goto trap_elem;
        }
        const wp_functype *want = &inst->module->types[IM(1)];
        TRAP_IF(fn->type != want && !wp__functype_equal(fn->type, want), INDIRECT_TYPE)
        nfp = fp + IM(3);
        ret_pc = pc + 5;
        goto call_func;
    }
    OP(RET1) {
        fp[0] = SL(1);
        goto ret;
    }
    OP(RET) {
        goto ret;
    }

#if !WP_HAVE_COMPUTED_GOTO
    default:
        tk = WP_TRAP_UNREACHABLE;
        goto trap;
    }
#endif

call_func:
    if (fn->host)
        goto call_host_fn;
    callee = fn->code;
    callee_inst = fn->inst;
    /* fall through */
enter:
    /* A call costs one reduction; pc still names the call, so a stopped run repeats it. */
    if (WP_UNLIKELY(budget == 0))
        goto out_of_budget;
    if (WP_UNLIKELY(fr + 1 == x->frames_end || nfp + callee->nslots > x->stack_end)) {
        size_t nfp_at = (size_t)(nfp - x->stack);
        x->depth = (uint32_t)(fr - x->frames) + 1;
        bool ok = grow_frames(x, x->depth + 1) && grow_stack(x, nfp_at + callee->nslots);
        fr = &x->frames[x->depth - 1];
        fp = fr->fp;
        nfp = x->stack + nfp_at;
        TRAP_IF(!ok, STACK_EXHAUSTED)
    }
    budget--;
    fr++;
    *fr = (wp_frame){ret_pc, nfp, callee, callee_inst};
    for (uint32_t i = 0; i < callee->nlocals; i++) /* few: cheaper than calling memset */
        nfp[callee->nparams + i] = 0;
    fp = nfp;
    pc = callee->cells;
    if (WP_UNLIKELY(callee_inst != inst)) {
        inst = callee_inst;
        globals = inst->globals;
        mem = mem_of(inst);
        mbase = mem->base;
        msize = mem->size;
    }
    NEXT();

ret:
    /* The entry frame of this run (a begin or a nested call) has no return pc. */
    if (WP_UNLIKELY(!fr->ret_pc))
        goto done;
    pc = fr->ret_pc;
    fr--;
    fp = fr->fp;
    if (WP_UNLIKELY(fr->inst != inst)) {
        inst = fr->inst;
        globals = inst->globals;
        mem = mem_of(inst);
    }
    /* The callee may have grown (and so moved) the memory. */
    mbase = mem->base;
    msize = mem->size;
    NEXT();

call_host_fn : {
    if (WP_UNLIKELY(budget == 0))
        goto out_of_budget;
    budget--;
    size_t at = (size_t)(nfp - x->stack);
    x->depth = (uint32_t)(fr - x->frames) + 1;
    x->host_top = (size_t)(fp - x->stack) + fr->code->nslots;
    wp_host_result r = call_host(x, fn, at, inst);
    /* The host may have run nested calls: the stack and frames may have moved. */
    fr = &x->frames[x->depth - 1];
    fp = fr->fp;
    mbase = mem->base;
    msize = mem->size;
    if (r == WP_HOST_OK) {
        pc = ret_pc;
        NEXT();
    }
    if (r == WP_HOST_PENDING && !nested) {
        x->pc = ret_pc;
        x->pending_at = at;
        x->pending_type = fn->type;
        x->pending_func = fn;
        x->state = X_PENDING;
        return WP_RUN_PENDING;
    }
    if (r == WP_HOST_PENDING) {
        x->trap.kind = WP_TRAP_HOST;
        snprintf(x->trap.msg, sizeof x->trap.msg,
                 "a host function cannot wait inside a nested call");
    }
    set_backtrace(x, x->depth, fn);
    goto trap_set;
}

trap_oob:
    tk = WP_TRAP_MEMORY_OOB;
    /* fall through */
trap:
    trap_index = 0;
    /* fall through */
trap_elem:
    set_trap(x, tk, trap_index, fr->code, inst);
    set_backtrace(x, (uint32_t)(fr - x->frames) + 1, NULL);
trap_set:
    x->depth = base;
    if (!nested)
        x->state = X_IDLE;
    return WP_RUN_TRAP;

out_of_budget:
    if (nested) { /* a nested run has no slice (unlimited): 2^64 reductions spent */
        tk = WP_TRAP_FUEL;
        goto trap;
    }
    x->pc = pc;
    x->depth = (uint32_t)(fr - x->frames) + 1;
    return WP_RUN_BUDGET;

done:
    x->depth = base;
    if (!nested)
        x->state = X_DONE;
    return WP_RUN_DONE;
}

#undef OP
#undef NEXT
#undef JUMP_TO

#endif
