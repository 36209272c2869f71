/* resource.c: the handle tables of component instances (one each, root and nested): handles,
 * own/borrow rules, borrow scopes of calls, resource.new, .drop, .rep, and handles crossing
 * between tables, to hosts and to embedders. */
#include <inttypes.h>
#include <string.h>

#include "internal.h"

#define MAX_HANDLES (1u << 20) /* live handles of one table */

static const char *res_name(const rtype *rt) { return rt->name ? rt->name : "resource"; }

rcomp *comp__rcomp_new(wp_comp_inst *ci, rcomp *parent) {
    rcomp *rc = comp__alloc(ci, sizeof *rc);
    if (rc) {
        rc->parent = parent;
        rc->id = ci->nrcomps++;
        rc->next = ci->rcomps;
        ci->rcomps = rc;
    }
    return rc;
}

bool comp__bind(wp_comp_inst *ci, rcomp *rc, uint32_t res, rtype *rt) {
    if (!comp__grow(ci->mem, (void **)&rc->binds, &rc->binds_cap, rc->nbinds + 1,
                    sizeof *rc->binds))
        return false;
    rc->binds[rc->nbinds++] = (rbind){res, rt};
    ci->rtypes[res] = rt;
    return true;
}

rtype *comp__rtype(const wp_comp_inst *ci, const rcomp *rc, uint32_t res) {
    for (; rc; rc = rc->parent)
        for (uint32_t i = rc->nbinds; i-- > 0;) /* the latest binding of the number */
            if (rc->binds[i].res == res)
                return rc->binds[i].rt;
    return ci->rtypes[res];
}

/* The type of own/borrow type t, in the instance its function type belongs to. */
static const rtype *type_of(const handle_cx *hc, const wp_wit_type *t) {
    return comp__rtype(hc->ci, hc->types, wit__node(t)->res);
}

/* Whether instance rc defined rt (it implements it: it deals in representations). */
static bool defines(const rcomp *rc, const rtype *rt) { return rt->local && rt->definer == rc; }

static wp_status new_handle(rcomp *tab, const rtype *rt, int64_t rep, bool own, uint32_t *out,
                            wp_err *err) {
    uint32_t i = 1; /* handle 0 is never valid */
    while (i < tab->nhandles && tab->handles[i].used)
        i++;
    if (i >= tab->handles_cap) {
        uint32_t ncap = tab->handles_cap ? tab->handles_cap * 2 : 16;
        if (ncap > MAX_HANDLES)
            return wp_err_set(err, WP_ERR_TRAP, "too many resource handles");
        rhandle *h = wp_heap_realloc(wp_heap_default(), tab->handles,
                                     tab->handles_cap * sizeof *h, ncap * sizeof *h);
        if (!h)
            return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
        memset(h + tab->handles_cap, 0, (ncap - tab->handles_cap) * sizeof *h);
        tab->handles = h;
        tab->handles_cap = ncap;
    }
    if (i >= tab->nhandles)
        tab->nhandles = i + 1;
    tab->handles[i] = (rhandle){.used = true, .own = own, .rt = rt, .rep = rep};
    *out = i;
    return WP_OK;
}

/* The live handle h of resource type rt in tab, or a trap naming what is wrong. */
static wp_status get_handle(rcomp *tab, const rtype *rt, uint32_t h, rhandle **out,
                            wp_err *err) {
    if (h == 0 || h >= tab->nhandles || !tab->handles[h].used)
        return wp_err_set(err, WP_ERR_TRAP, "unknown handle %u of %s", h, res_name(rt));
    const rtype *has = tab->handles[h].rt;
    if (has != rt && has->definer && rt->definer && strcmp(res_name(has), res_name(rt)) == 0)
        return wp_err_set(err, WP_ERR_TRAP, "handle %u is a %s of another type (made by "
                          "component instance %u, not %u)", h, res_name(rt), has->definer->id,
                          rt->definer->id);
    if (has != rt)
        return wp_err_set(err, WP_ERR_TRAP, "handle %u is not a %s (a %s of another type)", h,
                          res_name(rt), res_name(has));
    *out = &tab->handles[h];
    return WP_OK;
}

/* Frees what an owned representation holds: a host resource's drop (a guest destructor runs
 * in the guest: the caller does that). */
static void drop_host_rep(const rtype *r, int64_t rep) {
    if (r->hres && r->hres->drop)
        r->hres->drop(r->host->ctx, rep);
}

void comp__handles_free(wp_comp_inst *ci) {
    for (rcomp *tab = ci->rcomps; tab; tab = tab->next) {
        for (uint32_t i = 1; i < tab->nhandles; i++)
            if (tab->handles[i].used && tab->handles[i].own)
                drop_host_rep(tab->handles[i].rt, tab->handles[i].rep);
        wp_heap_free(wp_heap_default(), tab->handles, tab->handles_cap * sizeof *tab->handles);
        tab->handles = NULL;
        tab->nhandles = tab->handles_cap = 0;
    }
}

/* ---- Borrow scopes ----------------------------------------------------------------------- */

void comp__scope_begin(wp_comp_inst *ci, bscope *sc, rcomp *lender, rcomp *borrower) {
    *sc = (bscope){.lender = lender, .borrower = borrower, .id = ++ci->scopes};
    if (!sc->id) /* wrapped: 0 means "no scope" */
        sc->id = ++ci->scopes;
}

/* Whether borrow handle made[k] of the scope is still in the callee's table. */
static bool scope_holds(const bscope *sc, uint32_t k) {
    uint32_t i = sc->made[k];
    const rcomp *t = sc->borrower;
    return t && i < t->nhandles && t->handles[i].used && !t->handles[i].own &&
           t->handles[i].scope == sc->id;
}

uint32_t comp__scope_held(const bscope *sc) {
    for (uint32_t k = 0; k < sc->nmade; k++)
        if (scope_holds(sc, k))
            return sc->made[k];
    return 0;
}

void comp__scope_end(bscope *sc) {
    for (uint32_t k = 0; k < sc->nmade; k++)
        if (scope_holds(sc, k))
            sc->borrower->handles[sc->made[k]] = (rhandle){0};
    rcomp *t = sc->lender;
    for (uint32_t k = 0; t && k < sc->nlent; k++)
        if (sc->lent[k] < t->nhandles && t->handles[sc->lent[k]].lends)
            t->handles[sc->lent[k]].lends--;
    sc->nmade = sc->nlent = 0;
}

/* Counts handle i of the lender's table (the caller's) as lent for the scope's call: its owner
 * may not give it away or drop it until the call ends. */
static void lend(bscope *sc, uint32_t i) {
    if (sc->nlent >= LEND_MAX) /* only the first ones are guarded */
        return;
    sc->lender->handles[i].lends++;
    sc->lent[sc->nlent++] = i;
}

/* A borrow of rep for the scope's callee, whose table is tab: the representation itself when
 * tab's instance defined the resource (all it can do with it is resource.rep), else a new
 * borrow handle it must drop before it returns. */
static wp_status lower_borrow(rcomp *tab, bscope *sc, const rtype *rt, int64_t rep,
                              uint32_t *out, wp_err *err) {
    if (defines(tab, rt)) {
        *out = (uint32_t)rep;
        return WP_OK;
    }
    if (sc->nmade >= LEND_MAX)
        return wp_err_set(err, WP_ERR_INVALID, "more than %u borrowed handles in one call",
                          LEND_MAX);
    wp_status st = new_handle(tab, rt, rep, false, out, err);
    if (st != WP_OK)
        return st;
    tab->handles[*out].scope = sc->id;
    sc->made[sc->nmade++] = *out;
    return WP_OK;
}

/* ---- Crossing the Canonical ABI ---------------------------------------------------------- */

static wp_status want_int(const wp_wit_type *t, const wp_value *v, wp_err *err) {
    if (v->kind == WP_VINT)
        return WP_OK;
    return wp_err_set(err, WP_ERR_INVALID, "expected a %s<%s> handle (an integer), got %s",
                      wp_wit_kind_name(t->kind), t->name ? t->name : "resource",
                      wp_vkind_name(v->kind));
}

/* The embedder passes handle v of the root's table (one an export gave it) to a function of
 * the instance with table hc->tab. */
static wp_status lower_embedder(handle_cx *hc, const wp_wit_type *t, int64_t v, uint32_t *out,
                                wp_err *err) {
    wp_comp_inst *ci = hc->ci;
    rcomp *root = ci->root;
    const rtype *rt = type_of(hc, t);
    rhandle *h = NULL;
    if (v <= 0 || v > UINT32_MAX)
        return wp_err_set(err, WP_ERR_INVALID, "%" PRId64 " is no handle", v);
    uint32_t i = (uint32_t)v;
    if (get_handle(root, rt, i, &h, err) != WP_OK) {
        err->kind = WP_ERR_INVALID; /* the embedder's mistake, not the guest's */
        return WP_ERR_INVALID;
    }
    if (!h->host_held)
        return wp_err_set(err, WP_ERR_INVALID, "handle %u is not yours to %s", i,
                          t->kind == WP_WIT_OWN ? "give" : "lend");
    if (t->kind == WP_WIT_BORROW) { /* the embedder's call's scope lends from the root */
        lend(hc->scope, i);
        return lower_borrow(hc->tab, hc->scope, rt, h->rep, out, err);
    }
    if (h->lends)
        return wp_err_set(err, WP_ERR_INVALID, "handle %u is still lent out", i);
    if (hc->tab == root) { /* the component takes it back: the same handle */
        h->host_held = false;
        *out = i;
        return WP_OK;
    }
    rhandle moved = *h; /* into a nested instance's table */
    *h = (rhandle){0};
    wp_status st = new_handle(hc->tab, rt, moved.rep, true, out, err);
    if (st != WP_OK)
        root->handles[i] = moved;
    return st;
}

wp_status comp__lower_handle(wp_cabi *cx, const wp_wit_type *t, const wp_value *v, uint32_t *out,
                             wp_err *err) {
    handle_cx *hc = cx->handles;
    wp_status st = want_int(t, v, err);
    if (st != WP_OK)
        return st;
    if (!hc) { /* a core module (wit:): no table, the handle is the module's own number */
        if (v->of.i < 0 || v->of.i > UINT32_MAX)
            return wp_err_set(err, WP_ERR_INVALID, "%" PRId64 " is no handle", v->of.i);
        *out = (uint32_t)v->of.i;
        return WP_OK;
    }
    if (!hc->host_reps)
        return lower_embedder(hc, t, v->of.i, out, err);
    const rtype *rt = type_of(hc, t);
    if (t->kind == WP_WIT_OWN) /* a resource moving in: a new owned handle */
        return new_handle(hc->tab, rt, v->of.i, true, out, err);
    if (!hc->scope) /* validation keeps borrows out of results: a host's result type is wrong */
        return wp_err_set(err, WP_ERR_INVALID, "a host cannot return a borrow");
    return lower_borrow(hc->tab, hc->scope, rt, v->of.i, out, err);
}

/* Whether own handle hi (h) can be given away, or a trap saying why it cannot. */
static wp_status movable(const rhandle *h, uint32_t hi, wp_err *err) {
    if (!h->own || h->host_held)
        return wp_err_set(err, WP_ERR_TRAP, "handle %u is borrowed, not owned", hi);
    if (h->lends)
        return wp_err_set(err, WP_ERR_TRAP, "handle %u is still lent out", hi);
    return WP_OK;
}

/* An export's result hi (h, of hc->tab): an own handle the embedder holds from now on, in the
 * root's table (moved there from a nested instance's). */
static wp_status lift_embedder(handle_cx *hc, const wp_wit_type *t, rhandle *h, uint32_t hi,
                               wp_value *out, wp_err *err) {
    wp_comp_inst *ci = hc->ci;
    uint32_t mine = hi;
    wp_status st = WP_OK;
    if (t->kind == WP_WIT_BORROW) { /* validation keeps borrows out of results */
        *out = wp_value_int(hi);
        return WP_OK;
    }
    if ((st = movable(h, hi, err)) != WP_OK)
        return st;
    if (hc->tab != ci->root) {
        rhandle moved = *h;
        *h = (rhandle){0};
        if ((st = new_handle(ci->root, moved.rt, moved.rep, true, &mine, err)) != WP_OK) {
            hc->tab->handles[hi] = moved;
            return st;
        }
    }
    ci->root->handles[mine].host_held = true;
    *out = wp_value_int(mine);
    return WP_OK;
}

wp_status comp__lift_handle(wp_cabi *cx, const wp_wit_type *t, uint32_t hi, wp_value *out,
                            wp_err *err) {
    handle_cx *hc = cx->handles;
    if (!hc) { /* a core module (wit:): the module's own number */
        *out = wp_value_int(hi);
        return WP_OK;
    }
    rhandle *h = NULL;
    wp_status st = get_handle(hc->tab, type_of(hc, t), hi, &h, err);
    if (st != WP_OK)
        return st;
    if (!hc->host_reps)
        return lift_embedder(hc, t, h, hi, out, err);
    if (t->kind == WP_WIT_OWN) { /* moved to the host or the other component */
        if ((st = movable(h, hi, err)) != WP_OK)
            return st;
        *out = wp_value_int(h->rep);
        *h = (rhandle){0};
        return WP_OK;
    }
    if (!hc->scope)
        return wp_err_set(err, WP_ERR_TRAP, "a borrow cannot be returned");
    lend(hc->scope, hi); /* the scope's lender is this side's table */
    *out = wp_value_int(h->rep);
    return WP_OK;
}

/* ---- resource.new, resource.drop, resource.rep -------------------------------------------- */

typedef struct res_env {
    wp_comp_inst *ci;
    rcomp *tab; /* the instance that made the canon definition */
    rtype *rt;  /* the type it names there */
} res_env;

static wp_host_result res_new(wp_host_call *call, void *env, const wp_val *args, wp_val *results) {
    res_env *e = env;
    uint32_t h = 0;
    wp_err err;
    if (new_handle(e->tab, e->rt, (int64_t)args[0].of.i32, true, &h, &err) != WP_OK)
        return wp_host_trap(call, "resource.new: %s", err.msg);
    results[0] = wp_val_i32(h);
    return WP_HOST_OK;
}

static wp_host_result res_rep(wp_host_call *call, void *env, const wp_val *args, wp_val *results) {
    res_env *e = env;
    rhandle *h = NULL;
    wp_err err;
    if (get_handle(e->tab, e->rt, args[0].of.i32, &h, &err) != WP_OK)
        return wp_host_trap(call, "resource.rep: %s", err.msg);
    results[0] = wp_val_i32((uint32_t)h->rep);
    return WP_HOST_OK;
}

/* Runs the destructor of guest resource r for rep, called from instance tab: a call into the
 * instance that defined r (CanonicalABI.md: entering it may be reentrance). */
static wp_status call_dtor(wp_comp_inst *ci, wp_host_call *call, rcomp *tab, const rtype *r,
                           int64_t rep, wp_err *err) {
    wp_val arg = wp_val_i32((uint32_t)rep);
    wp_status st = comp__enter(ci, r->definer, tab, err);
    if (st != WP_OK)
        return st;
    st = wp_host_call_nested(call, r->dtor, &arg, 1, NULL, 0, err);
    comp__leave(r->definer, tab);
    return st;
}

static wp_host_result res_drop(wp_host_call *call, void *env, const wp_val *args,
                               wp_val *results) {
    (void)results;
    res_env *e = env;
    rhandle *h = NULL;
    wp_err err;
    if (get_handle(e->tab, e->rt, args[0].of.i32, &h, &err) != WP_OK)
        return wp_host_trap(call, "resource.drop: %s", err.msg);
    if (h->lends)
        return wp_host_trap(call, "resource.drop: handle %u is still lent out", args[0].of.i32);
    if (h->host_held) /* the embedder's: not the component's to drop */
        return wp_host_trap(call, "resource.drop: handle %u is borrowed", args[0].of.i32);
    rhandle gone = *h;
    *h = (rhandle){0};
    const rtype *r = gone.rt; /* the handle's own type: its destructor, of its instance */
    if (!gone.own) /* a borrow ends */
        return WP_HOST_OK;
    if (!r->local) {
        drop_host_rep(r, gone.rep);
        return WP_HOST_OK;
    }
    if (r->dtor && call_dtor(e->ci, call, e->tab, r, gone.rep, &err) != WP_OK)
        return wp_host_trap(call, "resource destructor: %s", err.msg);
    return WP_HOST_OK;
}

wp_status comp__resource_func(wp_comp_inst *ci, rcomp *tab, cdef_kind kind, rtype *rt,
                              wp_func **out, wp_err *err) {
    static const wp_valtype i32_i32[] = {WP_I32, WP_I32};
    res_env *e = comp__alloc(ci, sizeof *e);
    if (!e)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    e->ci = ci;
    e->tab = tab;
    e->rt = rt;
    wp_functype ft = {.nparams = 1, .nresults = kind == CD_RES_DROP ? 0 : 1, .types = i32_i32};
    wp_host_fn fn = kind == CD_RES_NEW ? res_new : kind == CD_RES_REP ? res_rep : res_drop;
    return wp_func_new_host(ci->store, &ft, fn, e, out, err);
}

/* ---- Reentrance ----------------------------------------------------------------------------- */

/* Whether a is b or one of b's ancestors. */
static bool encloses(const rcomp *a, const rcomp *b) {
    for (; b; b = b->parent)
        if (a == b)
            return true;
    return false;
}

wp_status comp__enter(wp_comp_inst *ci, rcomp *callee, const rcomp *caller, wp_err *err) {
    for (rcomp *rc = callee; rc && !encloses(rc, caller); rc = rc->parent)
        if (rc->entered == ci->epoch)
            return wp_err_set(err, WP_ERR_TRAP, "cannot enter component instance %u: it is "
                              "already on the call stack (no reentrance)", rc->id);
    for (rcomp *rc = callee; rc && !encloses(rc, caller); rc = rc->parent)
        rc->entered = ci->epoch;
    return WP_OK;
}

void comp__leave(rcomp *callee, const rcomp *caller) {
    for (rcomp *rc = callee; rc && !encloses(rc, caller); rc = rc->parent)
        rc->entered = 0;
}

bool comp__busy(const wp_comp_inst *ci) { return ci->call_x && wp_exec_busy(ci->call_x); }

void comp__new_epoch(wp_comp_inst *ci) {
    if (++ci->epoch)
        return;
    ci->epoch = 1; /* wrapped: an old epoch left by a trapped call must not come back */
    for (rcomp *rc = ci->rcomps; rc; rc = rc->next)
        rc->entered = 0;
}

/* ---- The embedder's handles -------------------------------------------------------------- */

/* Runs destructor dtor for rep to its end on the idle exec x. */
static wp_status run_dtor(wp_exec *x, wp_func *dtor, int64_t rep, wp_err *err) {
    wp_val arg = wp_val_i32((uint32_t)rep);
    wp_status st = wp_call(x, dtor, &arg, 1, NULL, 0, NULL, err);
    if (st == WP_ERR_INVALID) /* x was idle and the type is right: a host call went pending */
        return wp_err_set(err, WP_ERR_TRAP, "resource destructor: a host call went pending "
                          "(a destructor cannot wait)");
    return st == WP_OK ? WP_OK : wp_err_wrap(err, "resource destructor");
}

wp_status wp_comp_resource_drop(wp_comp_inst *ci, wp_exec *x, uint32_t handle, wp_err *err) {
    rcomp *root = ci->root;
    if (handle == 0 || handle >= root->nhandles || !root->handles[handle].used)
        return wp_err_set(err, WP_ERR_INVALID, "unknown handle %u", handle);
    rhandle *h = &root->handles[handle];
    if (!h->host_held)
        return wp_err_set(err, WP_ERR_INVALID, "handle %u is not yours to drop (the component "
                          "holds it)", handle);
    if (h->lends)
        return wp_err_set(err, WP_ERR_INVALID, "handle %u is still lent out", handle);
    const rtype *r = h->rt; /* its own type: the destructor of the instance that made it */
    bool guest = r->local && r->dtor;
    if (guest && !x)
        return wp_err_set(err, WP_ERR_INVALID, "handle %u: its destructor needs an exec",
                          handle);
    if (guest && comp__busy(ci)) /* the destructor would enter an instance on the call stack */
        return wp_err_set(err, WP_ERR_INVALID, "handle %u: its destructor cannot run while a "
                          "call of the component is in progress", handle);
    if (guest && wp_exec_busy(x))
        return wp_err_set(err, WP_ERR_INVALID, "handle %u: its destructor cannot begin: the exec "
                          "is busy", handle);
    rhandle gone = *h;
    *h = (rhandle){0}; /* gone before the destructor runs, as resource.drop does */
    if (!guest) {
        if (!r->local)
            drop_host_rep(r, gone.rep);
        return WP_OK;
    }
    comp__new_epoch(ci);
    comp__enter(ci, r->definer, NULL, err); /* nothing is entered in a new epoch */
    ci->call_x = x; /* in progress: the destructor's host calls cannot enter the component */
    wp_status st = run_dtor(x, r->dtor, gone.rep, err);
    ci->call_x = NULL;
    comp__leave(r->definer, NULL);
    return st;
}
