/* cabi.c: the Canonical ABI between wp_values and a core export: flattening, lowering
 * parameters (cabi_realloc for strings and lists), lifting results, post-return. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../base/compiler.h"
#include "internal.h"

#define FLAT_MAX WP_CABI_MAX_FLAT_PARAMS

/* ---- Flattening -------------------------------------------------------------------------- */

static void push_flat(wp_valtype t, wp_valtype *out, uint32_t cap, uint32_t *n) {
    if (*n < cap)
        out[*n] = t;
    (*n)++;
}

static wp_valtype join(wp_valtype a, wp_valtype b) {
    if (a == b)
        return a;
    if ((a == WP_I32 && b == WP_F32) || (a == WP_F32 && b == WP_I32))
        return WP_I32;
    return WP_I64;
}

void wit__variant_flat(const wp_wit_type *t, wp_valtype *out, uint32_t cap, uint32_t *n) {
    *n = 0;
    for (uint32_t c = 0; c < wit__case_count(t); c++) {
        const wp_wit_type *ct = wit__case_type(t, c);
        if (!ct)
            continue;
        wp_valtype flat[FLAT_MAX];
        uint32_t k = 0;
        wit__flatten(ct, flat, FLAT_MAX, &k);
        for (uint32_t i = 0; i < k && i < FLAT_MAX; i++) {
            if (i < *n && i < cap)
                out[i] = join(out[i], flat[i]);
            else if (i >= *n)
                push_flat(flat[i], out, cap, n);
        }
    }
}

void wit__flatten(const wp_wit_type *t, wp_valtype *out, uint32_t cap, uint32_t *n) {
    switch (t->kind) {
    case WP_WIT_S64:
    case WP_WIT_U64:
        push_flat(WP_I64, out, cap, n);
        return;
    case WP_WIT_F32:
        push_flat(WP_F32, out, cap, n);
        return;
    case WP_WIT_F64:
        push_flat(WP_F64, out, cap, n);
        return;
    case WP_WIT_STRING:
    case WP_WIT_LIST:
        push_flat(WP_I32, out, cap, n);
        push_flat(WP_I32, out, cap, n);
        return;
    case WP_WIT_TUPLE:
    case WP_WIT_RECORD:
        for (uint32_t i = 0; i < t->nfields; i++)
            wit__flatten(t->fields[i].type, out, cap, n);
        return;
    case WP_WIT_OPTION:
    case WP_WIT_RESULT:
    case WP_WIT_VARIANT: {
        push_flat(WP_I32, out, cap, n);
        wp_valtype joined[FLAT_MAX];
        uint32_t k = 0;
        wit__variant_flat(t, joined, FLAT_MAX, &k);
        for (uint32_t i = 0; i < k; i++)
            push_flat(i < FLAT_MAX ? joined[i] : WP_I64, out, cap, n);
        return;
    }
    default: /* bool, small integers, char, enum, flags */
        push_flat(WP_I32, out, cap, n);
        return;
    }
}

static uint32_t params_flat(const wp_wit_func *f) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < f->nparams; i++)
        n += wit__node(f->params[i].type)->nflat;
    return n;
}

/* The core parameters of f's flat parameters: one i32 pointer when they are too many. */
static void core_params(const wp_wit_func *f, wp_valtype *params, uint32_t *nparams) {
    *nparams = 0;
    if (params_flat(f) > WP_CABI_MAX_FLAT_PARAMS) {
        params[0] = WP_I32;
        *nparams = 1;
    } else {
        for (uint32_t i = 0; i < f->nparams; i++)
            wit__flatten(f->params[i].type, params, WP_CABI_MAX_FLAT_PARAMS, nparams);
    }
}

void wp_cabi_core_type(const wp_wit_func *f, wp_valtype *params, uint32_t *nparams,
                       wp_valtype *results, uint32_t *nresults) {
    core_params(f, params, nparams);
    *nresults = 0;
    if (f->result && wit__node(f->result)->nflat > WP_CABI_MAX_FLAT_RESULTS)
        results[(*nresults)++] = WP_I32;
    else if (f->result)
        wit__flatten(f->result, results, WP_CABI_MAX_FLAT_RESULTS, nresults);
}

/* True if lowering t needs the guest's realloc (strings and lists go into its memory). */
static bool type_needs_realloc(const wp_wit_type *t) {
    switch (t->kind) {
    case WP_WIT_STRING:
    case WP_WIT_LIST:
        return true;
    case WP_WIT_OPTION:
    case WP_WIT_RESULT:
    case WP_WIT_VARIANT:
        for (uint32_t i = 0; i < wit__case_count(t); i++)
            if (wit__case_type(t, i) && type_needs_realloc(wit__case_type(t, i)))
                return true;
        return false;
    case WP_WIT_TUPLE:
    case WP_WIT_RECORD:
        for (uint32_t i = 0; i < t->nfields; i++)
            if (type_needs_realloc(t->fields[i].type))
                return true;
        return false;
    default:
        return false;
    }
}

static void print_core(char *buf, size_t cap, const wp_valtype *p, uint32_t np, const wp_valtype *r,
                       uint32_t nr) {
    size_t used = 0;
    used += (size_t)snprintf(buf + used, cap - used, "(");
    for (uint32_t i = 0; i < np && used < cap; i++)
        used +=
            (size_t)snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", wp_valtype_name(p[i]));
    if (used < cap)
        used += (size_t)snprintf(buf + used, cap - used, ") -> (");
    for (uint32_t i = 0; i < nr && used < cap; i++)
        used +=
            (size_t)snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", wp_valtype_name(r[i]));
    if (used < cap)
        snprintf(buf + used, cap - used, ")");
}

wp_status wp_cabi_check(const wp_wit_func *f, wp_functype core, bool *needs_memory,
                        bool *needs_realloc, wp_err *err) {
    wp_valtype p[WP_CABI_MAX_FLAT_PARAMS];
    wp_valtype r[WP_CABI_MAX_FLAT_RESULTS];
    uint32_t np = 0;
    uint32_t nr = 0;
    wp_cabi_core_type(f, p, &np, r, &nr);
    bool same = np == core.nparams && nr == core.nresults;
    for (uint32_t i = 0; same && i < np; i++)
        same = p[i] == core.types[i];
    for (uint32_t i = 0; same && i < nr; i++)
        same = r[i] == core.types[core.nparams + i];
    if (!same) {
        char want[160];
        char have[160];
        print_core(want, sizeof want, p, np, r, nr);
        print_core(have, sizeof have, core.types, core.nparams, core.types + core.nparams,
                   core.nresults);
        return wp_err_set(err, WP_ERR_INVALID,
                          "wit signature of '%s' lowers to core type %s, the export has %s",
                          f->name, want, have);
    }
    bool realloc_needed = params_flat(f) > WP_CABI_MAX_FLAT_PARAMS;
    for (uint32_t i = 0; i < f->nparams; i++)
        realloc_needed = realloc_needed || type_needs_realloc(f->params[i].type);
    bool memory_needed =
        realloc_needed ||
        (f->result && (type_needs_realloc(f->result) || wit__node(f->result)->nflat > 1));
    if (needs_memory)
        *needs_memory = memory_needed;
    if (needs_realloc)
        *needs_realloc = realloc_needed;
    return WP_OK;
}

void wp_cabi_init(wp_cabi *cx, wp_exec *exec, wp_instance *inst) {
    *cx = (wp_cabi){.exec = exec, .inst = inst};
    wp_extern ext;
    if (wp_instance_export(inst, "memory", 6, &ext) && ext.kind == WP_EXTERN_MEMORY)
        cx->memory = ext.of.memory;
    else
        cx->memory = wp_instance_memory(inst);
    if (wp_instance_export(inst, "cabi_realloc", 12, &ext) && ext.kind == WP_EXTERN_FUNC)
        cx->realloc = ext.of.func;
}

/* ---- Memory ------------------------------------------------------------------------------ */

static wp_status need_memory(const wp_cabi *cx, wp_err *err) {
    if (!cx->memory)
        return wp_err_set(err, WP_ERR_LINK, "the module exports no memory");
    return WP_OK;
}

/* Traps unless [ptr, ptr+len) is inside memory and ptr is aligned. */
static wp_status check_range(const wp_cabi *cx, uint64_t ptr, uint64_t len, uint32_t align,
                             const char *what, wp_err *err) {
    if (need_memory(cx, err) != WP_OK)
        return WP_ERR_LINK;
    if (ptr % align != 0)
        return wp_err_set(err, WP_ERR_TRAP, "%s: pointer %" PRIu64 " is not %u-byte aligned", what,
                          ptr, align);
    if (ptr + len > wp_memory_size(cx->memory))
        return wp_err_set(err, WP_ERR_TRAP,
                          "%s: %" PRIu64 " bytes at %" PRIu64 " are outside memory", what, len,
                          ptr);
    return WP_OK;
}

static wp_status cabi_realloc(wp_cabi *cx, uint32_t align, uint64_t size, uint32_t *ptr,
                              wp_err *err) {
    if (need_memory(cx, err) != WP_OK)
        return WP_ERR_LINK;
    if (!cx->realloc)
        return wp_err_set(err, WP_ERR_LINK, "the module exports no cabi_realloc");
    if (size > UINT32_MAX)
        return wp_err_set(err, WP_ERR_INVALID, "%" PRIu64 " bytes do not fit in memory", size);
    wp_val args[4] = {wp_val_i32(0), wp_val_i32(0), wp_val_i32(align), wp_val_i32((uint32_t)size)};
    wp_val res;
    wp_functype ft = wp_func_type(cx->realloc);
    if (ft.nparams != 4 || ft.nresults != 1)
        return wp_err_set(err, WP_ERR_LINK, "cabi_realloc has the wrong type");
    wp_status st = cx->host_call
                       ? wp_host_call_nested(cx->host_call, cx->realloc, args, 4, &res, 1, err)
                       : wp_call(cx->exec, cx->realloc, args, 4, &res, 1, NULL, err);
    if (st != WP_OK)
        return wp_err_wrap(err, "cabi_realloc");
    *ptr = res.of.i32;
    return check_range(cx, *ptr, size, align, "cabi_realloc result", err);
}

static wp_status mem_write(wp_cabi *cx, uint64_t ptr, const void *src, size_t len, wp_err *err) {
    if (!wp_memory_write(cx->memory, ptr, src, len))
        return wp_err_set(err, WP_ERR_TRAP, "write of %zu bytes at %" PRIu64 " outside memory", len,
                          ptr);
    return WP_OK;
}

static wp_status mem_read(const wp_cabi *cx, uint64_t ptr, void *dst, size_t len, wp_err *err) {
    if (need_memory(cx, err) != WP_OK)
        return WP_ERR_LINK;
    if (!wp_memory_read(cx->memory, ptr, dst, len))
        return wp_err_set(err, WP_ERR_TRAP, "read of %zu bytes at %" PRIu64 " outside memory", len,
                          ptr);
    return WP_OK;
}

static void put_le(uint8_t *p, uint64_t v, uint32_t size) {
    for (uint32_t i = 0; i < size; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, uint32_t size) {
    uint64_t v = 0;
    for (uint32_t i = 0; i < size; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

/* ---- Values to scalars ------------------------------------------------------------------- */

static wp_status type_error(const wp_wit_type *t, const wp_value *v, wp_err *err) {
    char tname[64];
    wit__type_name(t, tname, sizeof tname);
    if (v->kind == WP_VSTRING)
        return wp_err_set(err, WP_ERR_INVALID, "'%.100s' is not a valid %s", wp_value_str(v, NULL),
                          tname);
    return wp_err_set(err, WP_ERR_INVALID, "expected %s, got %s", tname, wp_vkind_name(v->kind));
}

static bool parse_text_int(const char *s, bool is_unsigned, uint64_t *bits) {
    const char *p = s;
    bool neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    if (*p < '0' || *p > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long mag = strtoull(p, &end, 0);
    if (errno || *end)
        return false;
    if (neg && (is_unsigned ? mag != 0 : mag > (uint64_t)1 << 63))
        return false;
    if (!neg && !is_unsigned && mag > (uint64_t)INT64_MAX)
        return false;
    *bits = neg ? (uint64_t)0 - mag : mag;
    return true;
}

/* An integer of kind t from an integer, an integral float or text; as its 64-bit pattern. */
static wp_status to_int(const wp_wit_type *t, const wp_value *v, uint64_t *bits, wp_err *err) {
    int64_t lo = 0;
    uint64_t hi = 0;
    wit__int_range(t->kind, &lo, &hi);
    bool is_unsigned = lo == 0;
    if (v->kind == WP_VINT) {
        *bits = (uint64_t)v->of.i;
    } else if (v->kind == WP_VFLOAT && v->of.f == floor(v->of.f) && fabs(v->of.f) < 0x1p63) {
        *bits = (uint64_t)(int64_t)v->of.f;
    } else if (v->kind != WP_VSTRING || !parse_text_int(wp_value_str(v, NULL), is_unsigned, bits)) {
        return type_error(t, v, err);
    }
    if (!wit__int_fits(t->kind, (int64_t)*bits))
        return wp_err_set(err, WP_ERR_INVALID, "%" PRId64 " is out of range for %s", (int64_t)*bits,
                          wp_wit_kind_name(t->kind));
    return WP_OK;
}

static wp_status to_float(const wp_wit_type *t, const wp_value *v, double *d, wp_err *err) {
    if (v->kind == WP_VFLOAT) {
        *d = v->of.f;
        return WP_OK;
    }
    if (v->kind == WP_VINT) {
        *d = (double)v->of.i;
        return WP_OK;
    }
    if (v->kind == WP_VSTRING) {
        const char *s = wp_value_str(v, NULL);
        char *end;
        errno = 0;
        *d = strtod(s, &end);
        if (end != s && !*end)
            return WP_OK;
    }
    return type_error(t, v, err);
}

static wp_status to_bool(const wp_wit_type *t, const wp_value *v, bool *b, wp_err *err) {
    const char *s = wp_value_str(v, NULL);
    if (v->kind == WP_VBOOL)
        *b = v->of.b;
    else if (s && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0))
        *b = s[0] == 't';
    else
        return type_error(t, v, err);
    return WP_OK;
}

static size_t utf8_encode(uint32_t c, char *out) {
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xc0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xe0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        out[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
    out[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

static wp_status to_char(const wp_wit_type *t, const wp_value *v, uint32_t *cp, wp_err *err) {
    size_t len = 0;
    const char *s = wp_value_str(v, &len);
    if (v->kind == WP_VSTRING && wp_utf8_decode((const uint8_t *)s, len, cp) == len && len > 0)
        return WP_OK;
    if (v->kind == WP_VINT && v->of.i >= 0 && v->of.i < 0x110000 &&
        !(v->of.i >= 0xd800 && v->of.i <= 0xdfff)) {
        *cp = (uint32_t)v->of.i;
        return WP_OK;
    }
    return type_error(t, v, err);
}

/* The index of a label in t's fields (enum labels, variant cases), or -1. */
static int64_t label_index(const wp_wit_type *t, const wp_value *v) {
    const char *s = wp_value_str(v, NULL);
    if (v->kind != WP_VSTRING)
        return -1;
    for (uint32_t i = 0; i < t->nfields; i++)
        if (strcmp(t->fields[i].name, s) == 0)
            return i;
    return -1;
}

/* Flags from a map of labels to true (false: not set) or an array of labels. */
static wp_status to_flags(const wp_wit_type *t, const wp_value *v, uint32_t *bits, wp_err *err) {
    if (v->kind != WP_VARRAY && v->kind != WP_VMAP)
        return type_error(t, v, err);
    *bits = 0;
    for (size_t i = 0; i < wp_value_len(v); i++) {
        const wp_value *label = wp_value_at(v, i);
        const wp_value *set = NULL;
        if (v->kind == WP_VMAP)
            wp_value_map_pair(v, i, &label, &set);
        if (set && (set->kind == WP_VNIL || (set->kind == WP_VBOOL && !set->of.b)))
            continue;
        int64_t k = label_index(t, label);
        if (k < 0)
            return wp_err_set(err, WP_ERR_INVALID, "element %zu is not a flag of %s", i + 1,
                              t->name ? t->name : "flags");
        *bits |= 1u << k;
    }
    return WP_OK;
}

/* Which case of a variant-like type v selects, and its payload (NULL: none). */
static wp_status match_case(const wp_wit_type *t, const wp_value *v, uint32_t *index,
                            const wp_value **payload, wp_err *err) {
    *payload = NULL;
    if (t->kind == WP_WIT_OPTION) {
        *index = v->kind != WP_VNIL;
        *payload = *index ? v : NULL;
        return WP_OK;
    }
    if (t->kind == WP_WIT_ENUM || (t->kind == WP_WIT_VARIANT && v->kind == WP_VSTRING)) {
        int64_t k = label_index(t, v);
        if (k < 0 || (t->kind == WP_WIT_VARIANT && t->fields[k].type))
            return type_error(t, v, err);
        *index = (uint32_t)k;
        return WP_OK;
    }
    const wp_value *key = NULL;
    const wp_value *val = NULL;
    if (wp_value_len(v) != 1 || !wp_value_map_pair(v, 0, &key, &val) || key->kind != WP_VSTRING)
        return type_error(t, v, err);
    const char *name = wp_value_str(key, NULL);
    if (t->kind == WP_WIT_RESULT) {
        if (strcmp(name, "ok") != 0 && strcmp(name, "err") != 0)
            return wp_err_set(err, WP_ERR_INVALID, "a result is {ok = ...} or {err = ...}");
        *index = name[0] == 'e';
    } else {
        int64_t k = label_index(t, key);
        if (k < 0)
            return wp_err_set(err, WP_ERR_INVALID, "'%.100s' is not a case of %s", name,
                              t->name ? t->name : "the variant");
        *index = (uint32_t)k;
    }
    *payload = wit__case_type(t, *index) ? val : NULL;
    return WP_OK;
}

/* ---- Storing into memory ----------------------------------------------------------------- */

static wp_status store(wp_cabi *cx, const wp_value *v, const wp_wit_type *t, uint64_t ptr,
                       wp_err *err);

#define UTF16_TAG 0x80000000u /* latin1+utf16: the length counts UTF-16 code units */

/* A string in UTF-16 (or Latin-1 when every code point fits and latin1 is allowed) for the
 * guest: realloc'd and written; *len in code units (tagged for latin1+utf16's UTF-16). */
static wp_status store_string16(wp_cabi *cx, const char *s, size_t n, bool latin1,
                                uint32_t *ptr, uint32_t *len, wp_err *err) {
    uint8_t *buf = wp_heap_alloc(wp_heap_default(), 2 * n + 2);
    size_t units = 0;
    bool fits = latin1;
    uint32_t cp = 0;
    if (!buf)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    for (size_t i = 0, k; i < n; i += k) {
        k = wp_utf8_decode((const uint8_t *)s + i, n - i, &cp);
        k = k ? k : 1; /* strings from the embedder are UTF-8; a stray byte passes as itself */
        fits = fits && cp < 0x100;
        if (cp >= 0x10000) {
            put_le(buf + 2 * units++, 0xd800 + ((cp - 0x10000) >> 10), 2);
            cp = 0xdc00 + ((cp - 0x10000) & 0x3ff);
        }
        put_le(buf + 2 * units++, cp, 2);
    }
    if (fits) /* Latin-1: one byte per code unit */
        for (size_t i = 0; i < units; i++)
            buf[i] = buf[2 * i];
    wp_status st = cabi_realloc(cx, 2, fits ? units : 2 * units, ptr, err);
    if (st == WP_OK)
        st = mem_write(cx, *ptr, buf, fits ? units : 2 * units, err);
    wp_heap_free(wp_heap_default(), buf, 2 * n + 2);
    *len = (uint32_t)units | (latin1 && !fits ? UTF16_TAG : 0);
    return st;
}

/* Copies a string or a list into fresh guest memory; *ptr, *len for the (ptr, len) pair. */
static wp_status store_string(wp_cabi *cx, const wp_wit_type *t, const wp_value *v, uint32_t *ptr,
                              uint32_t *len, wp_err *err) {
    size_t n = 0;
    const char *s = wp_value_str(v, &n);
    if (v->kind != WP_VSTRING)
        return type_error(t, v, err);
    if (n > (cx->encoding == WP_CABI_UTF8 ? WP_CABI_MAX_STRING_LEN : WP_CABI_MAX_STRING_LEN / 2))
        return wp_err_set(err, WP_ERR_INVALID, "string of %zu bytes is too long", n);
    if (cx->encoding != WP_CABI_UTF8)
        return store_string16(cx, s, n, cx->encoding == WP_CABI_LATIN1_UTF16, ptr, len, err);
    wp_status st = cabi_realloc(cx, 1, n, ptr, err);
    if (st == WP_OK)
        st = mem_write(cx, *ptr, s, n, err);
    *len = (uint32_t)n;
    return st;
}

static wp_status store_list(wp_cabi *cx, const wp_wit_type *t, const wp_value *v, uint32_t *ptr,
                            uint32_t *len, wp_err *err) {
    const wit_node *e = wit__node(t->elem);
    size_t blen = 0;
    const char *bytes = wp_value_str(v, &blen);
    bool as_bytes = bytes && e->t.kind == WP_WIT_U8; /* list<u8> also takes string or bytes */
    size_t n = as_bytes ? blen : wp_value_len(v);
    if (!as_bytes && v->kind != WP_VARRAY)
        return type_error(t, v, err);
    if (n > WP_CABI_MAX_LIST_LEN)
        return wp_err_set(err, WP_ERR_INVALID, "list of %zu elements is too long", n);
    wp_status st = cabi_realloc(cx, e->align, (uint64_t)n * e->size, ptr, err);
    *len = (uint32_t)n;
    if (st != WP_OK || as_bytes)
        return st == WP_OK ? mem_write(cx, *ptr, bytes, n, err) : st;
    for (size_t i = 0; i < n && st == WP_OK; i++)
        if ((st = store(cx, wp_value_at(v, i), t->elem, *ptr + (uint64_t)i * e->size, err)))
            wp_err_wrap(err, "element %zu", i + 1);
    return st;
}

static wp_status store_fields(wp_cabi *cx, const wp_value *v, const wp_wit_type *t, uint64_t ptr,
                              wp_err *err) {
    bool record = t->kind == WP_WIT_RECORD;
    if (record ? v->kind != WP_VMAP : v->kind != WP_VARRAY || wp_value_len(v) != t->nfields)
        return type_error(t, v, err);
    uint64_t off = 0;
    for (uint32_t i = 0; i < t->nfields; i++) {
        const wit_node *f = wit__node(t->fields[i].type);
        const wp_value *fv = record ? wp_value_map_get(v, t->fields[i].name) : wp_value_at(v, i);
        if (!fv)
            return wp_err_set(err, WP_ERR_INVALID, "field '%s' is missing", t->fields[i].name);
        off = align_up(off, f->align);
        wp_status st = store(cx, fv, &f->t, ptr + off, err);
        if (st != WP_OK)
            return record ? wp_err_wrap(err, "field '%s'", t->fields[i].name)
                          : wp_err_wrap(err, "element %u", i + 1);
        off += f->size;
    }
    return WP_OK;
}

static wp_status store_variant(wp_cabi *cx, const wp_value *v, const wp_wit_type *t, uint64_t ptr,
                               wp_err *err) {
    uint32_t index = 0;
    const wp_value *payload = NULL;
    wp_status st = match_case(t, v, &index, &payload, err);
    if (st != WP_OK)
        return st;
    uint32_t disc = wit__disc_size(wit__case_count(t));
    uint8_t buf[4];
    put_le(buf, index, disc);
    if ((st = mem_write(cx, ptr, buf, disc, err)) != WP_OK || !wit__case_type(t, index))
        return st;
    uint32_t max_align = 1;
    for (uint32_t i = 0; i < wit__case_count(t); i++)
        if (wit__case_type(t, i) && wit__node(wit__case_type(t, i))->align > max_align)
            max_align = wit__node(wit__case_type(t, i))->align;
    static const wp_value nil = {.kind = WP_VNIL};
    return store(cx, payload ? payload : &nil, wit__case_type(t, index),
                 ptr + align_up(disc, max_align), err);
}

static wp_status store_scalar(const wp_value *v, const wp_wit_type *t, uint8_t *buf, wp_err *err) {
    uint64_t bits = 0;
    double d = 0;
    bool b = false;
    uint32_t u = 0;
    wp_status st = WP_OK;
    switch (t->kind) {
    case WP_WIT_BOOL:
        st = to_bool(t, v, &b, err);
        bits = b;
        break;
    case WP_WIT_F32: {
        float f = 0;
        st = to_float(t, v, &d, err);
        f = (float)d;
        memcpy(&u, &f, 4);
        bits = u;
        break;
    }
    case WP_WIT_F64:
        st = to_float(t, v, &d, err);
        memcpy(&bits, &d, 8);
        break;
    case WP_WIT_CHAR:
        st = to_char(t, v, &u, err);
        bits = u;
        break;
    case WP_WIT_FLAGS:
        st = to_flags(t, v, &u, err);
        bits = u;
        break;
    default:
        st = to_int(t, v, &bits, err);
        break;
    }
    put_le(buf, bits, wit__node(t)->size);
    return st;
}

static wp_status store(wp_cabi *cx, const wp_value *v, const wp_wit_type *t, uint64_t ptr,
                       wp_err *err) {
    uint32_t p = 0;
    uint32_t n = 0;
    uint8_t buf[8];
    wp_status st;
    switch (t->kind) {
    case WP_WIT_STRING:
    case WP_WIT_LIST:
        st = t->kind == WP_WIT_STRING ? store_string(cx, t, v, &p, &n, err)
                                      : store_list(cx, t, v, &p, &n, err);
        put_le(buf, p, 4);
        put_le(buf + 4, n, 4);
        return st == WP_OK ? mem_write(cx, ptr, buf, 8, err) : st;
    case WP_WIT_TUPLE:
    case WP_WIT_RECORD:
        return store_fields(cx, v, t, ptr, err);
    case WP_WIT_OPTION:
    case WP_WIT_RESULT:
    case WP_WIT_VARIANT:
    case WP_WIT_ENUM:
        return store_variant(cx, v, t, ptr, err);
    case WP_WIT_OWN:
    case WP_WIT_BORROW:
        if ((st = comp__lower_handle(cx, t, v, &p, err)) != WP_OK)
            return st;
        put_le(buf, p, 4);
        return mem_write(cx, ptr, buf, 4, err);
    default:
        if ((st = store_scalar(v, t, buf, err)) != WP_OK)
            return st;
        return mem_write(cx, ptr, buf, wit__node(t)->size, err);
    }
}

/* ---- Lowering to flat values ------------------------------------------------------------- */

typedef struct flat_out {
    wp_val *vals;
    uint32_t n;
} flat_out;

static void emit(flat_out *o, wp_val v) {
    if (o->n < FLAT_MAX)
        o->vals[o->n] = v;
    o->n++;
}

static wp_status lower_flat(wp_cabi *cx, const wp_value *v, const wp_wit_type *t, flat_out *o,
                            wp_err *err);

/* Converts a payload's own flat value to the variant's joined type (the spec's coercions). */
static wp_val coerce_to(wp_val have, wp_valtype want) {
    if (have.type == want)
        return have;
    if (want == WP_I32) /* f32 into i32: its bits */
        return wp_val_i32(have.of.f32);
    if (have.type == WP_F64)
        return wp_val_i64(have.of.f64);
    return wp_val_i64(have.type == WP_F32 ? have.of.f32 : have.of.i32);
}

static wp_status lower_variant(wp_cabi *cx, const wp_value *v, const wp_wit_type *t, flat_out *o,
                               wp_err *err) {
    uint32_t index = 0;
    const wp_value *payload = NULL;
    wp_status st = match_case(t, v, &index, &payload, err);
    if (st != WP_OK)
        return st;
    emit(o, wp_val_i32(index));
    wp_valtype joined[FLAT_MAX];
    uint32_t njoined = 0;
    wit__variant_flat(t, joined, FLAT_MAX, &njoined);
    wp_val own[FLAT_MAX];
    flat_out po = {own, 0};
    static const wp_value nil = {.kind = WP_VNIL};
    if (wit__case_type(t, index) && (st = lower_flat(cx, payload ? payload : &nil,
                                                     wit__case_type(t, index), &po, err)) != WP_OK)
        return st;
    for (uint32_t i = 0; i < njoined && i < FLAT_MAX; i++) {
        wp_val zero = joined[i] == WP_I64   ? wp_val_i64(0)
                      : joined[i] == WP_F32 ? wp_val_f32(0)
                      : joined[i] == WP_F64 ? wp_val_f64(0)
                                            : wp_val_i32(0);
        emit(o, i < po.n ? coerce_to(own[i], joined[i]) : zero);
    }
    return WP_OK;
}

static wp_status lower_fields(wp_cabi *cx, const wp_value *v, const wp_wit_type *t, flat_out *o,
                              wp_err *err) {
    bool record = t->kind == WP_WIT_RECORD;
    if (record ? v->kind != WP_VMAP : v->kind != WP_VARRAY || wp_value_len(v) != t->nfields)
        return type_error(t, v, err);
    for (uint32_t i = 0; i < t->nfields; i++) {
        const wp_value *fv = record ? wp_value_map_get(v, t->fields[i].name) : wp_value_at(v, i);
        if (!fv)
            return wp_err_set(err, WP_ERR_INVALID, "field '%s' is missing", t->fields[i].name);
        if (lower_flat(cx, fv, t->fields[i].type, o, err) != WP_OK)
            return record ? wp_err_wrap(err, "field '%s'", t->fields[i].name)
                          : wp_err_wrap(err, "element %u", i + 1);
    }
    return WP_OK;
}

static wp_status lower_flat(wp_cabi *cx, const wp_value *v, const wp_wit_type *t, flat_out *o,
                            wp_err *err) {
    uint32_t p = 0;
    uint32_t n = 0;
    uint8_t buf[8] = {0};
    wp_status st;
    switch (t->kind) {
    case WP_WIT_STRING:
    case WP_WIT_LIST:
        st = t->kind == WP_WIT_STRING ? store_string(cx, t, v, &p, &n, err)
                                      : store_list(cx, t, v, &p, &n, err);
        emit(o, wp_val_i32(p));
        emit(o, wp_val_i32(n));
        return st;
    case WP_WIT_TUPLE:
    case WP_WIT_RECORD:
        return lower_fields(cx, v, t, o, err);
    case WP_WIT_OPTION:
    case WP_WIT_RESULT:
    case WP_WIT_VARIANT:
    case WP_WIT_ENUM:
        return lower_variant(cx, v, t, o, err);
    case WP_WIT_OWN:
    case WP_WIT_BORROW:
        st = comp__lower_handle(cx, t, v, &p, err);
        emit(o, wp_val_i32(p));
        return st;
    default:
        break;
    }
    if ((st = store_scalar(v, t, buf, err)) != WP_OK)
        return st;
    uint64_t bits = get_le(buf, wit__node(t)->size);
    if (t->kind == WP_WIT_S8 || t->kind == WP_WIT_S16) /* sign-extend into the i32 */
        bits = (uint64_t)(int64_t)(t->kind == WP_WIT_S8 ? (int8_t)bits : (int16_t)bits);
    switch (t->kind) {
    case WP_WIT_S64:
    case WP_WIT_U64:
        emit(o, wp_val_i64(bits));
        break;
    case WP_WIT_F32:
        emit(o, wp_val_f32((uint32_t)bits));
        break;
    case WP_WIT_F64:
        emit(o, wp_val_f64(bits));
        break;
    default:
        emit(o, wp_val_i32((uint32_t)bits));
        break;
    }
    return WP_OK;
}

static wp_status lower_one(wp_cabi *cx, const wp_wit_func *f, uint32_t i, const wp_value *arg,
                           flat_out *o, uint64_t ptr, uint64_t *off, wp_err *err) {
    wp_status st;
    if (ptr == UINT64_MAX) {
        st = lower_flat(cx, arg, f->params[i].type, o, err);
    } else {
        const wit_node *pn = wit__node(f->params[i].type);
        *off = align_up(*off, pn->align);
        st = store(cx, arg, &pn->t, ptr + *off, err);
        *off += pn->size;
    }
    if (st != WP_OK)
        wp_err_wrap(err, "argument %u (%s)", i + 1, f->params[i].name);
    return st;
}

/* The alignment and size of the tuple of f's parameters. */
static void params_layout(const wp_wit_func *f, uint32_t *align, uint64_t *size) {
    *align = 1;
    *size = 0;
    for (uint32_t i = 0; i < f->nparams; i++) {
        const wit_node *pn = wit__node(f->params[i].type);
        *size = align_up(*size, pn->align) + pn->size;
        *align = pn->align > *align ? pn->align : *align;
    }
    *size = align_up(*size, *align);
}

wp_status wp_cabi_lower_params(wp_cabi *cx, const wp_wit_func *f, const wp_value *args,
                               uint32_t nargs, wp_val *flat, uint32_t *nflat, wp_err *err) {
    *nflat = 0;
    if (nargs != f->nparams)
        return wp_err_set(err, WP_ERR_INVALID, "%s takes %u argument%s, %u given", f->name,
                          f->nparams, f->nparams == 1 ? "" : "s", nargs);
    flat_out o = {flat, 0};
    uint64_t ptr = UINT64_MAX; /* flat */
    uint64_t off = 0;
    if (params_flat(f) > WP_CABI_MAX_FLAT_PARAMS) {
        uint32_t align = 1;
        uint64_t size = 0;
        uint32_t p = 0;
        params_layout(f, &align, &size);
        wp_status st = cabi_realloc(cx, align, size, &p, err);
        if (st != WP_OK)
            return st;
        ptr = p;
        emit(&o, wp_val_i32(p));
    }
    for (uint32_t i = 0; i < nargs; i++) {
        wp_status st = lower_one(cx, f, i, &args[i], &o, ptr, &off, err);
        if (st != WP_OK)
            return st;
    }
    WP_ASSERT(o.n <= FLAT_MAX);
    *nflat = o.n;
    return WP_OK;
}

/* ---- Lifting ----------------------------------------------------------------------------- */

static wp_status trap(wp_err *err, const char *what) {
    return wp_err_set(err, WP_ERR_TRAP, "%s", what);
}

static wp_status make_string(wp_value *out, const char *s, size_t len, wp_err *err) {
    if (wp_value_string(out, s, len) != WP_OK)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    return WP_OK;
}

static wp_status lift_char(uint32_t cp, wp_value *out, wp_err *err) {
    if (cp >= 0x110000 || (cp >= 0xd800 && cp <= 0xdfff))
        return trap(err, "invalid char");
    char buf[4];
    return make_string(out, buf, utf8_encode(cp, buf), err);
}

/* Flags as a map of the set labels to true. */
static wp_status lift_flags(const wp_wit_type *t, uint32_t bits, wp_value *out, wp_err *err) {
    if (wp_value_map(out, 0) != WP_OK)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < t->nfields; i++) {
        wp_value yes = wp_value_bool(true);
        if ((bits & (1u << i)) && wp_value_map_set_str(out, t->fields[i].name, &yes) != WP_OK)
            return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    }
    return WP_OK;
}

/* A scalar from its bits (as stored in memory or carried in a flat value). */
static wp_status lift_scalar(wp_cabi *cx, const wp_wit_type *t, uint64_t bits, wp_value *out,
                             wp_err *err) {
    switch (t->kind) {
    case WP_WIT_BOOL:
        *out = wp_value_bool(bits != 0);
        return WP_OK;
    case WP_WIT_S8:
        *out = wp_value_int((int8_t)bits);
        return WP_OK;
    case WP_WIT_U8:
        *out = wp_value_int((uint8_t)bits);
        return WP_OK;
    case WP_WIT_S16:
        *out = wp_value_int((int16_t)bits);
        return WP_OK;
    case WP_WIT_U16:
        *out = wp_value_int((uint16_t)bits);
        return WP_OK;
    case WP_WIT_S32:
        *out = wp_value_int((int32_t)bits);
        return WP_OK;
    case WP_WIT_U32:
        *out = wp_value_int((uint32_t)bits);
        return WP_OK;
    case WP_WIT_F32: {
        float f;
        uint32_t u = (uint32_t)bits;
        memcpy(&f, &u, 4);
        *out = wp_value_float(f);
        return WP_OK;
    }
    case WP_WIT_F64: {
        double d;
        memcpy(&d, &bits, 8);
        *out = wp_value_float(d);
        return WP_OK;
    }
    case WP_WIT_CHAR:
        return lift_char((uint32_t)bits, out, err);
    case WP_WIT_FLAGS:
        return lift_flags(t, (uint32_t)bits, out, err);
    case WP_WIT_OWN:
    case WP_WIT_BORROW:
        return comp__lift_handle(cx, t, (uint32_t)bits, out, err);
    default: /* s64, u64 */
        *out = wp_value_int((int64_t)bits);
        return WP_OK;
    }
}

static wp_status load(wp_cabi *cx, uint64_t ptr, const wp_wit_type *t, wp_value *out, wp_err *err);

/* A UTF-16 (units of 2 bytes) or Latin-1 (units of 1) string from the guest, as UTF-8. */
static wp_status load_string16(wp_cabi *cx, uint32_t ptr, uint32_t units, bool latin1,
                               wp_value *out, wp_err *err) {
    uint32_t usize = latin1 ? 1 : 2;
    wp_status st = check_range(cx, ptr, (uint64_t)units * usize, usize, "string", err);
    if (st != WP_OK)
        return st;
    const uint8_t *p = wp_memory_data(cx->memory) + ptr;
    char *buf = wp_heap_alloc(wp_heap_default(), (size_t)units * 3 + 1);
    size_t n = 0;
    if (!buf)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < units && st == WP_OK; i++) {
        uint32_t c = latin1 ? p[i] : (uint32_t)get_le(p + 2 * i, 2);
        if (!latin1 && c >= 0xd800 && c < 0xdc00 && i + 1 < units) {
            uint32_t lo = (uint32_t)get_le(p + 2 * i + 2, 2);
            if (lo >= 0xdc00 && lo < 0xe000) {
                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                i++;
            }
        }
        if (c >= 0xd800 && c < 0xe000)
            st = trap(err, "string is not valid UTF-16");
        else
            n += utf8_encode(c, buf + n);
    }
    if (st == WP_OK)
        st = make_string(out, buf, n, err);
    wp_heap_free(wp_heap_default(), buf, (size_t)units * 3 + 1);
    return st;
}

static wp_status load_string(wp_cabi *cx, uint32_t ptr, uint32_t len, wp_value *out, wp_err *err) {
    if (cx->encoding == WP_CABI_UTF16)
        return len > WP_CABI_MAX_STRING_LEN / 2 ? trap(err, "string too long")
                                                : load_string16(cx, ptr, len, false, out, err);
    if (cx->encoding == WP_CABI_LATIN1_UTF16) {
        bool utf16 = len & UTF16_TAG;
        len &= ~UTF16_TAG;
        return len > WP_CABI_MAX_STRING_LEN / 2 ? trap(err, "string too long")
                                                : load_string16(cx, ptr, len, !utf16, out, err);
    }
    if (len > WP_CABI_MAX_STRING_LEN)
        return trap(err, "string too long");
    wp_status st = check_range(cx, ptr, len, 1, "string", err);
    if (st != WP_OK)
        return st;
    const uint8_t *s = wp_memory_data(cx->memory) + ptr;
    if (!wp_utf8_valid(s, len))
        return trap(err, "string is not valid UTF-8");
    return make_string(out, (const char *)s, len, err);
}

static wp_status load_list(wp_cabi *cx, const wp_wit_type *t, uint32_t ptr, uint32_t len,
                           wp_value *out, wp_err *err) {
    const wit_node *e = wit__node(t->elem);
    if (len > WP_CABI_MAX_LIST_LEN)
        return wp_err_set(err, WP_ERR_INVALID, "list of %u elements is too long", len);
    wp_status st = check_range(cx, ptr, (uint64_t)len * e->size, e->align, "list", err);
    if (st != WP_OK)
        return st;
    if (e->t.kind == WP_WIT_U8) {
        if (wp_value_bytes(out, wp_memory_data(cx->memory) + ptr, len) != WP_OK)
            return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
        return WP_OK;
    }
    if (wp_value_array(out, len) != WP_OK)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < len; i++) {
        wp_value item = wp_value_nil();
        if ((st = load(cx, ptr + (uint64_t)i * e->size, &e->t, &item, err)) != WP_OK ||
            (st = wp_value_array_push(out, &item)) != WP_OK) {
            wp_value_free(&item);
            return st == WP_ERR_NOMEM ? wp_err_set(err, st, "out of memory") : st;
        }
    }
    return WP_OK;
}

/* True when values go to an embedder (Lua, the CLI), not to a host function: there a case
 * without payload carries true, since a table cannot hold a nil ({ok = nil} would be {}). */
static bool for_embedder(const wp_cabi *cx) {
    const handle_cx *hc = cx->handles;
    return !hc || !hc->host_reps;
}

/* Builds {label = payload} (results, variants) or the bare value (option, enum). */
static wp_status wrap_case(const wp_cabi *cx, const wp_wit_type *t, uint32_t index,
                           wp_value *payload, wp_value *out, wp_err *err) {
    if (t->kind != WP_WIT_OPTION && !wit__case_type(t, index) && for_embedder(cx))
        *payload = wp_value_bool(true);
    if (t->kind == WP_WIT_OPTION) {
        *out = *payload;
        *payload = wp_value_nil();
        return WP_OK;
    }
    const char *label = t->kind == WP_WIT_RESULT ? (index ? "err" : "ok") : t->fields[index].name;
    if (t->kind == WP_WIT_ENUM)
        return make_string(out, label, strlen(label), err);
    if (wp_value_map(out, 1) != WP_OK || wp_value_map_set_str(out, label, payload) != WP_OK)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    return WP_OK;
}

static wp_status load_variant(wp_cabi *cx, uint64_t ptr, const wp_wit_type *t, wp_value *out,
                              wp_err *err) {
    uint32_t disc = wit__disc_size(wit__case_count(t));
    uint8_t buf[4];
    wp_status st = mem_read(cx, ptr, buf, disc, err);
    if (st != WP_OK)
        return st;
    uint32_t index = (uint32_t)get_le(buf, disc);
    if (index >= wit__case_count(t))
        return trap(err, "invalid variant discriminant");
    uint32_t max_align = 1;
    for (uint32_t i = 0; i < wit__case_count(t); i++)
        if (wit__case_type(t, i) && wit__node(wit__case_type(t, i))->align > max_align)
            max_align = wit__node(wit__case_type(t, i))->align;
    wp_value payload = wp_value_nil();
    if (wit__case_type(t, index) &&
        (st = load(cx, ptr + align_up(disc, max_align), wit__case_type(t, index), &payload, err)))
        return st;
    st = wrap_case(cx, t, index, &payload, out, err);
    wp_value_free(&payload);
    return st;
}

static wp_status load_fields(wp_cabi *cx, uint64_t ptr, const wp_wit_type *t, wp_value *out,
                             wp_err *err) {
    bool record = t->kind == WP_WIT_RECORD;
    if ((record ? wp_value_map(out, t->nfields) : wp_value_array(out, t->nfields)) != WP_OK)
        return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
    uint64_t off = 0;
    for (uint32_t i = 0; i < t->nfields; i++) {
        const wit_node *f = wit__node(t->fields[i].type);
        off = align_up(off, f->align);
        wp_value v = wp_value_nil();
        wp_status st = load(cx, ptr + off, &f->t, &v, err);
        if (st == WP_OK)
            st = record ? wp_value_map_set_str(out, t->fields[i].name, &v)
                        : wp_value_array_push(out, &v);
        wp_value_free(&v);
        if (st != WP_OK)
            return st == WP_ERR_NOMEM ? wp_err_set(err, st, "out of memory") : st;
        off += f->size;
    }
    return WP_OK;
}

static wp_status load(wp_cabi *cx, uint64_t ptr, const wp_wit_type *t, wp_value *out, wp_err *err) {
    const wit_node *n = wit__node(t);
    *out = wp_value_nil();
    wp_status st = check_range(cx, ptr, n->size, n->align, wp_wit_kind_name(t->kind), err);
    uint8_t buf[8];
    if (st != WP_OK)
        return st;
    switch (t->kind) {
    case WP_WIT_STRING:
    case WP_WIT_LIST:
        if ((st = mem_read(cx, ptr, buf, 8, err)) != WP_OK)
            return st;
        if (t->kind == WP_WIT_STRING)
            return load_string(cx, (uint32_t)get_le(buf, 4), (uint32_t)get_le(buf + 4, 4), out,
                               err);
        return load_list(cx, t, (uint32_t)get_le(buf, 4), (uint32_t)get_le(buf + 4, 4), out, err);
    case WP_WIT_TUPLE:
    case WP_WIT_RECORD:
        return load_fields(cx, ptr, t, out, err);
    case WP_WIT_OPTION:
    case WP_WIT_RESULT:
    case WP_WIT_VARIANT:
    case WP_WIT_ENUM:
        return load_variant(cx, ptr, t, out, err);
    default:
        if ((st = mem_read(cx, ptr, buf, n->size, err)) != WP_OK)
            return st;
        return lift_scalar(cx, t, get_le(buf, n->size), out, err);
    }
}

/* Flat lifting reads values in order; variants reinterpret their joined slots. */
typedef struct flat_in {
    const wp_val *vals;
    uint32_t n;
    uint32_t i;
} flat_in;

static wp_val take(flat_in *in) { return in->i < in->n ? in->vals[in->i++] : wp_val_i32(0); }

static wp_status lift_flat(wp_cabi *cx, flat_in *in, const wp_wit_type *t, wp_value *out,
                           wp_err *err);

static wp_val coerce_from(wp_val have, wp_valtype want) {
    if (have.type == want)
        return have;
    uint32_t low = have.type == WP_I64 ? (uint32_t)have.of.i64 : have.of.i32;
    switch (want) {
    case WP_F32:
        return wp_val_f32(low);
    case WP_F64:
        return wp_val_f64(have.of.i64);
    default:
        return wp_val_i32(low);
    }
}

static wp_status lift_flat_variant(wp_cabi *cx, flat_in *in, const wp_wit_type *t, wp_value *out,
                                   wp_err *err) {
    uint32_t index = take(in).of.i32;
    wp_valtype joined[FLAT_MAX];
    uint32_t njoined = 0;
    wit__variant_flat(t, joined, FLAT_MAX, &njoined);
    wp_val slots[FLAT_MAX];
    for (uint32_t i = 0; i < njoined && i < FLAT_MAX; i++)
        slots[i] = take(in);
    if (index >= wit__case_count(t))
        return trap(err, "invalid variant discriminant");
    const wp_wit_type *ct = wit__case_type(t, index);
    wp_value payload = wp_value_nil();
    if (ct) {
        wp_valtype want[FLAT_MAX];
        uint32_t nwant = 0;
        wit__flatten(ct, want, FLAT_MAX, &nwant);
        wp_val own[FLAT_MAX];
        for (uint32_t i = 0; i < nwant && i < FLAT_MAX; i++)
            own[i] = coerce_from(slots[i], want[i]);
        flat_in sub = {own, nwant, 0};
        wp_status st = lift_flat(cx, &sub, ct, &payload, err);
        if (st != WP_OK)
            return st;
    }
    wp_status st = wrap_case(cx, t, index, &payload, out, err);
    wp_value_free(&payload);
    return st;
}

static wp_status lift_flat(wp_cabi *cx, flat_in *in, const wp_wit_type *t, wp_value *out,
                           wp_err *err) {
    *out = wp_value_nil();
    switch (t->kind) {
    case WP_WIT_STRING:
    case WP_WIT_LIST: {
        uint32_t ptr = take(in).of.i32;
        uint32_t len = take(in).of.i32;
        return t->kind == WP_WIT_STRING ? load_string(cx, ptr, len, out, err)
                                        : load_list(cx, t, ptr, len, out, err);
    }
    case WP_WIT_TUPLE:
    case WP_WIT_RECORD: {
        bool record = t->kind == WP_WIT_RECORD;
        if ((record ? wp_value_map(out, t->nfields) : wp_value_array(out, t->nfields)) != WP_OK)
            return wp_err_set(err, WP_ERR_NOMEM, "out of memory");
        for (uint32_t i = 0; i < t->nfields; i++) {
            wp_value v = wp_value_nil();
            wp_status st = lift_flat(cx, in, t->fields[i].type, &v, err);
            if (st == WP_OK)
                st = record ? wp_value_map_set_str(out, t->fields[i].name, &v)
                            : wp_value_array_push(out, &v);
            wp_value_free(&v);
            if (st != WP_OK)
                return st;
        }
        return WP_OK;
    }
    case WP_WIT_OPTION:
    case WP_WIT_RESULT:
    case WP_WIT_VARIANT:
    case WP_WIT_ENUM:
        return lift_flat_variant(cx, in, t, out, err);
    default: {
        wp_val v = take(in);
        return lift_scalar(cx, t, v.type == WP_I64 || v.type == WP_F64 ? v.of.i64 : v.of.i32, out,
                           err);
    }
    }
}

wp_status wp_cabi_lift_results(wp_cabi *cx, const wp_wit_func *f, const wp_val *flat,
                               uint32_t nflat, wp_value *out, wp_err *err) {
    *out = wp_value_nil();
    if (!f->result)
        return WP_OK;
    wp_status st;
    if (wit__node(f->result)->nflat > WP_CABI_MAX_FLAT_RESULTS) {
        if (nflat != 1 || flat[0].type != WP_I32)
            return wp_err_set(err, WP_ERR_INVALID, "expected one i32 result pointer");
        st = load(cx, flat[0].of.i32, f->result, out, err);
    } else {
        flat_in in = {flat, nflat, 0};
        st = lift_flat(cx, &in, f->result, out, err);
    }
    if (st != WP_OK) {
        wp_value_free(out);
        wp_err_wrap(err, "result of %s", f->name);
    }
    return st;
}

wp_status wp_cabi_post_return(wp_cabi *cx, const char *export_name, const wp_val *flat,
                              uint32_t nflat, wp_err *err) {
    char name[256];
    int n = snprintf(name, sizeof name, "cabi_post_%s", export_name);
    wp_extern ext;
    if (n < 0 || (size_t)n >= sizeof name || !wp_instance_export(cx->inst, name, (size_t)n, &ext) ||
        ext.kind != WP_EXTERN_FUNC)
        return WP_OK;
    wp_functype ft = wp_func_type(ext.of.func);
    if (ft.nparams != nflat || ft.nresults != 0)
        return wp_err_set(err, WP_ERR_INVALID, "%s does not take the results of %s", name,
                          export_name);
    if (wp_call(cx->exec, ext.of.func, flat, nflat, NULL, 0, NULL, err) != WP_OK)
        return wp_err_wrap(err, "%s", name);
    return WP_OK;
}

/* ---- The other direction: a host import's parameters and result ------------------------- */

void cabi__lower_core_type(const wp_wit_func *f, wp_valtype *params, uint32_t *nparams,
                           wp_valtype *results, uint32_t *nresults) {
    core_params(f, params, nparams);
    *nresults = 0;
    if (f->result && wit__node(f->result)->nflat > WP_CABI_MAX_FLAT_RESULTS)
        params[(*nparams)++] = WP_I32; /* the caller's return pointer */
    else if (f->result)
        wit__flatten(f->result, results, WP_CABI_MAX_FLAT_RESULTS, nresults);
}

wp_status cabi__lift_params(wp_cabi *cx, const wp_wit_func *f, const wp_val *flat, uint32_t nflat,
                            wp_value *out, wp_err *err) {
    wp_status st = WP_OK;
    if (params_flat(f) > WP_CABI_MAX_FLAT_PARAMS) {
        uint32_t align = 1;
        uint64_t size = 0;
        params_layout(f, &align, &size);
        uint64_t ptr = nflat ? flat[0].of.i32 : 0;
        uint64_t off = 0;
        if ((st = check_range(cx, ptr, size, align, "parameters", err)) != WP_OK)
            return st;
        for (uint32_t i = 0; i < f->nparams && st == WP_OK; i++) {
            const wit_node *pn = wit__node(f->params[i].type);
            off = align_up(off, pn->align);
            if ((st = load(cx, ptr + off, &pn->t, &out[i], err)) != WP_OK)
                wp_err_wrap(err, "argument %u (%s)", i + 1, f->params[i].name);
            off += pn->size;
        }
        return st;
    }
    flat_in in = {flat, nflat, 0};
    for (uint32_t i = 0; i < f->nparams && st == WP_OK; i++)
        if ((st = lift_flat(cx, &in, f->params[i].type, &out[i], err)) != WP_OK)
            wp_err_wrap(err, "argument %u (%s)", i + 1, f->params[i].name);
    return st;
}

wp_status cabi__lower_result(wp_cabi *cx, const wp_wit_func *f, const wp_value *v,
                             const wp_val *args, uint32_t nargs, wp_val *results, wp_err *err) {
    if (!f->result)
        return WP_OK;
    wp_status st;
    if (wit__node(f->result)->nflat > WP_CABI_MAX_FLAT_RESULTS) {
        const wit_node *rn = wit__node(f->result);
        uint64_t ptr = nargs ? args[nargs - 1].of.i32 : 0;
        st = check_range(cx, ptr, rn->size, rn->align, "return pointer", err);
        if (st == WP_OK)
            st = store(cx, v, f->result, ptr, err);
    } else {
        wp_val flat[FLAT_MAX];
        flat_out o = {flat, 0};
        st = lower_flat(cx, v, f->result, &o, err);
        if (st == WP_OK)
            results[0] = flat[0];
    }
    if (st != WP_OK)
        wp_err_wrap(err, "result");
    return st;
}
