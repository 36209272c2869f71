/* values.c: command-line text <-> wasm values. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static bool parse_int(const char *text, int bits, uint64_t *out) {
    const char *p = text;
    bool neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    if (!*p || *p == '-' || *p == '+')
        return false;
    errno = 0;
    char *end;
    unsigned long long mag = strtoull(p, &end, 0);
    if (errno || *end)
        return false;
    uint64_t limit = bits == 32 ? UINT32_MAX : UINT64_MAX;
    uint64_t neg_limit = bits == 32 ? (uint64_t)1 << 31 : (uint64_t)1 << 63;
    if (neg ? mag > neg_limit : mag > limit)
        return false; /* a positive value may use the full unsigned range (0xffffffff) */
    *out = neg ? (uint64_t)0 - mag : mag;
    return true;
}

static bool parse_float(const char *text, double *out) {
    errno = 0;
    char *end;
    double d = strtod(text, &end);
    if (end == text || *end || (errno == ERANGE && !isinf(d) && d != 0))
        return false;
    *out = d;
    return true;
}

wp_status wp_cli_parse_value(const char *text, wp_valtype t, wp_val *out, wp_err *err) {
    uint64_t u;
    double d;
    switch (t) {
    case WP_I32:
        if (!parse_int(text, 32, &u))
            break;
        *out = wp_val_i32((uint32_t)u);
        return WP_OK;
    case WP_I64:
        if (!parse_int(text, 64, &u))
            break;
        *out = wp_val_i64(u);
        return WP_OK;
    case WP_F32:
    case WP_F64:
        if (!parse_float(text, &d))
            break;
        if (t == WP_F32) {
            float f = (float)d;
            uint32_t bits;
            memcpy(&bits, &f, sizeof bits);
            *out = wp_val_f32(bits);
        } else {
            uint64_t bits;
            memcpy(&bits, &d, sizeof bits);
            *out = wp_val_f64(bits);
        }
        return WP_OK;
    default:
        return wp_err_set(err, WP_ERR_UNSUPPORTED, "cannot pass a %s on the command line",
                          wp_valtype_name(t));
    }
    return wp_err_set(err, WP_ERR_INVALID, "'%s' is not a valid %s", text, wp_valtype_name(t));
}

/* The fewest significant digits that read back to exactly the same double. */
static void print_shortest(FILE *out, double d, bool single) {
    char buf[64];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        double back = strtod(buf, NULL);
        if (single ? (float)back == (float)d : back == d)
            break;
    }
    fputs(buf, out);
}

void wp_cli_print_value(FILE *out, wp_val v) {
    switch (v.type) {
    case WP_I32:
        fprintf(out, "%" PRId32, (int32_t)v.of.i32);
        return;
    case WP_I64:
        fprintf(out, "%" PRId64, (int64_t)v.of.i64);
        return;
    case WP_F32: {
        float f;
        memcpy(&f, &v.of.f32, sizeof f);
        if (isnan(f))
            fputs("nan", out);
        else
            print_shortest(out, f, true);
        return;
    }
    case WP_F64: {
        double d;
        memcpy(&d, &v.of.f64, sizeof d);
        if (isnan(d))
            fputs("nan", out);
        else
            print_shortest(out, d, false);
        return;
    }
    case WP_FUNCREF:
    case WP_EXTERNREF:
        fputs(v.of.ext ? "ref" : "null", out);
        return;
    case WP_V128:
        break;
    }
    fputs("?", out);
}
