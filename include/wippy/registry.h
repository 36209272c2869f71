/* wippy/registry.h: a project's definition files (YAML) made into a registry of entries:
 * loading, kinds, references, validation, env storages, commands, and the configuration a
 * process entry runs with.
 *
 * Objects and who owns them:
 *   wp_registry  everything loaded from one project: files, entries, compiled modules, env
 *                storages, problems. Owned by the caller; release with wp_registry_free().
 *                Not thread-safe: one thread at a time (env storages can be written).
 *   wp_entry     one entry; borrowed from its registry, lives as long as it.
 *   wp_process_spec  what a process entry runs with (behaviour, configuration, resolved
 *                env values and mounts). Owned by the caller: wp_process_spec_free(); it
 *                borrows from the registry, which must outlive it.
 *
 * Loading never stops at the first problem: every problem of the project is collected with
 * its file, line, entry and field (wp_registry_problem). A caller that finds any must not run
 * anything.
 */
#ifndef WIPPY_REGISTRY_H
#define WIPPY_REGISTRY_H

#include "wippy/runtime.h"
#include "wippy/value.h"

typedef struct wp_registry wp_registry;
typedef struct wp_entry wp_entry;

/* Receives -v messages (one line each, no newline): files read, files skipped, unknown kinds
 * and fields, boot order. */
typedef void (*wp_log_fn)(void *ud, const char *msg);

typedef struct wp_registry_options {
    const char *project_dir; /* NULL: the current directory */
    wp_log_fn log;           /* NULL: no messages */
    void *log_ud;
} wp_registry_options;

/* A problem found while loading. Strings are borrowed from the registry. */
typedef struct wp_problem {
    const char *file;   /* relative to the project directory */
    uint32_t line;      /* 1-based; 0 when it concerns the whole file */
    const char *entry;  /* "ns:name", or NULL */
    const char *field;  /* "wasi.mounts[2].guest", or NULL */
    const char *reason; /* "hash is required", ... */
} wp_problem;

/* Loads the project: wippy.lock's directories (or ./src), every definition file found in them
 * recursively, its entries, and validates them all (hashes verified, modules compiled,
 * references resolved). *out is set even when problems were found.
 * Fails (no registry made): WP_ERR_NOT_FOUND (no project directory, no source directory),
 *        WP_ERR_NOMEM. */
WP_API wp_status wp_registry_load(const wp_registry_options *opts, wp_registry **out, wp_err *err);

/* Accepts NULL. */
WP_API void wp_registry_free(wp_registry *reg);

/* Problems, sorted by file and line. */
WP_API uint32_t wp_registry_problem_count(const wp_registry *reg);
WP_API const wp_problem *wp_registry_problem(const wp_registry *reg, uint32_t i);

/* Entries in boot order: every entry after the entries it refers to. */
WP_API uint32_t wp_registry_entry_count(const wp_registry *reg);
WP_API const wp_entry *wp_registry_entry_at(const wp_registry *reg, uint32_t i);

/* The entry with this full ID ("ns:name"), or NULL. */
WP_API const wp_entry *wp_registry_find(const wp_registry *reg, const char *id);

WP_API const char *wp_entry_id(const wp_entry *e);
WP_API const char *wp_entry_kind(const wp_entry *e);
WP_API const char *wp_entry_file(const wp_entry *e); /* relative to the project directory */
WP_API uint32_t wp_entry_line(const wp_entry *e);
/* Every field of the entry as written (name and kind included), as a map; plain YAML scalars
 * are typed by the core schema (null, booleans, integers, floats), all else is a string. */
WP_API const wp_value *wp_entry_data(const wp_entry *e);

/* ---- Commands ----------------------------------------------------------------------------- */

typedef struct wp_command {
    const char *name;       /* meta.command.name */
    const char *short_text; /* meta.command.short, or "" */
    const wp_entry *entry;
} wp_command;

/* Commands sorted by name; lookup by name (NULL if none). */
WP_API uint32_t wp_registry_command_count(const wp_registry *reg);
WP_API const wp_command *wp_registry_command_at(const wp_registry *reg, uint32_t i);
WP_API const wp_command *wp_registry_find_command(const wp_registry *reg, const char *name);

/* The terminal.host to run on: the one named by id, or the only one there is.
 * Fails: WP_ERR_NOT_FOUND ("no terminal.host found in registry", or id is no terminal host),
 *        WP_ERR_INVALID ("multiple terminal hosts found (a, b), use --host to specify"). */
WP_API wp_status wp_registry_terminal_host(const wp_registry *reg, const char *id,
                                           const wp_entry **out, wp_err *err);

/* ---- Environment -------------------------------------------------------------------------- */

/* The value of an env.variable, named by entry ID or by its public name ('variable'): its
 * storage's value, else its default. *out is a string value owned by the caller.
 * Fails: WP_ERR_NOT_FOUND (no such variable; no value and no default),
 *        WP_ERR_UNAVAILABLE (a file storage could not be read), WP_ERR_NOMEM. */
WP_API wp_status wp_registry_env_get(wp_registry *reg, const char *var, wp_value *out, wp_err *err);

/* Sets an env.variable's value in its storage (a router writes to its first storage; a file
 * storage rewrites its file, creating it when auto_create is set).
 * Fails: WP_ERR_NOT_FOUND, WP_ERR_PERMISSION_DENIED (the variable or its storage is read-only:
 *        os, static), WP_ERR_UNAVAILABLE (the file could not be written), WP_ERR_NOMEM. */
WP_API wp_status wp_registry_env_set(wp_registry *reg, const char *var, const char *value,
                                     wp_err *err);

/* ---- Running entries ---------------------------------------------------------------------- */

typedef struct wp_process_spec wp_process_spec;

/* What process (or function) entry e runs with: its behaviour and configuration, with env
 * variables resolved now (a required one that has no value is an error) and mount directories
 * created when their fs.directory says auto_init. The terminal host's stdio is the process's.
 * Fails: WP_ERR_INVALID (e failed validation, or is no runnable kind), WP_ERR_UNSUPPORTED (a
 *        kind this build cannot run yet, like process.lua), WP_ERR_NOT_FOUND (a required env
 *        variable), WP_ERR_NOMEM. */
WP_API wp_status wp_registry_prepare(wp_registry *reg, const wp_entry *e, wp_process_spec **out,
                                     wp_err *err);

WP_API const wp_behavior *wp_process_spec_behavior(const wp_process_spec *s);
WP_API const void *wp_process_spec_config(const wp_process_spec *s);
WP_API uint64_t wp_process_spec_max_execution_ms(const wp_process_spec *s);

/* Accepts NULL. */
WP_API void wp_process_spec_free(wp_process_spec *s);

/* ---- Booting a runtime -------------------------------------------------------------------- */

/* A runtime made for a registry: its hosts and the resolver that spawns entries by ID. The
 * registry must outlive it; while it lives, its resolver uses the registry from worker threads
 * under the registry's own lock, so other threads must take that lock too (Lua's env hooks
 * do) or leave the registry alone. */
typedef struct wp_boot wp_boot;

/* Creates a runtime whose resolver prepares process entries of reg (each once; the prepared
 * configuration lives until wp_boot_free), starts every process.host whose
 * lifecycle.auto_start is not false (host.workers threads, default the number of CPUs), and
 * terminal (a terminal.host entry, or NULL) as its terminal host. The shutdown grace period is
 * the longest lifecycle.stop_timeout of the hosts ("5s", "500ms"; default 10 s).
 * handle_signals: SIGINT/SIGTERM shut the runtime down (wp_runtime_config). *out owned by the
 * caller: wp_boot_free(). Fails: as wp_runtime_new and wp_runtime_add_host. */
WP_API wp_status wp_registry_boot(wp_registry *reg, const wp_entry *terminal, bool handle_signals,
                                  wp_boot **out, wp_err *err);

/* The runtime and its terminal host (NULL if none was given); borrowed from b. */
WP_API wp_runtime *wp_boot_runtime(const wp_boot *b);
WP_API wp_host *wp_boot_terminal(const wp_boot *b);

/* What entry e runs, prepared once and kept by b (the target's config lives as long as b).
 * Thread-safe. Fails: as wp_registry_prepare. */
WP_API wp_status wp_boot_target(wp_boot *b, const wp_entry *e, wp_spawn_target *out,
                                wp_err *err);

/* Runs the project's process.service entries under a supervisor (wp_supervisor_behavior, on
 * a host of its own, "wippy:supervisor") until it is stopped, on the calling thread: services
 * with lifecycle.auto_start start in dependency order (and what they require), failed ones
 * restart under their restart policy. The first SIGINT/SIGTERM (with handle_signals) or a
 * wp_runtime_shutdown stops them in reverse order, each within its stop_timeout; then this
 * returns WP_OK. Hosts of services that auto_start kept down are started first. log (may be
 * NULL) hears every state change. Fails (nothing ran): WP_ERR_NOMEM, as wp_runtime_add_host
 * and wp_runtime_run. */
WP_API wp_status wp_boot_serve(wp_boot *b, wp_svc_log_fn log, void *log_ud, wp_err *err);

/* Frees the runtime (terminating what still runs: shut it down first for a grace period),
 * then the prepared entries. Accepts NULL. */
WP_API void wp_boot_free(wp_boot *b);

#endif
