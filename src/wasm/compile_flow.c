/* compile_flow.c: compiling control flow: blocks, labels and branches (with the comparisons
 * and adds fused into them), br_table, calls and returns. */
#include "compile.h"

/* At a block entry: no entry may refer to a local (the block may write it on one path only);
 * the block's params go to their home slots, where branches to a loop deliver them. */
static void spill_for_block(comp *c, uint32_t nparams) {
    for (uint32_t i = 0; i < c->sp; i++) {
        if (c->vs[i].kind == V_LOCAL || i + nparams >= c->sp)
            materialize(c, i);
    }
}

/* ---- Labels ------------------------------------------------------------------------------ */

/* Emits a branch-target cell: backward to a known cell, or chained onto *chain. */
static void emit_target(comp *c, uint32_t *chain, int64_t known) {
    uint32_t at = c->ncells;
    if (known >= 0) {
        emit_u(c, (uint64_t)(known - (int64_t)at));
        return;
    }
    emit_u(c, *chain);
    if (!c->failed)
        *chain = at + 1;
}

static void emit_frame_target(comp *c, cframe *f) {
    emit_target(c, &f->fixups, f->kind == F_LOOP ? (int64_t)f->loop_pc : -1);
}

/* An unconditional jump to frame f's label (backwards for a loop: that spends a reduction). */
static void emit_jump(comp *c, cframe *f) {
    emit_op(c, f->kind == F_LOOP ? WP_I_JMP_BACK : WP_I_JMP);
    emit_frame_target(c, f);
}

/* Points every branch on the chain at the current position. */
static void bind(comp *c, uint32_t *chain) {
    uint32_t k = *chain;
    if (k)
        c->entry = false; /* a merge: locals may hold what another path wrote */
    while (k && !c->failed) {
        uint32_t at = k - 1;
        k = (uint32_t)c->cells[at].u;
        c->cells[at].i = (int64_t)c->ncells - (int64_t)at;
    }
    *chain = 0;
    c->last_start = -1;
    c->prev_start = -1;
    c->last_dst = -1;
}

static uint32_t label_arity(const cframe *f) {
    return f->kind == F_LOOP ? f->nparams : f->nresults;
}

/* Do the top 'arity' values need copying to reach frame f's branch slots? */
static bool needs_moves(const comp *c, const cframe *f) {
    uint32_t n = label_arity(f);
    if (c->sp - n != f->height)
        return n != 0;
    for (uint32_t i = c->sp - n; i < c->sp; i++)
        if (c->vs[i].kind != V_TEMP)
            return true;
    return false;
}

/* Copies the branch values to f's slots. Leaves the virtual stack as it was (the code may run
 * on one path only). Sources sit at or above their targets, so copying upwards is safe. */
static void branch_moves(comp *c, const cframe *f) {
    uint32_t n = label_arity(f);
    for (uint32_t i = 0; i < n; i++)
        wp__comp_move(c, home(c, f->height + i), c->vs[c->sp - n + i]);
}

/* Copies the function's results to fp[0..n) and returns. Leaves the virtual stack as it was. */
void wp__flow_return(comp *c) {
    uint32_t n = c->fr[0].nresults;
    if (n == 1 && c->vs[c->sp - 1].kind != V_CONST) {
        emit_op(c, WP_I_RET1);
        emit_u(c, c->vs[c->sp - 1].slot);
        return;
    }
    if (n == 0) {
        emit_op(c, WP_I_RET);
        return;
    }
    if (!wp__comp_grow(c, (void **)&c->scratch, &c->cap_scratch, n, sizeof(vent)))
        return;
    memcpy(c->scratch, c->vs + c->sp - n, n * sizeof(vent));
    /* A local below n would be overwritten before it is read: copy it to its home first. */
    for (uint32_t i = 0; i < n; i++) {
        vent *e = &c->scratch[i];
        if (e->kind == V_LOCAL && e->slot < n) {
            uint32_t h = home(c, c->sp - n + i);
            wp__comp_move(c, h, *e);
            *e = (vent){V_TEMP, h, 0};
        }
    }
    for (uint32_t i = 0; i < n; i++)
        wp__comp_move(c, i, c->scratch[i]);
    emit_op(c, WP_I_RET);
}

/* ---- Conditions and fused branches ------------------------------------------------------- */

enum { C_SLOT, C_CMP, C_EQZ, C_EQZ64 };

typedef struct cond {
    int kind;
    wp_iop cmp; /* C_CMP: the BR_*_SS or BR_*_SI instruction that jumps when true */
    uint64_t a;
    uint64_t b;
    int64_t add_start; /* an i32/i64.add just before, of the comparison's width; else -1 */
} cond;

/* Position of a comparison within its group of ten (EQ NE LT_S LT_U GT_S GT_U LE_S LE_U
 * GE_S GE_U) and the one that holds exactly when it does not. */
static const uint8_t negated_cmp[10] = {1, 0, 8, 9, 6, 7, 4, 5, 2, 3};

static wp_iop brcmp(unsigned group, unsigned k, bool imm) {
    return (wp_iop)(WP_I_BR_I32_EQ_SS + (group * 10 + k) * 2 + imm);
}

/* The start of the last instruction if it is an add (i32 or, if wide, i64), else -1. */
static int64_t add_before(const comp *c, bool wide) {
    if (c->last_start < 0)
        return -1;
    uint64_t op = c->cells[c->last_start].u;
    if (op == (wide ? WP_I_I64_ADD_SI : WP_I_I32_ADD_SI) ||
        op == (wide ? WP_I_I64_ADD_SS : WP_I_I32_ADD_SS))
        return c->last_start;
    return -1;
}

/* Takes the branch condition e (just popped). If the last instruction computed it with an
 * integer comparison or eqz, that instruction is removed and fused into the branch. */
static cond take_cond(comp *c, vent e) {
    cond cd = {C_SLOT, WP_I_COUNT, 0, 0, -1};
    if (e.kind == V_TEMP && c->last_dst >= 0 && c->cells[c->last_dst].u == e.slot) {
        const wp_cell *in = &c->cells[c->last_start];
        uint64_t op = in[0].u;
        /* The integer comparisons come first in wp_iop: I32_EQ_SS is 0. */
        if (op <= WP_I_I64_GE_U_SI) {
            cd.kind = C_CMP;
            cd.cmp = (wp_iop)(WP_I_BR_I32_EQ_SS + (op - WP_I_I32_EQ_SS));
            cd.a = in[2].u;
            cd.b = in[3].u;
            drop_last(c);
            cd.add_start = add_before(c, op >= WP_I_I64_EQ_SS);
            return cd;
        }
        if (op == WP_I_I32_EQZ || op == WP_I_I64_EQZ) {
            cd.kind = op == WP_I_I32_EQZ ? C_EQZ : C_EQZ64;
            cd.a = in[2].u;
            drop_last(c);
            return cd;
        }
    }
    if (e.kind != V_CONST)
        cd.add_start = add_before(c, false);
    cd.a = slot_of(c, e, home(c, c->sp));
    return cd;
}

/* The backward twin of a forward conditional jump. */
static wp_iop backward(wp_iop op) {
    switch (op) {
    case WP_I_JMP_NZ: return WP_I_JMP_NZ_BACK;
    case WP_I_JMP_Z: return WP_I_JMP_Z_BACK;
    case WP_I_JMP_NZ64: return WP_I_JMP_NZ64_BACK;
    case WP_I_JMP_Z64: return WP_I_JMP_Z64_BACK;
    default: return (wp_iop)(op - WP_I_BR_I32_EQ_SS + WP_I_BRB_I32_EQ_SS);
    }
}

/* Fuses the add just before a backward compare-and-branch (op: its BR_ form, or JMP_NZ) into
 * one ABR_ instruction (code.h). */
static void emit_add_branch(comp *c, const cond *cd, wp_iop op, int64_t known) {
    const wp_cell *in = &c->cells[c->last_start];
    uint64_t add = in[0].u;
    uint64_t x = in[1].u;
    uint64_t y = in[2].u;
    uint64_t k = in[3].u;
    bool by_slot = add == WP_I_I32_ADD_SS || add == WP_I_I64_ADD_SS;
    drop_last(c);
    if (op == WP_I_JMP_NZ) {
        emit_op(c, WP_I_ABR_NZ_K);
    } else {
        unsigned idx = (unsigned)(op - WP_I_BR_I32_EQ_SS); /* (group * 10 + k) * 2 + imm */
        emit_op(c, (wp_iop)(WP_I_ABR_I32_EQ_KS + (idx / 2) * 4 + by_slot * 2 + idx % 2));
    }
    emit_u(c, x);
    emit_u(c, y);
    emit_u(c, k);
    emit_u(c, cd->a);
    if (op != WP_I_JMP_NZ)
        emit_u(c, cd->b);
    emit_target(c, NULL, known);
}

/* Emits a jump taken when the condition equals 'when': forwards onto *chain, or backwards to
 * the cell 'known' (a loop head). */
static void emit_cond_jump(comp *c, const cond *cd, bool when, uint32_t *chain, int64_t known) {
    wp_iop op;
    switch (cd->kind) {
    case C_CMP: {
        unsigned idx = (unsigned)(cd->cmp - WP_I_BR_I32_EQ_SS);
        unsigned k = (idx % 20) / 2;
        op = brcmp(idx / 20, when ? k : negated_cmp[k], idx % 2);
        break;
    }
    case C_EQZ: op = when ? WP_I_JMP_Z : WP_I_JMP_NZ; break;
    case C_EQZ64: op = when ? WP_I_JMP_Z64 : WP_I_JMP_NZ64; break;
    default: op = when ? WP_I_JMP_NZ : WP_I_JMP_Z; break;
    }
    if (known >= 0 && cd->add_start >= 0 && cd->add_start == c->last_start &&
        (cd->kind == C_CMP ||
         (op == WP_I_JMP_NZ && c->cells[cd->add_start].u == WP_I_I32_ADD_SI))) {
        emit_add_branch(c, cd, op, known);
        return;
    }
    emit_op(c, known >= 0 ? backward(op) : op);
    emit_u(c, cd->a);
    if (cd->kind == C_CMP)
        emit_u(c, cd->b);
    emit_target(c, chain, known);
}

/* ---- Control instructions ---------------------------------------------------------------- */

static void read_blocktype(comp *c, uint32_t *np, uint32_t *nr) {
    int64_t bt = 0;
    if (!rd_s33(&c->rd, &bt))
        fail(c);
    *np = 0;
    *nr = 0;
    if (bt == -64 || c->failed)
        return;
    if (bt < 0) {
        *nr = 1;
        return;
    }
    if ((uint64_t)bt < c->m->ntypes) {
        *np = c->m->types[bt].nparams;
        *nr = c->m->types[bt].nresults;
    }
}

cframe *wp__flow_push_frame(comp *c, uint8_t kind, uint32_t np, uint32_t nr) {
    if (!wp__comp_grow(c, (void **)&c->fr, &c->cap_fr, c->nfr + 1, sizeof(cframe)))
        return NULL;
    cframe *f = &c->fr[c->nfr++];
    *f = (cframe){kind, false, c->sp - np, np, nr, 0, 0, 0};
    return f;
}

static cframe *label(comp *c, uint32_t depth) {
    if (depth >= c->nfr) {
        fail(c);
        return &c->fr[0];
    }
    return &c->fr[c->nfr - 1 - depth];
}

void wp__flow_block(comp *c, uint8_t kind) {
    uint32_t np;
    uint32_t nr;
    read_blocktype(c, &np, &nr);
    if (c->failed || np > c->sp)
        return;
    spill_for_block(c, np);
    cframe *f = wp__flow_push_frame(c, kind, np, nr);
    if (f && kind == F_LOOP) {
        bind(c, &f->fixups); /* a label: nothing before it may be fused with what follows */
        f->loop_pc = c->ncells;
        c->entry = false;
        meter_run(c); /* branches back meet it */
    }
}

void wp__flow_if(comp *c) {
    uint32_t np;
    uint32_t nr;
    vent e = pop(c);
    read_blocktype(c, &np, &nr);
    if (c->failed || np > c->sp)
        return;
    cond cd = take_cond(c, e);
    spill_for_block(c, np);
    cframe *f = wp__flow_push_frame(c, F_IF, np, nr);
    if (f)
        emit_cond_jump(c, &cd, false, &f->else_fixup, -1);
    meter_run(c);
}

static void reset_to(comp *c, const cframe *f, uint32_t n) {
    c->sp = f->height;
    for (uint32_t i = 0; i < n; i++)
        push_temp(c);
}

void wp__flow_else(comp *c) {
    cframe *f = label(c, 0);
    if (c->reachable) {
        f->kind = F_BLOCK; /* for branch_moves: results, not params */
        branch_moves(c, f);
        emit_op(c, WP_I_JMP);
        emit_target(c, &f->fixups, -1);
    }
    f->kind = F_IF;
    f->has_else = true;
    bind(c, &f->else_fixup);
    meter_run(c);
    reset_to(c, f, f->nparams);
    c->reachable = true;
}

/* Returns false at the function's final end. */
bool wp__flow_end(comp *c) {
    cframe *f = label(c, 0);
    if (f->kind == F_FUNC) {
        if (c->reachable)
            wp__flow_return(c);
        c->nfr--;
        return false;
    }
    bool fell = c->reachable;
    if (fell) {
        uint8_t kind = f->kind;
        f->kind = F_BLOCK;
        branch_moves(c, f);
        f->kind = kind;
    }
    /* Only a branch here, or code before that was unreachable, ends the straight-line run. */
    bool joined = (f->kind == F_IF && !f->has_else && f->else_fixup) ||
                  (f->kind != F_LOOP && f->fixups);
    if (f->kind == F_IF && !f->has_else)
        bind(c, &f->else_fixup);
    if (f->kind != F_LOOP)
        bind(c, &f->fixups);
    if (joined || !fell)
        meter_run(c);
    reset_to(c, f, f->nresults);
    c->nfr--;
    c->reachable = true;
    return true;
}

void wp__flow_br(comp *c, uint32_t depth) {
    cframe *f = label(c, depth);
    if (f->kind == F_FUNC) {
        wp__flow_return(c);
    } else {
        branch_moves(c, f);
        emit_jump(c, f);
    }
    c->reachable = false;
}

void wp__flow_br_if(comp *c, uint32_t depth) {
    vent e = pop(c);
    cframe *f = label(c, depth);
    cond cd = take_cond(c, e);
    if (f->kind != F_FUNC && !needs_moves(c, f)) {
        emit_cond_jump(c, &cd, true, &f->fixups, f->kind == F_LOOP ? (int64_t)f->loop_pc : -1);
        meter_run(c);
        return;
    }
    uint32_t skip = 0;
    emit_cond_jump(c, &cd, false, &skip, -1);
    if (f->kind == F_FUNC) {
        wp__flow_return(c);
    } else {
        branch_moves(c, f);
        emit_jump(c, f);
    }
    bind(c, &skip);
    meter_run(c);
}

/* Fills br_table's target cell 'at' for the label at 'depth'. Targets whose values need
 * moving, and loops (a backward jump spends a reduction), go through a stub after the table:
 * the moves, then a jump; stubs[depth] remembers each stub (cell + 1) so labels share one. */
static void br_table_target(comp *c, uint32_t at, uint32_t depth, uint32_t *stubs) {
    cframe *f = label(c, depth);
    if (c->failed)
        return;
    if (f->kind != F_FUNC && f->kind != F_LOOP && !needs_moves(c, f)) {
        uint32_t saved = c->ncells;
        c->ncells = at; /* emit the target cell in place */
        emit_frame_target(c, f);
        c->ncells = saved;
        return;
    }
    if (!stubs[depth]) {
        stubs[depth] = c->ncells + 1;
        if (f->kind == F_FUNC) {
            wp__flow_return(c);
        } else {
            branch_moves(c, f);
            emit_jump(c, f);
        }
    }
    c->cells[at].i = (int64_t)stubs[depth] - 1 - (int64_t)at;
}

void wp__flow_br_table(comp *c) {
    uint32_t n = 0;
    if (!rd_u32(&c->rd, &n) || n > rd_remaining(&c->rd)) {
        fail(c);
        return;
    }
    vent e = pop(c);
    uint32_t s = slot_of(c, e, home(c, c->sp));
    emit_op(c, WP_I_BR_TABLE);
    emit_u(c, s);
    emit_u(c, n);
    uint32_t first = c->ncells;
    for (uint32_t i = 0; i <= n && !c->failed; i++)
        emit_u(c, read_u32(c)); /* the depth, until replaced by the target */
    uint32_t *stubs = wp_heap_calloc(c->heap, c->nfr, sizeof(uint32_t));
    if (!stubs) {
        fail(c);
        return;
    }
    for (uint32_t i = 0; i <= n && !c->failed; i++)
        br_table_target(c, first + i, (uint32_t)c->cells[first + i].u, stubs);
    wp_heap_free(c->heap, stubs, (size_t)c->nfr * sizeof(uint32_t));
    c->reachable = false;
}

/* ---- Calls ------------------------------------------------------------------------------- */

/* Puts the top n values into their home slots, pops them and returns the first one's slot. */
static uint32_t take_args(comp *c, uint32_t n) {
    if (n > c->sp) {
        fail(c);
        return 0;
    }
    for (uint32_t i = c->sp - n; i < c->sp; i++)
        materialize(c, i);
    c->sp -= n;
    return home(c, c->sp);
}

void wp__flow_call(comp *c, wp_code **codes, uint32_t fi) {
    const wp_module *m = c->m;
    if (fi >= m->nfuncs) {
        fail(c);
        return;
    }
    const wp_functype *t = wp__func_type(m, fi);
    uint32_t base = take_args(c, t->nparams);
    if (fi >= m->nimported_funcs) {
        emit_op(c, WP_I_CALL);
        emit_u(c, 0);
        c->cells[c->ncells - 1].p = codes[fi - m->nimported_funcs];
    } else {
        emit_op(c, WP_I_CALL_FUNC);
        emit_u(c, fi);
    }
    emit_u(c, base);
    for (uint32_t i = 0; i < t->nresults; i++)
        push_temp(c);
}

void wp__flow_call_indirect(comp *c) {
    uint32_t ti = 0;
    uint32_t table = 0;
    if (!rd_u32(&c->rd, &ti) || !rd_u32(&c->rd, &table) || ti >= c->m->ntypes) {
        fail(c);
        return;
    }
    const wp_functype *t = &c->m->types[c->m->canon[ti]];
    vent e = pop(c);
    uint32_t base = take_args(c, t->nparams);
    uint32_t idx = slot_of(c, e, base + t->nparams);
    emit_op(c, WP_I_CALL_INDIRECT);
    emit_u(c, c->m->canon[ti]);
    emit_u(c, table);
    emit_u(c, base);
    emit_u(c, idx);
    for (uint32_t i = 0; i < t->nresults; i++)
        push_temp(c);
}
