/* kind_wasm.c: process.wasm, function.wasm and function.wat: the binary (verified by SHA-256)
 * or text, the method and its wit signature, imports, the wasi block, limits; and what such an
 * entry runs with. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "wippy/hash.h"
#include "wippy/wat.h"

typedef struct wasm_env {
    const wp_entry *var; /* env.variable */
    char *name;          /* the name the guest sees */
    bool required;
} wasm_env;

typedef struct wasm_mount {
    const wp_entry *fs; /* fs.directory */
    char *guest;        /* absolute, cleaned */
    bool read_only;
} wasm_mount;

typedef struct wasm_priv {
    wp_module *module; /* our reference; NULL until it loaded */
    char *method;
    wp_wit *wit;
    const wp_wit_func *func; /* in wit */
    bool wasi;               /* the wasi1 import: WASI preview 1 */
    char **args;
    uint32_t nargs;
    char *cwd;
    wasm_env *env;
    uint32_t nenv;
    wasm_mount *mounts;
    uint32_t nmounts;
    wp_wasm_limits limits;
    wp_component *component; /* the binary is a component (then module is NULL) */
    const char *groups[16];  /* the WASI 0.2 import groups enabled, static strings */
    uint32_t ngroups;
} wasm_priv;

typedef struct reg_module {
    uint8_t digest[WP_SHA256_LEN];
    wp_module *module;
} reg_module;

struct wp_process_spec {
    const wp_behavior *behavior;
    const void *config; /* another kind's configuration (reg__spec_new), else &cfg */
    uint64_t max_execution_ms;
    wp_wasm_config cfg;
    const char **argv; /* argv_cap entries */
    uint32_t nargv;
    uint32_t argv_cap;
    char **env; /* "NAME=VALUE", owned; env_cap entries */
    uint32_t nenv;
    uint32_t env_cap;
    wp_wasi_mount *mounts; /* mounts_cap entries */
    uint32_t mounts_cap;
    wp_component_config ccfg; /* a component's configuration (config points here) */
};

static wp_heap *heap(void) { return wp_heap_default(); }

static void priv_free(void *ptr) {
    wasm_priv *p = ptr;
    wp_module_free(p->module);
    wp_component_free(p->component);
    reg__strfree(p->method);
    wp_wit_free(p->wit);
    for (uint32_t i = 0; i < p->nargs; i++)
        reg__strfree(p->args[i]);
    wp_heap_free(heap(), p->args, p->nargs * sizeof *p->args);
    reg__strfree(p->cwd);
    for (uint32_t i = 0; i < p->nenv; i++)
        reg__strfree(p->env[i].name);
    wp_heap_free(heap(), p->env, p->nenv * sizeof *p->env);
    for (uint32_t i = 0; i < p->nmounts; i++)
        reg__strfree(p->mounts[i].guest);
    wp_heap_free(heap(), p->mounts, p->nmounts * sizeof *p->mounts);
    wp_heap_free(heap(), p, sizeof *p);
}

static void oom(wp_registry *reg, wp_entry *e) {
    reg__problem(reg, NULL, 0, e, NULL, "out of memory");
}

/* ---- Modules, compiled once per digest --------------------------------------------------- */

static bool is_component(const uint8_t *b, size_t len) {
    static const uint8_t magic[8] = {0, 'a', 's', 'm', 0x0d, 0, 0x01, 0};
    return len >= 8 && memcmp(b, magic, 8) == 0;
}

static wp_module *module_for(wp_registry *reg, const uint8_t digest[WP_SHA256_LEN],
                             const uint8_t *bytes, size_t len, wp_err *err) {
    for (uint32_t i = 0; i < reg->nmodules; i++)
        if (memcmp(reg->modules[i].digest, digest, WP_SHA256_LEN) == 0)
            return wp_module_ref(reg->modules[i].module);
    if (is_component(bytes, len)) {
        wp_err_set(err, WP_ERR_UNSUPPORTED,
                   "it is a component; components are not supported "
                   "yet (core modules only)");
        return NULL;
    }
    wp_module *m = NULL;
    if (wp_module_decode(bytes, len, &m, err) != WP_OK)
        return NULL;
    if (!reg__grow((void **)&reg->modules, &reg->modules_cap, reg->nmodules + 1,
                   sizeof *reg->modules)) {
        wp_module_free(m);
        wp_err_set(err, WP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    memcpy(reg->modules[reg->nmodules].digest, digest, WP_SHA256_LEN);
    reg->modules[reg->nmodules++].module = m;
    return wp_module_ref(m);
}

void reg__modules_free(wp_registry *reg) {
    for (uint32_t i = 0; i < reg->nmodules; i++)
        wp_module_free(reg->modules[i].module);
    wp_heap_free(heap(), reg->modules, reg->modules_cap * sizeof *reg->modules);
}

/* ---- The binary -------------------------------------------------------------------------- */

/* "sha256:<64 hex digits>" into digest; a problem and false otherwise. */
static bool parse_hash(wp_registry *reg, wp_entry *e, const char *text, uint8_t *digest) {
    yaml_node_t *at = reg__field(e, NULL, "hash");
    const char *colon = strchr(text, ':');
    if (!colon || colon == text) {
        reg__field_problem(reg, e, at, "hash", "invalid hash format: %s", text);
        return false;
    }
    if ((size_t)(colon - text) != 6 || strncmp(text, "sha256", 6) != 0) {
        reg__field_problem(reg, e, at, "hash", "unsupported hash algorithm: %.*s",
                           (int)(colon - text), text);
        return false;
    }
    const char *hex = colon + 1;
    if (strlen(hex) != WP_SHA256_HEX_LEN || strspn(hex, "0123456789abcdefABCDEF") != strlen(hex)) {
        reg__field_problem(reg, e, at, "hash", "invalid hash format: %s", text);
        return false;
    }
    for (unsigned i = 0; i < WP_SHA256_LEN; i++) {
        char pair[3] = {hex[2 * i], hex[2 * i + 1], 0};
        digest[i] = (uint8_t)strtoul(pair, NULL, 16);
    }
    return true;
}

/* Reads the file, verifies its hash, compiles it. */
static void load_binary(wp_registry *reg, wp_entry *e, wasm_priv *p) {
    const char *fs = NULL;
    const char *path = NULL;
    const char *hash = NULL;
    wp_entry *fse = NULL;
    if (reg__get_text(reg, e, NULL, "fs", "fs", true, &fs))
        fse = reg__ref(reg, e, reg__field(e, NULL, "fs"), "fs", fs, "fs.directory");
    bool has_path = reg__get_text(reg, e, NULL, "path", "path", true, &path);
    uint8_t want[WP_SHA256_LEN];
    bool has_hash =
        reg__get_text(reg, e, NULL, "hash", "hash", true, &hash) && parse_hash(reg, e, hash, want);
    if (!fse || !reg__fs_dir(fse) || !has_path)
        return;
    char *inner = reg__printf("/%s", path); /* the path is inside the filesystem */
    if (inner)
        reg__path_clean(inner);
    char *full = inner ? reg__printf("%s%s", reg__fs_dir(fse), inner) : NULL;
    reg__strfree(inner);
    if (!full)
        return oom(reg, e);
    yaml_node_t *at = reg__field(e, NULL, "path");
    uint8_t *bytes = NULL;
    size_t len = 0;
    wp_err err = {0};
    if (reg__read_file(full, &bytes, &len, &err) != WP_OK) {
        reg__field_problem(reg, e, at, "path", "cannot read %s: %s", full, err.msg);
        reg__strfree(full);
        return;
    }
    uint8_t got[WP_SHA256_LEN];
    char want_hex[WP_SHA256_HEX_LEN + 1];
    char got_hex[WP_SHA256_HEX_LEN + 1];
    if (wp_sha256(bytes, len, got, &err) != WP_OK) {
        reg__field_problem(reg, e, at, "hash", "%s", err.msg);
    } else if (has_hash && memcmp(want, got, sizeof got) != 0) {
        wp_sha256_hex(want, want_hex);
        wp_sha256_hex(got, got_hex);
        reg__field_problem(reg, e, reg__field(e, NULL, "hash"), "hash",
                           "hash verification failed: hash mismatch: expected %s, got %s", want_hex,
                           got_hex);
    } else if (has_hash && is_component(bytes, len)) {
        if (wp_component_decode(bytes, len, &p->component, &err) != WP_OK)
            reg__field_problem(reg, e, at, "path", "%s: %s", full, err.msg);
        else
            reg__log(reg, "%s: %s: sha256 verified (component)", e->id, full);
    } else if (has_hash && !(p->module = module_for(reg, got, bytes, len, &err))) {
        reg__field_problem(reg, e, at, "path", "%s: %s", full, err.msg);
    } else if (has_hash) {
        reg__log(reg, "%s: %s: sha256 verified", e->id, full);
    }
    reg__free_file(bytes, len);
    reg__strfree(full);
}

/* function.wat: inline text or file://PATH (relative to the definition file). */
static void load_text(wp_registry *reg, wp_entry *e, wasm_priv *p) {
    const char *source = NULL;
    if (!reg__get_text(reg, e, NULL, "source", "source", true, &source))
        return;
    yaml_node_t *at = reg__field(e, NULL, "source");
    uint8_t *file = NULL;
    size_t len = strlen(source);
    wp_err err = {0};
    if (strncmp(source, "file://", 7) == 0) {
        char *path = reg__path_join(e->file->dir, source + 7);
        if (!path)
            return oom(reg, e);
        wp_status st = reg__read_file(path, &file, &len, &err);
        if (st != WP_OK)
            reg__field_problem(reg, e, at, "source", "cannot read %s: %s", path, err.msg);
        reg__strfree(path);
        if (st != WP_OK)
            return;
        source = (const char *)file;
    }
    uint8_t *bin = NULL;
    size_t bin_len = 0;
    uint8_t digest[WP_SHA256_LEN];
    if (wp_wat_to_wasm(source, len, &bin, &bin_len, &err) != WP_OK)
        reg__field_problem(reg, e, at, "source", "invalid WAT: %s", err.msg);
    else if (wp_sha256(bin, bin_len, digest, &err) != WP_OK ||
             !(p->module = module_for(reg, digest, bin, bin_len, &err)))
        reg__field_problem(reg, e, at, "source", "invalid module: %s", err.msg);
    wp_wat_free(bin);
    reg__free_file(file, len);
}

/* ---- Imports ----------------------------------------------------------------------------- */

/* The wasi:* groups of wasm_hosts.md, and the interfaces each stands for. */
static const struct {
    const char *name;
    const char *group;
} WASI_NAMES[] = {
    {"wasi:cli", "wasi:cli"},
    {"wasi:cli/environment", "wasi:cli"},
    {"wasi:cli/exit", "wasi:cli"},
    {"wasi:cli/stdin", "wasi:cli"},
    {"wasi:cli/stdout", "wasi:cli"},
    {"wasi:cli/stderr", "wasi:cli"},
    {"wasi:cli/terminal-input", "wasi:cli"},
    {"wasi:cli/terminal-output", "wasi:cli"},
    {"wasi:cli/terminal-stdin", "wasi:cli"},
    {"wasi:cli/terminal-stdout", "wasi:cli"},
    {"wasi:cli/terminal-stderr", "wasi:cli"},
    {"wasi:io", "wasi:io"},
    {"wasi:io/error", "wasi:io"},
    {"wasi:io/streams", "wasi:io"},
    {"wasi:poll", "wasi:poll"},
    {"wasi:io/poll", "wasi:poll"},
    {"wasi:clocks", "wasi:clocks"},
    {"wasi:clocks/wall-clock", "wasi:clocks"},
    {"wasi:clocks/monotonic-clock", "wasi:clocks"},
    {"wasi:filesystem", "wasi:filesystem"},
    {"wasi:filesystem/types", "wasi:filesystem"},
    {"wasi:filesystem/preopens", "wasi:filesystem"},
    {"wasi:random", "wasi:random"},
    {"wasi:random/random", "wasi:random"},
    {"wasi:random/insecure", "wasi:random"},
    {"wasi:random/insecure-seed", "wasi:random"},
    {"wasi:sockets", "wasi:sockets"},
    {"wasi:sockets/network", "wasi:sockets"},
    {"wasi:sockets/instance-network", "wasi:sockets"},
    {"wasi:sockets/ip-name-lookup", "wasi:sockets"},
    {"wasi:sockets/tcp", "wasi:sockets"},
    {"wasi:sockets/tcp-create-socket", "wasi:sockets"},
    {"wasi:sockets/udp", "wasi:sockets"},
    {"wasi:sockets/udp-create-socket", "wasi:sockets"},
    {"wasi:http", "wasi:http"},
    {"wasi:http/types", "wasi:http"},
    {"wasi:http/outgoing-handler", "wasi:http"},
};

/* A WASI 0.2 import group the entry enables (for a component; a problem for a core module). */
static void add_group(wasm_priv *p, const char *group) {
    for (uint32_t i = 0; i < p->ngroups; i++)
        if (strcmp(p->groups[i], group) == 0)
            return;
    if (p->ngroups < sizeof p->groups / sizeof p->groups[0])
        p->groups[p->ngroups++] = group;
}

static void check_import(wp_registry *reg, wp_entry *e, wasm_priv *p, yaml_node_t *item,
                         const char *path) {
    const char *text = reg__yaml_scalar(item);
    if (!text) {
        reg__field_problem(reg, e, item, path, "%s must be an import name", path);
        return;
    }
    size_t n = strcspn(text, "@"); /* a version suffix (wasi:io/streams@0.2.3) is ignored */
    if (n == 19 && strncmp(text, "wippy:runtime/funcs", 19) == 0)
        return; /* provided to every module that imports it; listing it is allowed */
    if ((n == 5 && strncmp(text, "wasi1", 5) == 0) ||
        (n == 22 && strncmp(text, "wasi_snapshot_preview1", 22) == 0)) {
        p->wasi = true;
        return;
    }
    for (size_t i = 0; i < sizeof WASI_NAMES / sizeof WASI_NAMES[0]; i++) {
        if (strlen(WASI_NAMES[i].name) != n || strncmp(WASI_NAMES[i].name, text, n) != 0)
            continue;
        if (!p->module) { /* a component (or a binary that did not load) */
            add_group(p, WASI_NAMES[i].group);
            return;
        }
        reg__field_problem(reg, e, item, path,
                           "%s (%s) is a WASI 0.2 import for components; a core module gets "
                           "WASI preview 1 with the wasi1 import",
                           text, WASI_NAMES[i].group);
        return;
    }
    reg__field_problem(reg, e, item, path, "unsupported wasm host import: %s", text);
}

static void parse_imports(wp_registry *reg, wp_entry *e, wasm_priv *p) {
    yaml_node_t *list = reg__field(e, NULL, "imports");
    if (!list || reg__yaml_is_null(list))
        return;
    if (!reg__yaml_is_seq(list)) {
        reg__field_problem(reg, e, list, "imports", "imports must be a list");
        return;
    }
    for (uint32_t i = 0; i < reg__yaml_len(list); i++) {
        char path[32];
        snprintf(path, sizeof path, "imports[%u]", i + 1);
        check_import(reg, e, p, reg__yaml_at(&e->file->doc, list, i), path);
    }
}

/* Every import of the module must be provided by what the entry lists. */
static void check_module_imports(wp_registry *reg, wp_entry *e, const wasm_priv *p) {
    bool told_wasi = false;
    for (uint32_t i = 0; i < wp_module_import_count(p->module); i++) {
        wp_import_desc d;
        wp_module_import(p->module, i, &d);
        if (wp_funcs_is_import(&d))
            continue; /* wippy:runtime/funcs: always provided (docs/funcs.md) */
        if (wp_wasi_is_import(&d)) {
            if (!p->wasi && !told_wasi)
                reg__field_problem(reg, e, reg__field(e, NULL, "imports"), "imports",
                                   "the module imports %.*s.%.*s: add wasi1 to imports for WASI "
                                   "preview 1",
                                   (int)d.module.len, d.module.ptr, (int)d.name.len, d.name.ptr);
            told_wasi = true;
            continue;
        }
        reg__field_problem(reg, e, NULL, NULL,
                           "the module imports %.*s.%.*s, which no host import provides",
                           (int)d.module.len, d.module.ptr, (int)d.name.len, d.name.ptr);
    }
}

/* ---- The wasi block ---------------------------------------------------------------------- */

static bool valid_env_name(const char *s) {
    if (!s[0] || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

static void parse_args(wp_registry *reg, wp_entry *e, wasm_priv *p, yaml_node_t *wasi) {
    yaml_node_t *args = reg__field(e, wasi, "args");
    if (!args || reg__yaml_is_null(args))
        return;
    uint32_t n = reg__yaml_len(args);
    if (!reg__yaml_is_seq(args)) {
        reg__field_problem(reg, e, args, "wasi.args", "wasi.args must be a list of strings");
        return;
    }
    if (!(p->args = wp_heap_calloc(heap(), n + 1, sizeof *p->args)))
        return oom(reg, e);
    for (uint32_t i = 0; i < n; i++) {
        yaml_node_t *item = reg__yaml_at(&e->file->doc, args, i);
        const char *s = reg__yaml_scalar(item);
        if (!s) {
            reg__field_problem(reg, e, item, "wasi.args", "wasi.args must be a list of strings");
            continue;
        }
        p->args[p->nargs++] = reg__strdup(s);
    }
}

static void parse_env_item(wp_registry *reg, wp_entry *e, wasm_priv *p, yaml_node_t *item,
                           uint32_t i) {
    char path[48];
    snprintf(path, sizeof path, "wasi.env[%u]", i + 1);
    if (!reg__yaml_is_map(item)) {
        reg__field_problem(reg, e, item, path, "%s must be a mapping with id and name", path);
        return;
    }
    const char *id = NULL;
    const char *name = NULL;
    char idpath[64];
    char namepath[64];
    snprintf(idpath, sizeof idpath, "%s.id", path);
    snprintf(namepath, sizeof namepath, "%s.name", path);
    wasm_env *ev = &p->env[p->nenv];
    bool ok = reg__get_text(reg, e, item, "id", idpath, true, &id);
    ok = reg__get_text(reg, e, item, "name", namepath, true, &name) && ok;
    snprintf(path + strlen(path), sizeof path - strlen(path), ".required");
    ok = reg__get_bool(reg, e, item, "required", path, false, &ev->required) && ok;
    if (id && !(ev->var = reg__ref(reg, e, reg__field(e, item, "id"), idpath, id, "env.variable")))
        ok = false;
    yaml_node_t *name_at = reg__field(e, item, "name");
    if (name && !valid_env_name(name)) {
        reg__field_problem(reg, e, name_at, namepath, "invalid env name \"%s\"", name);
        ok = false;
    }
    for (uint32_t j = 0; name && j < p->nenv; j++) {
        if (strcmp(p->env[j].name, name) == 0) {
            reg__field_problem(reg, e, name_at, namepath, "duplicate wasi env name %s", name);
            ok = false;
        }
    }
    if (ok && !(ev->name = reg__strdup(name)))
        return oom(reg, e);
    p->nenv += ok;
}

static void parse_mount(wp_registry *reg, wp_entry *e, wasm_priv *p, yaml_node_t *item,
                        uint32_t i) {
    char path[48];
    char sub[64];
    snprintf(path, sizeof path, "wasi.mounts[%u]", i + 1);
    if (!reg__yaml_is_map(item)) {
        reg__field_problem(reg, e, item, path, "%s must be a mapping with fs and guest", path);
        return;
    }
    wasm_mount *m = &p->mounts[p->nmounts];
    const char *fs = NULL;
    const char *guest = NULL;
    snprintf(sub, sizeof sub, "%s.fs", path);
    bool ok = reg__get_text(reg, e, item, "fs", sub, true, &fs);
    if (fs && !(m->fs = reg__ref(reg, e, reg__field(e, item, "fs"), sub, fs, "fs.directory")))
        ok = false;
    snprintf(sub, sizeof sub, "%s.read_only", path);
    ok = reg__get_bool(reg, e, item, "read_only", sub, false, &m->read_only) && ok;
    snprintf(sub, sizeof sub, "%s.guest", path);
    if (!reg__get_text(reg, e, item, "guest", sub, true, &guest))
        return;
    yaml_node_t *at = reg__field(e, item, "guest");
    if (guest[0] != '/') {
        reg__field_problem(reg, e, at, sub, "mount guest path must be absolute: %s", guest);
        return;
    }
    char *clean = reg__strdup(guest);
    if (!clean)
        return oom(reg, e);
    reg__path_clean(clean);
    for (uint32_t j = 0; j < p->nmounts; j++) {
        if (strcmp(p->mounts[j].guest, clean) == 0) {
            reg__field_problem(reg, e, at, sub, "duplicate mount guest path: %s", clean);
            ok = false;
        }
    }
    if (!ok) {
        reg__strfree(clean);
        return;
    }
    m->guest = clean;
    p->nmounts++;
}

/* A list field of the wasi block, each item through fn. */
static void
parse_list(wp_registry *reg, wp_entry *e, wasm_priv *p, yaml_node_t *wasi, const char *key,
           void (*fn)(wp_registry *, wp_entry *, wasm_priv *, yaml_node_t *, uint32_t)) {
    yaml_node_t *list = reg__field(e, wasi, key);
    char path[32];
    snprintf(path, sizeof path, "wasi.%s", key);
    if (!list || reg__yaml_is_null(list))
        return;
    if (!reg__yaml_is_seq(list)) {
        reg__field_problem(reg, e, list, path, "%s must be a list", path);
        return;
    }
    uint32_t n = reg__yaml_len(list);
    void **slot = strcmp(key, "env") == 0 ? (void **)&p->env : (void **)&p->mounts;
    size_t elem = strcmp(key, "env") == 0 ? sizeof *p->env : sizeof *p->mounts;
    if (!(*slot = wp_heap_calloc(heap(), n + 1, elem)))
        return oom(reg, e);
    for (uint32_t i = 0; i < n; i++)
        fn(reg, e, p, reg__yaml_at(&e->file->doc, list, i), i);
}

static bool inside(const char *path, const char *dir) {
    size_t n = strlen(dir);
    return strcmp(dir, "/") == 0 ||
           (strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/'));
}

static void parse_cwd(wp_registry *reg, wp_entry *e, wasm_priv *p, yaml_node_t *wasi) {
    const char *cwd = NULL;
    if (!reg__get_text(reg, e, wasi, "cwd", "wasi.cwd", false, &cwd))
        return;
    yaml_node_t *at = reg__field(e, wasi, "cwd");
    if (cwd[0] != '/') {
        reg__field_problem(reg, e, at, "wasi.cwd", "wasi.cwd must be absolute");
        return;
    }
    if (!(p->cwd = reg__strdup(cwd)))
        return oom(reg, e);
    reg__path_clean(p->cwd);
    for (uint32_t i = 0; i < p->nmounts; i++)
        if (inside(p->cwd, p->mounts[i].guest))
            return;
    reg__field_problem(reg, e, at, "wasi.cwd", "wasi.cwd %s is not inside any of wasi.mounts",
                       p->cwd);
}

static void parse_wasi(wp_registry *reg, wp_entry *e, wasm_priv *p) {
    yaml_node_t *wasi = reg__field(e, NULL, "wasi");
    if (!wasi || reg__yaml_is_null(wasi))
        return;
    if (!reg__yaml_is_map(wasi)) {
        reg__field_problem(reg, e, wasi, "wasi", "wasi must be a mapping");
        return;
    }
    if (!p->wasi && !p->ngroups)
        reg__log(reg, "%s: the wasi block has no effect without the wasi1 import", e->id);
    parse_args(reg, e, p, wasi);
    parse_list(reg, e, p, wasi, "env", parse_env_item);
    parse_list(reg, e, p, wasi, "mounts", parse_mount);
    parse_cwd(reg, e, p, wasi);
}

/* ---- Limits ------------------------------------------------------------------------------ */

/* Caps on the limits: past them the arithmetic of the limit itself would overflow, or the
 * limit could never bind (a 32-bit memory has 4 GiB). */
#define MAX_EXECUTION_MS_CAP (UINT64_C(1) << 40) /* ~35 years; ms * 10^6 fits in 64 bits */
#define MAX_MEMORY_MB_CAP 4096u                  /* 65,536 pages of 64 KiB */
#define MAX_STACK_CAP 1000000u                   /* wasm frames */

bool reg__get_limit(wp_registry *reg, wp_entry *e, const yaml_node_t *map, const char *key,
                    const char *path, uint64_t max, uint64_t *out) {
    yaml_node_t *n = reg__field(e, map, key);
    if (!n || reg__yaml_is_null(n))
        return true;
    const char *s = reg__yaml_scalar(n); /* NULL for a collection: reg__get_uint says so */
    if (s && s[0] == '-' && s[1] >= '0' && s[1] <= '9') {
        reg__field_problem(reg, e, n, path, "%s cannot be negative", path);
        return false;
    }
    uint64_t v = 0;
    if (!reg__get_uint(reg, e, map, key, path, &v))
        return false;
    if (v > max) {
        reg__field_problem(reg, e, n, path, "%s must be at most %llu", path,
                           (unsigned long long)max);
        return false;
    }
    *out = v;
    return true;
}

static void parse_limit(wp_registry *reg, wp_entry *e, wasm_priv *p, yaml_node_t *limits,
                        yaml_node_t *k, const char *key) {
    char path[64];
    snprintf(path, sizeof path, "limits.%.40s", key);
    uint64_t n = 0;
    if (strcmp(key, "max_execution_ms") == 0) {
        reg__get_limit(reg, e, limits, key, path, MAX_EXECUTION_MS_CAP,
                       &p->limits.max_execution_ms);
    } else if (strcmp(key, "max_fuel") == 0) {
        reg__get_limit(reg, e, limits, key, path, UINT64_MAX, &p->limits.fuel);
    } else if (strcmp(key, "max_stack") == 0) {
        if (reg__get_limit(reg, e, limits, key, path, MAX_STACK_CAP, &n))
            p->limits.max_call_depth = (uint32_t)n;
    } else if (strcmp(key, "max_memory_mb") == 0) {
        if (reg__get_limit(reg, e, limits, key, path, MAX_MEMORY_MB_CAP, &n))
            p->limits.max_memory_pages = (uint32_t)(n * WP_PAGES_PER_MIB);
    } else {
        reg__field_problem(reg, e, k, path,
                           "unknown limit %s (known: max_execution_ms, max_memory_mb, max_fuel, "
                           "max_stack)",
                           key);
    }
}

static void parse_limits(wp_registry *reg, wp_entry *e, wasm_priv *p) {
    yaml_node_t *limits = reg__field(e, NULL, "limits");
    if (!limits || reg__yaml_is_null(limits))
        return;
    if (!reg__yaml_is_map(limits)) {
        reg__field_problem(reg, e, limits, "limits", "limits must be a mapping");
        return;
    }
    yaml_node_t *k;
    yaml_node_t *v;
    for (uint32_t i = 0; reg__yaml_pair(&e->file->doc, limits, i, &k, &v); i++)
        parse_limit(reg, e, p, limits, k, reg__yaml_scalar(k) ? reg__yaml_scalar(k) : "?");
}

/* ---- The method -------------------------------------------------------------------------- */

static bool numeric(wp_valtype t) {
    return t == WP_I32 || t == WP_I64 || t == WP_F32 || t == WP_F64;
}

static void check_wit(wp_registry *reg, wp_entry *e, wasm_priv *p, wp_functype ft) {
    const char *text = NULL;
    yaml_node_t *at = reg__field(e, NULL, "wit");
    if (!reg__get_text(reg, e, NULL, "wit", "wit", false, &text))
        return;
    wp_err err = {0};
    if (wp_wit_parse(text, strlen(text), &p->wit, &err) != WP_OK) {
        reg__field_problem(reg, e, at, "wit", "%s", err.msg);
        return;
    }
    if (!(p->func = wp_wit_find_func(p->wit, p->method))) {
        reg__field_problem(reg, e, at, "wit", "wit declares no function %s", p->method);
        return;
    }
    if (wp_cabi_check(p->func, ft, NULL, NULL, &err) != WP_OK)
        reg__field_problem(reg, e, at, "wit", "%s", err.msg);
}

/* The method must be an exported function; without wit its types must be numbers. */
static void check_method(wp_registry *reg, wp_entry *e, wasm_priv *p) {
    yaml_node_t *at = reg__field(e, NULL, "method");
    wp_functype ft;
    if (!wp_module_export_functype(p->module, p->method, &ft)) {
        reg__field_problem(reg, e, at, "method",
                           "method %s is not an exported function of the "
                           "module",
                           p->method);
        return;
    }
    if (strcmp(p->method, "_start") == 0 && (ft.nparams || ft.nresults))
        reg__field_problem(reg, e, at, "method", "_start must take and return nothing");
    if (reg__field(e, NULL, "wit")) {
        check_wit(reg, e, p, ft);
        return;
    }
    for (uint32_t i = 0; i < ft.nparams + ft.nresults; i++) {
        if (!numeric(ft.types[i])) {
            reg__field_problem(reg, e, at, "method",
                               "method %s uses %s values: give it a wit signature", p->method,
                               wp_valtype_name(ft.types[i]));
            return;
        }
    }
}

/* Exports the wit signature needs: memory for strings and lists, cabi_realloc to pass them. */
static void check_abi_exports(wp_registry *reg, wp_entry *e, const wasm_priv *p) {
    if (!p->func)
        return;
    wp_functype ft;
    bool needs_memory = false;
    bool needs_realloc = false;
    wp_module_export_functype(p->module, p->method, &ft);
    if (wp_cabi_check(p->func, ft, &needs_memory, &needs_realloc, NULL) != WP_OK)
        return;
    bool has_memory = false;
    bool has_realloc = false;
    for (uint32_t i = 0; i < wp_module_export_count(p->module); i++) {
        wp_export_desc d;
        wp_module_export(p->module, i, &d);
        has_memory |= d.kind == WP_EXTERN_MEMORY;
        has_realloc |= d.kind == WP_EXTERN_FUNC && d.name.len == 12 &&
                       memcmp(d.name.ptr, "cabi_realloc", 12) == 0;
    }
    yaml_node_t *at = reg__field(e, NULL, "wit");
    if (needs_memory && !has_memory)
        reg__field_problem(reg, e, at, "wit",
                           "the signature passes strings or lists through "
                           "memory, but the module exports no memory");
    if (needs_realloc && !has_realloc)
        reg__field_problem(reg, e, at, "wit",
                           "the signature passes strings or lists in, but "
                           "the module exports no cabi_realloc");
}

/* ---- Components -------------------------------------------------------------------------- */

/* The method is an exported function ("name" or "iface#name"); the wit line has no place (a
 * component carries its types); wasi1 and the wasi 0.2 groups the binary needs. */
static void check_component(wp_registry *reg, wp_entry *e, wasm_priv *p) {
    if (reg__field(e, NULL, "wit"))
        reg__field_problem(reg, e, reg__field(e, NULL, "wit"), "wit",
                           "a component carries its own types: remove wit");
    if (p->wasi)
        reg__field_problem(reg, e, reg__field(e, NULL, "imports"), "imports",
                           "wasi1 (WASI preview 1) is for core modules; a component imports "
                           "WASI 0.2 groups (wasi:cli, wasi:io, ...)");
    if (!p->method)
        return;
    if (strcmp(p->method, "_start") == 0) { /* a command: wasi:cli/run's run */
        reg__strfree(p->method);
        if (!(p->method = reg__strdup("wasi:cli/run#run")))
            return oom(reg, e);
    }
    bool found = false;
    size_t mlen = strcspn(p->method, "#");
    for (uint32_t i = 0; !found && i < wp_component_export_func_count(p->component); i++) {
        const char *name = wp_component_export_func_name(p->component, i);
        size_t ilen = strcspn(name, "@#"); /* "wasi:cli/run#run" names any version */
        found = strcmp(name, p->method) == 0 ||
                (p->method[mlen] == '#' && ilen == mlen && strncmp(name, p->method, mlen) == 0 &&
                 strcmp(strchr(name, '#'), p->method + mlen) == 0);
    }
    if (!found)
        reg__field_problem(reg, e, reg__field(e, NULL, "method"), "method",
                           "method %s is not a function the component exports", p->method);
}

/* ---- Validation -------------------------------------------------------------------------- */

static void validate(wp_registry *reg, wp_entry *e, bool binary) {
    wasm_priv *p = wp_heap_zalloc(heap(), sizeof *p);
    if (!p)
        return oom(reg, e);
    e->priv = p;
    if (binary)
        load_binary(reg, e, p);
    else
        load_text(reg, e, p);
    const char *method = NULL;
    if (reg__get_text(reg, e, NULL, "method", "method", true, &method) &&
        !(p->method = reg__strdup(method)))
        return oom(reg, e);
    reg__func_validate(reg, e); /* pool and transport (kind_pool.c) */
    parse_imports(reg, e, p);
    parse_wasi(reg, e, p);
    parse_limits(reg, e, p);
    reg__collect_command(reg, e);
    if (p->component)
        return check_component(reg, e, p);
    if (!p->module)
        return;
    if (p->method) {
        check_method(reg, e, p);
        check_abi_exports(reg, e, p);
    }
    check_module_imports(reg, e, p);
}

static void validate_binary(wp_registry *reg, wp_entry *e) { validate(reg, e, true); }

static void validate_text(wp_registry *reg, wp_entry *e) { validate(reg, e, false); }

static const char *const BINARY_FIELDS[] = {"fs",   "path",      "hash",      "method",
                                            "wit",  "imports",   "wasi",      "limits",
                                            "pool", "transport", "lifecycle", NULL};
static const char *const TEXT_FIELDS[] = {"source", "method", "wit",       "imports",   "wasi",
                                          "limits", "pool",   "transport", "lifecycle", NULL};

/* Phase 3: after file systems (0), env storages (0, 1) and variables (2). */
const kind_info reg__kind_process_wasm = {"process.wasm", 3, BINARY_FIELDS, validate_binary,
                                          priv_free};
const kind_info reg__kind_function_wasm = {"function.wasm", 3, BINARY_FIELDS, validate_binary,
                                           priv_free};
const kind_info reg__kind_function_wat = {"function.wat", 3, TEXT_FIELDS, validate_text, priv_free};

/* ---- Running ----------------------------------------------------------------------------- */

void wp_process_spec_free(wp_process_spec *s) {
    if (!s)
        return;
    for (uint32_t i = 0; i < s->nenv; i++)
        reg__strfree(s->env[i]);
    wp_heap_free(heap(), s->env, s->env_cap * sizeof *s->env);
    wp_heap_free(heap(), s->argv, s->argv_cap * sizeof *s->argv);
    wp_heap_free(heap(), s->mounts, s->mounts_cap * sizeof *s->mounts);
    wp_heap_free(heap(), s, sizeof *s);
}

const wp_behavior *wp_process_spec_behavior(const wp_process_spec *s) { return s->behavior; }
const void *wp_process_spec_config(const wp_process_spec *s) {
    return s->config ? s->config : &s->cfg;
}
uint64_t wp_process_spec_max_execution_ms(const wp_process_spec *s) {
    return s->config ? s->max_execution_ms : s->cfg.limits.max_execution_ms;
}

wp_process_spec *reg__spec_new(const wp_behavior *b, const void *config,
                               uint64_t max_execution_ms) {
    wp_process_spec *s = wp_heap_zalloc(heap(), sizeof *s);
    if (s) {
        s->behavior = b;
        s->config = config;
        s->max_execution_ms = max_execution_ms;
    }
    return s;
}

static wp_status resolve_env(wp_registry *reg, const wasm_priv *p, wp_process_spec *s,
                             wp_err *err) {
    for (uint32_t i = 0; i < p->nenv; i++) {
        wp_value v = wp_value_nil();
        wp_status st = reg__env_get(reg, p->env[i].var, &v, err);
        if (st == WP_ERR_NOT_FOUND && !p->env[i].required)
            continue;
        if (st == WP_ERR_NOT_FOUND)
            return wp_err_set(err, WP_ERR_NOT_FOUND, "required env variable %s (%s) is not set",
                              p->env[i].name, p->env[i].var->id);
        if (st != WP_OK)
            return st;
        s->env[s->nenv] = reg__printf("%s=%s", p->env[i].name, wp_value_str(&v, NULL));
        wp_value_free(&v);
        if (!s->env[s->nenv++])
            return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    }
    return WP_OK;
}

static wp_status fill_wasi(wp_registry *reg, const wp_entry *e, const wasm_priv *p,
                           wp_process_spec *s, wp_err *err) {
    wp_wasi_config *w = &s->cfg.wasi_cfg;
    wp_wasi_config_init(w);
    s->argv_cap = p->nargs + 2;
    s->env_cap = p->nenv + 1;
    s->mounts_cap = p->nmounts + 1;
    s->argv = wp_heap_calloc(heap(), s->argv_cap, sizeof *s->argv);
    s->env = wp_heap_calloc(heap(), s->env_cap, sizeof *s->env);
    s->mounts = wp_heap_calloc(heap(), s->mounts_cap, sizeof *s->mounts);
    if (!s->argv || !s->env || !s->mounts)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    s->argv[s->nargv++] = e->name;
    for (uint32_t i = 0; i < p->nargs; i++)
        s->argv[s->nargv++] = p->args[i];
    w->args = s->argv;
    w->nargs = s->nargv;
    w->nmounts = p->nmounts;
    for (uint32_t i = 0; i < p->nmounts; i++) {
        wp_status st = reg__fs_ensure(p->mounts[i].fs, err);
        if (st != WP_OK)
            return st;
        s->mounts[i] = (wp_wasi_mount){reg__fs_dir(p->mounts[i].fs), p->mounts[i].guest,
                                       p->mounts[i].read_only};
    }
    w->mounts = s->mounts;
    w->cwd = p->cwd;
    return resolve_env(reg, p, s, err);
}

wp_status reg__wasm_prepare(wp_registry *reg, const wp_entry *e, wp_process_spec **out,
                            wp_err *err) {
    const wasm_priv *p = e->priv;
    if (!p || (!p->module && !p->component) || !p->method)
        return wp_err_set(err, WP_ERR_INVALID, "entry %s has problems", e->id);
    wp_process_spec *s = wp_heap_zalloc(heap(), sizeof *s);
    if (!s)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    s->behavior = wp_wasm_behavior();
    s->cfg.module = p->module;
    s->cfg.method = p->method;
    s->cfg.wit = p->func;
    s->cfg.wasi = p->wasi;
    s->cfg.limits = p->limits;
    if (p->component) { /* component_proc.c runs it, with the groups its imports enable */
        s->behavior = wp_component_behavior();
        s->config = &s->ccfg;
        s->max_execution_ms = p->limits.max_execution_ms;
        s->ccfg = (wp_component_config){.component = p->component, .method = p->method,
                                        .imports = p->groups, .nimports = p->ngroups,
                                        .limits = p->limits};
    }
    wp_status st = fill_wasi(reg, e, p, s, err);
    if (st != WP_OK) {
        wp_process_spec_free(s);
        return st;
    }
    /* Only the variables that have a value reach the guest. */
    s->cfg.wasi_cfg.env = (const char *const *)s->env;
    s->cfg.wasi_cfg.nenv = s->nenv;
    s->ccfg.wasi_cfg = s->cfg.wasi_cfg;
    *out = s;
    return WP_OK;
}
