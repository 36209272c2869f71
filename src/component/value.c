/* value.c: component value definitions: val(t) in the binary to a wp_value, checked as read. */
#include <string.h>

#include "../wasm/reader.h"
#include "internal.h"

typedef struct vread {
    wp_reader *rd;
    uint32_t *nodes;
    const char *why;
} vread;

static wp_status read_val(vread *r, const wp_wit_type *t, uint32_t depth, wp_value *out);

static wp_status invalid(vread *r, const char *why) {
    r->why = why;
    return WP_ERR_INVALID;
}

static wp_status truncated(vread *r) { return invalid(r, r->rd->why); }

/* Counts one value made: a component's definitions make at most COMP_MAX_VALUE_NODES, so a
 * small binary cannot ask for a huge tree (a record of records of ... costs no bytes). */
static wp_status node(vread *r) {
    if (++*r->nodes > COMP_MAX_VALUE_NODES)
        return invalid(r, "value definitions too large");
    return WP_OK;
}

/* The status of building a value: anything but WP_OK is out of memory. */
static wp_status made(vread *r, wp_status st) {
    if (st == WP_OK)
        return WP_OK;
    r->why = "out of memory";
    return WP_ERR_NOMEM;
}

/* bool, u8 and s8 are one byte; the other integers are LEB128 of their width. */
static wp_status read_int(vread *r, wp_wit_kind k, wp_value *out) {
    static const unsigned bits[] = {[WP_WIT_S16] = 16, [WP_WIT_U16] = 16, [WP_WIT_S32] = 32,
                                    [WP_WIT_U32] = 32, [WP_WIT_S64] = 64, [WP_WIT_U64] = 64};
    uint8_t b = 0;
    if (k == WP_WIT_BOOL || k == WP_WIT_U8 || k == WP_WIT_S8) {
        if (!rd_u8(r->rd, &b))
            return truncated(r);
        if (k == WP_WIT_BOOL && b > 1)
            return invalid(r, "malformed bool value");
        *out = k == WP_WIT_BOOL ? wp_value_bool(b) : wp_value_int(k == WP_WIT_S8 ? (int8_t)b : b);
        return WP_OK;
    }
    bool is_signed = k == WP_WIT_S16 || k == WP_WIT_S32 || k == WP_WIT_S64;
    int64_t sv = 0;
    uint64_t uv = 0;
    if (is_signed ? !rd_sleb(r->rd, bits[k], &sv) : !rd_uleb(r->rd, bits[k], &uv))
        return truncated(r);
    *out = wp_value_int(is_signed ? sv : (int64_t)uv); /* u64 keeps its bit pattern */
    return WP_OK;
}

/* f32 and f64: little-endian IEEE 754; the only NaN allowed is the canonical one. */
static wp_status read_float(vread *r, bool f64, wp_value *out) {
    const uint8_t *p;
    uint64_t bits = 0;
    uint32_t n = f64 ? 8 : 4;
    if (!rd_bytes(r->rd, n, &p))
        return truncated(r);
    for (uint32_t i = 0; i < n; i++)
        bits |= (uint64_t)p[i] << (8 * i);
    if (f64) {
        double d;
        memcpy(&d, &bits, 8);
        if (d != d && bits != 0x7ff8000000000000ull)
            return invalid(r, "a float value NaN must be the canonical one");
        *out = wp_value_float(d);
    } else {
        float f;
        uint32_t u = (uint32_t)bits;
        memcpy(&f, &u, 4);
        if (f != f && u != 0x7fc00000u)
            return invalid(r, "a float value NaN must be the canonical one");
        *out = wp_value_float(f);
    }
    return WP_OK;
}

/* char: the UTF-8 bytes of one scalar value (no length: the first byte says how many). */
static wp_status read_char(vread *r, wp_value *out) {
    uint32_t cp = 0;
    size_t n = wp_utf8_decode(r->rd->p, rd_remaining(r->rd), &cp);
    const uint8_t *p;
    if (n == 0 || !rd_bytes(r->rd, n, &p))
        return invalid(r, "malformed char value");
    return made(r, wp_value_string(out, (const char *)p, n));
}

/* string: a core:name (a length, then that many bytes of UTF-8). */
static wp_status read_string(vread *r, wp_value *out) {
    uint64_t len = 0;
    const uint8_t *p;
    if (!rd_uleb(r->rd, 32, &len) || !rd_bytes(r->rd, (size_t)len, &p))
        return truncated(r);
    if (!wp_utf8_valid(p, (size_t)len))
        return invalid(r, "malformed UTF-8 in a string value");
    return made(r, wp_value_string(out, (const char *)p, (size_t)len));
}

/* list: a count and the elements; each takes at least one byte. list<u8> is bytes. */
static wp_status read_list(vread *r, const wp_wit_type *t, uint32_t depth, wp_value *out) {
    uint64_t n = 0;
    if (!rd_uleb(r->rd, 32, &n))
        return truncated(r);
    if (n > rd_remaining(r->rd) || n > WP_CABI_MAX_LIST_LEN)
        return invalid(r, "list value longer than its bytes");
    if (t->elem->kind == WP_WIT_U8) {
        const uint8_t *p;
        rd_bytes(r->rd, (size_t)n, &p);
        return made(r, wp_value_bytes(out, p, (size_t)n));
    }
    if (wp_value_array(out, (size_t)n) != WP_OK)
        return made(r, WP_ERR_NOMEM);
    for (uint64_t i = 0; i < n; i++) {
        wp_value e = wp_value_nil();
        wp_status st = read_val(r, t->elem, depth + 1, &e);
        if (st == WP_OK)
            st = made(r, wp_value_array_push(out, &e));
        wp_value_free(&e);
        if (st != WP_OK)
            return st;
    }
    return WP_OK;
}

/* record and tuple: their fields in order (a record as a map by field name). */
static wp_status read_fields(vread *r, const wp_wit_type *t, uint32_t depth, wp_value *out) {
    bool record = t->kind == WP_WIT_RECORD;
    if ((record ? wp_value_map(out, t->nfields) : wp_value_array(out, t->nfields)) != WP_OK)
        return made(r, WP_ERR_NOMEM);
    for (uint32_t i = 0; i < t->nfields; i++) {
        wp_value v = wp_value_nil();
        wp_status st = read_val(r, t->fields[i].type, depth + 1, &v);
        if (st == WP_OK)
            st = made(r, record ? wp_value_map_set_str(out, t->fields[i].name, &v)
                                : wp_value_array_push(out, &v));
        wp_value_free(&v);
        if (st != WP_OK)
            return st;
    }
    return WP_OK;
}

/* {label = payload}, with true for a case without payload type (as lifting gives an
 * embedder); a payload of nil ((ok none) of result<option<T>>) stays nil. */
static wp_status labelled(vread *r, const char *label, bool typed, wp_value *payload,
                          wp_value *out) {
    if (!typed)
        *payload = wp_value_bool(true);
    if (wp_value_map(out, 1) != WP_OK)
        return made(r, WP_ERR_NOMEM);
    return made(r, wp_value_map_set_str(out, label, payload));
}

/* variant and enum: a u32 case index (then the case's payload); option and result: a byte
 * 0 or 1 (then the payload of that case, if it has one). */
static wp_status read_case(vread *r, const wp_wit_type *t, uint32_t depth, wp_value *out) {
    uint64_t index = 0;
    uint8_t b = 0;
    bool by_byte = t->kind == WP_WIT_OPTION || t->kind == WP_WIT_RESULT;
    if (by_byte ? !rd_u8(r->rd, &b) : !rd_uleb(r->rd, 32, &index))
        return truncated(r);
    index = by_byte ? b : index;
    if (index >= wit__case_count(t))
        return invalid(r, by_byte ? "malformed option or result value" : "unknown case index");
    if (t->kind == WP_WIT_ENUM) {
        const char *label = t->fields[index].name;
        return made(r, wp_value_string(out, label, strlen(label)));
    }
    const wp_wit_type *pt = wit__case_type(t, (uint32_t)index);
    wp_value payload = wp_value_nil();
    wp_status st = pt ? read_val(r, pt, depth + 1, &payload) : WP_OK;
    if (st == WP_OK && t->kind == WP_WIT_OPTION) {
        *out = payload; /* none is nil, some(v) is v */
        return WP_OK;
    }
    if (st == WP_OK)
        st = labelled(r,
                      t->kind == WP_WIT_RESULT ? (index ? "err" : "ok") : t->fields[index].name,
                      pt != NULL, &payload, out);
    wp_value_free(&payload);
    return st;
}

/* flags: ceil(n / 8) bytes, label i is bit i % 8 of byte i / 8; bits past the labels must be
 * clear (else two encodings would mean one value). A map of the set labels to true. */
static wp_status read_flags(vread *r, const wp_wit_type *t, wp_value *out) {
    const uint8_t *p;
    uint32_t n = (t->nfields + 7) / 8;
    if (!rd_bytes(r->rd, n, &p))
        return truncated(r);
    if ((t->nfields % 8) && (p[n - 1] >> (t->nfields % 8)))
        return invalid(r, "a flags value sets a bit past its labels");
    if (wp_value_map(out, 0) != WP_OK)
        return made(r, WP_ERR_NOMEM);
    for (uint32_t i = 0; i < t->nfields; i++) {
        wp_value yes = wp_value_bool(true);
        if (((p[i / 8] >> (i % 8)) & 1) &&
            wp_value_map_set_str(out, t->fields[i].name, &yes) != WP_OK)
            return made(r, WP_ERR_NOMEM);
    }
    return WP_OK;
}

static wp_status read_val(vread *r, const wp_wit_type *t, uint32_t depth, wp_value *out) {
    *out = wp_value_nil();
    if (depth > WIT_MAX_DEPTH)
        return invalid(r, "value nested too deeply");
    wp_status st = node(r);
    if (st != WP_OK)
        return st;
    switch (t->kind) {
    case WP_WIT_F32:
    case WP_WIT_F64: st = read_float(r, t->kind == WP_WIT_F64, out); break;
    case WP_WIT_CHAR: st = read_char(r, out); break;
    case WP_WIT_STRING: st = read_string(r, out); break;
    case WP_WIT_LIST: st = read_list(r, t, depth, out); break;
    case WP_WIT_RECORD:
    case WP_WIT_TUPLE: st = read_fields(r, t, depth, out); break;
    case WP_WIT_VARIANT:
    case WP_WIT_ENUM:
    case WP_WIT_OPTION:
    case WP_WIT_RESULT: st = read_case(r, t, depth, out); break;
    case WP_WIT_FLAGS: st = read_flags(r, t, out); break;
    case WP_WIT_OWN:
    case WP_WIT_BORROW: st = invalid(r, "own and borrow handles cannot be values"); break;
    default: st = read_int(r, t->kind, out); break;
    }
    if (st != WP_OK)
        wp_value_free(out);
    return st;
}

wp_status comp__read_value(wp_reader *rd, const wp_wit_type *t, uint32_t *nodes, wp_value *out,
                           const char **why) {
    vread r = {.rd = rd, .nodes = nodes};
    wp_status st = read_val(&r, t, 0, out);
    *why = r.why;
    return st;
}

/* ---- Checking a value an embedder gives ------------------------------------------------------ */

static wp_status mismatch(const wp_wit_type *t, const wp_value *v, wp_err *err) {
    char name[64];
    wit__type_name(t, name, sizeof name);
    return wp_err_set(err, WP_ERR_INVALID, "expected %s, got %s", name, wp_vkind_name(v->kind));
}

/* The index of the member labelled key (a string value), or -1. */
static int64_t label_of(const wp_wit_type *t, const wp_value *key) {
    const char *s = wp_value_str(key, NULL);
    for (uint32_t i = 0; s && key->kind == WP_VSTRING && i < wit__case_count(t); i++) {
        const char *label = t->kind == WP_WIT_RESULT ? (i ? "err" : "ok") : t->fields[i].name;
        if (strcmp(label, s) == 0)
            return i;
    }
    return -1;
}

static wp_status check_val(const wp_wit_type *t, const wp_value *v, uint32_t depth, wp_err *err);

/* list (bytes for list<u8>) and tuple: arrays, element by element. */
static wp_status check_elems(const wp_wit_type *t, const wp_value *v, uint32_t depth,
                             wp_err *err) {
    if (t->kind == WP_WIT_LIST && t->elem->kind == WP_WIT_U8)
        return v->kind == WP_VBYTES ? WP_OK : mismatch(t, v, err);
    if (v->kind != WP_VARRAY || (t->kind == WP_WIT_TUPLE && wp_value_len(v) != t->nfields))
        return mismatch(t, v, err);
    for (size_t i = 0; i < wp_value_len(v); i++) {
        const wp_wit_type *et = t->kind == WP_WIT_LIST ? t->elem : t->fields[i].type;
        if (check_val(et, wp_value_at(v, i), depth + 1, err) != WP_OK)
            return wp_err_wrap(err, "element %zu", i);
    }
    return WP_OK;
}

/* record: a map of exactly its fields. */
static wp_status check_record(const wp_wit_type *t, const wp_value *v, uint32_t depth,
                              wp_err *err) {
    if (v->kind != WP_VMAP || wp_value_len(v) != t->nfields)
        return mismatch(t, v, err);
    for (uint32_t i = 0; i < t->nfields; i++) {
        const wp_value *fv = wp_value_map_get(v, t->fields[i].name);
        if (!fv)
            return wp_err_set(err, WP_ERR_INVALID, "field '%s' is missing", t->fields[i].name);
        if (check_val(t->fields[i].type, fv, depth + 1, err) != WP_OK)
            return wp_err_wrap(err, "field '%s'", t->fields[i].name);
    }
    return WP_OK;
}

/* variant and result: {label = payload} (true or nil for a case without payload type). */
static wp_status check_case(const wp_wit_type *t, const wp_value *v, uint32_t depth,
                            wp_err *err) {
    const wp_value *key = NULL;
    const wp_value *payload = NULL;
    if (v->kind != WP_VMAP || wp_value_len(v) != 1 || !wp_value_map_pair(v, 0, &key, &payload) ||
        label_of(t, key) < 0)
        return mismatch(t, v, err);
    const wp_wit_type *pt = wit__case_type(t, (uint32_t)label_of(t, key));
    if (!pt)
        return payload->kind == WP_VNIL || (payload->kind == WP_VBOOL && payload->of.b)
                   ? WP_OK
                   : wp_err_set(err, WP_ERR_INVALID, "case '%s' has no payload",
                                wp_value_str(key, NULL));
    if (check_val(pt, payload, depth + 1, err) != WP_OK)
        return wp_err_wrap(err, "case '%s'", wp_value_str(key, NULL));
    return WP_OK;
}

/* flags: a map of set labels to true. */
static wp_status check_flags(const wp_wit_type *t, const wp_value *v, wp_err *err) {
    const wp_value *key = NULL;
    const wp_value *set = NULL;
    if (v->kind != WP_VMAP)
        return mismatch(t, v, err);
    for (size_t i = 0; wp_value_map_pair(v, i, &key, &set); i++)
        if (label_of(t, key) < 0 || set->kind != WP_VBOOL || !set->of.b)
            return mismatch(t, v, err);
    return WP_OK;
}

static wp_status check_val(const wp_wit_type *t, const wp_value *v, uint32_t depth, wp_err *err) {
    size_t len = 0;
    const char *s = wp_value_str(v, &len);
    uint32_t cp = 0;
    if (depth > WIT_MAX_DEPTH)
        return wp_err_set(err, WP_ERR_INVALID, "value nested too deeply");
    switch (t->kind) {
    case WP_WIT_BOOL: return v->kind == WP_VBOOL ? WP_OK : mismatch(t, v, err);
    case WP_WIT_F32:
    case WP_WIT_F64: return v->kind == WP_VFLOAT ? WP_OK : mismatch(t, v, err);
    case WP_WIT_CHAR:
        return v->kind == WP_VSTRING && len && wp_utf8_decode((const uint8_t *)s, len, &cp) == len
                   ? WP_OK
                   : mismatch(t, v, err);
    case WP_WIT_STRING:
        return v->kind == WP_VSTRING && wp_utf8_valid((const uint8_t *)s, len)
                   ? WP_OK
                   : mismatch(t, v, err);
    case WP_WIT_LIST:
    case WP_WIT_TUPLE: return check_elems(t, v, depth, err);
    case WP_WIT_RECORD: return check_record(t, v, depth, err);
    case WP_WIT_VARIANT:
    case WP_WIT_RESULT: return check_case(t, v, depth, err);
    case WP_WIT_ENUM: return label_of(t, v) >= 0 ? WP_OK : mismatch(t, v, err);
    case WP_WIT_OPTION:
        return v->kind == WP_VNIL ? WP_OK : check_val(t->elem, v, depth + 1, err);
    case WP_WIT_FLAGS: return check_flags(t, v, err);
    case WP_WIT_OWN:
    case WP_WIT_BORROW: return mismatch(t, v, err); /* no values (the decoder refuses them) */
    default: return v->kind == WP_VINT && wit__int_fits(t->kind, v->of.i) ? WP_OK : mismatch(t, v, err);
    }
}

wp_status comp__check_value(const wp_wit_type *t, const wp_value *v, wp_err *err) {
    return check_val(t, v, 0, err);
}
