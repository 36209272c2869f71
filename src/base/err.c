/* err.c: setting, wrapping and naming errors. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "wippy/base.h"

wp_status wp_err_set(wp_err *err, wp_status kind, const char *fmt, ...) {
    if (!err)
        return kind;
    err->kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return kind;
}

wp_status wp_err_wrap(wp_err *err, const char *fmt, ...) {
    if (!err)
        return WP_ERR_INTERNAL;
    char prefix[WP_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    if (n < 0)
        return err->kind;
    size_t plen = strlen(prefix);
    size_t mlen = strnlen(err->msg, sizeof err->msg - 1);
    char joined[WP_ERR_MSG_MAX];
    if (mlen == 0)
        snprintf(joined, sizeof joined, "%s", prefix);
    else
        snprintf(joined, sizeof joined, "%.*s: %.*s", (int)plen, prefix, (int)mlen, err->msg);
    memcpy(err->msg, joined, sizeof joined);
    if (err->kind == WP_OK)
        err->kind = WP_ERR_INTERNAL;
    return err->kind;
}

void wp_err_clear(wp_err *err) {
    if (!err)
        return;
    err->kind = WP_OK;
    err->msg[0] = '\0';
}

const char *wp_status_text(wp_status st) {
    switch (st) {
    case WP_OK:
        return "ok";
#define X(kind, text)                                                                              \
    case WP_ERR_##kind:                                                                            \
        return text;
        WP_ERR_KINDS(X)
#undef X
    }
    return "unknown error";
}

const char *wp_status_name(wp_status st) {
    switch (st) {
    case WP_OK:
        return "OK";
#define X(kind, text)                                                                              \
    case WP_ERR_##kind:                                                                            \
        return #kind;
        WP_ERR_KINDS(X)
#undef X
    }
    return "UNKNOWN";
}
