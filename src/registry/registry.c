/* registry.c: the registry object: problems, logging, commands, boot order, lookups, hosts. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static wp_heap *heap(void) { return wp_heap_default(); }

/* ---- Problems and logging ---------------------------------------------------------------- */

static void add_problem(wp_registry *reg, const reg_file *file, uint32_t line, wp_entry *e,
                        const char *field, const char *reason) {
    if (e)
        e->bad = true;
    if (!reg__grow((void **)&reg->problems, &reg->problems_cap, reg->nproblems + 1,
                   sizeof *reg->problems))
        return; /* out of memory: the count still says something is wrong */
    if (!file && e)
        file = e->file;
    wp_problem *p = &reg->problems[reg->nproblems++];
    p->file = reg__strdup(file ? file->path : "wippy.lock");
    p->line = line ? line : e ? e->line : 0;
    p->entry = e ? reg__strdup(e->id) : NULL;
    p->field = field ? reg__strdup(field) : NULL;
    p->reason = reg__strdup(reason);
}

void reg__problem(wp_registry *reg, const reg_file *file, uint32_t line, wp_entry *e,
                  const char *field, const char *fmt, ...) {
    char reason[WP_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    add_problem(reg, file, line, e, field, reason);
}

void reg__field_problem(wp_registry *reg, wp_entry *e, const yaml_node_t *at, const char *field,
                        const char *fmt, ...) {
    char reason[WP_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    add_problem(reg, e->file, reg__yaml_line(at), e, field, reason);
}

void reg__log(const wp_registry *reg, const char *fmt, ...) {
    if (!reg->log)
        return;
    char msg[WP_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    reg->log(reg->log_ud, msg);
}

static int problem_order(const void *a, const void *b) {
    const wp_problem *x = a;
    const wp_problem *y = b;
    int c = strcmp(x->file, y->file);
    if (c)
        return c;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x < y ? -1 : x > y; /* keep the order they were found in */
}

uint32_t wp_registry_problem_count(const wp_registry *reg) { return reg->nproblems; }

const wp_problem *wp_registry_problem(const wp_registry *reg, uint32_t i) {
    return i < reg->nproblems ? &reg->problems[i] : NULL;
}

/* ---- Entries ----------------------------------------------------------------------------- */

wp_entry *reg__find(const wp_registry *reg, const char *id) {
    for (uint32_t i = 0; i < reg->nentries; i++)
        if (strcmp(reg->entries[i]->id, id) == 0)
            return reg->entries[i];
    return NULL;
}

void reg__add_dep(wp_entry *e, wp_entry *dep) {
    for (uint32_t i = 0; i < e->ndeps; i++)
        if (e->deps[i] == dep)
            return;
    if (reg__grow((void **)&e->deps, &e->deps_cap, e->ndeps + 1, sizeof *e->deps))
        e->deps[e->ndeps++] = dep;
}

uint32_t wp_registry_entry_count(const wp_registry *reg) { return reg->nentries; }

const wp_entry *wp_registry_entry_at(const wp_registry *reg, uint32_t i) {
    return i < reg->nentries ? reg->entries[i] : NULL;
}

const wp_entry *wp_registry_find(const wp_registry *reg, const char *id) {
    return reg__find(reg, id);
}

const char *wp_entry_id(const wp_entry *e) { return e->id; }
const char *wp_entry_kind(const wp_entry *e) { return e->kind; }
const char *wp_entry_file(const wp_entry *e) { return e->file->path; }
uint32_t wp_entry_line(const wp_entry *e) { return e->line; }
const wp_value *wp_entry_data(const wp_entry *e) { return &e->data; }

/* ---- Boot order: order.c ----------------------------------------------------------------- */

/* ---- Commands ---------------------------------------------------------------------------- */

void reg__add_command(wp_registry *reg, wp_entry *e, const char *name, const char *short_text,
                      const yaml_node_t *at) {
    const wp_command *other = wp_registry_find_command(reg, name);
    if (other) {
        reg__field_problem(reg, e, at, "meta.command.name",
                           "command name \"%s\" is already used by %s (%s:%u)", name,
                           other->entry->id, other->entry->file->path, other->entry->line);
        return;
    }
    if (!reg__grow((void **)&reg->commands, &reg->commands_cap, reg->ncommands + 1,
                   sizeof *reg->commands))
        return;
    reg->commands[reg->ncommands++] =
        (wp_command){reg__strdup(name), reg__strdup(short_text ? short_text : ""), e};
}

static int command_order(const void *a, const void *b) {
    return strcmp(((const wp_command *)a)->name, ((const wp_command *)b)->name);
}

uint32_t wp_registry_command_count(const wp_registry *reg) { return reg->ncommands; }

const wp_command *wp_registry_command_at(const wp_registry *reg, uint32_t i) {
    return i < reg->ncommands ? &reg->commands[i] : NULL;
}

const wp_command *wp_registry_find_command(const wp_registry *reg, const char *name) {
    for (uint32_t i = 0; i < reg->ncommands; i++)
        if (strcmp(reg->commands[i].name, name) == 0)
            return &reg->commands[i];
    return NULL;
}

/* ---- Hosts ------------------------------------------------------------------------------- */

wp_status wp_registry_terminal_host(const wp_registry *reg, const char *id, const wp_entry **out,
                                    wp_err *err) {
    *out = NULL;
    if (id) {
        const wp_entry *e = reg__find(reg, id);
        if (!e || strcmp(e->kind, "terminal.host") != 0)
            return wp_err_set(err, WP_ERR_NOT_FOUND, "terminal host \"%s\" not found", id);
        *out = e;
        return WP_OK;
    }
    char names[WP_ERR_MSG_MAX / 2] = "";
    size_t used = 0;
    uint32_t count = 0;
    for (uint32_t i = 0; i < reg->nentries; i++) {
        const wp_entry *e = reg->entries[i];
        if (strcmp(e->kind, "terminal.host") != 0)
            continue;
        if (used < sizeof names)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", count ? ", " : "",
                                     e->id);
        count++;
        *out = e;
    }
    if (count == 0)
        return wp_err_set(err, WP_ERR_NOT_FOUND, "no terminal.host found in registry");
    if (count > 1) {
        *out = NULL;
        return wp_err_set(err, WP_ERR_INVALID,
                          "multiple terminal hosts found (%s), use --host to specify", names);
    }
    return WP_OK;
}

/* ---- Load and free ----------------------------------------------------------------------- */

wp_status reg__load_project(wp_registry *reg, wp_err *err); /* project.c */

static void validate_all(wp_registry *reg) {
    int max_phase = 0;
    for (uint32_t i = 0; i < reg->nentries; i++)
        if (reg->entries[i]->k && reg->entries[i]->k->phase > max_phase)
            max_phase = reg->entries[i]->k->phase;
    for (int phase = 0; phase <= max_phase; phase++) {
        for (uint32_t i = 0; i < reg->nentries; i++) {
            wp_entry *e = reg->entries[i];
            if (e->k && e->k->phase == phase)
                e->k->validate(reg, e);
        }
    }
    /* Process kinds this build cannot run (process.lua) still name their commands. */
    for (uint32_t i = 0; i < reg->nentries; i++)
        if (!reg->entries[i]->k && !reg->entries[i]->bad)
            reg__collect_command(reg, reg->entries[i]);
}

wp_status wp_registry_load(const wp_registry_options *opts, wp_registry **out, wp_err *err) {
    *out = NULL;
    wp_registry *reg = wp_heap_zalloc(heap(), sizeof *reg);
    if (!reg)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&reg->lock, NULL);
    reg->log = opts ? opts->log : NULL;
    reg->log_ud = opts ? opts->log_ud : NULL;
    char *real = realpath(opts && opts->project_dir ? opts->project_dir : ".", NULL);
    if (!real) {
        wp_registry_free(reg);
        return wp_err_set(err, WP_ERR_NOT_FOUND, "project directory %s not found",
                          opts && opts->project_dir ? opts->project_dir : ".");
    }
    reg->project = reg__strdup(real);
    free(real);
    wp_status st =
        reg->project ? reg__load_project(reg, err) : wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    if (st != WP_OK) {
        wp_registry_free(reg);
        return st;
    }
    validate_all(reg);
    if (!reg__boot_order(reg)) {
        wp_registry_free(reg);
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    }
    if (reg->ncommands) /* qsort's pointer must not be NULL, even for no items */
        qsort(reg->commands, reg->ncommands, sizeof *reg->commands, command_order);
    if (reg->nproblems)
        qsort(reg->problems, reg->nproblems, sizeof *reg->problems, problem_order);
    *out = reg;
    return WP_OK;
}

static void free_entry(wp_entry *e) {
    if (e->k && e->k->free && e->priv)
        e->k->free(e->priv);
    wp_value_free(&e->data);
    reg__strfree(e->id);
    reg__strfree(e->ns);
    reg__strfree(e->name);
    reg__strfree(e->kind);
    wp_heap_free(heap(), e->deps, e->deps_cap * sizeof *e->deps);
    wp_heap_free(heap(), e, sizeof *e);
}

static void free_file(reg_file *f) {
    if (f->has_doc)
        yaml_document_delete(&f->doc);
    reg__strfree(f->path);
    reg__strfree(f->dir);
    reg__strfree(f->root);
    wp_heap_free(heap(), f, sizeof *f);
}

void wp_registry_free(wp_registry *reg) {
    if (!reg)
        return;
    for (uint32_t i = 0; i < reg->nentries; i++)
        free_entry(reg->entries[i]);
    wp_heap_free(heap(), reg->entries, reg->entries_cap * sizeof *reg->entries);
    for (uint32_t i = 0; i < reg->nfiles; i++)
        free_file(reg->files[i]);
    wp_heap_free(heap(), reg->files, reg->files_cap * sizeof *reg->files);
    for (uint32_t i = 0; i < reg->nproblems; i++) {
        wp_problem *p = &reg->problems[i];
        reg__strfree((char *)p->file);
        reg__strfree((char *)p->entry);
        reg__strfree((char *)p->field);
        reg__strfree((char *)p->reason);
    }
    wp_heap_free(heap(), reg->problems, reg->problems_cap * sizeof *reg->problems);
    for (uint32_t i = 0; i < reg->ncommands; i++) {
        reg__strfree((char *)reg->commands[i].name);
        reg__strfree((char *)reg->commands[i].short_text);
    }
    wp_heap_free(heap(), reg->commands, reg->commands_cap * sizeof *reg->commands);
    reg__modules_free(reg);
    reg__strfree(reg->project);
    pthread_mutex_destroy(&reg->lock);
    wp_heap_free(heap(), reg, sizeof *reg);
}

void reg__lock(wp_registry *reg) { pthread_mutex_lock(&reg->lock); }

void reg__unlock(wp_registry *reg) { pthread_mutex_unlock(&reg->lock); }

/* ---- Running ----------------------------------------------------------------------------- */

wp_status wp_registry_prepare(wp_registry *reg, const wp_entry *e, wp_process_spec **out,
                              wp_err *err) {
    *out = NULL;
    if (e->bad)
        return wp_err_set(err, WP_ERR_INVALID, "entry %s has problems", e->id);
    if (e->k == &reg__kind_process_wasm || e->k == &reg__kind_function_wasm ||
        e->k == &reg__kind_function_wat)
        return reg__wasm_prepare(reg, e, out, err);
    if (e->k == &reg__kind_process_lua || e->k == &reg__kind_function_lua)
        return reg__lua_prepare(reg, e, out, err);
    if (strncmp(e->kind, "process.", 8) == 0 || strncmp(e->kind, "function.", 9) == 0)
        return wp_err_set(err, WP_ERR_UNSUPPORTED, "entry %s: kind %s cannot run in this build",
                          e->id, e->kind);
    return wp_err_set(err, WP_ERR_INVALID, "entry %s is a %s, not a process", e->id, e->kind);
}
