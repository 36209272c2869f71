/* ctx.c: creating and freeing a WASI context: args, env, stdio, mounts, cwd, sockets. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

void wp_wasi_config_init(wp_wasi_config *cfg) {
    *cfg = (wp_wasi_config){.stdin_fd = 0, .stdout_fd = 1, .stderr_fd = 2};
}

/* Packs n strings back to back with their NULs, as args_get and environ_get hand them out. */
static wp_status pack(wp_wasi *w, const char *const *strs, uint32_t n, const char *what,
                      char **out, size_t *size, wp_err *err) {
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++)
        total += strlen(strs[i]) + 1;
    /* The guest receives the count of pointers and the byte total as 32-bit sizes. */
    if (total > UINT32_MAX / 2 || n > UINT32_MAX / 8)
        return wp_err_set(err, WP_ERR_INVALID, "%s: too large for a 32-bit guest", what);
    *out = wp_heap_alloc(w->heap, total);
    if (!*out)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory for %s", what);
    char *p = *out;
    for (uint32_t i = 0; i < n; i++) {
        size_t len = strlen(strs[i]) + 1;
        memcpy(p, strs[i], len);
        p += len;
    }
    *size = total;
    return WP_OK;
}

static void add_stdio(wp_wasi *w, uint32_t fd, int host, bool *ok) {
    wp_wasi_fd e = {.host = host};
    /* A host descriptor that is not open leaves the guest's closed too. */
    if (host < 0 || wp__wasi_fd_describe(host, &e) != 0)
        return;
    if (!wp__wasi_fd_put(w, fd, &e))
        *ok = false;
}

static char *copy_name(wp_wasi *w, const char *s, uint32_t *len) {
    size_t n = strlen(s);
    if (n > WP_SYS_PATH_MAX)
        return NULL;
    char *p = wp_heap_alloc(w->heap, n + 1);
    if (p)
        memcpy(p, s, n + 1);
    *len = (uint32_t)n;
    return p;
}

static wp_status open_failed(int e, const char *what, const char *name, wp_err *err) {
    wp_status kind = e == ENOENT ? WP_ERR_NOT_FOUND
                     : e == EACCES || e == EPERM ? WP_ERR_PERMISSION_DENIED
                     : e == ENOMEM ? WP_ERR_NOMEM
                                   : WP_ERR_INVALID;
    return wp_err_set(err, kind, "%s '%s': %s", what, name,
                      e == WP_SYS_ENOTCAPABLE ? "outside the mount" : strerror(e));
}

/* Makes host directory descriptor 'dirfd' (taken over) the preopen 'name' at guest fd. */
static wp_status add_preopen(wp_wasi *w, uint32_t fd, int dirfd, const char *name, bool ro,
                             wp_err *err) {
    wp_wasi_fd e = {.host = dirfd, .owned = true, .read_only = ro};
    int rc = wp__wasi_fd_describe(dirfd, &e);
    if (rc == 0 && e.type != WP_WASI_FILETYPE_DIRECTORY)
        rc = ENOTDIR;
    if (rc == 0 && !(e.preopen = copy_name(w, name, &e.preopen_len)))
        rc = strlen(name) > WP_SYS_PATH_MAX ? ENAMETOOLONG : ENOMEM;
    if (rc == 0 && !wp__wasi_fd_put(w, fd, &e))
        rc = ENOMEM;
    if (rc != 0) {
        close(dirfd);
        if (e.preopen)
            wp_heap_free(w->heap, e.preopen, e.preopen_len + 1);
        return open_failed(rc, "mount", name, err);
    }
    return WP_OK;
}

static wp_status add_mount(wp_wasi *w, uint32_t fd, const wp_wasi_mount *m, wp_err *err) {
    int dirfd = open(m->host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return open_failed(errno, "mount", m->host, err);
    return add_preopen(w, fd, dirfd, m->guest ? m->guest : m->host, m->read_only, err);
}

/* A guest path without leading "/" and "./" or trailing slashes, as wasi-libc matches
 * preopen names. Sets *len. */
static const char *strip(const char *s, size_t *len) {
    for (;;) {
        if (s[0] == '/')
            s++;
        else if (s[0] == '.' && (s[1] == '/' || s[1] == '\0'))
            s += 1;
        else
            break;
    }
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        n--;
    *len = n;
    return s;
}

/* The mount whose guest name is the longest prefix of cwd, and the rest of cwd below it. */
static const wp_wasi_fd *cwd_mount(wp_wasi *w, uint32_t nmounts, const char *cwd,
                                   const char **rest) {
    size_t cl;
    const char *c = strip(cwd, &cl);
    const wp_wasi_fd *best = NULL;
    size_t best_len = 0;
    for (uint32_t i = 0; i < nmounts; i++) {
        const wp_wasi_fd *m = &w->fds[3 + i];
        size_t pl;
        const char *p = strip(m->preopen, &pl);
        bool match = pl <= cl && memcmp(p, c, pl) == 0 && (pl == 0 || c[pl] == '/' || pl == cl);
        if (match && (!best || pl > best_len)) {
            best = m;
            best_len = pl;
        }
    }
    *rest = c + best_len;
    while (**rest == '/')
        (*rest)++;
    return best;
}

static wp_status add_cwd(wp_wasi *w, uint32_t fd, uint32_t nmounts, const char *cwd,
                         wp_err *err) {
    const char *rest;
    const wp_wasi_fd *m = cwd_mount(w, nmounts, cwd, &rest);
    if (!m)
        return wp_err_set(err, WP_ERR_INVALID, "cwd '%s' is not inside any mount", cwd);
    char path[WP_SYS_PATH_MAX + 1];
    size_t n = strlen(rest);
    if (n > WP_SYS_PATH_MAX)
        return open_failed(ENAMETOOLONG, "cwd", cwd, err);
    memcpy(path, n ? rest : ".", n ? n + 1 : 2);
    unsigned how = WP_SYS_FOLLOW | ((w->flags & WP_WASI_PORTABLE_RESOLVE) ? WP_SYS_PORTABLE : 0);
    int dirfd;
    int e = wp__sys_open(m->host, path, O_RDONLY | O_DIRECTORY, how, &dirfd);
    if (e != 0)
        return open_failed(e, "cwd", cwd, err);
    return add_preopen(w, fd, dirfd, ".", m->read_only, err);
}

static wp_status add_socket(wp_wasi *w, uint32_t fd, int host, wp_err *err) {
    wp_wasi_fd e = {.host = host};
    if (host < 0 || wp__wasi_fd_describe(host, &e) != 0 ||
        (e.type != WP_WASI_FILETYPE_SOCKET_STREAM && e.type != WP_WASI_FILETYPE_SOCKET_DGRAM))
        return wp_err_set(err, WP_ERR_INVALID, "descriptor %d is not a socket", host);
    if (!wp__wasi_fd_put(w, fd, &e))
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory for the descriptor table");
    return WP_OK;
}

static wp_status add_fds(wp_wasi *w, const wp_wasi_config *cfg, wp_err *err) {
    bool ok = true;
    add_stdio(w, 0, cfg->stdin_fd, &ok);
    add_stdio(w, 1, cfg->stdout_fd, &ok);
    add_stdio(w, 2, cfg->stderr_fd, &ok);
    if (!ok)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory for the descriptor table");
    uint32_t fd = 3;
    for (uint32_t i = 0; i < cfg->nmounts; i++) {
        wp_status st = add_mount(w, fd++, &cfg->mounts[i], err);
        if (st != WP_OK)
            return st;
    }
    if (cfg->cwd) {
        wp_status st = add_cwd(w, fd++, cfg->nmounts, cfg->cwd, err);
        if (st != WP_OK)
            return st;
    }
    for (uint32_t i = 0; i < cfg->nsockets; i++) {
        wp_status st = add_socket(w, fd++, cfg->sockets[i], err);
        if (st != WP_OK)
            return st;
    }
    return WP_OK;
}

wp_status wp_wasi_new(const wp_wasi_config *cfg, wp_wasi **out, wp_err *err) {
    wp_heap *heap = cfg->heap ? cfg->heap : wp_heap_default();
    wp_wasi *w = wp_heap_zalloc(heap, sizeof *w);
    if (!w)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory for the WASI context");
    w->heap = heap;
    w->flags = cfg->flags;
    w->nargs = cfg->nargs;
    w->nenv = cfg->nenv;
    wp_status st = pack(w, cfg->args, cfg->nargs, "arguments", &w->args, &w->args_size, err);
    if (st == WP_OK)
        st = pack(w, cfg->env, cfg->nenv, "environment", &w->env, &w->env_size, err);
    if (st == WP_OK)
        st = add_fds(w, cfg, err);
    if (st != WP_OK) {
        wp_wasi_free(w);
        return st;
    }
    *out = w;
    return WP_OK;
}

void wp_wasi_free(wp_wasi *w) {
    if (!w)
        return;
    wp_wasi_cancel(w);
    for (uint32_t i = 0; i < w->nfds; i++)
        if (w->fds[i].host >= 0)
            wp__wasi_fd_release(w, &w->fds[i]);
    wp_heap *h = w->heap;
    wp_heap_free(h, w->fds, w->nfds * sizeof *w->fds);
    wp_heap_free(h, w->wait.fds, w->wait.cap * sizeof *w->wait.fds);
    wp_heap_free(h, w->subs, w->subs_cap * sizeof *w->subs);
    wp_heap_free(h, w->iov, w->iov_cap * sizeof *w->iov);
    wp_heap_free(h, w->args, w->args_size);
    wp_heap_free(h, w->env, w->env_size);
    wp_heap_free(h, w, sizeof *w);
}
