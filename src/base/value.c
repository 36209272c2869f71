/* value.c: the dynamic value type: construction, deep copy, equality, containers, printing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "wippy/value.h"

/* Every block starts with its allocated size, so freeing needs nothing else. The kind of
 * block is the kind of the value that points to it. */
struct wp_vblock {
    size_t alloc;
};

typedef struct vstr { /* WP_VSTRING, WP_VBYTES */
    wp_vblock hdr;
    size_t len;
    char data[]; /* len bytes and a NUL */
} vstr;

typedef struct varr { /* WP_VARRAY */
    wp_vblock hdr;
    size_t len;
    size_t cap;
    wp_value *items;
} varr;

typedef struct vmap { /* WP_VMAP: pairs[2*i] is a key, pairs[2*i+1] its value */
    wp_vblock hdr;
    size_t len;
    size_t cap;
    wp_value *pairs;
} vmap;

typedef struct verr { /* WP_VERROR */
    wp_vblock hdr;
    wp_status kind;
    wp_value cause; /* nil or an error */
    char msg[];     /* NUL-terminated */
} verr;

static wp_heap *heap(void) { return wp_heap_default(); }

static void *block_new(size_t size) {
    wp_vblock *b = wp_heap_zalloc(heap(), size);
    if (b)
        b->alloc = size;
    return b;
}

static void block_free(wp_vblock *b) {
    if (b)
        wp_heap_free(heap(), b, b->alloc);
}

static vstr *as_str(const wp_value *v) { return (vstr *)v->of.block; }
static varr *as_arr(const wp_value *v) { return (varr *)v->of.block; }
static vmap *as_map(const wp_value *v) { return (vmap *)v->of.block; }
static verr *as_err(const wp_value *v) { return (verr *)v->of.block; }

/* ---- Construction ------------------------------------------------------------------------ */

static wp_status str_new(wp_value *out, wp_vkind kind, const void *data, size_t len) {
    if (len > SIZE_MAX - sizeof(vstr) - 1)
        return WP_ERR_NOMEM;
    vstr *s = block_new(sizeof(vstr) + len + 1);
    if (!s)
        return WP_ERR_NOMEM;
    s->len = len;
    if (len)
        memcpy(s->data, data, len);
    s->data[len] = '\0';
    *out = (wp_value){.kind = kind, .of.block = &s->hdr};
    return WP_OK;
}

wp_status wp_value_string(wp_value *out, const char *s, size_t len) {
    return str_new(out, WP_VSTRING, s, len);
}

wp_status wp_value_cstring(wp_value *out, const char *s) {
    return str_new(out, WP_VSTRING, s, strlen(s));
}

wp_status wp_value_bytes(wp_value *out, const void *data, size_t len) {
    return str_new(out, WP_VBYTES, data, len);
}

wp_status wp_value_array(wp_value *out, size_t cap) {
    varr *a = block_new(sizeof(varr));
    if (!a)
        return WP_ERR_NOMEM;
    if (cap && !(a->items = wp_heap_calloc(heap(), cap, sizeof(wp_value)))) {
        block_free(&a->hdr);
        return WP_ERR_NOMEM;
    }
    a->cap = a->items ? cap : 0;
    *out = (wp_value){.kind = WP_VARRAY, .of.block = &a->hdr};
    return WP_OK;
}

wp_status wp_value_map(wp_value *out, size_t cap) {
    vmap *m = block_new(sizeof(vmap));
    if (!m)
        return WP_ERR_NOMEM;
    if (cap &&
        (cap > SIZE_MAX / 2 || !(m->pairs = wp_heap_calloc(heap(), cap * 2, sizeof(wp_value))))) {
        block_free(&m->hdr);
        return WP_ERR_NOMEM;
    }
    m->cap = m->pairs ? cap : 0;
    *out = (wp_value){.kind = WP_VMAP, .of.block = &m->hdr};
    return WP_OK;
}

wp_status wp_value_error(wp_value *out, wp_status kind, const char *msg, wp_value *cause) {
    size_t len = strlen(msg);
    verr *e = block_new(sizeof(verr) + len + 1);
    if (!e)
        return WP_ERR_NOMEM;
    e->kind = kind == WP_OK ? WP_ERR_INTERNAL : kind;
    memcpy(e->msg, msg, len + 1);
    if (cause) {
        e->cause = *cause;
        *cause = wp_value_nil();
    }
    *out = (wp_value){.kind = WP_VERROR, .of.block = &e->hdr};
    return WP_OK;
}

wp_status wp_value_from_err(wp_value *out, const wp_err *err) {
    return wp_value_error(out, err->kind, err->msg, NULL);
}

void wp_value_free(wp_value *v) {
    if (!v)
        return;
    switch (v->kind) {
    case WP_VARRAY: {
        varr *a = as_arr(v);
        for (size_t i = 0; i < a->len; i++)
            wp_value_free(&a->items[i]);
        wp_heap_free(heap(), a->items, a->cap * sizeof(wp_value));
        break;
    }
    case WP_VMAP: {
        vmap *m = as_map(v);
        for (size_t i = 0; i < 2 * m->len; i++)
            wp_value_free(&m->pairs[i]);
        wp_heap_free(heap(), m->pairs, 2 * m->cap * sizeof(wp_value));
        break;
    }
    case WP_VERROR:
        wp_value_free(&as_err(v)->cause);
        break;
    default:
        break;
    }
    if (v->kind >= WP_VSTRING)
        block_free(v->of.block);
    *v = wp_value_nil();
}

/* ---- Copy and equality ------------------------------------------------------------------- */

static wp_status copy_array(wp_value *dst, const wp_value *src) {
    const varr *a = as_arr(src);
    wp_status st = wp_value_array(dst, a->len);
    for (size_t i = 0; st == WP_OK && i < a->len; i++) {
        wp_value item;
        st = wp_value_copy(&item, &a->items[i]);
        if (st == WP_OK && (st = wp_value_array_push(dst, &item)) != WP_OK)
            wp_value_free(&item);
    }
    return st;
}

static wp_status copy_map(wp_value *dst, const wp_value *src) {
    const vmap *m = as_map(src);
    wp_status st = wp_value_map(dst, m->len);
    for (size_t i = 0; st == WP_OK && i < m->len; i++) {
        wp_value k = wp_value_nil();
        wp_value v = wp_value_nil();
        st = wp_value_copy(&k, &m->pairs[2 * i]);
        if (st == WP_OK)
            st = wp_value_copy(&v, &m->pairs[2 * i + 1]);
        if (st == WP_OK)
            st = wp_value_map_set(dst, &k, &v);
        wp_value_free(&k);
        wp_value_free(&v);
    }
    return st;
}

static wp_status copy_error(wp_value *dst, const wp_value *src) {
    const verr *e = as_err(src);
    wp_value cause = wp_value_nil();
    wp_status st = wp_value_copy(&cause, &e->cause);
    if (st == WP_OK)
        st = wp_value_error(dst, e->kind, e->msg, &cause);
    wp_value_free(&cause);
    return st;
}

wp_status wp_value_copy(wp_value *dst, const wp_value *src) {
    *dst = wp_value_nil();
    wp_status st = WP_OK;
    switch (src->kind) {
    case WP_VSTRING:
    case WP_VBYTES:
        return str_new(dst, src->kind, as_str(src)->data, as_str(src)->len);
    case WP_VARRAY:
        st = copy_array(dst, src);
        break;
    case WP_VMAP:
        st = copy_map(dst, src);
        break;
    case WP_VERROR:
        st = copy_error(dst, src);
        break;
    default:
        *dst = *src;
        return WP_OK;
    }
    if (st != WP_OK)
        wp_value_free(dst); /* a half-built container */
    return st;
}

/* Keys are unique, so equal maps have, for each key of a, one equal key in b with an equal
 * value. */
static bool map_equal(const vmap *a, const vmap *b) {
    if (a->len != b->len)
        return false;
    for (size_t i = 0; i < a->len; i++) {
        size_t j = 0;
        while (j < b->len && !wp_value_equal(&a->pairs[2 * i], &b->pairs[2 * j]))
            j++;
        if (j == b->len || !wp_value_equal(&a->pairs[2 * i + 1], &b->pairs[2 * j + 1]))
            return false;
    }
    return true;
}

bool wp_value_equal(const wp_value *a, const wp_value *b) {
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case WP_VNIL:
        return true;
    case WP_VBOOL:
        return a->of.b == b->of.b;
    case WP_VINT:
        return a->of.i == b->of.i;
    case WP_VFLOAT:
        return a->of.f == b->of.f;
    case WP_VSTRING:
    case WP_VBYTES:
        return as_str(a)->len == as_str(b)->len &&
               memcmp(as_str(a)->data, as_str(b)->data, as_str(a)->len) == 0;
    case WP_VARRAY:
        if (as_arr(a)->len != as_arr(b)->len)
            return false;
        for (size_t i = 0; i < as_arr(a)->len; i++)
            if (!wp_value_equal(&as_arr(a)->items[i], &as_arr(b)->items[i]))
                return false;
        return true;
    case WP_VMAP:
        return map_equal(as_map(a), as_map(b));
    case WP_VERROR:
        return as_err(a)->kind == as_err(b)->kind && strcmp(as_err(a)->msg, as_err(b)->msg) == 0 &&
               wp_value_equal(&as_err(a)->cause, &as_err(b)->cause);
    }
    return false;
}

/* ---- Reading ----------------------------------------------------------------------------- */

const char *wp_value_str(const wp_value *v, size_t *len) {
    if (v->kind != WP_VSTRING && v->kind != WP_VBYTES) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = as_str(v)->len;
    return as_str(v)->data;
}

size_t wp_value_len(const wp_value *v) {
    if (v->kind == WP_VARRAY)
        return as_arr(v)->len;
    if (v->kind == WP_VMAP)
        return as_map(v)->len;
    return 0;
}

wp_value *wp_value_at(const wp_value *v, size_t i) {
    if (v->kind != WP_VARRAY || i >= as_arr(v)->len)
        return NULL;
    return &as_arr(v)->items[i];
}

bool wp_value_map_pair(const wp_value *v, size_t i, const wp_value **key, const wp_value **val) {
    if (v->kind != WP_VMAP || i >= as_map(v)->len)
        return false;
    *key = &as_map(v)->pairs[2 * i];
    *val = &as_map(v)->pairs[2 * i + 1];
    return true;
}

wp_value *wp_value_map_get(const wp_value *v, const char *key) {
    if (v->kind != WP_VMAP)
        return NULL;
    const vmap *m = as_map(v);
    size_t klen = strlen(key);
    for (size_t i = 0; i < m->len; i++) {
        const wp_value *k = &m->pairs[2 * i];
        if (k->kind == WP_VSTRING && as_str(k)->len == klen &&
            memcmp(as_str(k)->data, key, klen) == 0)
            return &m->pairs[2 * i + 1];
    }
    return NULL;
}

wp_status wp_value_error_kind(const wp_value *v) {
    return v->kind == WP_VERROR ? as_err(v)->kind : WP_OK;
}

const char *wp_value_error_msg(const wp_value *v) {
    return v->kind == WP_VERROR ? as_err(v)->msg : NULL;
}

const wp_value *wp_value_error_cause(const wp_value *v) {
    if (v->kind != WP_VERROR || as_err(v)->cause.kind == WP_VNIL)
        return NULL;
    return &as_err(v)->cause;
}

/* ---- Building ---------------------------------------------------------------------------- */

/* Grows *items (cap elements of elem values each) to hold at least need; doubles. */
static bool grow(wp_value **items, size_t *cap, size_t need, size_t per) {
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 4;
    if (ncap < need)
        ncap = need;
    if (ncap > SIZE_MAX / (per * sizeof(wp_value)))
        return false;
    wp_value *n = wp_heap_realloc(heap(), *items, *cap * per * sizeof(wp_value),
                                  ncap * per * sizeof(wp_value));
    if (!n)
        return false;
    *items = n;
    *cap = ncap;
    return true;
}

wp_status wp_value_array_push(wp_value *arr, wp_value *item) {
    WP_ASSERT(arr->kind == WP_VARRAY);
    varr *a = as_arr(arr);
    if (!grow(&a->items, &a->cap, a->len + 1, 1))
        return WP_ERR_NOMEM;
    a->items[a->len++] = *item;
    *item = wp_value_nil();
    return WP_OK;
}

static bool key_allowed(const wp_value *k) {
    switch (k->kind) {
    case WP_VBOOL:
    case WP_VINT:
    case WP_VSTRING:
    case WP_VBYTES:
        return true;
    case WP_VFLOAT:
        return !isnan(k->of.f);
    default:
        return false;
    }
}

wp_status wp_value_map_set(wp_value *map, wp_value *key, wp_value *val) {
    WP_ASSERT(map->kind == WP_VMAP);
    if (!key_allowed(key))
        return WP_ERR_INVALID;
    vmap *m = as_map(map);
    for (size_t i = 0; i < m->len; i++) {
        if (wp_value_equal(&m->pairs[2 * i], key)) {
            wp_value_free(&m->pairs[2 * i + 1]);
            m->pairs[2 * i + 1] = *val;
            *val = wp_value_nil();
            wp_value_free(key);
            return WP_OK;
        }
    }
    if (!grow(&m->pairs, &m->cap, m->len + 1, 2))
        return WP_ERR_NOMEM;
    m->pairs[2 * m->len] = *key;
    m->pairs[2 * m->len + 1] = *val;
    m->len++;
    *key = wp_value_nil();
    *val = wp_value_nil();
    return WP_OK;
}

wp_status wp_value_map_set_str(wp_value *map, const char *key, wp_value *val) {
    wp_value k;
    wp_status st = wp_value_cstring(&k, key);
    if (st != WP_OK)
        return st;
    st = wp_value_map_set(map, &k, val);
    wp_value_free(&k);
    return st;
}

/* ---- Printing ---------------------------------------------------------------------------- */

const char *wp_vkind_name(wp_vkind k) {
    static const char *const names[] = {"nil",   "bool",  "integer", "float", "string",
                                        "bytes", "array", "map",     "error"};
    return (size_t)k < WP_ARRAY_LEN(names) ? names[k] : "?";
}

static void print_float(FILE *out, double d) {
    if (isnan(d)) {
        fputs("nan", out);
        return;
    }
    if (isinf(d)) {
        fputs(d < 0 ? "-inf" : "inf", out);
        return;
    }
    char buf[64];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    fputs(buf, out);
    if (!strpbrk(buf, ".e"))
        fputs(".0", out); /* keeps 1.0 apart from the integer 1 */
}

static void print_quoted(FILE *out, const vstr *s, bool bytes) {
    fputs(bytes ? "b\"" : "\"", out);
    for (size_t i = 0; i < s->len; i++) {
        unsigned char c = (unsigned char)s->data[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20 || c == 0x7f || (bytes && c >= 0x80))
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

void wp_value_print_chain(FILE *out, const wp_value *err) {
    for (const wp_value *e = err; e; e = wp_value_error_cause(e))
        fprintf(out, "%s%s", e == err ? "" : ": ", wp_value_error_msg(e));
}

static void print_container(FILE *out, const wp_value *v) {
    bool map = v->kind == WP_VMAP;
    fputc(map ? '{' : '[', out);
    for (size_t i = 0; i < wp_value_len(v); i++) {
        if (i)
            fputs(", ", out);
        if (map) {
            wp_value_print(out, &as_map(v)->pairs[2 * i]);
            fputs(": ", out);
            wp_value_print(out, &as_map(v)->pairs[2 * i + 1]);
        } else {
            wp_value_print(out, &as_arr(v)->items[i]);
        }
    }
    fputc(map ? '}' : ']', out);
}

void wp_value_print(FILE *out, const wp_value *v) {
    switch (v->kind) {
    case WP_VNIL:
        fputs("nil", out);
        return;
    case WP_VBOOL:
        fputs(v->of.b ? "true" : "false", out);
        return;
    case WP_VINT:
        fprintf(out, "%lld", (long long)v->of.i);
        return;
    case WP_VFLOAT:
        print_float(out, v->of.f);
        return;
    case WP_VSTRING:
    case WP_VBYTES:
        print_quoted(out, as_str(v), v->kind == WP_VBYTES);
        return;
    case WP_VARRAY:
    case WP_VMAP:
        print_container(out, v);
        return;
    case WP_VERROR:
        fprintf(out, "error(%s: ", wp_status_name(as_err(v)->kind));
        wp_value_print_chain(out, v);
        fputc(')', out);
        return;
    }
}
