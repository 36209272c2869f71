/* project.c: from a project directory to entries: wippy.lock, scanning the source directories,
 * reading definition files, making entries. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#define SCAN_MAX_DEPTH 32u /* directory levels below a source directory */

static wp_heap *heap(void) { return wp_heap_default(); }

static const kind_info *const KINDS[] = {
    &reg__kind_fs_directory,       &reg__kind_env_storage_os,   &reg__kind_env_storage_static,
    &reg__kind_env_storage_memory, &reg__kind_env_storage_file, &reg__kind_env_storage_router,
    &reg__kind_env_variable,       &reg__kind_process_host,     &reg__kind_terminal_host,
    &reg__kind_process_wasm,       &reg__kind_function_wasm,    &reg__kind_function_wat,
    &reg__kind_process_lua,        &reg__kind_function_lua,     &reg__kind_process_service,
};

const kind_info *reg__kind(const char *name) {
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++)
        if (strcmp(KINDS[i]->name, name) == 0)
            return KINDS[i];
    return NULL;
}

/* ---- Entries ----------------------------------------------------------------------------- */

static bool valid_ident(const char *s, bool dots) {
    if (!s[0])
        return false;
    for (const char *p = s; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || (dots && *p == '.');
        if (!ok)
            return false;
    }
    return true;
}

static void warn_unknown_fields(wp_registry *reg, wp_entry *e, bool top_level) {
    yaml_node_t *k;
    yaml_node_t *v;
    for (uint32_t i = 0; reg__yaml_pair(&e->file->doc, e->node, i, &k, &v); i++) {
        const char *key = reg__yaml_scalar(k);
        if (!key || strcmp(key, "name") == 0 || strcmp(key, "kind") == 0 ||
            strcmp(key, "meta") == 0 ||
            (top_level && (strcmp(key, "namespace") == 0 || strcmp(key, "version") == 0)))
            continue;
        bool known = false;
        for (const char *const *f = e->k->fields; *f && !known; f++)
            known = strcmp(*f, key) == 0;
        if (!known)
            reg__log(reg, "%s:%u: %s: unknown field '%s' of %s (ignored)", e->file->path,
                     reg__yaml_line(k), e->id, key, e->kind);
    }
}

static bool add_entry(wp_registry *reg, wp_entry *e) {
    if (!reg__grow((void **)&reg->entries, &reg->entries_cap, reg->nentries + 1,
                   sizeof *reg->entries))
        return false;
    reg->entries[reg->nentries++] = e;
    return true;
}

static wp_entry *entry_new(reg_file *f, yaml_node_t *node, const char *ns, const char *name,
                           const char *kind) {
    wp_entry *e = wp_heap_zalloc(heap(), sizeof *e);
    if (!e)
        return NULL;
    e->file = f;
    e->node = node;
    e->line = reg__yaml_line(node);
    e->ns = reg__strdup(ns);
    e->name = reg__strdup(name);
    e->kind = reg__strdup(kind);
    e->id = reg__printf("%s:%s", ns, name);
    e->k = reg__kind(kind);
    if (!e->ns || !e->name || !e->kind || !e->id) {
        reg__strfree(e->ns);
        reg__strfree(e->name);
        reg__strfree(e->kind);
        reg__strfree(e->id);
        wp_heap_free(heap(), e, sizeof *e);
        return NULL;
    }
    return e;
}

/* One entry mapping of file f in namespace ns. */
static wp_status load_entry(wp_registry *reg, reg_file *f, yaml_node_t *node, const char *ns,
                            bool top_level, wp_err *err) {
    if (!reg__yaml_is_map(node)) {
        reg__problem(reg, f, reg__yaml_line(node), NULL, NULL, "an entry must be a mapping");
        return WP_OK;
    }
    const char *name = reg__yaml_scalar(reg__yaml_get(&f->doc, node, "name"));
    const char *kind = reg__yaml_scalar(reg__yaml_get(&f->doc, node, "kind"));
    if (!name || !name[0])
        reg__problem(reg, f, reg__yaml_line(node), NULL, "name", "name is required");
    else if (strchr(name, ':') || strpbrk(name, " \t\n"))
        reg__problem(reg, f, reg__yaml_line(node), NULL, "name", "invalid entry name \"%s\"", name);
    if (!kind || !kind[0])
        reg__problem(reg, f, reg__yaml_line(node), NULL, "kind", "kind is required");
    if (!name || !name[0] || !kind || !kind[0] || strchr(name, ':') || strpbrk(name, " \t\n"))
        return WP_OK;
    wp_entry *e = entry_new(f, node, ns, name, kind);
    if (!e)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    const wp_entry *first = reg__find(reg, e->id);
    wp_err verr = {0};
    if (reg__yaml_value(&f->doc, node, &e->data, &verr) != WP_OK)
        reg__problem(reg, f, e->line, e, NULL, "%s", verr.msg);
    if (first)
        reg__problem(reg, f, e->line, e, NULL, "duplicate entry ID %s (first defined at %s:%u)",
                     e->id, first->file->path, first->line);
    if (!e->k)
        reg__log(reg, "%s:%u: %s: unknown kind %s (kept, ignored)", f->path, e->line, e->id, kind);
    else
        warn_unknown_fields(reg, e, top_level);
    if (first) {
        e->k = NULL; /* a duplicate is reported, not validated twice */
        e->bad = true;
    }
    if (!add_entry(reg, e)) {
        wp_value_free(&e->data);
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    }
    return WP_OK;
}

/* A parsed file: its entries if it is a definition file. */
static wp_status load_definitions(wp_registry *reg, reg_file *f, wp_err *err) {
    yaml_node_t *root = yaml_document_get_root_node(&f->doc);
    yaml_node_t *nsn = reg__yaml_get(&f->doc, root, "namespace");
    yaml_node_t *entries = reg__yaml_get(&f->doc, root, "entries");
    bool single = reg__yaml_get(&f->doc, root, "name") && reg__yaml_get(&f->doc, root, "kind");
    if (!nsn && !entries) {
        reg__log(reg, "%s: not a definition file (no namespace and entries): skipped", f->path);
        return WP_OK;
    }
    const char *ns = reg__yaml_scalar(nsn);
    if (!ns) {
        reg__problem(reg, f, reg__yaml_line(nsn ? nsn : root), NULL, "namespace",
                     "namespace is required");
        return WP_OK;
    }
    if (!valid_ident(ns, true)) {
        reg__problem(reg, f, reg__yaml_line(nsn), NULL, "namespace", "invalid namespace \"%s\"",
                     ns);
        return WP_OK;
    }
    if (!entries && single)
        return load_entry(reg, f, root, ns, true, err);
    if (!reg__yaml_is_seq(entries)) {
        reg__problem(reg, f, reg__yaml_line(entries ? entries : root), NULL, "entries",
                     entries ? "entries must be a list" : "entries is required");
        return WP_OK;
    }
    reg__log(reg, "%s: namespace %s, %u entries", f->path, ns, reg__yaml_len(entries));
    for (uint32_t i = 0; i < reg__yaml_len(entries); i++) {
        wp_status st = load_entry(reg, f, reg__yaml_at(&f->doc, entries, i), ns, false, err);
        if (st != WP_OK)
            return st;
    }
    return WP_OK;
}

/* ---- Files ------------------------------------------------------------------------------- */

static reg_file *file_new(wp_registry *reg, const char *abs, const char *root) {
    reg_file *f = wp_heap_zalloc(heap(), sizeof *f);
    if (!f)
        return NULL;
    size_t plen = strlen(reg->project);
    bool inside = strncmp(abs, reg->project, plen) == 0 && abs[plen] == '/';
    f->path = reg__strdup(inside ? abs + plen + 1 : abs);
    f->dir = reg__strdup(abs);
    f->root = reg__strdup(root);
    if (f->dir)
        *strrchr(f->dir, '/') = '\0';
    if (!f->path || !f->dir || !f->root ||
        !reg__grow((void **)&reg->files, &reg->files_cap, reg->nfiles + 1, sizeof *reg->files)) {
        reg__strfree(f->path);
        reg__strfree(f->dir);
        reg__strfree(f->root);
        wp_heap_free(heap(), f, sizeof *f);
        return NULL;
    }
    reg->files[reg->nfiles++] = f;
    return f;
}

static wp_status load_file(wp_registry *reg, const char *abs, const char *root, wp_err *err) {
    reg_file *f = file_new(reg, abs, root);
    if (!f)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    uint8_t *text = NULL;
    size_t len = 0;
    wp_err ferr = {0};
    if (reg__read_file(abs, &text, &len, &ferr) != WP_OK) {
        reg__problem(reg, f, 0, NULL, NULL, "cannot read: %s", ferr.msg);
        return WP_OK;
    }
    uint32_t line = 0;
    char reason[256];
    f->has_doc = reg__yaml_load((const char *)text, len, &f->doc, &line, reason, sizeof reason);
    reg__free_file(text, len);
    if (!f->has_doc) {
        reg__problem(reg, f, line, NULL, NULL, "%s", reason);
        return WP_OK;
    }
    return load_definitions(reg, f, err);
}

static int name_order(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool yaml_name(const char *name) {
    size_t n = strlen(name);
    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

/* The names in a directory, sorted (so loading is the same on every machine), without
 * hidden ones. *out is heap memory: free with free_names. */
static bool list_dir(const char *dir, char ***out, uint32_t *n, uint32_t *cap) {
    *out = NULL;
    *n = 0;
    *cap = 0;
    DIR *d = opendir(dir);
    if (!d)
        return true; /* unreadable: nothing to load */
    struct dirent *de;
    bool ok = true;
    while (ok && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        ok = reg__grow((void **)out, cap, *n + 1, sizeof **out) &&
             ((*out)[*n] = reg__strdup(de->d_name)) != NULL;
        *n += ok;
    }
    closedir(d);
    if (ok && *n)
        qsort(*out, *n, sizeof **out, name_order);
    return ok;
}

static void free_names(char **names, uint32_t n, uint32_t cap) {
    for (uint32_t i = 0; i < n; i++)
        reg__strfree(names[i]);
    wp_heap_free(heap(), names, cap * sizeof *names);
}

static wp_status scan(wp_registry *reg, const char *dir, const char *root, uint32_t depth,
                      wp_err *err) {
    if (depth > SCAN_MAX_DEPTH)
        return WP_OK;
    char **names = NULL;
    uint32_t n = 0;
    uint32_t cap = 0;
    if (!list_dir(dir, &names, &n, &cap)) {
        free_names(names, n, cap);
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    }
    wp_status st = WP_OK;
    for (uint32_t i = 0; st == WP_OK && i < n; i++) {
        char *path = reg__printf("%s/%s", dir, names[i]);
        struct stat sb;
        if (!path)
            st = wp_err_set(err, WP_ERR_NOMEM, "out of memory");
        else if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
            st = scan(reg, path, root, depth + 1, err);
        else if (yaml_name(names[i]))
            st = load_file(reg, path, root, err);
        reg__strfree(path);
    }
    free_names(names, n, cap);
    return st;
}

/* ---- Project ----------------------------------------------------------------------------- */

static bool is_dir(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Source directories from wippy.lock (directories.src, directories.modules), else ./src. */
static wp_status read_lock(wp_registry *reg, char **src, char **modules, wp_err *err) {
    char *lock = reg__printf("%s/wippy.lock", reg->project);
    if (!lock)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    uint8_t *text = NULL;
    size_t len = 0;
    wp_err ferr = {0};
    wp_status st = reg__read_file(lock, &text, &len, &ferr);
    reg__strfree(lock);
    const char *src_rel = "src";
    const char *mod_rel = NULL;
    yaml_document_t doc;
    bool has_doc = false;
    if (st == WP_OK) {
        uint32_t line = 0;
        char reason[256];
        has_doc = reg__yaml_load((const char *)text, len, &doc, &line, reason, sizeof reason);
        if (!has_doc)
            reg__problem(reg, NULL, line, NULL, NULL, "%s", reason);
        yaml_node_t *dirs =
            has_doc ? reg__yaml_get(&doc, yaml_document_get_root_node(&doc), "directories") : NULL;
        const char *s = reg__yaml_scalar(reg__yaml_get(&doc, dirs, "src"));
        const char *m = reg__yaml_scalar(reg__yaml_get(&doc, dirs, "modules"));
        src_rel = s && s[0] ? s : src_rel;
        mod_rel = m && m[0] ? m : NULL;
        reg__log(reg, "wippy.lock: src %s%s%s", src_rel, mod_rel ? ", modules " : "",
                 mod_rel ? mod_rel : "");
    }
    *src = reg__path_join(reg->project, src_rel);
    *modules = mod_rel ? reg__path_join(reg->project, mod_rel) : NULL;
    if (has_doc)
        yaml_document_delete(&doc);
    reg__free_file(text, len);
    if (!*src || (mod_rel && !*modules))
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    return WP_OK;
}

wp_status reg__load_project(wp_registry *reg, wp_err *err);

wp_status reg__load_project(wp_registry *reg, wp_err *err) {
    char *src = NULL;
    char *modules = NULL;
    wp_status st = read_lock(reg, &src, &modules, err);
    if (st == WP_OK && !is_dir(src))
        st = wp_err_set(err, WP_ERR_NOT_FOUND,
                        "no source directory %s (a project has ./src or a wippy.lock naming "
                        "its directories)",
                        src);
    if (st == WP_OK)
        st = scan(reg, src, src, 0, err);
    if (st == WP_OK && modules && is_dir(modules))
        st = scan(reg, modules, modules, 0, err);
    reg__strfree(src);
    reg__strfree(modules);
    return st;
}
