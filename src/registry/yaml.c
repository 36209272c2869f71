/* yaml.c: definition files through libyaml's document loader; node helpers; YAML to values. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

bool reg__yaml_load(const char *text, size_t len, yaml_document_t *doc, uint32_t *err_line,
                    char *reason, size_t reason_cap) {
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(reason, reason_cap, "out of memory");
        *err_line = 0;
        return false;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    bool ok = yaml_parser_load(&parser, doc) != 0;
    if (!ok) {
        *err_line = (uint32_t)(parser.problem_mark.line + 1);
        snprintf(reason, reason_cap, "invalid YAML: %s%s%s",
                 parser.problem ? parser.problem : "syntax error", parser.context ? " " : "",
                 parser.context ? parser.context : "");
    }
    yaml_parser_delete(&parser);
    return ok;
}

uint32_t reg__yaml_line(const yaml_node_t *n) { return n ? (uint32_t)n->start_mark.line + 1 : 0; }

bool reg__yaml_is_map(const yaml_node_t *n) { return n && n->type == YAML_MAPPING_NODE; }

bool reg__yaml_is_seq(const yaml_node_t *n) { return n && n->type == YAML_SEQUENCE_NODE; }

const char *reg__yaml_scalar(const yaml_node_t *n) {
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

bool reg__yaml_is_null(const yaml_node_t *n) {
    const char *s = reg__yaml_scalar(n);
    if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
           strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

bool reg__yaml_pair(yaml_document_t *doc, const yaml_node_t *map, uint32_t i, yaml_node_t **key,
                    yaml_node_t **val) {
    if (!reg__yaml_is_map(map))
        return false;
    const yaml_node_pair_t *p = map->data.mapping.pairs.start + i;
    if (p >= map->data.mapping.pairs.top)
        return false;
    *key = yaml_document_get_node(doc, p->key);
    *val = yaml_document_get_node(doc, p->value);
    return *key && *val;
}

yaml_node_t *reg__yaml_get(yaml_document_t *doc, const yaml_node_t *map, const char *key) {
    yaml_node_t *k;
    yaml_node_t *v;
    for (uint32_t i = 0; reg__yaml_pair(doc, map, i, &k, &v); i++) {
        const char *s = reg__yaml_scalar(k);
        if (s && strcmp(s, key) == 0)
            return v;
    }
    return NULL;
}

uint32_t reg__yaml_len(const yaml_node_t *seq) {
    if (!reg__yaml_is_seq(seq))
        return 0;
    return (uint32_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

yaml_node_t *reg__yaml_at(yaml_document_t *doc, const yaml_node_t *seq, uint32_t i) {
    if (i >= reg__yaml_len(seq))
        return NULL;
    return yaml_document_get_node(doc, seq->data.sequence.items.start[i]);
}

/* ---- Scalars by the core schema ---------------------------------------------------------- */

static bool scalar_bool(const char *s, bool *out) {
    static const char *const yes[] = {"true", "True", "TRUE"};
    static const char *const no[] = {"false", "False", "FALSE"};
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(s, yes[i]) == 0 || strcmp(s, no[i]) == 0) {
            *out = strcmp(s, yes[i]) == 0;
            return true;
        }
    }
    return false;
}

static bool scalar_int(const char *s, int64_t *out) {
    const char *p = s;
    int base = 10;
    if ((p[0] == '-' || p[0] == '+') && p[1] >= '0' && p[1] <= '9')
        p++;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o')) {
        if (p != s)
            return false; /* the core schema has no signed hex or octal */
        base = p[1] == 'x' ? 16 : 8;
        p += 2;
    }
    if (!*p)
        return false;
    for (const char *q = p; *q; q++) {
        bool digit = base == 16 ? strchr("0123456789abcdefABCDEF", *q) != NULL
                                : *q >= '0' && *q <= (base == 8 ? '7' : '9');
        if (!digit)
            return false;
    }
    errno = 0;
    char *end;
    long long v = strtoll(base == 10 ? s : p, &end, base);
    if (errno)
        return false; /* too large: kept as text */
    *out = v;
    return true;
}

static bool scalar_float(const char *s, double *out) {
    static const struct {
        const char *text;
        double v;
    } special[] = {{".inf", INFINITY}, {"+.inf", INFINITY},  {"-.inf", -INFINITY},
                   {".Inf", INFINITY}, {"-.Inf", -INFINITY}, {".nan", NAN},
                   {".NaN", NAN}};
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) {
        if (strcmp(s, special[i].text) == 0) {
            *out = special[i].v;
            return true;
        }
    }
    const char *p = s + (s[0] == '-' || s[0] == '+');
    bool digits = false;
    for (const char *q = p; *q; q++) {
        if (*q >= '0' && *q <= '9')
            digits = true;
        else if (!strchr(".eE+-", *q))
            return false;
    }
    if (!digits || !strpbrk(p, ".eE"))
        return false;
    char *end;
    *out = strtod(s, &end);
    return *end == '\0';
}

static wp_status scalar_value(const yaml_node_t *n, wp_value *out) {
    const char *s = reg__yaml_scalar(n);
    size_t len = n->data.scalar.length;
    if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        bool b;
        int64_t i;
        double d;
        if (reg__yaml_is_null(n)) {
            *out = wp_value_nil();
            return WP_OK;
        }
        if (scalar_bool(s, &b)) {
            *out = wp_value_bool(b);
            return WP_OK;
        }
        if (scalar_int(s, &i)) {
            *out = wp_value_int(i);
            return WP_OK;
        }
        if (scalar_float(s, &d)) {
            *out = wp_value_float(d);
            return WP_OK;
        }
    }
    return wp_value_string(out, s, len);
}

/* ---- Nodes to values --------------------------------------------------------------------- */

typedef struct conv {
    yaml_document_t *doc;
    uint32_t nodes; /* converted so far: aliases can make a small file expand hugely */
    wp_err *err;
} conv;

static wp_status convert(conv *c, const yaml_node_t *n, uint32_t depth, wp_value *out);

static wp_status convert_seq(conv *c, const yaml_node_t *n, uint32_t depth, wp_value *out) {
    if (wp_value_array(out, reg__yaml_len(n)) != WP_OK)
        return wp_err_set(c->err, WP_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < reg__yaml_len(n); i++) {
        wp_value item = wp_value_nil();
        wp_status st = convert(c, reg__yaml_at(c->doc, n, i), depth + 1, &item);
        if (st == WP_OK && wp_value_array_push(out, &item) != WP_OK)
            st = wp_err_set(c->err, WP_ERR_NOMEM, "out of memory");
        wp_value_free(&item);
        if (st != WP_OK)
            return st;
    }
    return WP_OK;
}

static wp_status convert_map(conv *c, const yaml_node_t *n, uint32_t depth, wp_value *out) {
    if (wp_value_map(out, 0) != WP_OK)
        return wp_err_set(c->err, WP_ERR_NOMEM, "out of memory");
    yaml_node_t *kn;
    yaml_node_t *vn;
    for (uint32_t i = 0; reg__yaml_pair(c->doc, n, i, &kn, &vn); i++) {
        wp_value k = wp_value_nil();
        wp_value v = wp_value_nil();
        wp_status st = convert(c, kn, depth + 1, &k);
        if (st == WP_OK)
            st = convert(c, vn, depth + 1, &v);
        if (st == WP_OK && (st = wp_value_map_set(out, &k, &v)) != WP_OK)
            st =
                wp_err_set(c->err, st,
                           st == WP_ERR_NOMEM ? "out of memory" : "a mapping key must be a scalar");
        wp_value_free(&k);
        wp_value_free(&v);
        if (st != WP_OK)
            return st;
    }
    return WP_OK;
}

static wp_status convert(conv *c, const yaml_node_t *n, uint32_t depth, wp_value *out) {
    *out = wp_value_nil();
    if (!n)
        return WP_OK;
    if (depth > REG_MAX_DEPTH)
        return wp_err_set(c->err, WP_ERR_INVALID, "nested more than %u levels deep", REG_MAX_DEPTH);
    if (++c->nodes > REG_MAX_VALUE_NODES)
        return wp_err_set(c->err, WP_ERR_INVALID, "more than %u values (through aliases?)",
                          REG_MAX_VALUE_NODES);
    wp_status st;
    switch (n->type) {
    case YAML_SCALAR_NODE:
        if (scalar_value(n, out) != WP_OK)
            return wp_err_set(c->err, WP_ERR_NOMEM, "out of memory");
        return WP_OK;
    case YAML_SEQUENCE_NODE:
        st = convert_seq(c, n, depth, out);
        break;
    case YAML_MAPPING_NODE:
        st = convert_map(c, n, depth, out);
        break;
    default:
        return WP_OK;
    }
    if (st != WP_OK)
        wp_value_free(out);
    return st;
}

wp_status reg__yaml_value(yaml_document_t *doc, const yaml_node_t *n, wp_value *out, wp_err *err) {
    conv c = {doc, 0, err};
    return convert(&c, n, 0, out);
}
