/* session.h: the state of one spec script run (store, modules, names), shared by the runner. */
#ifndef SPEC_SESSION_H
#define SPEC_SESSION_H

#include "spectest.h"
#include "value.h"

#define SPEC_MAX_VALUES 64       /* arguments or results of one call; the suite uses <= 17 */
#define SPEC_SLICE 100000u       /* reductions per wp_exec_run between looks at the clock */
#define SPEC_TIME_LIMIT_S 10.0   /* default wall-clock limit of one command, in seconds */

/* A name bound to an instance (NULL: the module of that name failed to load). */
typedef struct spec_binding {
    char *name; /* malloc'd copy, len bytes (names may hold NUL) */
    size_t len;
    wp_instance *inst;
} spec_binding;

typedef struct spec_names {
    spec_binding *items;
    size_t count;
    size_t cap;
} spec_names;

/* One script's run: one store for all its modules, as the spec's store is shared. */
typedef struct spec_session {
    const char *dir;       /* the directory the script's module files are in (borrowed) */
    double time_limit_s;   /* per call; a call past it fails with "timeout" */
    wp_store *store;
    wp_exec *exec;         /* every call runs on this one, to completion, one at a time */
    spec_host host;        /* the spectest module */
    wp_instance *current;  /* the last module defined; NULL if it failed */
    spec_names named;      /* "$name" -> instance, for actions and register */
    spec_names registered; /* register's "as" names -> instance, for imports */
} spec_session;

typedef enum spec_outcome {
    SPEC_RETURNED, /* results are in 'results' */
    SPEC_TRAPPED,  /* msg is the trap's message */
    SPEC_FAILED,   /* the call could not be made or finished (timeout); msg says why */
} spec_outcome;

typedef struct spec_run {
    spec_outcome outcome;
    uint32_t count;
    wp_val results[SPEC_MAX_VALUES];
    char msg[WP_ERR_MSG_MAX];
} spec_run;

/* Creates the store (with fuel, if not 0), the exec and the spectest module. dir is borrowed.
 * On failure nothing is left allocated. Fails: what the engine fails with. */
wp_status spec_session_init(spec_session *ss, const char *dir, uint64_t fuel, wp_err *err);

/* Frees the store (and so every instance) and the names. Accepts a zeroed session. */
void spec_session_free(spec_session *ss);

/* Binds name to inst; a later binding of the same name hides the earlier one.
 * Fails: WP_ERR_NOMEM. */
wp_status spec_names_bind(spec_names *names, const char *name, size_t len, wp_instance *inst,
                          wp_err *err);

/* The instance bound to name; false if the name was never bound (*out is NULL when it was
 * bound to a module that failed). */
bool spec_names_find(const spec_names *names, const char *name, size_t len, wp_instance **out);

/* Reads the file at path into a malloc'd buffer with a NUL after the len bytes; free() it.
 * Fails: WP_ERR_NOT_FOUND (cannot open or read), WP_ERR_NOMEM. */
wp_status spec_read_path(const char *path, char **out, size_t *len, wp_err *err);

/* Reads the script's file 'filename' (next to the script), as spec_read_path. */
wp_status spec_read_file(const spec_session *ss, const char *filename, char **out, size_t *len,
                         wp_err *err);

/* Instantiates m: resolves its imports in the registered instances and the spectest module,
 * creates the instance in the session's store and runs its start function.
 * Fails: WP_ERR_LINK ("unknown import ..." or the engine's link error), WP_ERR_TRAP (a
 * segment did not fit, or the start function trapped: err holds the trap message),
 * WP_ERR_TIMEOUT, or what the engine fails with. */
wp_status spec_instantiate(spec_session *ss, wp_module *m, wp_instance **out, wp_err *err);

/* Calls f with budgeted slices until it returns, traps, or passes the time limit. Never
 * leaves the exec busy. */
void spec_call(spec_session *ss, wp_func *f, const wp_val *args, uint32_t nargs, spec_run *out);

#endif
