/* json.c: a recursive-descent JSON reader producing a spec_json tree. */
#include "json.h"

#include <string.h>

typedef struct parser {
    wp_heap *heap;
    const char *start; /* the document, for line and column in messages */
    const char *p;     /* next byte to read */
    const char *end;
    wp_err *err;
} parser;

static wp_status parse_value(parser *ps, spec_json *v, unsigned depth);

static wp_status fail(parser *ps, const char *reason) {
    size_t line = 1;
    size_t col = 1;
    for (const char *q = ps->start; q < ps->p && q < ps->end; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    return wp_err_set(ps->err, WP_ERR_INVALID, "json: line %zu, column %zu: %s", line, col,
                      reason);
}

static wp_status no_memory(parser *ps) {
    return wp_err_set(ps->err, WP_ERR_NOMEM, "json: out of memory");
}

static bool at_end(const parser *ps) { return ps->p >= ps->end; }

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static void skip_space(parser *ps) {
    while (!at_end(ps) && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

/* Makes room for one more member of an array or object. Moving the nodes is safe: a node's
 * own arrays are separate blocks, nothing points into a parent's array. */
static wp_status grow(parser *ps, spec_json *v) {
    if (v->count < v->cap)
        return WP_OK;
    size_t cap = v->cap ? v->cap * 2 : 4;
    bool object = v->kind == SPEC_JSON_OBJECT;
    spec_json *items = wp_heap_calloc(ps->heap, cap, sizeof *items);
    spec_json *keys = object ? wp_heap_calloc(ps->heap, cap, sizeof *keys) : NULL;
    if (!items || (object && !keys)) {
        wp_heap_free(ps->heap, items, items ? cap * sizeof *items : 0);
        wp_heap_free(ps->heap, keys, keys ? cap * sizeof *keys : 0);
        return no_memory(ps);
    }
    if (v->count) {
        memcpy(items, v->items, v->count * sizeof *items);
        if (object)
            memcpy(keys, v->keys, v->count * sizeof *keys);
    }
    wp_heap_free(ps->heap, v->items, v->cap * sizeof *items);
    wp_heap_free(ps->heap, v->keys, object ? v->cap * sizeof *keys : 0);
    v->items = items;
    v->keys = keys;
    v->cap = cap;
    return WP_OK;
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads the four hex digits after "\u" at ps->p. Stops at the first non-digit, so it never
 * reads past the string's closing quote. */
static bool read_hex4(parser *ps, uint32_t *out) {
    if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u')
        return false;
    uint32_t cp = 0;
    for (int i = 2; i < 6; i++) {
        int d = hex_digit(ps->p[i]);
        if (d < 0)
            return false;
        cp = cp << 4 | (uint32_t)d;
    }
    ps->p += 6;
    *out = cp;
    return true;
}

static size_t put_utf8(char *buf, uint32_t cp) {
    if (cp < 0x80) {
        buf[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        buf[0] = (char)(0xc0 | cp >> 6);
        buf[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        buf[0] = (char)(0xe0 | cp >> 12);
        buf[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        buf[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    buf[0] = (char)(0xf0 | cp >> 18);
    buf[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    buf[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    buf[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* "\uXXXX", or a surrogate pair "\uD8xx\uDCxx", appended to buf as UTF-8. An escape of n
 * input bytes never yields more than n output bytes, so buf's room (the raw length) holds. */
static wp_status parse_unicode(parser *ps, char *buf, size_t *n) {
    uint32_t cp;
    if (!read_hex4(ps, &cp))
        return fail(ps, "invalid \\u escape");
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return fail(ps, "unpaired surrogate in \\u escape");
    if (cp >= 0xd800 && cp <= 0xdbff) {
        uint32_t low;
        if (!read_hex4(ps, &low) || low < 0xdc00 || low > 0xdfff)
            return fail(ps, "unpaired surrogate in \\u escape");
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    }
    *n += put_utf8(buf + *n, cp);
    return WP_OK;
}

static wp_status parse_escape(parser *ps, char *buf, size_t *n) {
    static const char from[] = "\"\\/bfnrt";
    static const char to[] = "\"\\/\b\f\n\r\t";
    char e = ps->p[1]; /* in bounds: the string's closing quote follows */
    if (e == 'u')
        return parse_unicode(ps, buf, n);
    const char *hit = e ? strchr(from, e) : NULL;
    if (!hit) {
        ps->p++;
        return fail(ps, "invalid escape");
    }
    buf[(*n)++] = to[hit - from];
    ps->p += 2;
    return WP_OK;
}

static wp_status parse_string(parser *ps, spec_json *v) {
    const char *s = ps->p + 1; /* after the opening quote */
    const char *q = s;
    while (q < ps->end && *q != '"') {
        if (*q == '\\')
            q++;
        q++;
    }
    if (q >= ps->end)
        return fail(ps, "unterminated string");
    size_t room = (size_t)(q - s) + 1; /* decoding never lengthens; +1 for the NUL */
    char *buf = wp_heap_alloc(ps->heap, room);
    if (!buf)
        return no_memory(ps);
    v->kind = SPEC_JSON_STRING;
    v->str = buf;
    v->cap = room;
    size_t n = 0;
    ps->p = s;
    while (*ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p;
        if (c < 0x20)
            return fail(ps, "control character in string");
        if (c != '\\') {
            buf[n++] = (char)c;
            ps->p++;
            continue;
        }
        wp_status st = parse_escape(ps, buf, &n);
        if (st != WP_OK)
            return st;
    }
    ps->p++;
    buf[n] = '\0';
    v->len = n;
    return WP_OK;
}

static void skip_digits(parser *ps) {
    while (!at_end(ps) && is_digit(*ps->p))
        ps->p++;
}

/* Checks the number's grammar and keeps its text: wast2json's numbers are line numbers, and
 * callers convert the ones they need. */
static wp_status parse_number(parser *ps, spec_json *v) {
    const char *s = ps->p;
    if (*ps->p == '-')
        ps->p++;
    if (at_end(ps) || !is_digit(*ps->p))
        return fail(ps, "invalid number");
    if (*ps->p == '0')
        ps->p++;
    else
        skip_digits(ps);
    if (!at_end(ps) && *ps->p == '.') {
        ps->p++;
        if (at_end(ps) || !is_digit(*ps->p))
            return fail(ps, "invalid number");
        skip_digits(ps);
    }
    if (!at_end(ps) && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (!at_end(ps) && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (at_end(ps) || !is_digit(*ps->p))
            return fail(ps, "invalid number");
        skip_digits(ps);
    }
    size_t len = (size_t)(ps->p - s);
    v->str = wp_heap_alloc(ps->heap, len + 1);
    if (!v->str)
        return no_memory(ps);
    memcpy(v->str, s, len);
    v->str[len] = '\0';
    v->kind = SPEC_JSON_NUMBER;
    v->len = len;
    v->cap = len + 1;
    return WP_OK;
}

static wp_status parse_literal(parser *ps, spec_json *v) {
    static const struct {
        const char *word;
        spec_json_kind kind;
        bool value;
    } words[] = {
        {"true", SPEC_JSON_BOOL, true},
        {"false", SPEC_JSON_BOOL, false},
        {"null", SPEC_JSON_NULL, false},
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = strlen(words[i].word);
        if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, words[i].word, n) == 0) {
            v->kind = words[i].kind;
            v->boolean = words[i].value;
            ps->p += n;
            return WP_OK;
        }
    }
    return fail(ps, "unexpected character");
}

/* After a member: ',' goes on (true), the closing bracket ends the container (false). */
static wp_status after_member(parser *ps, char close, bool *more) {
    skip_space(ps);
    if (at_end(ps))
        return fail(ps, "unexpected end of input");
    if (*ps->p == ',' || *ps->p == close) {
        *more = *ps->p == ',';
        ps->p++;
        return WP_OK;
    }
    return fail(ps, close == ']' ? "expected ',' or ']'" : "expected ',' or '}'");
}

static wp_status parse_array(parser *ps, spec_json *v, unsigned depth) {
    v->kind = SPEC_JSON_ARRAY;
    ps->p++;
    skip_space(ps);
    if (!at_end(ps) && *ps->p == ']') {
        ps->p++;
        return WP_OK;
    }
    for (bool more = true; more;) {
        wp_status st = grow(ps, v);
        if (st == WP_OK)
            st = parse_value(ps, &v->items[v->count++], depth + 1);
        if (st == WP_OK)
            st = after_member(ps, ']', &more);
        if (st != WP_OK)
            return st;
    }
    return WP_OK;
}

static wp_status parse_member(parser *ps, spec_json *v, unsigned depth) {
    wp_status st = grow(ps, v);
    if (st != WP_OK)
        return st;
    size_t i = v->count++; /* counted now so a failure below frees what was parsed */
    skip_space(ps);
    if (at_end(ps) || *ps->p != '"')
        return fail(ps, "expected a string key");
    if ((st = parse_string(ps, &v->keys[i])) != WP_OK)
        return st;
    skip_space(ps);
    if (at_end(ps) || *ps->p != ':')
        return fail(ps, "expected ':'");
    ps->p++;
    return parse_value(ps, &v->items[i], depth + 1);
}

static wp_status parse_object(parser *ps, spec_json *v, unsigned depth) {
    v->kind = SPEC_JSON_OBJECT;
    ps->p++;
    skip_space(ps);
    if (!at_end(ps) && *ps->p == '}') {
        ps->p++;
        return WP_OK;
    }
    for (bool more = true; more;) {
        wp_status st = parse_member(ps, v, depth);
        if (st == WP_OK)
            st = after_member(ps, '}', &more);
        if (st != WP_OK)
            return st;
    }
    return WP_OK;
}

/* v is zeroed; on failure it may hold parts that spec_json_free() releases. */
static wp_status parse_value(parser *ps, spec_json *v, unsigned depth) {
    skip_space(ps);
    if (at_end(ps))
        return fail(ps, "unexpected end of input");
    char c = *ps->p;
    if ((c == '[' || c == '{') && depth >= SPEC_JSON_MAX_DEPTH)
        return fail(ps, "nesting too deep");
    if (c == '[')
        return parse_array(ps, v, depth);
    if (c == '{')
        return parse_object(ps, v, depth);
    if (c == '"')
        return parse_string(ps, v);
    if (c == '-' || is_digit(c))
        return parse_number(ps, v);
    return parse_literal(ps, v);
}

static void free_node(wp_heap *heap, spec_json *v) {
    if (v->kind == SPEC_JSON_ARRAY || v->kind == SPEC_JSON_OBJECT) {
        for (size_t i = 0; i < v->count; i++) {
            free_node(heap, &v->items[i]);
            if (v->keys)
                free_node(heap, &v->keys[i]);
        }
        wp_heap_free(heap, v->items, v->cap * sizeof *v->items);
        wp_heap_free(heap, v->keys, v->keys ? v->cap * sizeof *v->keys : 0);
    } else {
        wp_heap_free(heap, v->str, v->cap);
    }
}

void spec_json_free(wp_heap *heap, spec_json *root) {
    if (!root)
        return;
    free_node(heap, root);
    wp_heap_free(heap, root, sizeof *root);
}

wp_status spec_json_parse(wp_heap *heap, const char *text, size_t len, spec_json **out,
                          wp_err *err) {
    parser ps = {.heap = heap, .start = text, .p = text, .end = text + len, .err = err};
    spec_json *root = wp_heap_zalloc(heap, sizeof *root);
    if (!root)
        return no_memory(&ps);
    wp_status st = parse_value(&ps, root, 0);
    if (st == WP_OK) {
        skip_space(&ps);
        if (!at_end(&ps))
            st = fail(&ps, "unexpected text after the document");
    }
    if (st != WP_OK) {
        spec_json_free(heap, root);
        return st;
    }
    *out = root;
    return WP_OK;
}

const spec_json *spec_json_get(const spec_json *v, const char *key) {
    if (!v || v->kind != SPEC_JSON_OBJECT)
        return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < v->count; i++) {
        if (v->keys[i].len == n && memcmp(v->keys[i].str, key, n) == 0)
            return &v->items[i];
    }
    return NULL;
}

const char *spec_json_get_str(const spec_json *v, const char *key) {
    const spec_json *m = spec_json_get(v, key);
    return m && m->kind == SPEC_JSON_STRING ? m->str : NULL;
}

bool spec_json_u64(const spec_json *v, uint64_t *out) {
    if (!v || v->kind != SPEC_JSON_NUMBER)
        return false;
    uint64_t n = 0;
    for (size_t i = 0; i < v->len; i++) {
        char c = v->str[i];
        if (!is_digit(c))
            return false;
        uint64_t d = (uint64_t)(c - '0');
        if (n > (UINT64_MAX - d) / 10)
            return false;
        n = n * 10 + d;
    }
    *out = n;
    return true;
}
