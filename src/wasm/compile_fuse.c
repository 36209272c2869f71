/* compile_fuse.c: compiling operators, loads and stores, and the peephole fusions that merge
 * them with the instruction before: memory operands, read-modify-write, small copies, address
 * adds, multiply-add. Each fusion looks only at the last instruction emitted (or the one
 * before), and only while nothing was emitted or bound since (comp.last_start). */
#include "compile.h"

/* Removes the instruction before the last one, moving the last one down over it. Only for a
 * last instruction that is no branch (no fixup chain points into it). */
static void remove_prev(comp *c) {
    uint32_t to = (uint32_t)c->prev_start;
    uint32_t from = (uint32_t)c->last_start;
    uint32_t len = from - to;
    memmove(&c->cells[to], &c->cells[from], (c->ncells - from) * sizeof(wp_cell));
    c->ncells -= len;
    c->nstarts--;
    c->starts[c->nstarts - 1] = to;
    c->last_start = to;
    if (c->last_dst >= 0)
        c->last_dst -= len;
    c->prev_start = -1;
}

/* ---- Operators ----------------------------------------------------------------------------- */

/* Swapped-operand form of a comparison (a OP b == b OP' a), or 0 if it has none. */
static uint8_t swap_cmp(uint8_t op) {
    switch (op) {
    case WP_OP_I32_LT_S: return WP_OP_I32_GT_S;
    case WP_OP_I32_GT_S: return WP_OP_I32_LT_S;
    case WP_OP_I32_LT_U: return WP_OP_I32_GT_U;
    case WP_OP_I32_GT_U: return WP_OP_I32_LT_U;
    case WP_OP_I32_LE_S: return WP_OP_I32_GE_S;
    case WP_OP_I32_GE_S: return WP_OP_I32_LE_S;
    case WP_OP_I32_LE_U: return WP_OP_I32_GE_U;
    case WP_OP_I32_GE_U: return WP_OP_I32_LE_U;
    case WP_OP_I64_LT_S: return WP_OP_I64_GT_S;
    case WP_OP_I64_GT_S: return WP_OP_I64_LT_S;
    case WP_OP_I64_LT_U: return WP_OP_I64_GT_U;
    case WP_OP_I64_GT_U: return WP_OP_I64_LT_U;
    case WP_OP_I64_LE_S: return WP_OP_I64_GE_S;
    case WP_OP_I64_GE_S: return WP_OP_I64_LE_S;
    case WP_OP_I64_LE_U: return WP_OP_I64_GE_U;
    case WP_OP_I64_GE_U: return WP_OP_I64_LE_U;
    case WP_OP_F32_LT: return WP_OP_F32_GT;
    case WP_OP_F32_GT: return WP_OP_F32_LT;
    case WP_OP_F32_LE: return WP_OP_F32_GE;
    case WP_OP_F32_GE: return WP_OP_F32_LE;
    case WP_OP_F64_LT: return WP_OP_F64_GT;
    case WP_OP_F64_GT: return WP_OP_F64_LT;
    case WP_OP_F64_LE: return WP_OP_F64_GE;
    case WP_OP_F64_GE: return WP_OP_F64_LE;
    default: return 0;
    }
}

/* Internal _SS form of each binary wasm opcode (0: not binary), and commutativity. */
static wp_iop binop_ss(uint8_t op, bool *comm) {
    switch (op) {
#define X(name, cm)                                                                                \
    case WP_OP_##name:                                                                             \
        *comm = cm;                                                                                \
        return WP_I_##name##_SS;
        WP_BINOPS(X)
#undef X
    default:
        return WP_I_COUNT;
    }
}

static wp_iop unop_of(uint8_t op) {
    switch (op) {
#define X(name)                                                                                    \
    case WP_OP_##name:                                                                             \
        return WP_I_##name;
        WP_UNOPS(X)
#undef X
    default:
        return WP_I_COUNT;
    }
}

/* The plain load of an operator's operand type, from the operator's name ("F64_ADD"). */
static wp_iop natural_load(const char *name) {
    bool wide = name[1] == '6';
    if (name[0] == 'F')
        return wide ? WP_I_F64_LOAD : WP_I_F32_LOAD;
    return wide ? WP_I_I64_LOAD : WP_I_I32_LOAD;
}

/* The memory-operand form of a binary operator (code.h), and the plain load it absorbs. */
static wp_iop mem_form(wp_iop ss, wp_iop *load) {
    switch (ss) {
#define X(name)                                                                                    \
    case WP_I_##name##_SS:                                                                         \
        *load = natural_load(#name);                                                               \
        return WP_I_##name##_SM;
        WP_BINOPS_MEM(X)
#undef X
    default:
        return WP_I_COUNT;
    }
}

/* Is e the result of the last instruction, a load of kind 'load' (plain or _AI form)? */
static bool is_last_load(const comp *c, vent e, wp_iop load) {
    if (e.kind != V_TEMP || c->last_dst < 0 || c->cells[c->last_dst].u != e.slot)
        return false;
    uint64_t op = c->cells[c->last_start].u;
    return op == (uint64_t)load || op == (uint64_t)load + 1;
}

/* Fuses a binary operator with the load that just produced one of its operands. */
static bool try_mem_binop(comp *c, wp_iop ss, bool comm, vent a, vent b) {
    wp_iop load;
    wp_iop sm = mem_form(ss, &load);
    if (sm == WP_I_COUNT || a.kind == V_CONST || b.kind == V_CONST)
        return false;
    if (!is_last_load(c, b, load) && !is_last_load(c, a, load) &&
        (ss == WP_I_I32_ADD_SS || ss == WP_I_I32_MUL_SS)) {
        load = WP_I_I32_LOAD16_S; /* int16 arithmetic: the _SM16 forms */
        sm = ss == WP_I_I32_ADD_SS ? WP_I_I32_ADD_SM16 : WP_I_I32_MUL_SM16;
    }
    if (!is_last_load(c, b, load)) {
        if (!comm || !is_last_load(c, a, load))
            return false;
        vent t = a;
        a = b;
        b = t;
    }
    const wp_cell *in = &c->cells[c->last_start];
    bool plus = in[0].u != (uint64_t)load; /* the _AI form: address + immediate */
    uint64_t addr = in[2].u;
    uint64_t offset = in[3].u;
    uint64_t k = plus ? in[4].u : 0;
    drop_last(c);
    emit_op(c, (wp_iop)(sm + plus));
    emit_dst(c, home(c, c->sp));
    emit_u(c, a.slot);
    emit_u(c, addr);
    emit_u(c, offset);
    if (plus)
        emit_u(c, k);
    push_temp(c);
    return true;
}

/* Is e the result of the last instruction, an instruction 'op'? */
static bool is_last(const comp *c, vent e, wp_iop op) {
    return e.kind == V_TEMP && c->last_dst >= 0 && c->cells[c->last_dst].u == e.slot &&
           c->cells[c->last_start].u == (uint64_t)op;
}

/* Fuses a float add or subtract with the multiply that just produced one operand. */
static bool try_muladd(comp *c, wp_iop ss, vent a, vent b) {
    bool wide = ss == WP_I_F64_ADD_SS || ss == WP_I_F64_SUB_SS;
    bool add = ss == WP_I_F32_ADD_SS || ss == WP_I_F64_ADD_SS;
    if ((!add && ss != WP_I_F32_SUB_SS && ss != WP_I_F64_SUB_SS) || a.kind == V_CONST ||
        b.kind == V_CONST)
        return false;
    wp_iop mul = wide ? WP_I_F64_MUL_SS : WP_I_F32_MUL_SS;
    wp_iop base = wide ? WP_I_F64_MADD : WP_I_F32_MADD; /* MADD, MSUB, NMSUB */
    vent other;
    wp_iop op;
    if (is_last(c, b, mul)) {
        other = a;
        op = add ? base : (wp_iop)(base + 2);
    } else if (is_last(c, a, mul)) {
        other = b;
        op = add ? base : (wp_iop)(base + 1);
    } else {
        return false;
    }
    const wp_cell *in = &c->cells[c->last_start];
    uint64_t x = in[2].u;
    uint64_t y = in[3].u;
    drop_last(c);
    emit_op(c, op);
    emit_dst(c, home(c, c->sp));
    emit_u(c, x);
    emit_u(c, y);
    emit_u(c, other.slot);
    push_temp(c);
    return true;
}

/* The NAME_IS form (constant first) of a non-commutative operator's _SS form, if it has one. */
static wp_iop const_first_form(wp_iop ss) {
    switch (ss) {
    case WP_I_I32_SUB_SS: return WP_I_I32_SUB_IS;
    case WP_I_I64_SUB_SS: return WP_I_I64_SUB_IS;
    case WP_I_F32_SUB_SS: return WP_I_F32_SUB_IS;
    case WP_I_F64_SUB_SS: return WP_I_F64_SUB_IS;
    case WP_I_F32_DIV_SS: return WP_I_F32_DIV_IS;
    case WP_I_F64_DIV_SS: return WP_I_F64_DIV_IS;
    default: return WP_I_COUNT;
    }
}

static void do_binop(comp *c, uint8_t op, wp_iop ss, bool comm) {
    vent b = pop(c);
    vent a = pop(c);
    if (try_mem_binop(c, ss, comm, a, b) || try_muladd(c, ss, a, b))
        return;
    uint32_t dst = home(c, c->sp);
    if (a.kind == V_CONST && b.kind != V_CONST) {
        uint8_t sw = swap_cmp(op);
        if (comm || sw) {
            if (sw)
                ss = binop_ss(sw, &comm);
            vent t = a;
            a = b;
            b = t;
        }
    }
    wp_iop is = const_first_form(ss);
    if (a.kind == V_CONST && b.kind != V_CONST && is != WP_I_COUNT) {
        emit_op(c, is);
        emit_dst(c, dst);
        emit_u(c, b.slot);
        emit_u(c, a.bits);
        push_temp(c);
        return;
    }
    uint32_t sa = slot_of(c, a, dst);
    if (b.kind == V_CONST) {
        emit_op(c, (wp_iop)(ss + 1));
        emit_dst(c, dst);
        emit_u(c, sa);
        emit_u(c, b.bits);
    } else {
        emit_op(c, ss);
        emit_dst(c, dst);
        emit_u(c, sa);
        emit_u(c, b.slot);
    }
    push_temp(c);
}

void wp__fuse_unop(comp *c, wp_iop iop) {
    vent a = pop(c);
    uint32_t dst = home(c, c->sp);
    uint32_t sa = slot_of(c, a, dst);
    emit_op(c, iop);
    emit_dst(c, dst);
    emit_u(c, sa);
    push_temp(c);
}

/* ---- Loads and stores ------------------------------------------------------------------------ */

/* If entry e is the result of the last instruction and that is an i32.add, removes it and
 * returns its operands (the load or store does the addition: see code.h). 1: a + immediate,
 * 2: a + slot, 0: no. */
static int take_add(comp *c, vent e, uint64_t *a, uint64_t *b) {
    if (e.kind != V_TEMP || c->last_dst < 0 || c->cells[c->last_dst].u != e.slot)
        return 0;
    const wp_cell *in = &c->cells[c->last_start];
    if (in[0].u != WP_I_I32_ADD_SI && in[0].u != WP_I_I32_ADD_SS)
        return 0;
    int form = in[0].u == WP_I_I32_ADD_SI ? 1 : 2;
    *a = in[2].u;
    *b = in[3].u;
    drop_last(c);
    return form;
}

static uint32_t read_memarg(comp *c) {
    uint32_t align;
    uint32_t offset = 0;
    if (!rd_u32(&c->rd, &align) || !rd_u32(&c->rd, &offset))
        fail(c);
    return offset;
}

/* The address operand of a load or store: a slot and the offset, or the operands of an
 * i32.add fused into the access (returns its form: 1 immediate, 2 slot, as take_add). A
 * constant address joins the offset (no wrapping can happen: both are below 2^32) on the
 * zero slot. */
static int take_address(comp *c, vent e, bool may_fuse, uint64_t *a, uint64_t *b,
                        uint64_t *offset) {
    if (e.kind == V_CONST) {
        *a = c->zslot;
        *offset += (uint32_t)e.bits;
        return 0;
    }
    int form = may_fuse ? take_add(c, e, a, b) : 0;
    if (form == 0)
        *a = e.slot;
    return form;
}

/* Loads: iop is the plain form; iop + 1 and + 2 add an immediate or a slot to the address. */
static void do_load(comp *c, wp_iop iop) {
    uint64_t offset = read_memarg(c);
    vent e = pop(c);
    uint64_t a;
    uint64_t b = 0;
    int form = take_address(c, e, true, &a, &b, &offset);
    emit_op(c, (wp_iop)(iop + form));
    emit_dst(c, home(c, c->sp));
    emit_u(c, a);
    emit_u(c, offset);
    if (form)
        emit_u(c, b);
    push_temp(c);
}

/* The natural store of an operator's type, from its name ("F64_ADD"). */
static wp_iop natural_store(const char *name) {
    bool wide = name[1] == '6';
    if (name[0] == 'F')
        return wide ? WP_I_F64_STORE : WP_I_F32_STORE;
    return wide ? WP_I_I64_STORE : WP_I_I32_STORE;
}

/* The float add_RMW about to be emitted (product slot a, address addr + offset) absorbs the
 * multiply just before it that computed a (c[j] += a * b[j]): MADD_RMW, _M or _MI, as the
 * multiply had b in a slot, in memory or in memory at an address plus an immediate. */
static bool try_madd_rmw(comp *c, wp_iop rmw, uint64_t a, uint64_t addr, uint64_t offset) {
    if ((rmw != WP_I_F32_ADD_RMW && rmw != WP_I_F64_ADD_RMW) || c->last_start < 0)
        return false;
    bool wide = rmw == WP_I_F64_ADD_RMW;
    const wp_cell *in = &c->cells[c->last_start];
    uint32_t form; /* 0: b in a slot, 1: in memory, 2: in memory at address + immediate */
    if (in[0].u == (wide ? WP_I_F64_MUL_SS : WP_I_F32_MUL_SS))
        form = 0;
    else if (in[0].u == (wide ? WP_I_F64_MUL_SM : WP_I_F32_MUL_SM))
        form = 1;
    else if (in[0].u == (wide ? WP_I_F64_MUL_SMI : WP_I_F32_MUL_SMI))
        form = 2;
    else
        return false;
    /* The product must be a temporary, which only the add read: then it need not be kept. */
    if (in[1].u != a || a < c->nlocals)
        return false;
    uint64_t ops[4];
    uint32_t nops = 2 + form;
    memcpy(ops, &in[2], nops * sizeof ops[0]);
    drop_last(c);
    emit_op(c, (wp_iop)((wide ? WP_I_F64_MADD_RMW : WP_I_F32_MADD_RMW) + form));
    for (uint32_t i = 0; i < nops; i++)
        emit_u(c, ops[i]);
    emit_u(c, addr);
    emit_u(c, offset);
    return true;
}

/* A store of the result of a memory-operand operator back to the place it loaded from (x[i]
 * += y) becomes one read-modify-write instruction. */
static bool try_rmw(comp *c, wp_iop store, vent v, vent e, uint64_t offset) {
    if (v.kind != V_TEMP || c->last_dst < 0 || c->cells[c->last_dst].u != v.slot)
        return false;
    uint64_t addr = e.slot;
    if (e.kind == V_CONST) { /* as take_address puts it */
        addr = c->zslot;
        offset += (uint32_t)e.bits;
    }
    const wp_cell *in = &c->cells[c->last_start];
    wp_iop rmw;
    switch (in[0].u) {
#define X(name)                                                                                    \
    case WP_I_##name##_SM:                                                                         \
        rmw = natural_store(#name) == store ? WP_I_##name##_RMW : WP_I_COUNT;                      \
        break;
        WP_BINOPS_MEM(X)
#undef X
    default:
        return false;
    }
    if (rmw == WP_I_COUNT || in[3].u != addr || in[4].u != offset)
        return false;
    uint64_t a = in[2].u;
    drop_last(c);
    if (try_madd_rmw(c, rmw, a, addr, offset))
        return true;
    emit_op(c, rmw);
    emit_u(c, a);
    emit_u(c, addr);
    emit_u(c, offset);
    return true;
}

/* The store's address e was computed by an i32.add just before the instruction that computed
 * its value v: that add moves into the store (returns the form, as take_add) if the value's
 * instruction, which now runs first, does not overwrite the add's operands. */
static int take_add_before(comp *c, vent v, vent e, uint64_t *a, uint64_t *b) {
    if (v.kind != V_TEMP || e.kind != V_TEMP || c->prev_start < 0 || c->last_dst < 0 ||
        c->cells[c->last_dst].u != v.slot)
        return 0;
    const wp_cell *add = &c->cells[c->prev_start];
    if ((add[0].u != WP_I_I32_ADD_SI && add[0].u != WP_I_I32_ADD_SS) || add[1].u != e.slot)
        return 0;
    bool by_slot = add[0].u == WP_I_I32_ADD_SS;
    if (add[2].u == v.slot || (by_slot && add[3].u == v.slot))
        return 0;
    *a = add[2].u;
    *b = add[3].u;
    remove_prev(c);
    return by_slot ? 2 : 1;
}

/* The access width of a load in plain or _AI form, else 0. */
static unsigned load_width(uint64_t iop) {
    switch (iop) {
#define X(name)                                                                                    \
    case WP_I_##name:                                                                              \
    case WP_I_##name##_AI:                                                                         \
        return wp__ops[WP_OP_##name].access_bytes;
        WP_LOADS(X)
#undef X
    default:
        return 0;
    }
}

/* A store of the value just loaded, of the same width, becomes a COPY<width>. The store's
 * address is a slot, a constant or an i32.add with an immediate just before the load. */
static bool try_copy(comp *c, unsigned width, vent v, vent e, uint64_t offset) {
    if (v.kind != V_TEMP || c->last_dst < 0 || c->cells[c->last_dst].u != v.slot ||
        load_width(c->cells[c->last_start].u) != width)
        return false;
    const wp_cell *ld = &c->cells[c->last_start];
    bool plus = (ld[0].u - WP_I_I32_LOAD) % 3 == 1; /* the _AI form (loads come in threes) */
    uint64_t src[3] = {ld[2].u, plus ? ld[4].u : 0, ld[3].u};
    uint64_t dst[3] = {e.slot, 0, offset};
    bool add_before = false;
    if (e.kind == V_CONST) {
        dst[0] = c->zslot;
        dst[2] += (uint32_t)e.bits;
    } else if (e.kind == V_TEMP && c->prev_start >= 0 &&
               c->cells[c->prev_start].u == WP_I_I32_ADD_SI &&
               c->cells[c->prev_start + 1].u == e.slot && c->cells[c->prev_start + 2].u != v.slot) {
        /* The address add ran just before the load, which does not touch its operand (a
         * stack position below the load's). */
        dst[0] = c->cells[c->prev_start + 2].u;
        dst[1] = c->cells[c->prev_start + 3].u;
        add_before = true;
    }
    drop_last(c);
    if (add_before)
        drop_last(c);
    emit_op(c, width == 1 ? WP_I_COPY1 : width == 2 ? WP_I_COPY2
               : width == 4 ? WP_I_COPY4 : WP_I_COPY8);
    for (int i = 0; i < 3; i++)
        emit_u(c, dst[i]);
    for (int i = 0; i < 3; i++)
        emit_u(c, src[i]);
    return true;
}

/* Stores: iop is the plain form; iop + 1 takes an immediate value; + 2 and + 3 add an
 * immediate or a slot to the address. */
static void do_store(comp *c, wp_iop iop, unsigned width) {
    uint64_t offset = read_memarg(c);
    vent v = pop(c);
    vent e = pop(c);
    if (try_rmw(c, iop, v, e, offset) || try_copy(c, width, v, e, offset))
        return;
    uint64_t a;
    uint64_t b = 0;
    int form = take_add_before(c, v, e, &a, &b);
    if (form == 0)
        form = take_address(c, e, v.kind != V_CONST, &a, &b, &offset);
    if (v.kind == V_CONST) {
        emit_op(c, (wp_iop)(iop + 1));
        emit_u(c, a);
        emit_u(c, v.bits);
        emit_u(c, offset);
        return;
    }
    emit_op(c, (wp_iop)(iop + (form ? form + 1 : 0)));
    emit_u(c, a);
    emit_u(c, v.slot);
    emit_u(c, offset);
    if (form)
        emit_u(c, b);
}

/* The internal plain form of a wasm load or store. */
static wp_iop load_of(uint8_t op) {
    switch (op) {
#define X(name)                                                                                    \
    case WP_OP_##name:                                                                             \
        return WP_I_##name;
        WP_LOADS(X) WP_STORES(X)
#undef X
    default:
        return WP_I_COUNT;
    }
}

bool wp__fuse_operator(comp *c, uint8_t op) {
    bool comm = false;
    wp_iop iop;
    if ((iop = binop_ss(op, &comm)) != WP_I_COUNT)
        do_binop(c, op, iop, comm);
    else if ((iop = unop_of(op)) != WP_I_COUNT)
        wp__fuse_unop(c, iop);
    else if ((iop = load_of(op)) != WP_I_COUNT && wp__ops[op].sig[1] == ':')
        do_load(c, iop);
    else if (iop != WP_I_COUNT)
        do_store(c, iop, wp__ops[op].access_bytes);
    else
        return false;
    return true;
}
