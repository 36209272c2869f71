/* kind_env.c: env.variable and the env storages (os, static, memory, file, router). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define ROUTER_MAX_DEPTH 16u /* routers inside routers */

typedef enum storage_type { ST_OS, ST_STATIC, ST_MEMORY, ST_FILE, ST_ROUTER } storage_type;

typedef struct storage {
    storage_type type;
    wp_value values; /* static and memory: a map of strings */
    char *file_path; /* file: absolute */
    bool auto_create;
    unsigned file_mode;
    unsigned dir_mode;
    wp_entry **route; /* router: storages in order */
    uint32_t nroute;
} storage;

typedef struct variable {
    wp_entry *storage;
    char *key;      /* the name in the storage: 'variable', else the entry's name */
    bool is_public; /* 'variable' was given: reachable by that name */
    char *dflt;     /* NULL: no default */
    bool readonly;
} variable;

static wp_heap *heap(void) { return wp_heap_default(); }

static void storage_free(void *priv) {
    storage *s = priv;
    wp_value_free(&s->values);
    reg__strfree(s->file_path);
    wp_heap_free(heap(), s->route, s->nroute * sizeof *s->route);
    wp_heap_free(heap(), s, sizeof *s);
}

static void variable_free(void *priv) {
    variable *v = priv;
    reg__strfree(v->key);
    reg__strfree(v->dflt);
    wp_heap_free(heap(), v, sizeof *v);
}

static storage *storage_new(wp_registry *reg, wp_entry *e, storage_type type) {
    storage *s = wp_heap_zalloc(heap(), sizeof *s);
    if (!s || (type <= ST_MEMORY && wp_value_map(&s->values, 0) != WP_OK)) {
        if (s)
            wp_heap_free(heap(), s, sizeof *s);
        reg__problem(reg, NULL, 0, e, NULL, "out of memory");
        return NULL;
    }
    s->type = type;
    e->priv = s;
    return s;
}

static bool valid_var_name(const char *s) {
    if (!s[0])
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

/* ---- Validation -------------------------------------------------------------------------- */

static void os_validate(wp_registry *reg, wp_entry *e) { storage_new(reg, e, ST_OS); }

static void memory_validate(wp_registry *reg, wp_entry *e) { storage_new(reg, e, ST_MEMORY); }

static void static_validate(wp_registry *reg, wp_entry *e) {
    storage *s = storage_new(reg, e, ST_STATIC);
    yaml_node_t *values = reg__field(e, NULL, "values");
    if (!s || !values || reg__yaml_is_null(values))
        return;
    if (!reg__yaml_is_map(values)) {
        reg__field_problem(reg, e, values, "values", "values must be a mapping of strings");
        return;
    }
    yaml_node_t *k;
    yaml_node_t *v;
    for (uint32_t i = 0; reg__yaml_pair(&e->file->doc, values, i, &k, &v); i++) {
        const char *key = reg__yaml_scalar(k);
        const char *val = reg__yaml_scalar(v);
        if (!key || !val) {
            reg__field_problem(reg, e, k, "values", "values must be a mapping of strings");
            continue;
        }
        if (!valid_var_name(key)) {
            reg__field_problem(reg, e, k, "values", "invalid variable name \"%s\"", key);
            continue;
        }
        wp_value sv = wp_value_nil();
        if (wp_value_cstring(&sv, val) != WP_OK || wp_value_map_set_str(&s->values, key, &sv))
            reg__problem(reg, NULL, 0, e, NULL, "out of memory");
        wp_value_free(&sv); /* nil unless the map refused it */
    }
}

static void file_validate(wp_registry *reg, wp_entry *e) {
    const char *path = NULL;
    const char *mode = NULL;
    storage *s = storage_new(reg, e, ST_FILE);
    if (!s)
        return;
    s->file_mode = 0644;
    s->dir_mode = 0755;
    reg__get_bool(reg, e, NULL, "auto_create", "auto_create", false, &s->auto_create);
    static const char *const modes[] = {"file_mode", "dir_mode"};
    for (int i = 0; i < 2; i++) {
        if (!reg__get_text(reg, e, NULL, modes[i], modes[i], false, &mode))
            continue;
        char *end;
        unsigned long m = strtoul(mode, &end, 8);
        if (!mode[0] || *end || m > 07777)
            reg__field_problem(reg, e, reg__field(e, NULL, modes[i]), modes[i],
                               "%s must be an octal permission like 0644", modes[i]);
        else
            *(i ? &s->dir_mode : &s->file_mode) = (unsigned)m;
    }
    if (!reg__get_text(reg, e, NULL, "file_path", "file_path", true, &path))
        return;
    s->file_path = reg__path_join(reg->project, path);
    struct stat sb;
    if (s->file_path && !s->auto_create && stat(s->file_path, &sb) != 0)
        reg__field_problem(reg, e, reg__field(e, NULL, "file_path"), "file_path",
                           "file %s does not exist (set auto_create to create it)", s->file_path);
}

static void router_validate(wp_registry *reg, wp_entry *e) {
    storage *s = storage_new(reg, e, ST_ROUTER);
    yaml_node_t *list = reg__field(e, NULL, "storages");
    if (!s)
        return;
    if (!reg__yaml_is_seq(list) || reg__yaml_len(list) == 0) {
        reg__field_problem(reg, e, list, "storages",
                           list ? "storages must be a non-empty list" : "storages is required");
        return;
    }
    uint32_t n = reg__yaml_len(list);
    if (!(s->route = wp_heap_calloc(heap(), n, sizeof *s->route))) {
        reg__problem(reg, NULL, 0, e, NULL, "out of memory");
        return;
    }
    s->nroute = n;
    for (uint32_t i = 0; i < n; i++) {
        yaml_node_t *item = reg__yaml_at(&e->file->doc, list, i);
        char path[32];
        snprintf(path, sizeof path, "storages[%u]", i + 1);
        const char *ref = reg__yaml_scalar(item);
        if (!ref) {
            reg__field_problem(reg, e, item, path, "%s must be an entry ID", path);
            continue;
        }
        s->route[i] = reg__ref(reg, e, item, path, ref, "env.storage.");
        if (s->route[i] == e) {
            reg__field_problem(reg, e, item, path, "a router cannot route to itself");
            s->route[i] = NULL;
        }
    }
}

/* No two variables share a public name. */
static void check_public_name(wp_registry *reg, wp_entry *e, const char *name) {
    for (uint32_t i = 0; i < reg->nentries; i++) {
        wp_entry *o = reg->entries[i];
        const variable *ov = o->priv;
        if (o == e)
            return; /* only earlier ones: the later one gets the problem */
        if (o->k == &reg__kind_env_variable && ov && ov->is_public && strcmp(ov->key, name) == 0) {
            reg__field_problem(reg, e, reg__field(e, NULL, "variable"), "variable",
                               "variable name %s is already used by %s", name, o->id);
            return;
        }
    }
}

static void variable_validate(wp_registry *reg, wp_entry *e) {
    const char *name = NULL;
    const char *store = NULL;
    const char *dflt = NULL;
    bool readonly = false;
    bool has_name = reg__get_text(reg, e, NULL, "variable", "variable", false, &name);
    if (has_name && !valid_var_name(name)) {
        reg__field_problem(reg, e, reg__field(e, NULL, "variable"), "variable",
                           "invalid variable name \"%s\" (letters, digits and _ only)", name);
        return;
    }
    reg__get_bool(reg, e, NULL, "readonly", "readonly", false, &readonly);
    reg__get_text(reg, e, NULL, "default", "default", false, &dflt);
    if (!reg__get_text(reg, e, NULL, "storage", "storage", true, &store))
        return;
    wp_entry *st =
        reg__ref(reg, e, reg__field(e, NULL, "storage"), "storage", store, "env.storage.");
    if (!st)
        return;
    variable *v = wp_heap_zalloc(heap(), sizeof *v);
    if (!v || !(v->key = reg__strdup(has_name ? name : e->name)) ||
        (dflt && !(v->dflt = reg__strdup(dflt)))) {
        if (v)
            variable_free(v);
        reg__problem(reg, NULL, 0, e, NULL, "out of memory");
        return;
    }
    v->storage = st;
    v->is_public = has_name;
    v->readonly = readonly;
    if (has_name)
        check_public_name(reg, e, name);
    e->priv = v;
}

/* ---- .env files -------------------------------------------------------------------------- */

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t')
        s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

/* A value: "double quoted" (\n \t \" \\ escapes), 'single quoted', or bare up to a " #". */
static void unquote(char *v) {
    size_t n = strlen(v);
    if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
        char q = v[0];
        char *w = v;
        for (size_t i = 1; i < n - 1; i++) {
            char c = v[i];
            if (q == '"' && c == '\\' && i + 1 < n - 1) {
                c = v[++i];
                c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
            }
            *w++ = c;
        }
        *w = '\0';
        return;
    }
    char *hash = strstr(v, " #");
    if (hash)
        *hash = '\0';
    char *t = trim(v);
    memmove(v, t, strlen(t) + 1);
}

/* Parses KEY=VALUE lines (# comments, optional "export ") into map. */
static wp_status parse_env(char *text, wp_value *map, wp_err *err) {
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *l = trim(line);
        if (strncmp(l, "export ", 7) == 0)
            l = trim(l + 7);
        char *eq = strchr(l, '=');
        if (!l[0] || l[0] == '#' || !eq)
            continue;
        *eq = '\0';
        char *key = trim(l);
        char *val = eq + 1;
        unquote(val);
        wp_value sv = wp_value_nil();
        if (!valid_var_name(key))
            continue;
        if (wp_value_cstring(&sv, val) != WP_OK || wp_value_map_set_str(map, key, &sv) != WP_OK) {
            wp_value_free(&sv);
            return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
        }
    }
    return WP_OK;
}

static wp_status read_env_file(const storage *s, const wp_entry *e, wp_value *map, wp_err *err) {
    if (wp_value_map(map, 0) != WP_OK)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    uint8_t *text = NULL;
    size_t len = 0;
    wp_status st = reg__read_file(s->file_path, &text, &len, err);
    if (st == WP_ERR_NOT_FOUND && s->auto_create)
        return WP_OK; /* created on the first write */
    if (st != WP_OK)
        return wp_err_set(err, st == WP_ERR_NOMEM ? st : WP_ERR_UNAVAILABLE,
                          "%s: cannot read %s: %s", e->id, s->file_path, err->msg);
    st = parse_env((char *)text, map, err);
    reg__free_file(text, len);
    return st;
}

static bool needs_quotes(const char *v) {
    return v[0] == '\0' || strpbrk(v, " \t\n\r#\"'\\") != NULL;
}

static wp_status write_env_file(const storage *s, const wp_entry *e, const wp_value *map,
                                wp_err *err) {
    char *dir = reg__strdup(s->file_path);
    if (!dir)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    *strrchr(dir, '/') = '\0';
    if (s->auto_create && dir[0])
        mkdir(dir, s->dir_mode); /* one level, as the storage's own directory */
    reg__strfree(dir);
    FILE *f = NULL;
    int fd = open(s->file_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, s->file_mode);
    if (fd >= 0 && !(f = fdopen(fd, "w")))
        close(fd);
    if (!f)
        return wp_err_set(err, WP_ERR_UNAVAILABLE, "%s: cannot write %s: %s", e->id, s->file_path,
                          strerror(errno));
    const wp_value *k;
    const wp_value *v;
    for (size_t i = 0; wp_value_map_pair(map, i, &k, &v); i++) {
        const char *val = wp_value_str(v, NULL);
        if (!needs_quotes(val)) {
            fprintf(f, "%s=%s\n", wp_value_str(k, NULL), val);
            continue;
        }
        fprintf(f, "%s=\"", wp_value_str(k, NULL));
        for (const char *c = val; *c; c++) {
            if (*c == '\n')
                fputs("\\n", f);
            else if (*c == '"' || *c == '\\')
                fprintf(f, "\\%c", *c);
            else
                fputc(*c, f);
        }
        fputs("\"\n", f);
    }
    if (fclose(f) != 0)
        return wp_err_set(err, WP_ERR_UNAVAILABLE, "%s: cannot write %s", e->id, s->file_path);
    return WP_OK;
}

/* ---- Reading and writing ----------------------------------------------------------------- */

/* The value of key in storage e: a string, or nil when it has none. */
static wp_status storage_get(const wp_entry *e, const char *key, uint32_t depth, wp_value *out,
                             wp_err *err) {
    const storage *s = e->priv;
    *out = wp_value_nil();
    if (!s || depth > ROUTER_MAX_DEPTH)
        return wp_err_set(err, WP_ERR_INVALID, "%s: storage cannot be used", e->id);
    const char *text = NULL;
    wp_value map = wp_value_nil();
    const wp_value *found = NULL;
    wp_status st = WP_OK;
    switch (s->type) {
    case ST_OS:
        text = getenv(key);
        break;
    case ST_STATIC:
    case ST_MEMORY:
        found = wp_value_map_get(&s->values, key);
        break;
    case ST_FILE:
        if ((st = read_env_file(s, e, &map, err)) == WP_OK)
            found = wp_value_map_get(&map, key);
        break;
    case ST_ROUTER:
        for (uint32_t i = 0; i < s->nroute && st == WP_OK && out->kind == WP_VNIL; i++)
            if (s->route[i])
                st = storage_get(s->route[i], key, depth + 1, out, err);
        return st;
    }
    if (found)
        text = wp_value_str(found, NULL);
    if (st == WP_OK && text && wp_value_cstring(out, text) != WP_OK)
        st = wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    wp_value_free(&map);
    return st;
}

static wp_status storage_set(const wp_entry *e, const char *key, const char *value, uint32_t depth,
                             wp_err *err) {
    storage *s = e->priv;
    if (!s || depth > ROUTER_MAX_DEPTH)
        return wp_err_set(err, WP_ERR_INVALID, "%s: storage cannot be used", e->id);
    if (s->type == ST_OS || s->type == ST_STATIC)
        return wp_err_set(err, WP_ERR_PERMISSION_DENIED, "storage %s is read-only", e->id);
    if (s->type == ST_ROUTER)
        return s->nroute && s->route[0] ? storage_set(s->route[0], key, value, depth + 1, err)
                                        : wp_err_set(err, WP_ERR_INVALID, "%s: no storage", e->id);
    wp_value map = wp_value_nil();
    wp_value *target = &s->values;
    wp_status st = WP_OK;
    if (s->type == ST_FILE && (st = read_env_file(s, e, &map, err)) == WP_OK)
        target = &map;
    wp_value sv = wp_value_nil();
    if (st == WP_OK &&
        (wp_value_cstring(&sv, value) != WP_OK || wp_value_map_set_str(target, key, &sv) != WP_OK))
        st = wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    wp_value_free(&sv);
    if (st == WP_OK && s->type == ST_FILE)
        st = write_env_file(s, e, &map, err);
    wp_value_free(&map);
    return st;
}

wp_status reg__env_get(wp_registry *reg, const wp_entry *var, wp_value *out, wp_err *err) {
    (void)reg;
    const variable *v = var->priv;
    *out = wp_value_nil();
    if (!v)
        return wp_err_set(err, WP_ERR_INVALID, "variable %s has problems", var->id);
    wp_status st = storage_get(v->storage, v->key, 0, out, err);
    if (st != WP_OK || out->kind != WP_VNIL)
        return st;
    if (!v->dflt)
        return wp_err_set(err, WP_ERR_NOT_FOUND, "variable %s (%s) has no value", var->id, v->key);
    if (wp_value_cstring(out, v->dflt) != WP_OK)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    return WP_OK;
}

wp_status reg__env_set(wp_registry *reg, const wp_entry *var, const char *value, wp_err *err) {
    (void)reg;
    const variable *v = var->priv;
    if (!v)
        return wp_err_set(err, WP_ERR_INVALID, "variable %s has problems", var->id);
    if (v->readonly)
        return wp_err_set(err, WP_ERR_PERMISSION_DENIED, "variable %s is read-only", var->id);
    return storage_set(v->storage, v->key, value, 0, err);
}

/* A variable by entry ID, or by public name. */
static const wp_entry *find_variable(const wp_registry *reg, const char *var, wp_err *err) {
    for (uint32_t i = 0; i < reg->nentries; i++) {
        const wp_entry *e = reg->entries[i];
        const variable *v = e->priv;
        if (e->k != &reg__kind_env_variable)
            continue;
        if (strcmp(e->id, var) == 0 || (v && v->is_public && strcmp(v->key, var) == 0))
            return e;
    }
    wp_err_set(err, WP_ERR_NOT_FOUND, "env variable %s not found", var);
    return NULL;
}

wp_status wp_registry_env_get(wp_registry *reg, const char *var, wp_value *out, wp_err *err) {
    *out = wp_value_nil();
    const wp_entry *e = find_variable(reg, var, err);
    return e ? reg__env_get(reg, e, out, err) : WP_ERR_NOT_FOUND;
}

wp_status wp_registry_env_set(wp_registry *reg, const char *var, const char *value, wp_err *err) {
    const wp_entry *e = find_variable(reg, var, err);
    return e ? reg__env_set(reg, e, value, err) : WP_ERR_NOT_FOUND;
}

static const char *const NO_FIELDS[] = {"lifecycle", NULL};
static const char *const STATIC_FIELDS[] = {"values", "lifecycle", NULL};
static const char *const FILE_FIELDS[] = {"file_path", "auto_create", "file_mode",
                                          "dir_mode",  "lifecycle",   NULL};
static const char *const ROUTER_FIELDS[] = {"storages", "lifecycle", NULL};
static const char *const VARIABLE_FIELDS[] = {"variable", "storage",   "default",
                                              "readonly", "lifecycle", NULL};

const kind_info reg__kind_env_storage_os = {"env.storage.os", 0, NO_FIELDS, os_validate,
                                            storage_free};
const kind_info reg__kind_env_storage_static = {"env.storage.static", 0, STATIC_FIELDS,
                                                static_validate, storage_free};
const kind_info reg__kind_env_storage_memory = {"env.storage.memory", 0, NO_FIELDS, memory_validate,
                                                storage_free};
const kind_info reg__kind_env_storage_file = {"env.storage.file", 0, FILE_FIELDS, file_validate,
                                              storage_free};
const kind_info reg__kind_env_storage_router = {"env.storage.router", 1, ROUTER_FIELDS,
                                                router_validate, storage_free};
const kind_info reg__kind_env_variable = {"env.variable", 2, VARIABLE_FIELDS, variable_validate,
                                          variable_free};
