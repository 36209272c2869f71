/* wat2bin.c: a test driver for the text reader: translates a .wat file, or one module of a
 * .wast file, into a .wasm file. Used by scripts/wat-check.sh.
 *
 *   wat2bin IN.wat OUT.wasm                 translate a whole file
 *   wat2bin --wast IN.wast LINE K OUT.wasm  translate the K-th (from 0) module whose
 *                                           "module" keyword is on LINE (1-based)
 *   --decode (first)                        also decode and validate the result
 *
 * Exit status: 0 translated, 1 rejected (the reason on stderr), 2 usage or I/O error. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wippy/wasm.h"
#include "wippy/wat.h"

static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16;
    size_t n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
        }
        buf = nb;
        cap *= 2;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Skips a string, a line comment or a (nested) block comment at p; returns p if none. */
static const char *skip_atom(const char *p, const char *end) {
    if (*p == '"') {
        for (p++; p < end && *p != '"'; p++)
            if (*p == '\\' && p + 1 < end)
                p++;
        return p < end ? p + 1 : end;
    }
    if (end - p >= 2 && p[0] == ';' && p[1] == ';') {
        while (p < end && *p != '\n')
            p++;
        return p;
    }
    if (end - p >= 2 && p[0] == '(' && p[1] == ';') {
        int depth = 0;
        while (p < end) {
            if (end - p >= 2 && p[0] == '(' && p[1] == ';') {
                depth++;
                p += 2;
            } else if (end - p >= 2 && p[0] == ';' && p[1] == ')') {
                p += 2;
                if (--depth == 0)
                    return p;
            } else {
                p++;
            }
        }
        return end;
    }
    return p;
}

/* After '(' at p: skips spaces and comments; the line and position of the next token. */
static const char *next_token(const char *p, const char *end, long *line) {
    for (;;) {
        const char *q = skip_atom(p, end);
        if (q != p && *p != '"') {
            for (const char *c = p; c < q; c++)
                *line += *c == '\n';
            p = q;
        } else if (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
            *line += *p == '\n';
            p++;
        } else {
            return p;
        }
    }
}

/* Finds the K-th module (at any depth: assertions hold modules too) whose "module" keyword is
 * on line LINE, as wast2json numbers them, and its closing parenthesis. A file of bare fields
 * is one module. */
static int extract(const char *text, size_t len, long line, long k, const char **start,
                   size_t *out_len) {
    const char *p = text;
    const char *end = text + len;
    long cur = 1;
    int depth = 0;
    int modules = 0;
    int mod_depth = -1;
    const char *mod = NULL;
    while (p < end) {
        const char *q = skip_atom(p, end);
        if (q != p) {
            for (const char *c = p; c < q; c++)
                cur += *c == '\n';
            p = q;
            continue;
        }
        if (*p == '\n')
            cur++;
        if (*p == '(' && !mod) {
            long kw_line = cur;
            const char *kw = next_token(p + 1, end, &kw_line);
            bool is_module = end - kw >= 6 && strncmp(kw, "module", 6) == 0;
            modules += is_module;
            if (is_module && kw_line == line && k-- == 0) {
                mod = p;
                mod_depth = depth;
            }
        }
        depth += *p == '(';
        depth -= *p == ')';
        if (*p == ')' && depth == mod_depth && mod) {
            *start = mod;
            *out_len = (size_t)(p + 1 - mod);
            return 0;
        }
        p++;
    }
    if (modules == 0) {
        *start = text;
        *out_len = len;
        return 0;
    }
    return -1;
}

int main(int argc, char **argv) {
    int decode = 0;
    if (argc > 1 && strcmp(argv[1], "--decode") == 0) {
        decode = 1;
        argv++;
        argc--;
    }
    int wast = argc == 6 && strcmp(argv[1], "--wast") == 0;
    if (!wast && argc != 3) {
        fprintf(stderr, "usage: wat2bin [--decode] IN.wat OUT.wasm\n"
                        "       wat2bin [--decode] --wast IN.wast LINE K OUT.wasm\n");
        return 2;
    }
    size_t len;
    char *text = read_all(argv[wast ? 2 : 1], &len);
    if (!text) {
        perror(argv[wast ? 2 : 1]);
        return 2;
    }
    const char *src = text;
    size_t src_len = len;
    if (wast && extract(text, len, atol(argv[3]), atol(argv[4]), &src, &src_len) != 0) {
        fprintf(stderr, "%s: no module at line %s\n", argv[2], argv[3]);
        free(text);
        return 2;
    }
    uint8_t *bin;
    size_t bin_len;
    wp_err err;
    wp_status st = wp_wat_to_wasm(src, src_len, &bin, &bin_len, &err);
    free(text);
    if (st != WP_OK) {
        fprintf(stderr, "%s: %s\n", wp_status_name(st), err.msg);
        return 1;
    }
    int rc = 0;
    wp_module *m = NULL;
    if (decode && wp_module_decode(bin, bin_len, &m, &err) != WP_OK) {
        fprintf(stderr, "decode: %s\n", err.msg);
        rc = 1;
    }
    wp_module_free(m);
    FILE *f = fopen(argv[wast ? 5 : 2], "wb");
    if (!f || fwrite(bin, 1, bin_len, f) != bin_len || fclose(f) != 0) {
        perror(argv[wast ? 5 : 2]);
        rc = 2;
    }
    wp_wat_free(bin);
    return rc;
}
