/* harness.c: decodes a fuzzed module, instantiates it against dummy imports and runs its code
 * under small limits, aborting on any broken contract of include/wippy/wasm.h. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wippy/wasm.h"

#define SLICE_BUDGET 4000u /* reductions per wp_exec_run */
#define MAX_STEPS 16       /* runs per call (budget slices, pending host calls) before reset */
#define HOST_TRAP_MSG "fuzz: host trap"

/* The statuses wasm.h allows each call to fail with, as FUZZ_STATUS_BIT masks. */
enum {
    OK_BIT = FUZZ_STATUS_BIT(WP_OK),
    NOMEM_BIT = FUZZ_STATUS_BIT(WP_ERR_NOMEM),
    INVALID_BIT = FUZZ_STATUS_BIT(WP_ERR_INVALID),
    DECODE_STATUSES = OK_BIT | INVALID_BIT | NOMEM_BIT | FUZZ_STATUS_BIT(WP_ERR_UNSUPPORTED),
    CREATE_STATUSES = OK_BIT | INVALID_BIT | NOMEM_BIT, /* INVALID: over the store's limits */
    /* No LINK: every import is given exactly its declared type. */
    INSTANTIATE_STATUSES = CREATE_STATUSES | FUZZ_STATUS_BIT(WP_ERR_TRAP),
};

/* A broken contract: say which and abort, so libFuzzer keeps the input. */
static _Noreturn void contract_broken(const char *what, const char *detail) {
    fprintf(stderr, "fuzz: engine contract broken: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
    abort();
}

void fuzz_expect_status(wp_status st, unsigned allowed, const char *call, const wp_err *err) {
    if (!(FUZZ_STATUS_BIT(st) & allowed)) {
        char what[128];
        snprintf(what, sizeof what, "%s returned %s", call, wp_status_name(st));
        contract_broken(what, err->msg);
    }
}

/* ---- Allocation failure injection for the decoder ----------------------------------------- */

/* Counts growing allocations and fails the one numbered fail_at (counting from 0). */
typedef struct counting_heap {
    wp_heap heap;
    size_t count;
    size_t fail_at; /* SIZE_MAX: never fail */
} counting_heap;

static void *counting_realloc(void *ud, void *ptr, size_t old_size, size_t new_size) {
    counting_heap *ch = ud;
    if (new_size > old_size && ch->count++ == ch->fail_at)
        return NULL;
    if (new_size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, new_size);
}

static void counting_heap_init(counting_heap *ch, size_t fail_at) {
    wp_heap_init(&ch->heap, SIZE_MAX);
    ch->heap.realloc_fn = counting_realloc;
    ch->heap.ud = ch;
    ch->count = 0;
    ch->fail_at = fail_at;
}

static void expect_heap_empty(const counting_heap *ch, const char *when) {
    if (ch->heap.used != 0) {
        char detail[96];
        snprintf(detail, sizeof detail, "%zu bytes still allocated", ch->heap.used);
        contract_broken(when, detail);
    }
}

static uint32_t hash_bytes(const uint8_t *bytes, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ bytes[i]) * 16777619u;
    return h;
}

/* Decodes again failing one allocation, chosen by the input among the 'allocs' a successful
 * decode made: it must fail with WP_ERR_NOMEM and free everything it took. */
static void decode_out_of_memory(const uint8_t *bytes, size_t len, size_t allocs) {
    counting_heap ch;
    counting_heap_init(&ch, hash_bytes(bytes, len) % allocs);
    wp_module *m = NULL;
    wp_err err = {0};
    wp_status st = wp_module_decode_in(&ch.heap, bytes, len, &m, &err);
    if (st == WP_OK) {
        wp_module_free(m);
        contract_broken("decode succeeded although an allocation failed", NULL);
    }
    fuzz_expect_status(st, NOMEM_BIT, "wp_module_decode_in failing an allocation", &err);
    expect_heap_empty(&ch, "decode failing on an allocation leaked");
}

/* ---- Dummy imports ------------------------------------------------------------------------ */

/* What the host side knows while one input runs. */
typedef struct session {
    wp_exec *x;
    uint32_t host_calls;
    uint32_t resumes;
    const wp_functype *pending; /* the type of the host call waiting to be resumed, or NULL */
    bool host_trapped;          /* the harness made the current call trap */
} session;

/* A dummy host function's env. Lives as long as the store. */
typedef struct dummy {
    wp_functype type;
    session *ss;
} dummy;

static wp_val zero_val(wp_valtype t) {
    return (wp_val){.type = t};
}

/* Every second call goes pending (the harness resumes it); the others return zeros. */
static wp_host_result dummy_host(wp_host_call *call, void *env, const wp_val *args,
                                 wp_val *results) {
    dummy *d = env;
    (void)call;
    (void)args;
    if (d->ss->host_calls++ % 2 == 1) {
        d->ss->pending = &d->type;
        return WP_HOST_PENDING;
    }
    for (uint32_t i = 0; i < d->type.nresults; i++)
        results[i] = zero_val(d->type.types[d->type.nparams + i]);
    return WP_HOST_OK;
}

/* Makes one import of exactly the declared type. False (an allowed failure) if the store
 * cannot hold it. 'dm' must live as long as the store: the host function keeps it. */
static bool make_import(wp_store *s, const wp_import_desc *d, dummy *dm, wp_extern *out) {
    wp_err err = {0};
    wp_status st = WP_OK;
    out->kind = d->kind;
    switch (d->kind) {
    case WP_EXTERN_FUNC:
        dm->type = d->func;
        st = wp_func_new_host(s, &dm->type, dummy_host, dm, &out->of.func, &err);
        break;
    case WP_EXTERN_TABLE:
        st = wp_table_new(s, d->table, &out->of.table, &err);
        break;
    case WP_EXTERN_MEMORY:
        st = wp_memory_new(s, d->memory, &out->of.memory, &err);
        break;
    case WP_EXTERN_GLOBAL:
        st = wp_global_new(s, d->global, zero_val(d->global.type), &out->of.global, &err);
        break;
    default:
        contract_broken("unknown import kind", NULL);
    }
    fuzz_expect_status(st, CREATE_STATUSES, "creating an import", &err);
    return st == WP_OK;
}

/* ---- Running code ------------------------------------------------------------------------- */

static void check_results(const wp_exec *x, const wp_functype *ft) {
    wp_val res[16];
    uint32_t n = wp_exec_results(x, res, 16);
    if (n != ft->nresults)
        contract_broken("wrong number of results", NULL);
    for (uint32_t i = 0; i < n && i < 16; i++) {
        if (res[i].type != ft->types[ft->nparams + i])
            contract_broken("result of the wrong type", NULL);
    }
}

/* Engine traps start with the spec's text for their kind (the spec runner relies on it); a
 * host trap with the host's message. */
static void check_trap(const session *ss) {
    const wp_trap *t = wp_exec_trap(ss->x);
    const char *text = t->kind == WP_TRAP_HOST ? HOST_TRAP_MSG : wp_trap_text(t->kind);
    if (t->kind == WP_TRAP_NONE || t->kind == WP_TRAP_EXIT ||
        (t->kind == WP_TRAP_HOST && !ss->host_trapped))
        contract_broken("unexpected trap kind", t->msg);
    if (strncmp(t->msg, text, strlen(text)) != 0)
        contract_broken("trap message does not start with its kind's text", t->msg);
}

/* Hands the pending host call zeros, or every third time makes it trap. */
static void resume_pending(session *ss) {
    const wp_functype *ft = ss->pending;
    if (!ft)
        contract_broken("a run went pending with no host call pending", NULL);
    ss->pending = NULL;
    if (ss->resumes++ % 3 == 2) {
        ss->host_trapped = true;
        wp_exec_resume_trap(ss->x, HOST_TRAP_MSG);
        return;
    }
    wp_val *res = calloc(ft->nresults ? ft->nresults : 1, sizeof *res);
    if (!res)
        abort(); /* the harness's own allocation: no engine contract involved */
    for (uint32_t i = 0; i < ft->nresults; i++)
        res[i] = zero_val(ft->types[ft->nparams + i]);
    wp_err err = {0};
    wp_status st = wp_exec_resume(ss->x, res, ft->nresults, &err);
    free(res);
    fuzz_expect_status(st, OK_BIT, "wp_exec_resume with results of the right types", &err);
}

static void begin_call(session *ss, wp_func *f, const wp_functype *ft) {
    wp_val *args = calloc(ft->nparams ? ft->nparams : 1, sizeof *args);
    if (!args)
        abort();
    for (uint32_t i = 0; i < ft->nparams; i++)
        args[i] = zero_val(ft->types[i]);
    wp_err err = {0};
    wp_status st = wp_exec_begin(ss->x, f, args, ft->nparams, &err);
    free(args);
    fuzz_expect_status(st, OK_BIT, "wp_exec_begin with arguments of the right types", &err);
    ss->pending = NULL;
    ss->host_trapped = false;
}

/* Calls f with zero arguments of its parameter types, resuming it after each budget slice
 * and pending host call, up to MAX_STEPS runs; then abandons it. */
static void run_func(session *ss, wp_func *f) {
    wp_functype ft = wp_func_type(f);
    begin_call(ss, f, &ft);
    for (int step = 0; step < MAX_STEPS; step++) {
        switch (wp_exec_run(ss->x, SLICE_BUDGET)) {
        case WP_RUN_DONE:
            check_results(ss->x, &ft);
            return;
        case WP_RUN_TRAP:
            check_trap(ss);
            return;
        case WP_RUN_PENDING:
            resume_pending(ss);
            break;
        case WP_RUN_BUDGET:
            break; /* go on: exercises stopping and resuming mid-function */
        }
    }
    wp_exec_reset(ss->x); /* abandoning a call, possibly pending, must be clean too */
}

/* Memories and tables may never outgrow the store's limits, whatever the code did. */
static void check_extern(const wp_extern *e) {
    if (e->kind == WP_EXTERN_MEMORY && wp_memory_size(e->of.memory) >
                                           (uint64_t)FUZZ_MAX_PAGES * WP_PAGE_SIZE)
        contract_broken("memory larger than the store allows", NULL);
    if (e->kind == WP_EXTERN_TABLE && wp_table_type(e->of.table).limits.min > FUZZ_MAX_TABLE)
        contract_broken("table larger than the store allows", NULL);
    if (e->kind == WP_EXTERN_GLOBAL &&
        wp_global_get(e->of.global).type != wp_global_type(e->of.global).type)
        contract_broken("global holds a value of another type", NULL);
}

static void run_exports(const wp_module *m, wp_instance *inst, session *ss) {
    for (uint32_t i = 0; i < wp_module_export_count(m); i++) {
        wp_export_desc d;
        wp_extern e;
        wp_module_export(m, i, &d);
        if (!wp_instance_export(inst, d.name.ptr, d.name.len, &e) || e.kind != d.kind)
            contract_broken("a module export is missing from its instance", NULL);
        if (e.kind == WP_EXTERN_FUNC)
            run_func(ss, e.of.func);
    }
    for (uint32_t i = 0; i < wp_module_export_count(m); i++) {
        wp_export_desc d;
        wp_extern e;
        wp_module_export(m, i, &d);
        if (wp_instance_export(inst, d.name.ptr, d.name.len, &e))
            check_extern(&e);
    }
}

/* ---- Instantiation ------------------------------------------------------------------------ */

static wp_status new_store(wp_store **out, wp_err *err) {
    wp_store_config cfg = {
        .max_memory_pages = FUZZ_MAX_PAGES,
        .max_table_elems = FUZZ_MAX_TABLE,
        .max_call_depth = FUZZ_CALL_DEPTH,
        .max_stack_bytes = FUZZ_STACK_BYTES,
        .fuel = FUZZ_FUEL,
        .max_heap_bytes = FUZZ_HEAP_BYTES,
    };
    return wp_store_new(&cfg, out, err);
}

/* Instantiates m in s with dummies; NULL if the store cannot hold it or a segment traps. */
static wp_instance *instantiate(wp_store *s, wp_module *m, dummy *dummies,
                                wp_extern *imports) {
    uint32_t n = wp_module_import_count(m);
    for (uint32_t i = 0; i < n; i++) {
        wp_import_desc d;
        wp_module_import(m, i, &d);
        if (!make_import(s, &d, &dummies[i], &imports[i]))
            return NULL;
    }
    wp_instance *inst = NULL;
    wp_err err = {0};
    wp_status st = wp_instance_new(s, m, imports, n, &inst, &err);
    fuzz_expect_status(st, INSTANTIATE_STATUSES, "wp_instance_new", &err);
    return st == WP_OK ? inst : NULL;
}

static void run_module(wp_module *m) {
    uint32_t n = wp_module_import_count(m);
    session ss = {0};
    dummy *dummies = calloc(n ? n : 1, sizeof *dummies);
    wp_extern *imports = calloc(n ? n : 1, sizeof *imports);
    wp_store *s = NULL;
    wp_err err = {0};
    if (!dummies || !imports)
        abort();
    for (uint32_t i = 0; i < n; i++)
        dummies[i].ss = &ss;
    if (new_store(&s, &err) == WP_OK && wp_exec_new(s, &ss.x, &err) == WP_OK) {
        wp_instance *inst = instantiate(s, m, dummies, imports);
        if (inst && wp_instance_start_func(inst))
            run_func(&ss, wp_instance_start_func(inst));
        if (inst)
            run_exports(m, inst, &ss); /* even after a trapping start: must not crash either */
    }
    wp_exec_free(ss.x);
    wp_store_free(s);
    free(imports);
    free(dummies);
}

void fuzz_module_bytes(const uint8_t *bytes, size_t len) {
    counting_heap ch;
    counting_heap_init(&ch, SIZE_MAX);
    wp_module *m = NULL;
    wp_err err = {0};
    wp_status st = wp_module_decode_in(&ch.heap, bytes, len, &m, &err);
    fuzz_expect_status(st, DECODE_STATUSES, "wp_module_decode_in", &err);
    if (st != WP_OK) {
        expect_heap_empty(&ch, "failed decode leaked");
        return;
    }
    size_t allocs = ch.count;
    run_module(m);
    wp_module_free(m);
    expect_heap_empty(&ch, "module freed with memory still allocated");
    if (allocs > 0)
        decode_out_of_memory(bytes, len, allocs);
}
