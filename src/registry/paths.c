/* paths.c: joining and cleaning paths, reading whole files, and small string helpers. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static wp_heap *heap(void) { return wp_heap_default(); }

char *reg__strndup(const char *s, size_t n) {
    char *d = wp_heap_alloc(heap(), n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *reg__strdup(const char *s) { return s ? reg__strndup(s, strlen(s)) : NULL; }

char *reg__printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = wp_heap_alloc(heap(), (size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void reg__strfree(char *s) {
    if (s)
        wp_heap_free(heap(), s, strlen(s) + 1);
}

bool reg__grow(void **items, uint32_t *cap, uint32_t need, size_t elem) {
    if (need <= *cap)
        return true;
    uint32_t ncap = *cap ? *cap * 2 : 8;
    if (ncap < need)
        ncap = need;
    void *n = wp_heap_realloc(heap(), *items, *cap * elem, (size_t)ncap * elem);
    if (!n)
        return false;
    *items = n;
    *cap = ncap;
    return true;
}

/* Removes "." and empty components, resolves ".." lexically (never above the root). */
void reg__path_clean(char *path) {
    bool abs = path[0] == '/';
    char *out = path + abs;
    char *w = out;
    const char *r = out;
    while (*r) {
        const char *end = strchr(r, '/');
        size_t len = end ? (size_t)(end - r) : strlen(r);
        if (len == 0 || (len == 1 && r[0] == '.')) {
            /* skip */
        } else if (len == 2 && r[0] == '.' && r[1] == '.' && w > out) {
            w--; /* drop the last component written */
            while (w > out && w[-1] != '/')
                w--;
            if (w > out)
                w--;
        } else if (!(len == 2 && r[0] == '.' && r[1] == '.' && abs)) {
            if (w > out)
                *w++ = '/';
            memmove(w, r, len);
            w += len;
        }
        r += len + (end != NULL);
    }
    *w = '\0';
    if (!abs && w == out) {
        out[0] = '.';
        out[1] = '\0';
    }
}

char *reg__path_join(const char *base, const char *rel) {
    char *p = rel[0] == '/' ? reg__strdup(rel) : reg__printf("%s/%s", base, rel);
    if (p)
        reg__path_clean(p);
    return p;
}

wp_status reg__read_file(const char *path, uint8_t **out, size_t *len, wp_err *err) {
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return wp_err_set(
            err, errno == ENOENT || errno == ENOTDIR ? WP_ERR_NOT_FOUND : WP_ERR_PERMISSION_DENIED,
            "%s", strerror(errno));
    struct stat sb;
    wp_status st = WP_OK;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        st = wp_err_set(err, WP_ERR_INVALID, "not a regular file");
    else if ((uint64_t)sb.st_size > REG_MAX_FILE_BYTES)
        st = wp_err_set(err, WP_ERR_INVALID, "larger than %u bytes", REG_MAX_FILE_BYTES);
    size_t size = st == WP_OK ? (size_t)sb.st_size : 0;
    uint8_t *buf = st == WP_OK ? wp_heap_alloc(heap(), size + 1) : NULL;
    if (st == WP_OK && !buf)
        st = wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    size_t got = 0;
    while (st == WP_OK && got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            st = wp_err_set(err, WP_ERR_UNAVAILABLE, "read failed: %s",
                            n < 0 ? strerror(errno) : "file shrank");
        else
            got += (size_t)n;
    }
    close(fd);
    if (st != WP_OK) {
        if (buf)
            wp_heap_free(heap(), buf, size + 1);
        return st;
    }
    buf[size] = '\0'; /* text files can be used as C strings */
    *out = buf;
    *len = size;
    return WP_OK;
}

void reg__free_file(uint8_t *bytes, size_t len) {
    if (bytes)
        wp_heap_free(heap(), bytes, len + 1);
}
