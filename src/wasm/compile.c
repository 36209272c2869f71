/* compile.c: translates validated function bodies into register code for the interpreter.
 *
 * One pass per function. The compiler tracks a virtual operand stack whose entries are a
 * local, a constant or a temporary in its home slot (the slot of its stack position), so
 * `local.get a; local.get b; i32.add; local.set c` becomes one instruction. See code.h for the
 * format and docs/interpreter.md for the design. The input is validated: malformed bodies are
 * not expected here, and reads that fail are only guarded, not reported in detail. */
#include "compile.h"

/* ---- Virtual stack and emission ---------------------------------------------------------- */

bool wp__comp_grow(comp *c, void **arr, uint32_t *cap, uint32_t need, size_t elem) {
    if (need <= *cap)
        return true;
    if (need > UINT32_MAX / 2) {
        fail(c);
        return false;
    }
    uint32_t ncap = *cap ? *cap : 16;
    while (ncap < need)
        ncap *= 2;
    void *p = wp_heap_realloc(c->heap, *arr, (size_t)*cap * elem, (size_t)ncap * elem);
    if (!p) {
        fail(c);
        return false;
    }
    *arr = p;
    *cap = ncap;
    return true;
}

void wp__comp_move(comp *c, uint32_t dst, vent e) {
    if (e.kind == V_CONST) {
        emit_op(c, WP_I_CONST);
        emit_u(c, dst);
        emit_u(c, e.bits);
    } else if (e.slot != dst && c->last_start >= 0 && c->cells[c->last_start].u == WP_I_MOV &&
               c->last_start + 3 == c->ncells) {
        c->cells[c->last_start].u = WP_I_MOV2; /* joins the MOV just before */
        emit_u(c, dst);
        emit_u(c, e.slot);
    } else if (e.slot != dst) {
        emit_op(c, WP_I_MOV);
        emit_u(c, dst);
        emit_u(c, e.slot);
    }
}

/* Before local 'x' is written: entries that read it lazily get their own copy. */
static bool spill_local(comp *c, uint32_t x) {
    bool any = false;
    for (uint32_t i = 0; i < c->sp; i++) {
        if (c->vs[i].kind == V_LOCAL && c->vs[i].slot == x) {
            materialize(c, i);
            any = true;
        }
    }
    return any;
}

/* ---- Data instructions ------------------------------------------------------------------- */

static void do_local_set(comp *c, uint32_t x, bool tee) {
    vent e = tee ? c->vs[c->sp - 1] : pop(c);
    if (c->failed || (e.kind == V_LOCAL && e.slot == x))
        return;
    if (e.kind == V_CONST && e.bits == 0 && c->entry && x < c->nlocals && c->zero[x])
        return; /* the local still holds its initial zero */
    if (x < c->nlocals)
        c->zero[x] = 0;
    if (tee)
        c->sp--; /* the entry itself needs no spilling: it is replaced below */
    bool spilled = spill_local(c, x);
    if (e.kind == V_TEMP && !spilled && c->last_dst >= 0 && c->cells[c->last_dst].u == e.slot) {
        c->cells[c->last_dst].u = x; /* the producer writes the local directly */
        c->last_dst = -1;
        if (tee)
            push(c, V_LOCAL, x, 0);
        return;
    }
    wp__comp_move(c, x, e);
    if (tee)
        push(c, e.kind, e.slot, e.bits);
}

/* Pops n operands (n <= 4) into s[] as slots, in stack order; constants are spilled to
 * their home slots. The caller emits its instruction afterwards. */
static void pop_slots(comp *c, uint32_t n, uint32_t *s) {
    vent ops[4];
    for (uint32_t i = n; i-- > 0;)
        ops[i] = pop(c);
    for (uint32_t i = 0; i < n; i++)
        s[i] = slot_of(c, ops[i], home(c, c->sp + i));
}

static void emit_slots(comp *c, uint32_t n, const uint32_t *s) {
    for (uint32_t i = 0; i < n; i++)
        emit_u(c, s[i]);
}

/* An instruction with a result: pops nin operands, emits op, dst, then extra immediates
 * before the operand slots. */
static void do_result_op(comp *c, wp_iop op, uint32_t nimm, const uint64_t *imm, uint32_t nin) {
    uint32_t s[4];
    pop_slots(c, nin, s);
    emit_op(c, op);
    emit_dst(c, home(c, c->sp));
    for (uint32_t i = 0; i < nimm; i++)
        emit_u(c, imm[i]);
    emit_slots(c, nin, s);
    push_temp(c);
}

/* An instruction without a result: immediates, then nin operand slots. */
static void do_effect_op(comp *c, wp_iop op, uint32_t nimm, const uint64_t *imm, uint32_t nin) {
    uint32_t s[4];
    pop_slots(c, nin, s);
    emit_op(c, op);
    for (uint32_t i = 0; i < nimm; i++)
        emit_u(c, imm[i]);
    emit_slots(c, nin, s);
}

static void do_select(comp *c) {
    vent cv = pop(c);
    if (cv.kind == V_CONST) { /* a constant condition picks statically */
        vent b = pop(c);
        vent a = pop(c);
        vent keep = (uint32_t)cv.bits ? a : b;
        push(c, keep.kind, keep.kind == V_TEMP ? home(c, c->sp) : keep.slot, keep.bits);
        if (keep.kind == V_TEMP)
            wp__comp_move(c, home(c, c->sp - 1), keep);
        return;
    }
    push(c, cv.kind, cv.slot, cv.bits);
    do_result_op(c, WP_I_SELECT, 0, NULL, 3);
}

/* 0xFC-prefixed instructions. */
static void do_fc(comp *c) {
    uint32_t sub = read_u32(c);
    uint64_t imm[2];
    switch (sub) {
#define X(name)                                                                                    \
    case WP_OPFC_##name:                                                                           \
        wp__fuse_unop(c, WP_I_##name);                                                             \
        return;
        WP_UNOPS_FC(X)
#undef X
    case WP_OPFC_MEMORY_INIT:
        imm[0] = read_u32(c);
        read_u8(c);
        do_effect_op(c, WP_I_MEMORY_INIT, 1, imm, 3);
        return;
    case WP_OPFC_DATA_DROP:
        imm[0] = read_u32(c);
        do_effect_op(c, WP_I_DATA_DROP, 1, imm, 0);
        return;
    case WP_OPFC_MEMORY_COPY:
        read_u8(c);
        read_u8(c);
        do_effect_op(c, WP_I_MEMORY_COPY, 0, NULL, 3);
        return;
    case WP_OPFC_MEMORY_FILL:
        read_u8(c);
        do_effect_op(c, WP_I_MEMORY_FILL, 0, NULL, 3);
        return;
    case WP_OPFC_TABLE_INIT:
        imm[0] = read_u32(c);
        imm[1] = read_u32(c);
        do_effect_op(c, WP_I_TABLE_INIT, 2, imm, 3);
        return;
    case WP_OPFC_ELEM_DROP:
        imm[0] = read_u32(c);
        do_effect_op(c, WP_I_ELEM_DROP, 1, imm, 0);
        return;
    case WP_OPFC_TABLE_COPY:
        imm[0] = read_u32(c);
        imm[1] = read_u32(c);
        do_effect_op(c, WP_I_TABLE_COPY, 2, imm, 3);
        return;
    case WP_OPFC_TABLE_GROW:
        imm[0] = read_u32(c);
        do_result_op(c, WP_I_TABLE_GROW, 1, imm, 2);
        return;
    case WP_OPFC_TABLE_SIZE:
        imm[0] = read_u32(c);
        do_result_op(c, WP_I_TABLE_SIZE, 1, imm, 0);
        return;
    case WP_OPFC_TABLE_FILL:
        imm[0] = read_u32(c);
        do_effect_op(c, WP_I_TABLE_FILL, 1, imm, 3);
        return;
    default:
        fail(c);
    }
}

/* Skips an instruction's immediates (in unreachable code). */
static void skip_imm(comp *c, uint8_t op) {
    uint32_t n;
    int64_t v;
    const uint8_t *b;
    if (op == WP_OP_PREFIX_FC) {
        uint32_t sub = read_u32(c);
        if (sub >= WP_OPFC_COUNT || !wp__ops_fc[sub].name) {
            fail(c);
            return;
        }
        switch (wp__ops_fc[sub].imm) {
        case WP_IMM_DATA_MEM: read_u32(c); read_u8(c); return;
        case WP_IMM_DATA: case WP_IMM_ELEM: case WP_IMM_TABLE: read_u32(c); return;
        case WP_IMM_MEM_MEM: read_u8(c); read_u8(c); return;
        case WP_IMM_MEMIDX: read_u8(c); return;
        case WP_IMM_ELEM_TABLE: case WP_IMM_TABLE_TABLE: read_u32(c); read_u32(c); return;
        default: return;
        }
    }
    switch (wp__ops[op].imm) {
    case WP_IMM_NONE: return;
    case WP_IMM_BLOCKTYPE: if (!rd_s33(&c->rd, &v)) fail(c); return;
    case WP_IMM_LABEL: case WP_IMM_FUNC: case WP_IMM_LOCAL: case WP_IMM_GLOBAL:
    case WP_IMM_TABLE: read_u32(c); return;
    case WP_IMM_BR_TABLE:
        n = read_u32(c);
        for (uint32_t i = 0; i <= n && !c->failed; i++)
            read_u32(c);
        return;
    case WP_IMM_CALL_INDIRECT: case WP_IMM_MEMARG: read_u32(c); read_u32(c); return;
    case WP_IMM_MEMIDX: case WP_IMM_REFTYPE: read_u8(c); return;
    case WP_IMM_I32: case WP_IMM_I64: if (!rd_sleb(&c->rd, 64, &v)) fail(c); return;
    case WP_IMM_F32: if (!rd_bytes(&c->rd, 4, &b)) fail(c); return;
    case WP_IMM_F64: if (!rd_bytes(&c->rd, 8, &b)) fail(c); return;
    case WP_IMM_SELECT_T:
        n = read_u32(c);
        if (!rd_bytes(&c->rd, n, &b)) fail(c);
        return;
    default: fail(c); return;
    }
}

/* Unreachable code: only the block structure matters. Returns false at the final end. */
static bool dead_op(comp *c, uint8_t op) {
    if (op == WP_OP_BLOCK || op == WP_OP_LOOP || op == WP_OP_IF) {
        c->dead_depth++;
    } else if (op == WP_OP_END && c->dead_depth > 0) {
        c->dead_depth--;
    } else if (op == WP_OP_END) {
        return wp__flow_end(c);
    } else if (op == WP_OP_ELSE && c->dead_depth == 0) {
        wp__flow_else(c);
        return true;
    }
    skip_imm(c, op);
    return true;
}

static void do_const(comp *c, uint8_t op) {
    int64_t v = 0;
    uint32_t f = 0;
    uint64_t d = 0;
    bool ok;
    if (op == WP_OP_I32_CONST) {
        ok = rd_sleb(&c->rd, 32, &v);
        d = (uint32_t)v;
    } else if (op == WP_OP_I64_CONST) {
        ok = rd_s64(&c->rd, &v);
        d = (uint64_t)v;
    } else if (op == WP_OP_F32_CONST) {
        ok = rd_f32(&c->rd, &f);
        d = f;
    } else {
        ok = rd_f64(&c->rd, &d);
    }
    if (!ok)
        fail(c);
    push(c, V_CONST, 0, d);
}

/* Compiles one reachable instruction. Returns false at the final end. */
static bool live_op(comp *c, wp_code **codes, uint8_t op) {
    uint64_t imm[2];
    switch (op) {
    case WP_OP_UNREACHABLE:
        emit_op(c, WP_I_UNREACHABLE);
        c->reachable = false;
        return true;
    case WP_OP_NOP: return true;
    case WP_OP_BLOCK: wp__flow_block(c, F_BLOCK); return true;
    case WP_OP_LOOP: wp__flow_block(c, F_LOOP); return true;
    case WP_OP_IF: wp__flow_if(c); return true;
    case WP_OP_ELSE: wp__flow_else(c); return true;
    case WP_OP_END: return wp__flow_end(c);
    case WP_OP_BR: wp__flow_br(c, read_u32(c)); return true;
    case WP_OP_BR_IF: wp__flow_br_if(c, read_u32(c)); return true;
    case WP_OP_BR_TABLE: wp__flow_br_table(c); return true;
    case WP_OP_RETURN:
        wp__flow_return(c);
        c->reachable = false;
        return true;
    case WP_OP_CALL: wp__flow_call(c, codes, read_u32(c)); return true;
    case WP_OP_CALL_INDIRECT: wp__flow_call_indirect(c); return true;
    case WP_OP_DROP: pop(c); return true;
    case WP_OP_SELECT: do_select(c); return true;
    case WP_OP_SELECT_T: skip_imm(c, op); do_select(c); return true;
    case WP_OP_LOCAL_GET: push(c, V_LOCAL, read_u32(c), 0); return true;
    case WP_OP_LOCAL_SET: do_local_set(c, read_u32(c), false); return true;
    case WP_OP_LOCAL_TEE: do_local_set(c, read_u32(c), true); return true;
    case WP_OP_GLOBAL_GET:
        imm[0] = read_u32(c);
        do_result_op(c, WP_I_GLOBAL_GET, 1, imm, 0);
        return true;
    case WP_OP_GLOBAL_SET:
        imm[0] = read_u32(c);
        do_effect_op(c, WP_I_GLOBAL_SET, 1, imm, 1);
        return true;
    case WP_OP_TABLE_GET:
        imm[0] = read_u32(c);
        do_result_op(c, WP_I_TABLE_GET, 1, imm, 1);
        return true;
    case WP_OP_TABLE_SET:
        imm[0] = read_u32(c);
        do_effect_op(c, WP_I_TABLE_SET, 1, imm, 2);
        return true;
    case WP_OP_MEMORY_SIZE: read_u8(c); do_result_op(c, WP_I_MEMORY_SIZE, 0, NULL, 0); return true;
    case WP_OP_MEMORY_GROW: read_u8(c); do_result_op(c, WP_I_MEMORY_GROW, 0, NULL, 1); return true;
    case WP_OP_I32_CONST: case WP_OP_I64_CONST: case WP_OP_F32_CONST: case WP_OP_F64_CONST:
        do_const(c, op);
        return true;
    case WP_OP_I64_EXTEND_I32_U: /* i32 slots are zero-extended: already an i64 */
    case WP_OP_I32_REINTERPRET_F32: case WP_OP_I64_REINTERPRET_F64:
    case WP_OP_F32_REINTERPRET_I32: case WP_OP_F64_REINTERPRET_I64:
        return true;
    case WP_OP_REF_NULL: read_u8(c); push(c, V_CONST, 0, 0); return true;
    case WP_OP_REF_IS_NULL: wp__fuse_unop(c, WP_I_I64_EQZ); return true;
    case WP_OP_REF_FUNC:
        imm[0] = read_u32(c);
        do_result_op(c, WP_I_REF_FUNC, 1, imm, 0);
        return true;
    case WP_OP_PREFIX_FC: do_fc(c); return true;
    default:
        if (!wp__fuse_operator(c, op))
            fail(c);
        return true;
    }
}

/* ---- Functions --------------------------------------------------------------------------- */

static void comp_free(comp *c) {
    wp_heap_free(c->heap, c->cells, (size_t)c->cap_cells * sizeof(wp_cell));
    wp_heap_free(c->heap, c->starts, (size_t)c->cap_starts * sizeof(uint32_t));
    wp_heap_free(c->heap, c->vs, (size_t)c->cap_vs * sizeof(vent));
    wp_heap_free(c->heap, c->scratch, (size_t)c->cap_scratch * sizeof(vent));
    wp_heap_free(c->heap, c->fr, (size_t)c->cap_fr * sizeof(cframe));
    wp_heap_free(c->heap, c->zero, c->cap_zero);
}

/* The pair handler of instruction 'first' followed by 'second' (WP_PAIRS), or WP_I_COUNT. */
static wp_iop pair_of(uint64_t first, uint64_t second) {
#define X(a, b)                                                                                    \
    if (first == WP_I_##a && second == WP_I_##b)                                                  \
        return WP_I_PAIR_##a##__##b;
    WP_PAIRS(X)
#undef X
    return WP_I_COUNT;
}

/* Gives the first instruction of each pair of WP_PAIRS its pair handler. Every instruction is
 * looked at with the one after it as emitted, so a run entering at any instruction meets the
 * pairs from there on. */
static void pair_up(const comp *c, wp_cell *cells) {
    for (uint32_t i = 0; i + 1 < c->nstarts; i++) {
        wp_cell *first = &cells[c->starts[i]];
        wp_iop p = pair_of(first->u, cells[c->starts[i + 1]].u);
        if (p != WP_I_COUNT)
            first->u = p;
    }
}

/* Copies the cells into 'code', with handler addresses in place of opcode numbers. */
static bool finish(comp *c, wp_code *code) {
    code->cells = wp_heap_alloc(c->heap, (size_t)c->ncells * sizeof(wp_cell));
    if (!code->cells)
        return false;
    memcpy(code->cells, c->cells, (size_t)c->ncells * sizeof(wp_cell));
    code->ncells = c->ncells;
    pair_up(c, code->cells);
    const void *const *handlers = wp__exec_handlers();
    if (handlers) {
        for (uint32_t i = 0; i < c->nstarts; i++) {
            wp_cell *cell = &code->cells[c->starts[i]];
            cell->h = handlers[cell->u];
        }
    }
    return true;
}

static wp_status compile_func(comp *c, wp_code **codes, uint32_t fi) {
    const wp_module *m = c->m;
    const wp_funcdecl *fd = &m->funcs[fi];
    const wp_functype *t = wp__func_type(m, fi);
    wp_code *code = codes[fi - m->nimported_funcs];
    c->rd = rd_init(m->bytes, m->bytes + fd->body_offset, m->bytes + fd->body_end);
    c->ncells = c->nstarts = c->sp = c->max_sp = c->nfr = c->dead_depth = 0;
    c->zslot = t->nparams + fd->nlocals;
    c->nlocals = c->zslot + 1;
    c->reachable = true;
    c->last_start = c->last_dst = c->prev_start = -1;
    c->entry = true;
    if (!wp__comp_grow(c, (void **)&c->zero, &c->cap_zero, c->nlocals + 1, 1))
        return WP_ERR_NOMEM;
    memset(c->zero, 0, t->nparams);
    memset(c->zero + t->nparams, 1, fd->nlocals + 1);
    wp__flow_push_frame(c, F_FUNC, 0, t->nresults);
    c->fuel_cell = -1;
    c->fuel_n = 0;
    meter_run(c);
    bool more = true;
    while (more && !c->failed) {
        uint8_t op = read_u8(c);
        /* Fuel counts executed instructions; 'end' and 'else' only mark where blocks end. */
        if (c->reachable && op != WP_OP_END && op != WP_OP_ELSE)
            c->fuel_n++;
        more = c->reachable ? live_op(c, codes, op) : dead_op(c, op);
    }
    meter_close(c);
    if (c->failed || !finish(c, code))
        return WP_ERR_NOMEM;
    code->func_index = fi;
    code->nparams = t->nparams;
    code->nlocals = fd->nlocals + 1;
    code->nresults = t->nresults;
    code->nslots = c->nlocals + c->max_sp + 1;
    return WP_OK;
}

/* Translates every defined function into a new array of codes (one per defined function). */
static wp_status compile_all(wp_module *m, bool metered, wp_code ***out) {
    uint32_t ndef = m->nfuncs - m->nimported_funcs;
    wp_code **codes = wp_heap_calloc(m->heap, ndef ? ndef : 1, sizeof(wp_code *));
    if (!codes)
        return WP_ERR_NOMEM;
    wp_status st = WP_OK;
    /* All code objects exist before any body is compiled, so calls can point at them. */
    for (uint32_t i = 0; i < ndef && st == WP_OK; i++) {
        codes[i] = wp_heap_zalloc(m->heap, sizeof(wp_code));
        if (!codes[i])
            st = WP_ERR_NOMEM;
    }
    comp c = {.heap = m->heap, .m = m, .metered = metered};
    for (uint32_t i = 0; i < ndef && st == WP_OK; i++)
        st = compile_func(&c, codes, m->nimported_funcs + i);
    comp_free(&c);
    if (st != WP_OK) {
        wp__codes_free(m, codes);
        return st;
    }
    *out = codes;
    return WP_OK;
}

void wp__codes_free(const wp_module *m, wp_code **codes) {
    if (!codes)
        return;
    uint32_t ndef = m->nfuncs - m->nimported_funcs;
    for (uint32_t i = 0; i < ndef; i++)
        wp__code_free(m->heap, codes[i]);
    wp_heap_free(m->heap, codes, (size_t)(ndef ? ndef : 1) * sizeof(wp_code *));
}

wp_status wp__compile(wp_module *m, wp_err *err) {
    wp_code **codes = NULL;
    if (compile_all(m, false, &codes) != WP_OK)
        return wp_err_set(err, WP_ERR_NOMEM, "compiling: out of memory");
    /* The module owns each code through its funcdecl; the array itself goes. */
    uint32_t ndef = m->nfuncs - m->nimported_funcs;
    for (uint32_t i = 0; i < ndef; i++)
        m->funcs[m->nimported_funcs + i].code = codes[i];
    wp_heap_free(m->heap, codes, (size_t)(ndef ? ndef : 1) * sizeof(wp_code *));
    return WP_OK;
}

wp_status wp__compile_metered(wp_module *m, wp_code *const **out, wp_err *err) {
    wp_code **have = atomic_load_explicit(&m->metered, memory_order_acquire);
    if (!have) {
        wp_code **made = NULL;
        if (compile_all(m, true, &made) != WP_OK)
            return wp_err_set(err, WP_ERR_NOMEM, "compiling metered code: out of memory");
        /* Another thread may have made it meanwhile: the first one published is kept. */
        if (atomic_compare_exchange_strong_explicit(&m->metered, &have, made,
                                                    memory_order_acq_rel, memory_order_acquire))
            have = made;
        else
            wp__codes_free(m, made);
    }
    *out = have;
    return WP_OK;
}

void wp__code_free(wp_heap *heap, struct wp_code *code) {
    if (!code)
        return;
    wp_heap_free(heap, code->cells, (size_t)code->ncells * sizeof(wp_cell));
    wp_heap_free(heap, code, sizeof *code);
}
