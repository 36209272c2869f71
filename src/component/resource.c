/* resource.c: an instance's resource table: handles, own/borrow rules, resource.new, .drop,
 * .rep, and handles crossing to hosts and embedders. */
#include <inttypes.h>
#include <string.h>

#include "internal.h"

#define MAX_HANDLES (1u << 20) /* live handles of one instance */

static const char *res_name(const wp_comp_inst *ci, uint32_t res) {
    const char *n = ci->rtypes[res].name;
    return n ? n : "resource";
}

static wp_status new_handle(wp_comp_inst *ci, uint32_t res, int64_t rep, bool own, uint32_t *out,
                            wp_err *err) {
    uint32_t i = 1; /* handle 0 is never valid */
    while (i < ci->nhandles && ci->handles[i].used)
        i++;
    if (i >= ci->handles_cap) {
        uint32_t ncap = ci->handles_cap ? ci->handles_cap * 2 : 16;
        if (ncap > MAX_HANDLES)
            return wp_err_set(err, WP_ERR_TRAP, "too many resource handles");
        rhandle *h = wp_heap_realloc(wp_heap_default(), ci->handles,
                                     ci->handles_cap * sizeof *h, ncap * sizeof *h);
        if (!h)
            return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
        memset(h + ci->handles_cap, 0, (ncap - ci->handles_cap) * sizeof *h);
        ci->handles = h;
        ci->handles_cap = ncap;
    }
    if (i >= ci->nhandles)
        ci->nhandles = i + 1;
    ci->handles[i] = (rhandle){.used = true, .own = own, .res = ci->rtypes[res].canon, .rep = rep};
    *out = i;
    return WP_OK;
}

/* The live handle h of resource res, or a trap naming what is wrong. */
static wp_status get_handle(wp_comp_inst *ci, uint32_t res, uint32_t h, rhandle **out,
                            wp_err *err) {
    if (h == 0 || h >= ci->nhandles || !ci->handles[h].used)
        return wp_err_set(err, WP_ERR_TRAP, "unknown handle %u of %s", h, res_name(ci, res));
    if (ci->handles[h].res != ci->rtypes[res].canon)
        return wp_err_set(err, WP_ERR_TRAP, "handle %u is not a %s", h, res_name(ci, res));
    *out = &ci->handles[h];
    return WP_OK;
}

/* Frees what an owned representation holds: a host resource's drop (a local destructor runs
 * in the guest: the caller does that). */
static void drop_host_rep(wp_comp_inst *ci, uint32_t res, int64_t rep) {
    const rtype *r = &ci->rtypes[res];
    if (r->hres && r->hres->drop)
        r->hres->drop(r->host->ctx, rep);
}

void comp__handles_free(wp_comp_inst *ci) {
    for (uint32_t i = 1; i < ci->nhandles; i++)
        if (ci->handles[i].used && ci->handles[i].own)
            drop_host_rep(ci, ci->handles[i].res, ci->handles[i].rep);
    wp_heap_free(wp_heap_default(), ci->handles, ci->handles_cap * sizeof *ci->handles);
    ci->handles = NULL;
    ci->nhandles = ci->handles_cap = 0;
}

/* ---- Crossing the Canonical ABI ---------------------------------------------------------- */


static wp_status want_int(const wp_wit_type *t, const wp_value *v, wp_err *err) {
    if (v->kind == WP_VINT)
        return WP_OK;
    return wp_err_set(err, WP_ERR_INVALID, "expected a %s<%s> handle (an integer), got %s",
                      wp_wit_kind_name(t->kind), t->name ? t->name : "resource",
                      wp_vkind_name(v->kind));
}

/* A borrow handle for the embedder's call, lent from handle from (its lends counted until the
 * guest drops it or the call ends). */
static wp_status lend_to_call(wp_comp_inst *ci, uint32_t res, uint32_t from, uint32_t *out,
                              wp_err *err) {
    if (ci->ncall_borrows >= LEND_MAX)
        return wp_err_set(err, WP_ERR_INVALID, "more than %u borrowed handles in one call",
                          LEND_MAX);
    wp_status st = new_handle(ci, res, ci->handles[from].rep, false, out, err);
    if (st != WP_OK)
        return st;
    ci->handles[*out].lender = from; /* handles may have moved: index, not pointer */
    ci->handles[from].lends++;
    ci->call_borrows[ci->ncall_borrows++] = *out;
    return WP_OK;
}

/* Removes borrow handle i, giving its lender's lend back. */
static void drop_borrow(wp_comp_inst *ci, uint32_t i) {
    uint32_t from = ci->handles[i].lender;
    ci->handles[i] = (rhandle){0};
    if (from && from < ci->nhandles && ci->handles[from].lends)
        ci->handles[from].lends--;
}

uint32_t comp__held_call_borrow(const wp_comp_inst *ci) {
    for (uint32_t k = 0; k < ci->ncall_borrows; k++) {
        uint32_t i = ci->call_borrows[k];
        if (i < ci->nhandles && ci->handles[i].used && !ci->handles[i].own &&
            ci->handles[i].lender)
            return i;
    }
    return 0;
}

void comp__end_call_borrows(wp_comp_inst *ci) {
    for (uint32_t k = 0; k < ci->ncall_borrows; k++) {
        uint32_t i = ci->call_borrows[k];
        if (i < ci->nhandles && ci->handles[i].used && !ci->handles[i].own &&
            ci->handles[i].lender)
            drop_borrow(ci, i);
    }
    ci->ncall_borrows = 0;
}

wp_status comp__lower_handle(wp_cabi *cx, const wp_wit_type *t, const wp_value *v, uint32_t *out,
                             wp_err *err) {
    const handle_cx *hc = cx->handles;
    wp_status st = want_int(t, v, err);
    if (st != WP_OK)
        return st;
    if (!hc) { /* a core module (wit:): no table, the handle is the module's own number */
        if (v->of.i < 0 || v->of.i > UINT32_MAX)
            return wp_err_set(err, WP_ERR_INVALID, "%" PRId64 " is no handle", v->of.i);
        *out = (uint32_t)v->of.i;
        return WP_OK;
    }
    wp_comp_inst *ci = hc->ci;
    uint32_t res = wit__node(t)->res;
    if (hc->host_reps) { /* a host's result: a new resource it made */
        if (t->kind == WP_WIT_BORROW)
            return wp_err_set(err, WP_ERR_INVALID, "a host cannot return a borrow");
        return new_handle(ci, res, v->of.i, true, out, err);
    }
    /* the embedder passes a handle it got from an export */
    rhandle *h = NULL;
    if (v->of.i <= 0 || v->of.i > UINT32_MAX)
        return wp_err_set(err, WP_ERR_INVALID, "%" PRId64 " is no handle", v->of.i);
    if ((st = get_handle(ci, res, (uint32_t)v->of.i, &h, err)) != WP_OK) {
        err->kind = WP_ERR_INVALID; /* the embedder's mistake, not the guest's */
        return WP_ERR_INVALID;
    }
    if (t->kind == WP_WIT_OWN) {
        if (!h->host_held)
            return wp_err_set(err, WP_ERR_INVALID, "handle %" PRId64 " is not yours to give",
                              v->of.i);
        if (h->lends)
            return wp_err_set(err, WP_ERR_INVALID, "handle %" PRId64 " is still lent out",
                              v->of.i);
        h->host_held = false;
        *out = (uint32_t)v->of.i;
        return WP_OK;
    }
    if (!h->host_held)
        return wp_err_set(err, WP_ERR_INVALID, "handle %" PRId64 " is not yours to lend",
                          v->of.i);
    /* borrow: a resource the component defines is passed as its representation */
    if (ci->rtypes[res].local) {
        *out = (uint32_t)h->rep;
        return WP_OK;
    }
    return lend_to_call(ci, res, (uint32_t)v->of.i, out, err);
}

wp_status comp__lift_handle(wp_cabi *cx, const wp_wit_type *t, uint32_t hi, wp_value *out,
                            wp_err *err) {
    handle_cx *hc = cx->handles;
    if (!hc) { /* a core module (wit:): the module's own number */
        *out = wp_value_int(hi);
        return WP_OK;
    }
    wp_comp_inst *ci = hc->ci;
    uint32_t res = wit__node(t)->res;
    rhandle *h = NULL;
    wp_status st = get_handle(ci, res, hi, &h, err);
    if (st != WP_OK)
        return st;
    if (!hc->host_reps) { /* an export's result: the embedder holds it now */
        if (t->kind == WP_WIT_OWN)
            h->host_held = true;
        *out = wp_value_int(hi);
        return WP_OK;
    }
    if (t->kind == WP_WIT_OWN) { /* moved to the host */
        if (!h->own || h->host_held)
            return wp_err_set(err, WP_ERR_TRAP, "handle %u is borrowed, not owned", hi);
        if (h->lends)
            return wp_err_set(err, WP_ERR_TRAP, "handle %u is still lent out", hi);
        *out = wp_value_int(h->rep);
        *h = (rhandle){0};
        return WP_OK;
    }
    if (hc->nlent < LEND_MAX) { /* lent for the call: its owner may not give it away */
        h->lends++;
        hc->lent[hc->nlent++] = hi;
    }
    *out = wp_value_int(h->rep);
    return WP_OK;
}

void comp__unlend(wp_comp_inst *ci, const uint32_t *lent, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        if (lent[i] < ci->nhandles && ci->handles[lent[i]].used && ci->handles[lent[i]].lends)
            ci->handles[lent[i]].lends--;
}

/* ---- resource.new, resource.drop, resource.rep -------------------------------------------- */

typedef struct res_env {
    wp_comp_inst *ci;
    uint32_t res;
} res_env;

static wp_host_result res_new(wp_host_call *call, void *env, const wp_val *args, wp_val *results) {
    res_env *e = env;
    uint32_t h = 0;
    wp_err err;
    if (new_handle(e->ci, e->res, (int64_t)args[0].of.i32, true, &h, &err) != WP_OK)
        return wp_host_trap(call, "resource.new: %s", err.msg);
    results[0] = wp_val_i32(h);
    return WP_HOST_OK;
}

static wp_host_result res_rep(wp_host_call *call, void *env, const wp_val *args, wp_val *results) {
    res_env *e = env;
    rhandle *h = NULL;
    wp_err err;
    if (get_handle(e->ci, e->res, args[0].of.i32, &h, &err) != WP_OK)
        return wp_host_trap(call, "resource.rep: %s", err.msg);
    results[0] = wp_val_i32((uint32_t)h->rep);
    return WP_HOST_OK;
}

static wp_host_result res_drop(wp_host_call *call, void *env, const wp_val *args,
                               wp_val *results) {
    (void)results;
    res_env *e = env;
    rhandle *h = NULL;
    wp_err err;
    if (get_handle(e->ci, e->res, args[0].of.i32, &h, &err) != WP_OK)
        return wp_host_trap(call, "resource.drop: %s", err.msg);
    if (h->lends)
        return wp_host_trap(call, "resource.drop: handle %u is still lent out", args[0].of.i32);
    if (h->host_held) /* the embedder's: not the component's to drop */
        return wp_host_trap(call, "resource.drop: handle %u is borrowed", args[0].of.i32);
    if (!h->own) { /* a borrow ends: its lender may move again */
        drop_borrow(e->ci, args[0].of.i32);
        return WP_HOST_OK;
    }
    rhandle gone = *h;
    *h = (rhandle){0};
    const rtype *r = &e->ci->rtypes[e->res];
    if (!r->local) {
        drop_host_rep(e->ci, e->res, gone.rep);
        return WP_HOST_OK;
    }
    if (!r->dtor)
        return WP_HOST_OK;
    wp_val rep = wp_val_i32((uint32_t)gone.rep);
    if (wp_host_call_nested(call, r->dtor, &rep, 1, NULL, 0, &err) != WP_OK)
        return wp_host_trap(call, "resource destructor: %s", err.msg);
    return WP_HOST_OK;
}

wp_status comp__resource_func(wp_comp_inst *ci, cdef_kind kind, uint32_t res, wp_func **out,
                              wp_err *err) {
    static const wp_valtype i32_i32[] = {WP_I32, WP_I32};
    res_env *e = comp__alloc(ci, sizeof *e);
    if (!e)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    e->ci = ci;
    e->res = res;
    wp_functype ft = {.nparams = 1, .nresults = kind == CD_RES_DROP ? 0 : 1, .types = i32_i32};
    wp_host_fn fn = kind == CD_RES_NEW ? res_new : kind == CD_RES_REP ? res_rep : res_drop;
    return wp_func_new_host(ci->store, &ft, fn, e, out, err);
}
