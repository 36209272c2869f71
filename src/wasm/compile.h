/* compile.h: the compiler's state and the helpers its files share (compile.c: functions, the
 * virtual stack, emission and pairing; compile_flow.c: control flow; compile_fuse.c: operators
 * and memory accesses with their fusions). Included by those files only. See
 * docs/interpreter.md for the design and code.h for the code it emits. */
#ifndef WP_WASM_COMPILE_H
#define WP_WASM_COMPILE_H

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

    /* Metered code (instruction fuel): each straight-line run starts with FUEL n, where n is
     * the number of wasm instructions in the run. 'fuel_cell' is the current run's n cell (-1:
     * none) and 'fuel_n' its instructions so far. */
    bool metered;
    int64_t fuel_cell;
    uint64_t fuel_n;
} comp;

/* ---- Shared between the compiler's files --------------------------------------------------- */

/* Grows *arr (of *cap elements of elem bytes) to hold need; false (and c failed) if it cannot. */
bool wp__comp_grow(comp *c, void **arr, uint32_t *cap, uint32_t need, size_t elem);

/* Copies entry e into slot dst (no code if it is already there). */
void wp__comp_move(comp *c, uint32_t dst, vent e);

/* Control flow (compile_flow.c). */
cframe *wp__flow_push_frame(comp *c, uint8_t kind, uint32_t np, uint32_t nr);
void wp__flow_block(comp *c, uint8_t kind); /* block or loop */
void wp__flow_if(comp *c);
void wp__flow_else(comp *c);
bool wp__flow_end(comp *c); /* false at the function's final end */
void wp__flow_br(comp *c, uint32_t depth);
void wp__flow_br_if(comp *c, uint32_t depth);
void wp__flow_br_table(comp *c);
void wp__flow_return(comp *c);
void wp__flow_call(comp *c, wp_code **codes, uint32_t fi);
void wp__flow_call_indirect(comp *c);

/* Operators and memory accesses (compile_fuse.c). wp__fuse_operator compiles a numeric
 * operator, load or store and returns false for any other opcode. */
bool wp__fuse_operator(comp *c, uint8_t op);
void wp__fuse_unop(comp *c, wp_iop iop);

/* ---- Small helpers ------------------------------------------------------------------------- */

/* After a failure the function's code is discarded; until then, fusions must not look at
 * half-emitted instructions. */
static inline void fail(comp *c) {
    c->failed = true;
    c->last_start = c->last_dst = c->prev_start = -1;
}

static inline void emit_u(comp *c, uint64_t v) {
    if (!wp__comp_grow(c, (void **)&c->cells, &c->cap_cells, c->ncells + 1, sizeof(wp_cell)))
        return;
    c->cells[c->ncells++].u = v;
}

static inline void emit_op(comp *c, wp_iop op) {
    if (!wp__comp_grow(c, (void **)&c->starts, &c->cap_starts, c->nstarts + 1, sizeof(uint32_t)))
        return;
    c->prev_start = c->last_start;
    c->last_start = c->ncells;
    c->last_dst = -1;
    c->starts[c->nstarts++] = c->ncells;
    emit_u(c, op);
}

/* Emits a destination slot that a following local.set may redirect to the local itself. */
static inline void emit_dst(comp *c, uint32_t slot) {
    c->last_dst = c->ncells;
    emit_u(c, slot);
}

/* Removes the last instruction (to be fused into the one about to be emitted). */
static inline void drop_last(comp *c) {
    c->ncells = (uint32_t)c->last_start;
    c->nstarts--;
    c->last_start = c->prev_start;
    c->prev_start = -1;
    c->last_dst = -1;
}

/* Metered code: the current straight-line run ends here (its FUEL gets its count). */
static inline void meter_close(comp *c) {
    if (c->fuel_cell >= 0 && !c->failed)
        c->cells[c->fuel_cell].u = c->fuel_n;
    c->fuel_cell = -1;
    c->fuel_n = 0;
}

/* Metered code: a straight-line run begins here (a label, or the fall-through of a branch). */
static inline void meter_run(comp *c) {
    if (!c->metered)
        return;
    meter_close(c);
    emit_op(c, WP_I_FUEL);
    emit_u(c, 0);
    c->fuel_cell = c->failed ? -1 : (int64_t)c->ncells - 1;
}

/* The home slot of stack position 'depth'. */
static inline uint32_t home(const comp *c, uint32_t depth) { return c->nlocals + depth; }

static inline void push(comp *c, uint8_t kind, uint32_t slot, uint64_t bits) {
    if (!wp__comp_grow(c, (void **)&c->vs, &c->cap_vs, c->sp + 1, sizeof(vent)))
        return;
    c->vs[c->sp++] = (vent){kind, slot, bits};
    if (c->sp > c->max_sp)
        c->max_sp = c->sp;
}

static inline void push_temp(comp *c) { push(c, V_TEMP, home(c, c->sp), 0); }

static inline vent pop(comp *c) {
    if (c->sp == 0 || c->failed) { /* only after a failure: the input is validated */
        fail(c);
        return (vent){V_CONST, 0, 0};
    }
    return c->vs[--c->sp];
}


/* The slot holding e's value; a constant is first written to 'spill' (its home slot). */
static inline uint32_t slot_of(comp *c, vent e, uint32_t spill) {
    if (e.kind != V_CONST)
        return e.slot;
    wp__comp_move(c, spill, e);
    return spill;
}

static inline void materialize(comp *c, uint32_t depth) {
    vent *e = &c->vs[depth];
    if (e->kind == V_TEMP)
        return;
    wp__comp_move(c, home(c, depth), *e);
    *e = (vent){V_TEMP, home(c, depth), 0};
}

static inline uint32_t read_u32(comp *c) {
    uint32_t v = 0;
    if (!rd_u32(&c->rd, &v))
        fail(c);
    return v;
}

static inline uint8_t read_u8(comp *c) {
    uint8_t v = 0;
    if (!rd_u8(&c->rd, &v))
        fail(c);
    return v;
}

#endif
