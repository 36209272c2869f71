/* session.c: one script's store, names, module files, instantiation and budgeted calls. */
#include "session.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

wp_status spec_session_init(spec_session *ss, const char *dir, uint64_t fuel, wp_err *err) {
    memset(ss, 0, sizeof *ss);
    ss->dir = dir;
    ss->time_limit_s = SPEC_TIME_LIMIT_S;
    wp_store_config cfg = {.fuel = fuel};
    wp_status st = wp_store_new(&cfg, &ss->store, err);
    if (st == WP_OK)
        st = wp_exec_new(ss->store, &ss->exec, err);
    if (st == WP_OK)
        st = spec_host_init(&ss->host, ss->store, err);
    if (st != WP_OK)
        spec_session_free(ss);
    return st;
}

static void names_free(spec_names *names) {
    for (size_t i = 0; i < names->count; i++)
        free(names->items[i].name);
    free(names->items);
    memset(names, 0, sizeof *names);
}

void spec_session_free(spec_session *ss) {
    wp_exec_free(ss->exec);
    wp_store_free(ss->store);
    names_free(&ss->named);
    names_free(&ss->registered);
    memset(ss, 0, sizeof *ss);
}

wp_status spec_names_bind(spec_names *names, const char *name, size_t len, wp_instance *inst,
                          wp_err *err) {
    if (names->count == names->cap) {
        size_t cap = names->cap ? names->cap * 2 : 8;
        spec_binding *items = realloc(names->items, cap * sizeof *items);
        if (!items)
            return wp_err_set(err, WP_ERR_NOMEM, "out of memory binding a name");
        names->items = items;
        names->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory binding a name");
    memcpy(copy, name, len);
    copy[len] = '\0';
    names->items[names->count++] = (spec_binding){.name = copy, .len = len, .inst = inst};
    return WP_OK;
}

bool spec_names_find(const spec_names *names, const char *name, size_t len, wp_instance **out) {
    for (size_t i = names->count; i-- > 0;) { /* newest first: rebinding hides */
        const spec_binding *b = &names->items[i];
        if (b->len == len && memcmp(b->name, name, len) == 0) {
            *out = b->inst;
            return true;
        }
    }
    return false;
}

static wp_status read_all(FILE *f, char **out, size_t *len, wp_err *err) {
    size_t cap = 1 << 16;
    size_t n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (!bigger)
            free(buf);
        buf = bigger;
        cap *= 2;
    }
    if (!buf)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory reading a file");
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return WP_OK;
}

wp_status spec_read_path(const char *path, char **out, size_t *len, wp_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return wp_err_set(err, WP_ERR_NOT_FOUND, "cannot open %s", path);
    wp_status st = read_all(f, out, len, err);
    if (st == WP_OK && ferror(f)) {
        free(*out);
        st = wp_err_set(err, WP_ERR_NOT_FOUND, "cannot read %s", path);
    }
    fclose(f);
    return st;
}

wp_status spec_read_file(const spec_session *ss, const char *filename, char **out, size_t *len,
                         wp_err *err) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", ss->dir, filename) >= (int)sizeof path)
        return wp_err_set(err, WP_ERR_NOT_FOUND, "path too long: %s", filename);
    return spec_read_path(path, out, len, err);
}

static bool is_spectest(wp_name module) {
    return module.len == 8 && memcmp(module.ptr, "spectest", 8) == 0;
}

/* Registered instances come first, so a script could shadow "spectest" by registering. */
static wp_status resolve_import(const spec_session *ss, const wp_import_desc *d, wp_extern *out,
                                wp_err *err) {
    wp_instance *inst = NULL;
    bool found = false;
    if (spec_names_find(&ss->registered, d->module.ptr, d->module.len, &inst))
        found = inst && wp_instance_export(inst, d->name.ptr, d->name.len, out);
    else if (is_spectest(d->module))
        found = spec_host_lookup(&ss->host, d->name.ptr, d->name.len, out);
    if (found)
        return WP_OK;
    return wp_err_set(err, WP_ERR_LINK, "unknown import \"%.*s\" \"%.*s\"", (int)d->module.len,
                      d->module.ptr, (int)d->name.len, d->name.ptr);
}

static wp_status run_start(spec_session *ss, wp_instance *inst, wp_err *err) {
    wp_func *start = wp_instance_start_func(inst);
    if (!start)
        return WP_OK;
    spec_run *run = malloc(sizeof *run);
    if (!run)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory running the start function");
    spec_call(ss, start, NULL, 0, run);
    wp_status st = WP_OK;
    if (run->outcome == SPEC_TRAPPED)
        st = wp_err_set(err, WP_ERR_TRAP, "%s", run->msg);
    else if (run->outcome == SPEC_FAILED)
        st = wp_err_set(err, WP_ERR_TIMEOUT, "start function: %s", run->msg);
    free(run);
    return st;
}

wp_status spec_instantiate(spec_session *ss, wp_module *m, wp_instance **out, wp_err *err) {
    uint32_t n = wp_module_import_count(m);
    wp_extern *imports = calloc(n ? n : 1, sizeof *imports);
    if (!imports)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory resolving %" PRIu32 " imports", n);
    wp_status st = WP_OK;
    for (uint32_t i = 0; i < n && st == WP_OK; i++) {
        wp_import_desc d;
        wp_module_import(m, i, &d);
        st = resolve_import(ss, &d, &imports[i], err);
    }
    wp_instance *inst = NULL;
    if (st == WP_OK)
        st = wp_instance_new(ss->store, m, imports, n, &inst, err);
    if (st == WP_OK)
        st = run_start(ss, inst, err);
    free(imports);
    if (st == WP_OK)
        *out = inst;
    return st;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void failed(spec_run *out, const char *what) {
    out->outcome = SPEC_FAILED;
    snprintf(out->msg, sizeof out->msg, "%s", what);
}

static void finish(spec_session *ss, wp_run_state rs, spec_run *out) {
    if (rs == WP_RUN_DONE) {
        uint32_t n = wp_exec_results(ss->exec, out->results, SPEC_MAX_VALUES);
        out->outcome = SPEC_RETURNED;
        out->count = n;
        if (n > SPEC_MAX_VALUES)
            failed(out, "more results than the runner can hold");
    } else if (rs == WP_RUN_TRAP) {
        const wp_trap *trap = wp_exec_trap(ss->exec);
        out->outcome = SPEC_TRAPPED;
        snprintf(out->msg, sizeof out->msg, "%s", trap ? trap->msg : "(no trap message)");
    } else {
        wp_exec_reset(ss->exec);
        failed(out, rs == WP_RUN_PENDING ? "a host function went pending" : "bad run state");
    }
}

void spec_call(spec_session *ss, wp_func *f, const wp_val *args, uint32_t nargs, spec_run *out) {
    wp_err err;
    out->count = 0;
    out->msg[0] = '\0';
    if (wp_exec_begin(ss->exec, f, args, nargs, &err) != WP_OK) {
        out->outcome = SPEC_FAILED;
        snprintf(out->msg, sizeof out->msg, "cannot begin the call: %.400s", err.msg);
        return;
    }
    double deadline = now_s() + ss->time_limit_s;
    wp_run_state rs;
    while ((rs = wp_exec_run(ss->exec, SPEC_SLICE)) == WP_RUN_BUDGET) {
        if (now_s() > deadline) {
            wp_exec_reset(ss->exec);
            out->outcome = SPEC_FAILED;
            snprintf(out->msg, sizeof out->msg, "timeout: still running after %.0f s",
                     ss->time_limit_s);
            return;
        }
    }
    finish(ss, rs, out);
}
