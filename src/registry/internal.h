/* internal.h: shared inside src/registry only: files, entries, kinds, problems. */
#ifndef WP_REGISTRY_INTERNAL_H
#define WP_REGISTRY_INTERNAL_H

#include <pthread.h>
#include <yaml.h>

#include "wippy/registry.h"

#define REG_MAX_DEPTH 64u              /* nesting of YAML collections we walk */
#define REG_MAX_VALUE_NODES 100000u    /* YAML nodes turned into values per entry (aliases!) */
#define REG_MAX_FILE_BYTES (64u << 20) /* a definition file, a .wasm, a .wat, a .env */

/* ---- Files -------------------------------------------------------------------------------- */

typedef struct reg_file {
    char *path; /* as shown: relative to the project directory */
    char *dir;  /* directory holding the file (absolute): file:// paths start here */
    char *root; /* the source directory it was found under (absolute): fs base "module" */
    yaml_document_t doc;
    bool has_doc;
} reg_file;

/* ---- Entries ------------------------------------------------------------------------------ */

typedef struct kind_info kind_info;

struct wp_entry {
    char *id; /* ns:name */
    char *ns;
    char *name;
    char *kind;
    reg_file *file;
    yaml_node_t *node; /* the entry's mapping */
    uint32_t line;
    wp_value data;
    const kind_info *k; /* NULL: a kind this build does not know (kept, ignored) */
    void *priv;         /* what the kind resolved (freed by k->free) */
    bool bad;           /* validation found a problem in it */
    /* Boot order: entries this one refers to. */
    wp_entry **deps;
    uint32_t ndeps;
    uint32_t deps_cap;
    uint8_t mark; /* topological sort: 0 new, 1 on the path, 2 placed */
    uint32_t level; /* boot level (order.c): 0 without dependencies, else 1 + theirs */
};

/* One definition kind: its phase (entries validate after the kinds they refer to), its
 * fields (others draw a -v warning), its validation and its cleanup. */
struct kind_info {
    const char *name;
    int phase;
    const char *const *fields; /* NULL-terminated, beyond name, kind and meta */
    void (*validate)(wp_registry *reg, wp_entry *e);
    void (*free)(void *priv);
};

/* The kinds this build knows; NULL if name is not one. */
const kind_info *reg__kind(const char *name);

typedef struct reg_command {
    wp_command pub;
    uint32_t line;
} reg_command;

struct wp_registry {
    /* Held by whoever uses the registry while processes run on worker threads (the Lua env
     * hooks, a runtime's resolver): reg__lock() / reg__unlock(). */
    pthread_mutex_t lock;
    char *project; /* absolute project directory */
    wp_log_fn log;
    void *log_ud;
    reg_file **files;
    uint32_t nfiles;
    uint32_t files_cap;
    wp_entry **entries; /* boot order once loaded */
    uint32_t nentries;
    uint32_t entries_cap;
    wp_problem *problems;
    uint32_t nproblems;
    uint32_t problems_cap;
    wp_command *commands;
    uint32_t ncommands;
    uint32_t commands_cap;
    /* Modules compiled once per SHA-256 (entries sharing a file share the module). */
    struct reg_module *modules;
    uint32_t nmodules;
    uint32_t modules_cap;
};

/* ---- Problems and logging ----------------------------------------------------------------- */

/* Records a problem; e (may be NULL) is marked bad. line 0: e's line (or the file's). */
void reg__problem(wp_registry *reg, const reg_file *file, uint32_t line, wp_entry *e,
                  const char *field, const char *fmt, ...) WP_PRINTF(6, 7);

/* The same at a YAML node of e's (its line), field path given. */
void reg__field_problem(wp_registry *reg, wp_entry *e, const yaml_node_t *at, const char *field,
                        const char *fmt, ...) WP_PRINTF(5, 6);

void reg__log(const wp_registry *reg, const char *fmt, ...) WP_PRINTF(2, 3);

/* The registry's lock (see struct wp_registry). */
void reg__lock(wp_registry *reg);
void reg__unlock(wp_registry *reg);

/* ---- Memory ------------------------------------------------------------------------------- */

char *reg__strdup(const char *s);
char *reg__strndup(const char *s, size_t n);
char *reg__printf(const char *fmt, ...) WP_PRINTF(1, 2); /* NULL when out of memory */
void reg__strfree(char *s);
/* Grows an array of elem-sized items to hold need; false when out of memory. */
bool reg__grow(void **items, uint32_t *cap, uint32_t need, size_t elem);

/* ---- YAML (yaml.c) ------------------------------------------------------------------------ */

/* Parses a whole file's first document. On a syntax error returns false with the line and
 * reason. */
bool reg__yaml_load(const char *text, size_t len, yaml_document_t *doc, uint32_t *err_line,
                    char *reason, size_t reason_cap);

uint32_t reg__yaml_line(const yaml_node_t *n);
bool reg__yaml_is_map(const yaml_node_t *n);
bool reg__yaml_is_seq(const yaml_node_t *n);
/* A scalar's text (NUL-terminated), or NULL for collections and NULL nodes. */
const char *reg__yaml_scalar(const yaml_node_t *n);
/* True for a plain scalar that means null (~, null, or empty). */
bool reg__yaml_is_null(const yaml_node_t *n);
/* map[key], or NULL. */
yaml_node_t *reg__yaml_get(yaml_document_t *doc, const yaml_node_t *map, const char *key);
/* A sequence's length and items. */
uint32_t reg__yaml_len(const yaml_node_t *seq);
yaml_node_t *reg__yaml_at(yaml_document_t *doc, const yaml_node_t *seq, uint32_t i);
/* A mapping's pair i: key node and value node; false past the end. */
bool reg__yaml_pair(yaml_document_t *doc, const yaml_node_t *map, uint32_t i, yaml_node_t **key,
                    yaml_node_t **val);
/* Converts a node to a value (scalars typed by the YAML core schema). Fails: WP_ERR_INVALID
 * (too deep or too many nodes through aliases), WP_ERR_NOMEM. */
wp_status reg__yaml_value(yaml_document_t *doc, const yaml_node_t *n, wp_value *out, wp_err *err);

/* ---- Field helpers (fields.c) ------------------------------------------------------------- */

/* Reads field 'key' of map node 'map' in entry e as text. Missing: false (with the problem
 * "<path> is required" when required). A collection: a problem, false. */
bool reg__get_text(wp_registry *reg, wp_entry *e, const yaml_node_t *map, const char *key,
                   const char *path, bool required, const char **out);
/* A boolean field: true/false only; missing gives *out = dflt. False after a problem. */
bool reg__get_bool(wp_registry *reg, wp_entry *e, const yaml_node_t *map, const char *key,
                   const char *path, bool dflt, bool *out);
/* A non-negative integer field; missing leaves *out alone. False after a problem. */
bool reg__get_uint(wp_registry *reg, wp_entry *e, const yaml_node_t *map, const char *key,
                   const char *path, uint64_t *out);
/* A limit (kind_wasm.c): a non-negative integer up to max; 0 usually means "none". Problems:
 * "<path> cannot be negative", "<path> must be a non-negative integer", "<path> must be at most
 * <max>". Missing leaves *out alone. False after a problem. */
bool reg__get_limit(wp_registry *reg, wp_entry *e, const yaml_node_t *map, const char *key,
                    const char *path, uint64_t max, uint64_t *out);
/* The node of field key in e's mapping (or in map), or NULL. */
yaml_node_t *reg__field(const wp_entry *e, const yaml_node_t *map, const char *key);

/* Resolves a reference written in e ("ns:name" or a name in e's namespace) to an entry of a
 * kind starting with kind_prefix ("fs.directory", "env.storage."). Problems name the field.
 * Records the dependency for boot order. NULL after a problem. */
wp_entry *reg__ref(wp_registry *reg, wp_entry *e, const yaml_node_t *at, const char *path,
                   const char *text, const char *kind_prefix);

void reg__add_dep(wp_entry *e, wp_entry *dep);

/* Registers e's meta.command, if it has one (process kinds only: elsewhere it is a problem). */
void reg__collect_command(wp_registry *reg, wp_entry *e);

/* The entry with this ID, or NULL. */
wp_entry *reg__find(const wp_registry *reg, const char *id);

/* ---- Paths (paths.c) ---------------------------------------------------------------------- */

/* base + "/" + rel unless rel is absolute; lexically cleaned. NULL when out of memory. */
char *reg__path_join(const char *base, const char *rel);
/* Lexical cleaning of an absolute path: no ".", "..", "//" or trailing "/" ("/" stays). */
void reg__path_clean(char *path);
/* Reads a whole file (at most REG_MAX_FILE_BYTES). Fails: WP_ERR_NOT_FOUND,
 * WP_ERR_PERMISSION_DENIED, WP_ERR_INVALID (too large, a directory), WP_ERR_NOMEM. */
wp_status reg__read_file(const char *path, uint8_t **out, size_t *len, wp_err *err);
void reg__free_file(uint8_t *bytes, size_t len);

/* ---- Kinds (kind_*.c) --------------------------------------------------------------------- */

/* fs.directory: the resolved host directory, or NULL if e is no valid fs.directory. Creates it
 * (and parents) when auto_init is set and create is true. */
const char *reg__fs_dir(const wp_entry *e);
wp_status reg__fs_ensure(const wp_entry *e, wp_err *err);

/* env.variable lookups for wasm entries (kind_env.c). */
wp_status reg__env_get(wp_registry *reg, const wp_entry *var, wp_value *out, wp_err *err);
wp_status reg__env_set(wp_registry *reg, const wp_entry *var, const char *value, wp_err *err);

/* Modules by digest (kind_wasm.c). */
void reg__modules_free(wp_registry *reg);

/* Commands (registry.c). */
void reg__add_command(wp_registry *reg, wp_entry *e, const char *name, const char *short_text,
                      const yaml_node_t *at);

extern const kind_info reg__kind_fs_directory;
extern const kind_info reg__kind_env_variable;
extern const kind_info reg__kind_env_storage_os;
extern const kind_info reg__kind_env_storage_static;
extern const kind_info reg__kind_env_storage_memory;
extern const kind_info reg__kind_env_storage_file;
extern const kind_info reg__kind_env_storage_router;
extern const kind_info reg__kind_process_host;
extern const kind_info reg__kind_terminal_host;
extern const kind_info reg__kind_process_wasm;
extern const kind_info reg__kind_function_wasm;
extern const kind_info reg__kind_function_wat;
extern const kind_info reg__kind_process_lua;
extern const kind_info reg__kind_function_lua;

/* ---- Lifecycle, services, boot order (kind_service.c, order.c) ------------------------------ */

/* A lifecycle block (hosts and services share it); requires/depends_on become deps. */
typedef struct reg_lifecycle {
    bool auto_start;
    uint64_t start_timeout_ms;
    uint64_t stop_timeout_ms;
    uint64_t stable_threshold_ms;
    wp_restart_policy restart;
} reg_lifecycle;

/* The documented defaults (auto_start false, 10s, 10s, 5s; 1s, 90s, 2.0, 0.1, 0). */
extern const reg_lifecycle REG_LIFECYCLE_DEFAULT;

/* Reads e's lifecycle (problems for wrong fields; requires recorded as dependencies). *out
 * starts from the defaults. */
void reg__lifecycle_parse(wp_registry *reg, wp_entry *e, reg_lifecycle *out);

/* "500ms", "10s", "1m30s", "1h", "250us", or a bare number of seconds; false if none of these. */
bool reg__duration_ms(const char *s, uint64_t *out);

/* What a process.service resolved (NULL fields after a problem). */
typedef struct reg_service {
    wp_entry *process;
    wp_entry *host;
    const wp_value *input; /* in the entry's data, or NULL */
    reg_lifecycle lc;
} reg_service;

extern const kind_info reg__kind_process_service;

/* e's service data, or NULL if e is no valid process.service. */
const reg_service *reg__service(const wp_entry *e);

/* Orders reg->entries depth-first in load order, every entry after its dependencies, gives
 * each its level (0 without dependencies, else 1 + its deepest dependency's: entries of one
 * level are independent) and reports each dependency cycle as a problem naming its entries.
 * False when out of memory. */
bool reg__boot_order(wp_registry *reg);

/* A spec running behaviour b with config (borrowed: it must live as long as the registry), for
 * kinds whose configuration is not a wasm one (kind_wasm.c). NULL when out of memory. */
wp_process_spec *reg__spec_new(const wp_behavior *b, const void *config,
                               uint64_t max_execution_ms);

/* Prepares a Lua entry to run (kind_lua.c). */
wp_status reg__lua_prepare(wp_registry *reg, const wp_entry *e, wp_process_spec **out,
                           wp_err *err);

/* Function entries' pool and transport (kind_pool.c): problems at load; and the target a
 * runtime's function calls resolve id to (NOT_FOUND, INVALID: not a function kind). */
void reg__func_validate(wp_registry *reg, wp_entry *e);
wp_status reg__func_target(wp_boot *b, const wp_registry *reg, const char *id,
                           wp_func_target *out, wp_err *err);

/* Prepares a wasm entry to run (kind_wasm.c). */
wp_status reg__wasm_prepare(wp_registry *reg, const wp_entry *e, wp_process_spec **out,
                            wp_err *err);

#endif
