/* compile.c: translates validated function bodies into register code for the interpreter.
 *
 * One pass per function. The compiler tracks a virtual operand stack whose entries are a
 * local, a constant or a temporary in its home slot (the slot of its stack position), so
 * `local.get a; local.get b; i32.add; local.set c` becomes one instruction. See code.h for the
 * format and docs/interpreter.md for the design. The input is validated: malformed bodies are
 * not expected here, and reads that fail are only guarded, not reported in detail. */
#include <string.h>

#include "code.h"
#include "reader.h"

enum { V_TEMP, V_LOCAL, V_CONST };

/* A virtual stack entry. TEMP: the value is in its home slot ('slot'). LOCAL: the value is
 * local 'slot' (valid until that local is written: writes spill such entries first).
 * CONST: the value is 'bits'. */
typedef struct vent {
    uint8_t kind;
    uint32_t slot;
    uint64_t bits;
} vent;

enum { F_BLOCK, F_LOOP, F_IF, F_FUNC };

/* A control frame. Branch values travel through the home slots of the frame's stack positions
 * [height, height + arity). Forward branches are chained through their operand cells
 * ('fixups': cell index + 1 of the latest, each cell holding the previous one) until bound. */
typedef struct cframe {
    uint8_t kind;
    bool has_else;
    uint32_t height;
    uint32_t nparams;
    uint32_t nresults;
    uint32_t loop_pc;
    uint32_t fixups;
    uint32_t else_fixup;
} cframe;

typedef struct comp {
    wp_heap *heap;
    const wp_module *m;
    wp_reader rd;
    bool failed; /* out of memory (or a read that failed): checked once at the end */

    wp_cell *cells;
    uint32_t ncells;
    uint32_t cap_cells;
    uint32_t *starts; /* cell index of each instruction's handler */
    uint32_t nstarts;
    uint32_t cap_starts;

    vent *vs;
    uint32_t sp;
    uint32_t max_sp;
    uint32_t cap_vs;
    vent *scratch; /* copies of stack entries for return sequences */
    uint32_t cap_scratch;

    cframe *fr;
    uint32_t nfr;
    uint32_t cap_fr;

    uint32_t nlocals; /* params, declared locals, the zero slot: home slots start here */
    uint32_t zslot;   /* a slot that holds zero for the whole call: see take_address */
    /* In the straight-line code from the function's entry (no label bound yet), declared
     * locals not yet written are known to hold zero: 'zero' has one flag per local. */
    bool entry;
    uint8_t *zero;
    uint32_t cap_zero;
    bool reachable;
    uint32_t dead_depth; /* blocks opened inside unreachable code */
    /* The last instruction, if nothing was emitted or bound after it: its start and the cell
     * of its destination slot (-1 if it has none that may be redirected). */
    int64_t last_start;
    int64_t last_dst;
    int64_t prev_start; /* the instruction before the last one, under the same condition */
} comp;

static uint32_t read_u32(comp *c);

/* ---- Buffers ----------------------------------------------------------------------------- */

/* After a failure the function's code is discarded; until then, fusions must not look at
 * half-emitted instructions. */
static void fail(comp *c) {
    c->failed = true;
    c->last_start = c->last_dst = c->prev_start = -1;
}

static bool grow(comp *c, void **arr, uint32_t *cap, uint32_t need, size_t elem) {
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

static void emit_u(comp *c, uint64_t v) {
    if (!grow(c, (void **)&c->cells, &c->cap_cells, c->ncells + 1, sizeof(wp_cell)))
        return;
    c->cells[c->ncells++].u = v;
}

static void emit_op(comp *c, wp_iop op) {
    if (!grow(c, (void **)&c->starts, &c->cap_starts, c->nstarts + 1, sizeof(uint32_t)))
        return;
    c->prev_start = c->last_start;
    c->last_start = c->ncells;
    c->last_dst = -1;
    c->starts[c->nstarts++] = c->ncells;
    emit_u(c, op);
}

/* Emits a destination slot that a following local.set may redirect to the local itself. */
static void emit_dst(comp *c, uint32_t slot) {
    c->last_dst = c->ncells;
    emit_u(c, slot);
}

/* Removes the last instruction (a comparison about to be fused into a branch). */
static void drop_last(comp *c) {
    c->ncells = (uint32_t)c->last_start;
    c->nstarts--;
    c->last_start = c->prev_start;
    c->prev_start = -1;
    c->last_dst = -1;
}

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

/* ---- Virtual stack ----------------------------------------------------------------------- */

static uint32_t home(const comp *c, uint32_t depth) { return c->nlocals + depth; }

static void push(comp *c, uint8_t kind, uint32_t slot, uint64_t bits) {
    if (!grow(c, (void **)&c->vs, &c->cap_vs, c->sp + 1, sizeof(vent)))
        return;
    c->vs[c->sp++] = (vent){kind, slot, bits};
    if (c->sp > c->max_sp)
        c->max_sp = c->sp;
}

static void push_temp(comp *c) { push(c, V_TEMP, home(c, c->sp), 0); }

static vent pop(comp *c) {
    if (c->sp == 0 || c->failed) { /* only after a failure: the input is validated */
        fail(c);
        return (vent){V_CONST, 0, 0};
    }
    return c->vs[--c->sp];
}

/* Copies entry e into slot dst (no code if it is already there). */
static void move_to(comp *c, uint32_t dst, vent e) {
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

/* The slot holding e's value; a constant is first written to 'spill' (its home slot). */
static uint32_t slot_of(comp *c, vent e, uint32_t spill) {
    if (e.kind != V_CONST)
        return e.slot;
    move_to(c, spill, e);
    return spill;
}

static void materialize(comp *c, uint32_t depth) {
    vent *e = &c->vs[depth];
    if (e->kind == V_TEMP)
        return;
    move_to(c, home(c, depth), *e);
    *e = (vent){V_TEMP, home(c, depth), 0};
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
        move_to(c, home(c, f->height + i), c->vs[c->sp - n + i]);
}

/* Copies the function's results to fp[0..n) and returns. Leaves the virtual stack as it was. */
static void emit_return(comp *c) {
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
    if (!grow(c, (void **)&c->scratch, &c->cap_scratch, n, sizeof(vent)))
        return;
    memcpy(c->scratch, c->vs + c->sp - n, n * sizeof(vent));
    /* A local below n would be overwritten before it is read: copy it to its home first. */
    for (uint32_t i = 0; i < n; i++) {
        vent *e = &c->scratch[i];
        if (e->kind == V_LOCAL && e->slot < n) {
            uint32_t h = home(c, c->sp - n + i);
            move_to(c, h, *e);
            *e = (vent){V_TEMP, h, 0};
        }
    }
    for (uint32_t i = 0; i < n; i++)
        move_to(c, i, c->scratch[i]);
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

static cframe *push_frame(comp *c, uint8_t kind, uint32_t np, uint32_t nr) {
    if (!grow(c, (void **)&c->fr, &c->cap_fr, c->nfr + 1, sizeof(cframe)))
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

static void do_block(comp *c, uint8_t kind) {
    uint32_t np;
    uint32_t nr;
    read_blocktype(c, &np, &nr);
    if (c->failed || np > c->sp)
        return;
    spill_for_block(c, np);
    cframe *f = push_frame(c, kind, np, nr);
    if (f && kind == F_LOOP) {
        bind(c, &f->fixups); /* a label: nothing before it may be fused with what follows */
        f->loop_pc = c->ncells;
        c->entry = false;
    }
}

static void do_if(comp *c) {
    uint32_t np;
    uint32_t nr;
    vent e = pop(c);
    read_blocktype(c, &np, &nr);
    if (c->failed || np > c->sp)
        return;
    cond cd = take_cond(c, e);
    spill_for_block(c, np);
    cframe *f = push_frame(c, F_IF, np, nr);
    if (f)
        emit_cond_jump(c, &cd, false, &f->else_fixup, -1);
}

static void reset_to(comp *c, const cframe *f, uint32_t n) {
    c->sp = f->height;
    for (uint32_t i = 0; i < n; i++)
        push_temp(c);
}

static void do_else(comp *c) {
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
    reset_to(c, f, f->nparams);
    c->reachable = true;
}

/* Returns false at the function's final end. */
static bool do_end(comp *c) {
    cframe *f = label(c, 0);
    if (f->kind == F_FUNC) {
        if (c->reachable)
            emit_return(c);
        c->nfr--;
        return false;
    }
    if (c->reachable) {
        uint8_t kind = f->kind;
        f->kind = F_BLOCK;
        branch_moves(c, f);
        f->kind = kind;
    }
    if (f->kind == F_IF && !f->has_else)
        bind(c, &f->else_fixup);
    if (f->kind != F_LOOP)
        bind(c, &f->fixups);
    reset_to(c, f, f->nresults);
    c->nfr--;
    c->reachable = true;
    return true;
}

static void do_br(comp *c, uint32_t depth) {
    cframe *f = label(c, depth);
    if (f->kind == F_FUNC) {
        emit_return(c);
    } else {
        branch_moves(c, f);
        emit_jump(c, f);
    }
    c->reachable = false;
}

static void do_br_if(comp *c, uint32_t depth) {
    vent e = pop(c);
    cframe *f = label(c, depth);
    cond cd = take_cond(c, e);
    if (f->kind != F_FUNC && !needs_moves(c, f)) {
        emit_cond_jump(c, &cd, true, &f->fixups, f->kind == F_LOOP ? (int64_t)f->loop_pc : -1);
        return;
    }
    uint32_t skip = 0;
    emit_cond_jump(c, &cd, false, &skip, -1);
    if (f->kind == F_FUNC) {
        emit_return(c);
    } else {
        branch_moves(c, f);
        emit_jump(c, f);
    }
    bind(c, &skip);
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
            emit_return(c);
        } else {
            branch_moves(c, f);
            emit_jump(c, f);
        }
    }
    c->cells[at].i = (int64_t)stubs[depth] - 1 - (int64_t)at;
}

static void do_br_table(comp *c) {
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

static void do_call(comp *c, wp_code **codes, uint32_t fi) {
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

static void do_call_indirect(comp *c) {
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
    move_to(c, x, e);
    if (tee)
        push(c, e.kind, e.slot, e.bits);
}

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

static void do_unop(comp *c, wp_iop iop) {
    vent a = pop(c);
    uint32_t dst = home(c, c->sp);
    uint32_t sa = slot_of(c, a, dst);
    emit_op(c, iop);
    emit_dst(c, dst);
    emit_u(c, sa);
    push_temp(c);
}

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

/* A store of the result of a memory-operand operator back to the place it loaded from (x[i]
 * += y) becomes one read-modify-write instruction. */
static bool try_rmw(comp *c, wp_iop store, vent v, vent e, uint64_t offset) {
    if (v.kind != V_TEMP || e.kind == V_CONST || c->last_dst < 0 ||
        c->cells[c->last_dst].u != v.slot)
        return false;
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
    if (rmw == WP_I_COUNT || in[3].u != e.slot || in[4].u != offset)
        return false;
    uint64_t a = in[2].u;
    drop_last(c);
    emit_op(c, rmw);
    emit_u(c, a);
    emit_u(c, e.slot);
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

static uint32_t read_u32(comp *c) {
    uint32_t v = 0;
    if (!rd_u32(&c->rd, &v))
        fail(c);
    return v;
}

static uint8_t read_u8(comp *c) {
    uint8_t v = 0;
    if (!rd_u8(&c->rd, &v))
        fail(c);
    return v;
}

static void do_select(comp *c) {
    vent cv = pop(c);
    if (cv.kind == V_CONST) { /* a constant condition picks statically */
        vent b = pop(c);
        vent a = pop(c);
        vent keep = (uint32_t)cv.bits ? a : b;
        push(c, keep.kind, keep.kind == V_TEMP ? home(c, c->sp) : keep.slot, keep.bits);
        if (keep.kind == V_TEMP)
            move_to(c, home(c, c->sp - 1), keep);
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
        do_unop(c, WP_I_##name);                                                                   \
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
        return do_end(c);
    } else if (op == WP_OP_ELSE && c->dead_depth == 0) {
        do_else(c);
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
    bool comm = false;
    wp_iop iop;
    switch (op) {
    case WP_OP_UNREACHABLE:
        emit_op(c, WP_I_UNREACHABLE);
        c->reachable = false;
        return true;
    case WP_OP_NOP: return true;
    case WP_OP_BLOCK: do_block(c, F_BLOCK); return true;
    case WP_OP_LOOP: do_block(c, F_LOOP); return true;
    case WP_OP_IF: do_if(c); return true;
    case WP_OP_ELSE: do_else(c); return true;
    case WP_OP_END: return do_end(c);
    case WP_OP_BR: do_br(c, read_u32(c)); return true;
    case WP_OP_BR_IF: do_br_if(c, read_u32(c)); return true;
    case WP_OP_BR_TABLE: do_br_table(c); return true;
    case WP_OP_RETURN:
        emit_return(c);
        c->reachable = false;
        return true;
    case WP_OP_CALL: do_call(c, codes, read_u32(c)); return true;
    case WP_OP_CALL_INDIRECT: do_call_indirect(c); return true;
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
    case WP_OP_REF_IS_NULL: do_unop(c, WP_I_I64_EQZ); return true;
    case WP_OP_REF_FUNC:
        imm[0] = read_u32(c);
        do_result_op(c, WP_I_REF_FUNC, 1, imm, 0);
        return true;
    case WP_OP_PREFIX_FC: do_fc(c); return true;
    default: break;
    }
    if ((iop = binop_ss(op, &comm)) != WP_I_COUNT)
        do_binop(c, op, iop, comm);
    else if ((iop = unop_of(op)) != WP_I_COUNT)
        do_unop(c, iop);
    else if ((iop = load_of(op)) != WP_I_COUNT && wp__ops[op].sig[1] == ':')
        do_load(c, iop);
    else if (iop != WP_I_COUNT)
        do_store(c, iop, wp__ops[op].access_bytes);
    else
        fail(c);
    return true;
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

/* Copies the cells into 'code', with handler addresses in place of opcode numbers. */
static bool finish(comp *c, wp_code *code) {
    code->cells = wp_heap_alloc(c->heap, (size_t)c->ncells * sizeof(wp_cell));
    if (!code->cells)
        return false;
    memcpy(code->cells, c->cells, (size_t)c->ncells * sizeof(wp_cell));
    code->ncells = c->ncells;
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
    if (!grow(c, (void **)&c->zero, &c->cap_zero, c->nlocals + 1, 1))
        return WP_ERR_NOMEM;
    memset(c->zero, 0, t->nparams);
    memset(c->zero + t->nparams, 1, fd->nlocals + 1);
    push_frame(c, F_FUNC, 0, t->nresults);
    bool more = true;
    while (more && !c->failed) {
        uint8_t op = read_u8(c);
        more = c->reachable ? live_op(c, codes, op) : dead_op(c, op);
    }
    if (c->failed || !finish(c, code))
        return WP_ERR_NOMEM;
    code->func_index = fi;
    code->nparams = t->nparams;
    code->nlocals = fd->nlocals + 1;
    code->nresults = t->nresults;
    code->nslots = c->nlocals + c->max_sp + 1;
    return WP_OK;
}

wp_status wp__compile(wp_module *m, wp_err *err) {
    uint32_t ndef = m->nfuncs - m->nimported_funcs;
    if (ndef == 0)
        return WP_OK;
    wp_code **codes = wp_heap_calloc(m->heap, ndef, sizeof(wp_code *));
    if (!codes)
        return wp_err_set(err, WP_ERR_NOMEM, "compiling: out of memory");
    wp_status st = WP_OK;
    /* All code objects exist before any body is compiled, so calls can point at them. */
    for (uint32_t i = 0; i < ndef && st == WP_OK; i++) {
        codes[i] = wp_heap_zalloc(m->heap, sizeof(wp_code));
        m->funcs[m->nimported_funcs + i].code = codes[i];
        if (!codes[i])
            st = WP_ERR_NOMEM;
    }
    comp c = {.heap = m->heap, .m = m};
    for (uint32_t i = 0; i < ndef && st == WP_OK; i++)
        st = compile_func(&c, codes, m->nimported_funcs + i);
    comp_free(&c);
    wp_heap_free(m->heap, codes, (size_t)ndef * sizeof(wp_code *));
    if (st != WP_OK)
        return wp_err_set(err, st, "compiling: out of memory");
    return WP_OK;
}

void wp__code_free(wp_heap *heap, struct wp_code *code) {
    if (!code)
        return;
    wp_heap_free(heap, code->cells, (size_t)code->ncells * sizeof(wp_cell));
    wp_heap_free(heap, code, sizeof *code);
}
