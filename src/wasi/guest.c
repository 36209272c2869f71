/* guest.c: checked access to guest memory: pointers, scalars, paths, iovec arrays. */
#include <limits.h>
#include <string.h>

#include "internal.h"

uint8_t *wp__wasi_mem(wp_memory *m, uint64_t ptr, uint64_t len) {
    if (!m)
        return NULL;
    uint64_t size = wp_memory_size(m);
    if (ptr > size || len > size - ptr)
        return NULL;
    return wp_memory_data(m) + ptr;
}

bool wp__wasi_put32(wp_memory *m, uint32_t ptr, uint32_t v) {
    uint8_t *p = wp__wasi_mem(m, ptr, 4);
    if (p)
        wp__wasi_le32(p, v);
    return p != NULL;
}

bool wp__wasi_put64(wp_memory *m, uint32_t ptr, uint64_t v) {
    uint8_t *p = wp__wasi_mem(m, ptr, 8);
    if (p)
        wp__wasi_le64(p, v);
    return p != NULL;
}

/* Length of the UTF-8 sequence starting at s (at most n bytes), 0 if it is not valid. */
static size_t utf8_char(const uint8_t *s, size_t n) {
    if (s[0] < 0x80)
        return 1;
    size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (len == 0 || len > n || s[0] > 0xf4)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    /* The first two bytes rule out overlong forms, UTF-16 surrogates and code points past
     * U+10FFFF. */
    uint32_t lead = (uint32_t)s[0] << 8 | s[1];
    if (len == 3 && (lead < 0xe0a0 || (lead >= 0xeda0 && lead < 0xee00)))
        return 0;
    if (len == 4 && (lead < 0xf090 || lead >= 0xf490))
        return 0;
    return len;
}

uint16_t wp__wasi_path(wp_memory *m, uint32_t ptr, uint32_t len, char *buf) {
    const uint8_t *s = wp__wasi_mem(m, ptr, len);
    if (!s)
        return WP_WASI_EFAULT;
    if (len > WP_SYS_PATH_MAX)
        return WP_WASI_ENAMETOOLONG;
    if (memchr(s, 0, len))
        return WP_WASI_EINVAL; /* the host would see a shorter path than the guest gave */
    for (size_t i = 0; i < len;) {
        size_t n = utf8_char(s + i, len - i);
        if (n == 0)
            return WP_WASI_EILSEQ;
        i += n;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    return WP_WASI_ESUCCESS;
}

static bool iov_reserve(wp_wasi *w, uint32_t n) {
    if (n <= w->iov_cap)
        return true;
    struct iovec *iov = wp_heap_realloc(w->heap, w->iov, w->iov_cap * sizeof *iov, n * sizeof *iov);
    if (!iov)
        return false;
    w->iov = iov;
    w->iov_cap = n;
    return true;
}

uint16_t wp__wasi_iovecs(wp_wasi *w, wp_memory *m, uint32_t ptr, uint32_t n, int *count) {
    if (n > IOV_MAX)
        return WP_WASI_EINVAL;
    const uint8_t *arr = wp__wasi_mem(m, ptr, (uint64_t)n * WP_WASI_IOVEC_SIZE);
    if (!arr)
        return WP_WASI_EFAULT;
    if (!iov_reserve(w, n ? n : 1))
        return WP_WASI_ENOMEM;
    size_t room = INT32_MAX; /* the byte count must fit the guest's 32-bit size */
    int used = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t buf = wp__wasi_get32(arr + i * WP_WASI_IOVEC_SIZE);
        uint32_t len = wp__wasi_get32(arr + i * WP_WASI_IOVEC_SIZE + 4);
        uint8_t *p = wp__wasi_mem(m, buf, len);
        if (!p)
            return WP_WASI_EFAULT;
        if (room == 0)
            continue; /* still check the rest: a bad buffer is a fault whatever we transfer */
        size_t take = len < room ? len : room;
        w->iov[used++] = (struct iovec){.iov_base = p, .iov_len = take};
        room -= take;
    }
    *count = used;
    return WP_WASI_ESUCCESS;
}
