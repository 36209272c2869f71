/* kind_fs.c: fs.directory, and the two host kinds (process.host, terminal.host). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

typedef struct fs_priv {
    char *dir; /* absolute, cleaned */
    bool auto_init;
    unsigned mode; /* for auto_init */
} fs_priv;

static void fs_free(void *priv) {
    fs_priv *p = priv;
    reg__strfree(p->dir);
    wp_heap_free(wp_heap_default(), p, sizeof *p);
}

/* An octal permission mode, written 0755, "0755" or 755. */
static bool parse_mode(const char *s, unsigned *out) {
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 8);
    if (!s[0] || *end || errno || v > 07777)
        return false;
    *out = (unsigned)v;
    return true;
}

static const char *fs_base(wp_registry *reg, wp_entry *e) {
    const char *base = NULL;
    if (!reg__get_text(reg, e, NULL, "base", "base", false, &base) || strcmp(base, "project") == 0)
        return reg->project;
    if (strcmp(base, "module") == 0)
        return e->file->root;
    reg__field_problem(reg, e, reg__field(e, NULL, "base"), "base",
                       "base must be project or module, not \"%s\"", base);
    return NULL;
}

static void fs_validate(wp_registry *reg, wp_entry *e) {
    const char *dir = NULL;
    const char *mode = NULL;
    bool auto_init = false;
    unsigned m = 0755;
    bool ok = reg__get_text(reg, e, NULL, "directory", "directory", true, &dir);
    ok = reg__get_bool(reg, e, NULL, "auto_init", "auto_init", false, &auto_init) && ok;
    if (reg__get_text(reg, e, NULL, "mode", "mode", false, &mode) && !parse_mode(mode, &m)) {
        reg__field_problem(reg, e, reg__field(e, NULL, "mode"), "mode",
                           "mode must be an octal permission like 0755, not \"%s\"", mode);
        ok = false;
    }
    const char *base = fs_base(reg, e);
    if (!ok || !base)
        return;
    fs_priv *p = wp_heap_zalloc(wp_heap_default(), sizeof *p);
    if (!p || !(p->dir = reg__path_join(base, dir))) {
        if (p)
            wp_heap_free(wp_heap_default(), p, sizeof *p);
        reg__problem(reg, NULL, 0, e, NULL, "out of memory");
        return;
    }
    p->auto_init = auto_init;
    p->mode = m;
    e->priv = p;
    struct stat sb;
    yaml_node_t *at = reg__field(e, NULL, "directory");
    if (stat(p->dir, &sb) != 0 && !auto_init)
        reg__field_problem(reg, e, at, "directory", "directory %s does not exist", p->dir);
    else if (stat(p->dir, &sb) == 0 && !S_ISDIR(sb.st_mode))
        reg__field_problem(reg, e, at, "directory", "%s is not a directory", p->dir);
}

const char *reg__fs_dir(const wp_entry *e) {
    return e && e->k == &reg__kind_fs_directory && e->priv ? ((const fs_priv *)e->priv)->dir : NULL;
}

/* mkdir -p with the entry's mode. */
wp_status reg__fs_ensure(const wp_entry *e, wp_err *err) {
    const fs_priv *p = e->priv;
    struct stat sb;
    if (!reg__fs_dir(e))
        return wp_err_set(err, WP_ERR_INVALID, "file system %s has problems", e->id);
    if (stat(p->dir, &sb) == 0 || !p->auto_init)
        return WP_OK;
    char *path = reg__strdup(p->dir);
    if (!path)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    wp_status st = WP_OK;
    for (char *s = path + 1; st == WP_OK; s++) {
        bool end = *s == '\0';
        if (*s != '/' && !end)
            continue;
        *s = '\0';
        if (mkdir(path, p->mode) != 0 && errno != EEXIST)
            st = wp_err_set(err, WP_ERR_UNAVAILABLE, "%s: cannot create %s: %s", e->id, path,
                            strerror(errno));
        if (end)
            break;
        *s = '/';
    }
    reg__strfree(path);
    return st;
}

static const char *const FS_FIELDS[] = {"directory", "auto_init", "mode",
                                        "base",      "lifecycle", NULL};

const kind_info reg__kind_fs_directory = {"fs.directory", 0, FS_FIELDS, fs_validate, fs_free};

/* ---- Hosts ------------------------------------------------------------------------------- */

#define HOST_LIMIT_CAP (1u << 20) /* host.max_processes, host.max_memory_mb (1 TiB) */

static void process_host_validate(wp_registry *reg, wp_entry *e) {
    reg_lifecycle lc; /* checked as a service's (kind_service.c); boot.c reads what it uses */
    reg__lifecycle_parse(reg, e, &lc);
    yaml_node_t *host = reg__field(e, NULL, "host");
    if (host && !reg__yaml_is_map(host)) {
        reg__field_problem(reg, e, host, "host", "host must be a mapping");
        return;
    }
    static const char *const ints[] = {"workers", "queue_size", "local_queue_size"};
    for (size_t i = 0; host && i < sizeof ints / sizeof ints[0]; i++) {
        char path[64];
        uint64_t v = 0;
        snprintf(path, sizeof path, "host.%s", ints[i]);
        reg__get_uint(reg, e, host, ints[i], path, &v);
    }
    /* Limits (docs/limits.md): 0 or absent means none; the cap is what boot reads. */
    static const char *const limits[] = {"max_processes", "max_memory_mb"};
    for (size_t i = 0; host && i < sizeof limits / sizeof limits[0]; i++) {
        char path[64];
        uint64_t v = 0;
        snprintf(path, sizeof path, "host.%s", limits[i]);
        reg__get_limit(reg, e, host, limits[i], path, HOST_LIMIT_CAP, &v);
    }
}

static void terminal_host_validate(wp_registry *reg, wp_entry *e) {
    reg_lifecycle lc; /* checked as a service's (kind_service.c); boot.c reads what it uses */
    reg__lifecycle_parse(reg, e, &lc);
    bool hide = false;
    reg__get_bool(reg, e, NULL, "hide_logs", "hide_logs", false, &hide);
}

static const char *const PROCESS_HOST_FIELDS[] = {"host", "lifecycle", NULL};
static const char *const TERMINAL_HOST_FIELDS[] = {"hide_logs", "lifecycle", NULL};

const kind_info reg__kind_process_host = {"process.host", 0, PROCESS_HOST_FIELDS,
                                          process_host_validate, NULL};
const kind_info reg__kind_terminal_host = {"terminal.host", 0, TERMINAL_HOST_FIELDS,
                                           terminal_host_validate, NULL};
