/* load.c: reading module files from disk, binary or text. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wippy/wat.h"

static wp_status read_file(const char *path, uint8_t **out, size_t *len, wp_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return wp_err_set(err, errno == ENOENT ? WP_ERR_NOT_FOUND : WP_ERR_PERMISSION_DENIED,
                          "cannot open: %s", strerror(errno));
    uint8_t *buf = NULL;
    size_t cap = 0;
    size_t n = 0;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                return wp_err_set(err, WP_ERR_NOMEM, "out of memory reading the file");
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return wp_err_set(err, WP_ERR_UNAVAILABLE, "read error");
    }
    *out = buf;
    *len = n;
    return WP_OK;
}

static bool is_text_name(const char *path) {
    size_t n = strlen(path);
    return n >= 4 && strcmp(path + n - 4, ".wat") == 0;
}

wp_status wp_cli_load_module_bytes(const char *path, uint8_t **out, size_t *len, wp_err *err) {
    uint8_t *bytes = NULL;
    size_t n = 0;
    wp_status st = read_file(path, &bytes, &n, err);
    if (st != WP_OK || !is_text_name(path)) {
        *out = bytes;
        *len = n;
        return st;
    }
    uint8_t *bin = NULL;
    size_t bin_len = 0;
    st = wp_wat_to_wasm((const char *)bytes, n, &bin, &bin_len, err);
    free(bytes);
    if (st != WP_OK)
        return st;
    /* Hand back a malloc'd copy so the caller frees every result the same way. */
    *out = malloc(bin_len ? bin_len : 1);
    if (!*out) {
        wp_wat_free(bin);
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    }
    memcpy(*out, bin, bin_len);
    *len = bin_len;
    wp_wat_free(bin);
    return WP_OK;
}
