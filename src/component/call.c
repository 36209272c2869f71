/* call.c: calls across the component boundary: lowered imports (host functions, stubs,
 * component-internal calls), parked host calls and their completion, calls of exports. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static wp_heap *heap(void) { return wp_heap_default(); }

/* What a lowered core function calls, with the caller's options. */
typedef struct lowered {
    wp_comp_inst *ci;
    rcomp *tab; /* the table of the instance that lowered it */
    const rfunc *callee;
    wp_memory *memory;
    wp_func *realloc;
    uint32_t encoding;
    uint32_t nflat; /* core parameters */
} lowered;

struct wp_comp_call {
    wp_host_call *hc; /* NULL while a parked call resumes */
    const lowered *lw;
    bool pended;
    wp_wasi_wait wait;
    wp_comp_resume_fn resume;
    void (*cancel)(void *state);
    void *state;
    bool exited;
    int32_t status;
};

struct parked {
    wp_comp_call call;
    wp_wasi_waitfd *fds;
    uint32_t nfds;
    wp_val *args; /* the core arguments (the return pointer is the last) */
    uint32_t nargs;
    wp_value *values; /* the lifted parameters */
    uint32_t nvalues;
    bscope scope; /* handles borrowed by the call */
};

/* ---- The host's side of a call ----------------------------------------------------------- */

wp_host_result wp_comp_call_pend(wp_comp_call *call, const wp_wasi_wait *wait,
                                 wp_comp_resume_fn resume, void (*cancel)(void *state),
                                 void *state) {
    call->pended = true;
    call->wait = *wait;
    call->resume = resume;
    call->cancel = cancel;
    call->state = state;
    return WP_HOST_PENDING;
}

wp_host_result wp_comp_call_exit(wp_comp_call *call, int32_t status) {
    call->exited = true;
    call->status = status;
    return call->hc ? wp_host_exit(call->hc, status) : WP_HOST_TRAP;
}

const char *wp_comp_call_name(const wp_comp_call *call) { return call->lw->callee->name; }

static void free_values(wp_value *v, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        wp_value_free(&v[i]);
    wp_heap_free(heap(), v, n * sizeof *v);
}

void comp__park_free(wp_comp_inst *ci) {
    parked *p = ci->park;
    if (!p)
        return;
    if (p->call.cancel)
        p->call.cancel(p->call.state);
    comp__scope_end(&p->scope);
    free_values(p->values, p->nvalues);
    wp_heap_free(heap(), p->args, p->nargs * sizeof *p->args);
    wp_heap_free(heap(), p->fds, p->nfds * sizeof *p->fds);
    wp_heap_free(heap(), p, sizeof *p);
    ci->park = NULL;
}

/* The lowering instance's side of a call: handles it gives are lifted to representations. */
static void cabi_for(const lowered *lw, wp_host_call *hc, wp_exec *x, bscope *sc,
                     handle_cx *hcx, wp_cabi *cx) {
    *hcx = (handle_cx){.ci = lw->ci, .tab = lw->tab, .types = lw->callee->owner,
                       .host_reps = true, .scope = sc};
    *cx = (wp_cabi){.exec = x,
                    .memory = lw->memory,
                    .realloc = lw->realloc,
                    .host_call = hc,
                    .encoding = lw->encoding,
                    .handles = hcx};
}

/* Keeps a call that went pending: its arguments, values and wait. */
static wp_host_result park(const lowered *lw, wp_comp_call *call, const wp_val *args,
                           wp_value *values, uint32_t nvalues, bscope *sc) {
    parked *p = wp_heap_zalloc(heap(), sizeof *p);
    uint32_t nfds = call->wait.nfds;
    if (p && (!(p->args = wp_heap_calloc(heap(), lw->nflat + 1, sizeof *p->args)) ||
              (nfds && !(p->fds = wp_heap_calloc(heap(), nfds, sizeof *p->fds))))) {
        wp_heap_free(heap(), p->args, (lw->nflat + 1) * sizeof *p->args);
        wp_heap_free(heap(), p, sizeof *p);
        p = NULL;
    }
    if (!p) {
        if (call->cancel)
            call->cancel(call->state);
        comp__scope_end(sc);
        free_values(values, nvalues);
        return wp_host_trap(call->hc, "%s: out of memory", lw->callee->name);
    }
    if (lw->nflat)
        memcpy(p->args, args, lw->nflat * sizeof *args);
    p->nargs = lw->nflat + 1;
    if (nfds)
        memcpy(p->fds, call->wait.fds, nfds * sizeof *p->fds);
    p->nfds = nfds;
    p->call = *call;
    p->call.hc = NULL;
    p->call.wait.fds = p->fds;
    p->values = values;
    p->nvalues = nvalues;
    p->scope = *sc;
    lw->ci->park = p;
    return WP_HOST_PENDING;
}

static wp_host_result call_callee(wp_comp_call *call, const lowered *lw, const wp_value *values,
                                  uint32_t n, bscope *sc, wp_value *result, wp_err *err) {
    const rfunc *f = lw->callee;
    switch (f->kind) {
    case RF_HOST:
        return f->hfn->fn(call, f->host->ctx, values, n, result, err);
    case RF_LIFTED:
        return cabi__call_lifted(call->hc, lw->ci, f, values, n, sc, result, err) == WP_OK
                   ? WP_HOST_OK
                   : WP_HOST_TRAP;
    default:
        wp_err_set(err, WP_ERR_LINK, "%s is not provided", f->name);
        return WP_HOST_TRAP;
    }
}

static wp_host_result lowered_call(wp_host_call *hc, void *env, const wp_val *args,
                                   wp_val *results) {
    const lowered *lw = env;
    const wp_wit_func *t = lw->callee->type;
    wp_err err = {0};
    if (lw->callee->kind == RF_STUB) /* before lifting: a stub never reads its arguments */
        return wp_host_trap(hc, "%s is not provided", lw->callee->name);
    bscope sc;
    handle_cx hcx;
    wp_cabi cx;
    comp__scope_begin(lw->ci, &sc, lw->tab, NULL);
    cabi_for(lw, hc, NULL, &sc, &hcx, &cx);
    wp_value *values = wp_heap_calloc(heap(), t->nparams + 1, sizeof *values);
    if (!values)
        return wp_host_trap(hc, "%s: out of memory", lw->callee->name);
    if (cabi__lift_params(&cx, t, args, lw->nflat, values, &err) != WP_OK) {
        comp__scope_end(&sc);
        free_values(values, t->nparams + 1);
        return wp_host_trap(hc, "%s: %s", lw->callee->name, err.msg);
    }
    wp_comp_call call = {.hc = hc, .lw = lw};
    wp_value result = wp_value_nil();
    wp_host_result r = call_callee(&call, lw, values, t->nparams, &sc, &result, &err);
    if (r == WP_HOST_PENDING && call.pended)
        return park(lw, &call, args, values, t->nparams + 1, &sc);
    comp__scope_end(&sc);
    free_values(values, t->nparams + 1);
    if (r == WP_HOST_PENDING)
        err.kind = WP_ERR_INTERNAL, r = WP_HOST_TRAP, strcpy(err.msg, "pending without a wait");
    if (r == WP_HOST_TRAP) {
        wp_value_free(&result);
        return call.exited ? WP_HOST_TRAP : wp_host_trap(hc, "%s: %s", lw->callee->name, err.msg);
    }
    hcx.scope = NULL; /* results hold no borrows */
    wp_status st = cabi__lower_result(&cx, t, &result, args, lw->nflat, results, &err);
    wp_value_free(&result);
    return st == WP_OK ? WP_HOST_OK : wp_host_trap(hc, "%s: %s", lw->callee->name, err.msg);
}

wp_status comp__lower_func(wp_comp_inst *ci, rcomp *tab, const rfunc *f, const rfunc *opts,
                           wp_func **out, wp_err *err) {
    lowered *lw = comp__alloc(ci, sizeof *lw);
    wp_valtype *types = comp__alloc(ci, (WP_CABI_MAX_FLAT_PARAMS + 2) * sizeof *types);
    if (!lw || !types)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    *lw = (lowered){.ci = ci, .tab = tab, .callee = f, .memory = opts->memory,
                    .realloc = opts->realloc, .encoding = opts->encoding};
    uint32_t np = 0;
    uint32_t nr = 0;
    cabi__lower_core_type(f->type, types, &np, types + WP_CABI_MAX_FLAT_PARAMS + 1, &nr);
    if (nr)
        types[np] = types[WP_CABI_MAX_FLAT_PARAMS + 1];
    lw->nflat = np;
    wp_functype ft = {.nparams = np, .nresults = nr, .types = types};
    return wp_func_new_host(ci->store, &ft, lowered_call, lw, out, err);
}

/* ---- Completing a parked call ------------------------------------------------------------ */

bool wp_comp_pending(const wp_comp_inst *ci, wp_wasi_wait *out) {
    if (!ci->park)
        return false;
    *out = ci->park->call.wait;
    return true;
}

void wp_comp_cancel(wp_comp_inst *ci) { comp__park_free(ci); }

static wp_status aux_exec(wp_comp_inst *ci, wp_err *err) {
    return ci->aux ? WP_OK : wp_exec_new(ci->store, &ci->aux, err);
}

/* The call is over: lower its result and resume x, or make x trap. */
static wp_status finish_parked(wp_comp_inst *ci, wp_exec *x, wp_host_result r, wp_value *result,
                               const wp_err *herr, wp_err *err) {
    parked *p = ci->park;
    const lowered *lw = p->call.lw;
    char msg[WP_ERR_MSG_MAX + 64];
    wp_val results[1];
    wp_err lerr = {0};
    if (r == WP_HOST_OK && aux_exec(ci, &lerr) == WP_OK) {
        handle_cx hcx;
        wp_cabi cx;
        cabi_for(lw, NULL, ci->aux, NULL, &hcx, &cx); /* results hold no borrows */
        if (cabi__lower_result(&cx, lw->callee->type, result, p->args, lw->nflat, results,
                               &lerr) == WP_OK) {
            uint32_t nres = 0;
            uint32_t np = 0;
            wp_valtype rt[1];
            wp_valtype pt[WP_CABI_MAX_FLAT_PARAMS + 1];
            cabi__lower_core_type(lw->callee->type, pt, &np, rt, &nres);
            p->call.cancel = NULL;
            comp__park_free(ci);
            return wp_exec_resume(x, results, nres, err);
        }
    }
    if (p->call.exited)
        snprintf(msg, sizeof msg, "%s: exit %d", lw->callee->name, p->call.status);
    else
        snprintf(msg, sizeof msg, "%s: %s", lw->callee->name,
                 r == WP_HOST_OK ? lerr.msg : herr->msg);
    p->call.cancel = NULL;
    comp__park_free(ci);
    wp_exec_resume_trap(x, msg);
    return WP_OK;
}

wp_status wp_comp_complete(wp_comp_inst *ci, wp_exec *x, bool *done, wp_err *err) {
    *done = false;
    parked *p = ci->park;
    if (!p)
        return wp_err_set(err, WP_ERR_INVALID, "no host call of the component is waiting");
    wp_comp_call *call = &p->call;
    wp_comp_resume_fn resume = call->resume;
    void *state = call->state;
    call->pended = false;
    wp_value result = wp_value_nil();
    wp_err herr = {0};
    wp_host_result r = resume(call, call->lw->callee->host->ctx, state, p->values,
                              call->lw->callee->type->nparams, &result, &herr);
    if (r == WP_HOST_PENDING && call->pended) {
        uint32_t nfds = call->wait.nfds;
        wp_wasi_waitfd *fds = nfds ? wp_heap_calloc(heap(), nfds, sizeof *fds) : NULL;
        if (nfds && !fds)
            return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
        if (nfds)
            memcpy(fds, call->wait.fds, nfds * sizeof *fds);
        wp_heap_free(heap(), p->fds, p->nfds * sizeof *p->fds);
        p->fds = fds;
        p->nfds = nfds;
        call->wait.fds = fds;
        return WP_OK;
    }
    if (r == WP_HOST_PENDING)
        r = WP_HOST_TRAP, wp_err_set(&herr, WP_ERR_INTERNAL, "pending without a wait");
    *done = true;
    wp_status st = finish_parked(ci, x, r, &result, &herr, err);
    wp_value_free(&result);
    return st;
}

/* ---- Calling exports --------------------------------------------------------------------- */

/* The Canonical ABI traps a call that returns while still holding a borrow it was lent. */
static wp_status borrow_kept(const rfunc *f, uint32_t held, wp_err *err) {
    return wp_err_set(err, WP_ERR_TRAP, "%s returned still holding borrow handle %u (a callee "
                      "must drop its borrows before it returns)", f->name, held);
}

/* The embedder's side of a call of f: its handles are indices of the root's table; they move
 * to and from f's instance's table. */
static void embedder_cx(wp_comp_inst *ci, const rfunc *f, wp_exec *x, handle_cx *hcx,
                        wp_cabi *cx) {
    *hcx = (handle_cx){.ci = ci, .tab = f->owner, .types = f->owner, .host_reps = false,
                       .scope = &ci->call};
    *cx = (wp_cabi){.exec = x, .memory = f->memory, .realloc = f->realloc,
                    .encoding = f->encoding, .handles = hcx};
}

wp_status wp_comp_call_begin(wp_comp_inst *ci, wp_exec *x, const wp_comp_func *fn,
                             const wp_value *args, uint32_t nargs, wp_err *err) {
    const rfunc *f = (const rfunc *)fn;
    if (f->kind != RF_LIFTED)
        return wp_err_set(err, WP_ERR_INVALID, "%s is an import, not an export of the component",
                          f->name);
    if (comp__busy(ci)) /* its instances are on the call stack: they cannot be entered */
        return wp_err_set(err, WP_ERR_INVALID, "%s: a call of the component is in progress (it "
                          "cannot be entered again before that call ends)", f->name);
    handle_cx hcx;
    wp_cabi cx;
    embedder_cx(ci, f, x, &hcx, &cx);
    wp_val flat[WP_CABI_MAX_FLAT_PARAMS];
    uint32_t nflat = 0;
    comp__scope_end(&ci->call); /* a call that trapped left its borrows */
    comp__scope_begin(ci, &ci->call, ci->root, f->owner);
    comp__new_epoch(ci); /* and its instances entered */
    wp_status st = wp_cabi_lower_params(&cx, f->type, args, nargs, flat, &nflat, err);
    if (st == WP_OK)
        st = wp_exec_begin(x, f->core, flat, nflat, err);
    if (st != WP_OK)
        comp__scope_end(&ci->call);
    else
        comp__enter(ci, f->owner, NULL, err); /* nothing is entered in a new epoch */
    ci->calling = st == WP_OK ? f : NULL;
    ci->call_x = st == WP_OK ? x : NULL;
    return st;
}

wp_status wp_comp_call_finish(wp_comp_inst *ci, wp_exec *x, wp_value *out, wp_err *err) {
    *out = wp_value_nil();
    const rfunc *f = ci->calling;
    if (!f)
        return wp_err_set(err, WP_ERR_INVALID, "no call of the component was begun");
    ci->calling = NULL;
    ci->call_x = NULL;
    comp__leave(f->owner, NULL);
    /* The Canonical ABI traps a call that returns while still holding a borrow it was lent. */
    uint32_t held = comp__scope_held(&ci->call);
    comp__scope_end(&ci->call);
    if (held)
        return borrow_kept(f, held, err);
    wp_val flat[WP_CABI_MAX_FLAT_RESULTS];
    uint32_t n = wp_exec_results(x, flat, WP_CABI_MAX_FLAT_RESULTS);
    handle_cx hcx;
    wp_cabi cx;
    embedder_cx(ci, f, x, &hcx, &cx);
    hcx.scope = NULL; /* results hold no borrows */
    wp_status st = wp_cabi_lift_results(&cx, f->type, flat, n, out, err);
    if (st == WP_OK && f->post_return &&
        (st = wp_call(x, f->post_return, flat, n, NULL, 0, NULL, err)) != WP_OK) {
        wp_err_wrap(err, "post-return of %s", f->name);
        wp_value_free(out);
    }
    return st;
}

/* cabi__call_lifted once f's instance is entered. */
static wp_status call_entered(wp_host_call *call, const rfunc *f, wp_cabi *cx,
                              const wp_value *args, uint32_t nargs, bscope *sc, wp_value *out,
                              wp_err *err) {
    handle_cx *hcx = cx->handles;
    wp_val flat[WP_CABI_MAX_FLAT_PARAMS];
    wp_val res[WP_CABI_MAX_FLAT_RESULTS];
    uint32_t nflat = 0;
    uint32_t nres = wp_func_type(f->core).nresults;
    wp_status st = wp_cabi_lower_params(cx, f->type, args, nargs, flat, &nflat, err);
    if (st == WP_OK)
        st = wp_host_call_nested(call, f->core, flat, nflat, res, nres, err);
    uint32_t held = st == WP_OK ? comp__scope_held(sc) : 0;
    if (held) /* as for the embedder's calls: a callee drops its borrows before it returns */
        return borrow_kept(f, held, err);
    hcx->scope = NULL; /* results hold no borrows */
    if (st == WP_OK)
        st = wp_cabi_lift_results(cx, f->type, res, nres, out, err);
    if (st == WP_OK && f->post_return)
        st = wp_host_call_nested(call, f->post_return, res, nres, NULL, 0, err);
    return st;
}

wp_status cabi__call_lifted(wp_host_call *call, wp_comp_inst *ci, const rfunc *f,
                            const wp_value *args, uint32_t nargs, bscope *sc, wp_value *out,
                            wp_err *err) {
    handle_cx hcx = {.ci = ci, .tab = f->owner, .types = f->owner, .host_reps = true,
                     .scope = sc};
    wp_cabi cx = {.memory = f->memory, .realloc = f->realloc, .host_call = call,
                  .encoding = f->encoding, .handles = &hcx};
    sc->borrower = f->owner; /* the borrow handles lowered into f's table */
    /* entering f's instance from the lowering one (the scope's lender) may be reentrance */
    wp_status st = comp__enter(ci, f->owner, sc->lender, err);
    if (st != WP_OK)
        return st;
    st = call_entered(call, f, &cx, args, nargs, sc, out, err);
    comp__leave(f->owner, sc->lender);
    return st;
}

/* ---- The simple driver ------------------------------------------------------------------- */

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void wait_for(const wp_wasi_wait *w) {
    struct pollfd pfd[64];
    uint32_t n = w->nfds < 64 ? w->nfds : 64;
    for (uint32_t i = 0; i < n; i++)
        pfd[i] = (struct pollfd){.fd = w->fds[i].fd,
                                 .events = (short)(((w->fds[i].events & WP_WASI_READABLE) ? POLLIN
                                                                                           : 0) |
                                                   ((w->fds[i].events & WP_WASI_WRITABLE) ? POLLOUT
                                                                                           : 0))};
    int timeout = -1;
    if (w->deadline != WP_WASI_NO_DEADLINE) {
        uint64_t t = now_ns();
        uint64_t ms = w->deadline > t ? (w->deadline - t + 999999) / 1000000 : 0;
        timeout = ms > 1000000 ? 1000000 : (int)ms;
    }
    while (poll(pfd, n, timeout) < 0 && errno == EINTR)
        ;
}

wp_run_state wp_comp_run(wp_comp_inst *ci, wp_exec *x) {
    for (;;) {
        wp_run_state rs = wp_exec_run(x, WP_BUDGET_UNLIMITED);
        if (rs == WP_RUN_DONE || rs == WP_RUN_TRAP)
            return rs;
        if (rs != WP_RUN_PENDING)
            continue;
        wp_wasi_wait w;
        if (!wp_comp_pending(ci, &w)) {
            wp_exec_resume_trap(x, "the component waits on a host call the runner cannot wait on");
            continue;
        }
        bool done = false;
        wp_err err;
        while (!done) {
            wait_for(&w);
            if (wp_comp_complete(ci, x, &done, &err) != WP_OK) {
                wp_exec_resume_trap(x, err.msg);
                break;
            }
            if (!done)
                wp_comp_pending(ci, &w);
        }
    }
}
