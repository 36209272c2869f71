/* kind_lua.c: process.lua and function.lua: the source (inline or file://, compiled once at
 * load to find syntax errors), the method, the modules, and what such an entry runs with. */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "internal.h"
#include "wippy/lua.h"

typedef struct lua_priv {
    char *source;
    size_t source_len;
    char *chunkname; /* "@src/app/worker.lua" */
    char *method;
    wp_lua_hooks hooks;
    wp_lua_config cfg; /* points into this struct; what a spec lends the behaviour */
} lua_priv;

static wp_heap *heap(void) { return wp_heap_default(); }

static void priv_free(void *ptr) {
    lua_priv *p = ptr;
    wp_heap_free(heap(), p->source, p->source_len + 1);
    reg__strfree(p->chunkname);
    reg__strfree(p->method);
    wp_heap_free(heap(), p, sizeof *p);
}

static void oom(wp_registry *reg, wp_entry *e) {
    reg__problem(reg, NULL, 0, e, NULL, "out of memory");
}

/* ---- Env hooks: Lua processes on any worker reach the registry's env variables ------------- */

/* The registry is used by one thread at a time; Lua processes run on many: its lock. */
static wp_status hook_get(void *ud, const char *key, wp_value *out, wp_err *err) {
    reg__lock(ud);
    wp_status st = wp_registry_env_get(ud, key, out, err);
    reg__unlock(ud);
    return st;
}

static wp_status hook_set(void *ud, const char *key, const char *value, wp_err *err) {
    reg__lock(ud);
    wp_status st = wp_registry_env_set(ud, key, value, err);
    reg__unlock(ud);
    return st;
}

/* Every env.variable with a value, by its public name (else its ID). */
static wp_status all_vars(wp_registry *reg, wp_value *out, wp_err *err) {
    wp_status st = wp_value_map(out, 0);
    for (uint32_t i = 0; st == WP_OK && i < reg->nentries; i++) {
        const wp_entry *e = reg->entries[i];
        if (e->k != &reg__kind_env_variable)
            continue;
        const wp_value *name = wp_value_map_get(&e->data, "variable");
        const char *key = name && name->kind == WP_VSTRING ? wp_value_str(name, NULL) : e->id;
        wp_value v = wp_value_nil();
        if (wp_registry_env_get(reg, e->id, &v, NULL) != WP_OK)
            continue; /* no value: not listed */
        st = wp_value_map_set_str(out, key, &v);
        wp_value_free(&v);
    }
    if (st != WP_OK) {
        wp_value_free(out);
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    }
    return WP_OK;
}

static wp_status hook_all(void *ud, wp_value *out, wp_err *err) {
    reg__lock(ud);
    wp_status st = all_vars(ud, out, err);
    reg__unlock(ud);
    return st;
}

/* ---- Validation ----------------------------------------------------------------------------- */

/* Reads the source: inline text, or file://PATH relative to the definition file. */
static bool load_source(wp_registry *reg, wp_entry *e, lua_priv *p) {
    const char *source = NULL;
    if (!reg__get_text(reg, e, NULL, "source", "source", true, &source))
        return false;
    yaml_node_t *at = reg__field(e, NULL, "source");
    uint8_t *file = NULL;
    size_t len = strlen(source);
    if (strncmp(source, "file://", 7) == 0) {
        char *path = reg__path_join(e->file->dir, source + 7);
        if (!path) {
            oom(reg, e);
            return false;
        }
        wp_err err = {0};
        wp_status st = reg__read_file(path, &file, &len, &err);
        if (st != WP_OK)
            reg__field_problem(reg, e, at, "source", "cannot read %s: %s", path, err.msg);
        /* tracebacks name the file as the project shows it */
        size_t root = strlen(reg->project);
        p->chunkname = reg__printf("@%s", strncmp(path, reg->project, root) == 0 &&
                                                  path[root] == '/' ? path + root + 1 : path);
        reg__strfree(path);
        if (st != WP_OK)
            return false;
        source = (const char *)file;
    } else {
        p->chunkname = reg__printf("=%s", e->id);
    }
    p->source = wp_heap_alloc(heap(), len + 1);
    if (p->source) {
        memcpy(p->source, source, len);
        p->source[len] = '\0';
        p->source_len = len;
    }
    reg__free_file(file, len);
    if (!p->source || !p->chunkname) {
        oom(reg, e);
        return false;
    }
    return true;
}

/* Compiles the source once in a throwaway state: a syntax error is a problem at load. */
static void check_syntax(wp_registry *reg, wp_entry *e, const lua_priv *p) {
    lua_State *L = luaL_newstate();
    if (!L)
        return oom(reg, e);
    if (luaL_loadbufferx(L, p->source, p->source_len, p->chunkname, "t") != LUA_OK)
        reg__field_problem(reg, e, reg__field(e, NULL, "source"), "source", "%s",
                           lua_tostring(L, -1));
    lua_close(L);
}

static void parse_modules(wp_registry *reg, wp_entry *e, lua_priv *p) {
    yaml_node_t *list = reg__field(e, NULL, "modules");
    if (!list || reg__yaml_is_null(list))
        return;
    if (!reg__yaml_is_seq(list)) {
        reg__field_problem(reg, e, list, "modules", "modules must be a list of names");
        return;
    }
    for (uint32_t i = 0; i < reg__yaml_len(list); i++) {
        yaml_node_t *item = reg__yaml_at(&e->file->doc, list, i);
        const char *name = reg__yaml_scalar(item);
        char path[32];
        snprintf(path, sizeof path, "modules[%u]", i + 1);
        uint32_t bit = name ? wp_lua_module_bit(name) : 0;
        if (bit)
            p->cfg.modules |= bit;
        else if (name && (strcmp(name, "process") == 0 || strcmp(name, "channel") == 0 ||
                          strcmp(name, "errors") == 0))
            continue; /* always there anyway */
        else
            reg__field_problem(reg, e, item, path,
                               "unknown module %s (this build has: process, channel, errors, "
                               "time, io, env, funcs)",
                               name ? name : "(not a name)");
    }
}

static void validate(wp_registry *reg, wp_entry *e) {
    lua_priv *p = wp_heap_zalloc(heap(), sizeof *p);
    if (!p)
        return oom(reg, e);
    e->priv = p;
    bool have_source = load_source(reg, e, p);
    const char *method = NULL;
    if (reg__get_text(reg, e, NULL, "method", "method", false, &method) &&
        !(p->method = reg__strdup(method)))
        return oom(reg, e);
    parse_modules(reg, e, p);
    reg__func_validate(reg, e); /* pool (kind_pool.c) */
    reg__collect_command(reg, e);
    if (have_source)
        check_syntax(reg, e, p);
    p->hooks = (wp_lua_hooks){reg, hook_get, hook_set, hook_all};
    p->cfg.id = e->id;
    p->cfg.chunkname = p->chunkname;
    p->cfg.source = p->source;
    p->cfg.source_len = p->source_len;
    p->cfg.method = p->method;
    p->cfg.hooks = &p->hooks;
}

static const char *const FIELDS[] = {"source", "method", "modules", "imports", "pool",
                                     "lifecycle", NULL};

/* Phase 3, as the wasm entries. */
const kind_info reg__kind_process_lua = {"process.lua", 3, FIELDS, validate, priv_free};
const kind_info reg__kind_function_lua = {"function.lua", 3, FIELDS, validate, priv_free};

wp_status reg__lua_prepare(wp_registry *reg, const wp_entry *e, wp_process_spec **out,
                           wp_err *err) {
    (void)reg;
    const lua_priv *p = e->priv;
    if (!p || !p->source)
        return wp_err_set(err, WP_ERR_INVALID, "entry %s has problems", e->id);
    *out = reg__spec_new(wp_lua_behavior(), &p->cfg, 0);
    return *out ? WP_OK : wp_err_set(err, WP_ERR_NOMEM, "out of memory");
}
