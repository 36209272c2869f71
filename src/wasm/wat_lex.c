/* wat_lex.c: tokens of the text format: parentheses, strings, identifiers, keywords, numbers. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "wat_internal.h"

void wp__wat_lex_init(wp_wat_lexer *lx, const char *text, size_t len) {
    lx->p = text;
    lx->end = text + len;
    lx->line_start = text;
    lx->line = 1;
}

wp_status wp__wat_fail(wp_err *err, const wp_wat_token *tok, const char *fmt, ...) {
    char msg[WP_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return wp_err_set(err, WP_ERR_INVALID, "line %" PRIu32 ", column %" PRIu32 ": %s", tok->line,
                      tok->col, msg);
}

/* Fails at the lexer's position p. */
static wp_status fail_at(const wp_wat_lexer *lx, const char *p, wp_err *err, const char *why) {
    wp_wat_token at = {WP_WAT_EOF, p, 0, lx->line, (uint32_t)(p - lx->line_start) + 1};
    return wp__wat_fail(err, &at, "%s", why);
}

/* ---- UTF-8 --------------------------------------------------------------------------------- */

/* The length of the UTF-8 scalar value at s (n bytes available), or 0 if malformed. */
static size_t utf8_len(const uint8_t *s, size_t n) {
    uint32_t cp;
    return wp_utf8_decode(s, n, &cp);
}

/* ---- Characters ---------------------------------------------------------------------------- */

static bool is_idchar(char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-./:<=>?@\\^_`|~", c) != NULL;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* ---- Whitespace and comments --------------------------------------------------------------- */

static void newline(wp_wat_lexer *lx) {
    lx->line++;
    lx->line_start = lx->p;
}

/* Skips one well-formed character inside a comment; fails on bad UTF-8. */
static wp_status comment_char(wp_wat_lexer *lx, wp_err *err) {
    size_t n = utf8_len((const uint8_t *)lx->p, (size_t)(lx->end - lx->p));
    if (n == 0)
        return fail_at(lx, lx->p, err, "malformed UTF-8 encoding");
    lx->p += n;
    if (lx->p[-1] == '\n')
        newline(lx);
    return WP_OK;
}

static wp_status line_comment(wp_wat_lexer *lx, wp_err *err) {
    lx->p += 2;
    while (lx->p < lx->end && *lx->p != '\n') {
        wp_status st = comment_char(lx, err);
        if (st != WP_OK)
            return st;
    }
    return WP_OK;
}

/* Block comments nest: "(; (; ;) ;)" is one comment. */
static wp_status block_comment(wp_wat_lexer *lx, wp_err *err) {
    const char *start = lx->p;
    uint32_t start_line = lx->line;
    const char *start_line_p = lx->line_start;
    size_t depth = 0;
    while (lx->p < lx->end) {
        if (lx->end - lx->p >= 2 && lx->p[0] == '(' && lx->p[1] == ';') {
            depth++;
            lx->p += 2;
        } else if (lx->end - lx->p >= 2 && lx->p[0] == ';' && lx->p[1] == ')') {
            lx->p += 2;
            if (--depth == 0)
                return WP_OK;
        } else {
            wp_status st = comment_char(lx, err);
            if (st != WP_OK)
                return st;
        }
    }
    wp_wat_lexer at = {start, lx->end, start_line_p, start_line};
    return fail_at(&at, start, err, "unterminated block comment");
}

static wp_status skip_space(wp_wat_lexer *lx, wp_err *err) {
    while (lx->p < lx->end) {
        char c = *lx->p;
        bool two = lx->end - lx->p >= 2;
        wp_status st = WP_OK;
        if (c == ' ' || c == '\t' || c == '\r') {
            lx->p++;
        } else if (c == '\n') {
            lx->p++;
            newline(lx);
        } else if (two && c == ';' && lx->p[1] == ';') {
            st = line_comment(lx, err);
        } else if (two && c == '(' && lx->p[1] == ';') {
            st = block_comment(lx, err);
        } else {
            return WP_OK;
        }
        if (st != WP_OK)
            return st;
    }
    return WP_OK;
}

/* ---- Strings ------------------------------------------------------------------------------- */

/* Checks \u{...} at p (just after 'u'); returns the end or NULL. */
static const char *unicode_escape(const char *p, const char *end, uint32_t *cp) {
    if (p >= end || *p != '{')
        return NULL;
    p++;
    uint32_t v = 0;
    const char *digits = p;
    while (p < end && (hexval(*p) >= 0 || *p == '_')) {
        if (*p == '_' && (p == digits || p + 1 >= end || hexval(p[1]) < 0))
            return NULL;
        if (*p != '_') {
            v = v * 16 + (uint32_t)hexval(*p);
            if (v > 0x10ffff)
                return NULL;
        }
        p++;
    }
    if (p == digits || p >= end || *p != '}')
        return NULL;
    if (v >= 0xd800 && v < 0xe000)
        return NULL;
    *cp = v;
    return p + 1;
}

/* Checks one escape at p (just after the backslash); returns its end or NULL. */
static const char *escape_end(const char *p, const char *end) {
    if (p >= end)
        return NULL;
    if (strchr("tnr\"'\\", *p) && *p != '\0')
        return p + 1;
    if (*p == 'u') {
        uint32_t cp;
        return unicode_escape(p + 1, end, &cp);
    }
    if (end - p >= 2 && hexval(p[0]) >= 0 && hexval(p[1]) >= 0)
        return p + 2;
    return NULL;
}

static wp_status string(wp_wat_lexer *lx, wp_err *err) {
    const char *p = lx->p + 1;
    while (p < lx->end && *p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c == '\\') {
            const char *e = escape_end(p + 1, lx->end);
            if (!e)
                return fail_at(lx, p, err, "unknown escape sequence");
            p = e;
        } else if (c < 0x20 || c == 0x7f) {
            return fail_at(lx, p, err, c == '\n' ? "unterminated string" : "illegal character");
        } else {
            size_t n = utf8_len((const uint8_t *)p, (size_t)(lx->end - p));
            if (n == 0)
                return fail_at(lx, p, err, "malformed UTF-8 encoding");
            p += n;
        }
    }
    if (p >= lx->end)
        return fail_at(lx, lx->p, err, "unterminated string");
    lx->p = p + 1;
    return WP_OK;
}

static void put_utf8(uint8_t **dst, uint32_t cp) {
    uint8_t *d = *dst;
    if (cp < 0x80) {
        *d++ = (uint8_t)cp;
    } else if (cp < 0x800) {
        *d++ = (uint8_t)(0xc0 | cp >> 6);
        *d++ = (uint8_t)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *d++ = (uint8_t)(0xe0 | cp >> 12);
        *d++ = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        *d++ = (uint8_t)(0x80 | (cp & 0x3f));
    } else {
        *d++ = (uint8_t)(0xf0 | cp >> 18);
        *d++ = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
        *d++ = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        *d++ = (uint8_t)(0x80 | (cp & 0x3f));
    }
    *dst = d;
}

/* Every escape is at least as long as what it decodes to, so tok->len bytes always suffice. */
size_t wp__wat_string_decode(const wp_wat_token *tok, uint8_t *dst) {
    const char *p = tok->text + 1;
    const char *end = tok->text + tok->len - 1;
    uint8_t *d = dst;
    while (p < end) {
        if (*p != '\\') {
            *d++ = (uint8_t)*p++;
            continue;
        }
        p++;
        switch (*p) {
        case 't': *d++ = '\t'; p++; break;
        case 'n': *d++ = '\n'; p++; break;
        case 'r': *d++ = '\r'; p++; break;
        case '"': case '\'': case '\\': *d++ = (uint8_t)*p++; break;
        case 'u': {
            uint32_t cp = 0;
            p = unicode_escape(p + 1, end, &cp);
            put_utf8(&d, cp);
            break;
        }
        default:
            *d++ = (uint8_t)(hexval(p[0]) << 4 | hexval(p[1]));
            p += 2;
            break;
        }
    }
    return (size_t)(d - dst);
}

/* ---- Tokens -------------------------------------------------------------------------------- */

/* A token must end at whitespace, a parenthesis, a comment or the end: "a""b" and "a"$x are
 * not two tokens. */
static wp_status check_separated(const wp_wat_lexer *lx, wp_err *err) {
    if (lx->p < lx->end && (*lx->p == '"' || is_idchar(*lx->p)))
        return fail_at(lx, lx->p, err, "unknown operator");
    return WP_OK;
}

wp_status wp__wat_lex(wp_wat_lexer *lx, wp_wat_token *tok, wp_err *err) {
    wp_status st = skip_space(lx, err);
    if (st != WP_OK)
        return st;
    tok->text = lx->p;
    tok->line = lx->line;
    tok->col = (uint32_t)(lx->p - lx->line_start) + 1;
    tok->len = 0;
    if (lx->p >= lx->end) {
        tok->kind = WP_WAT_EOF;
        return WP_OK;
    }
    char c = *lx->p;
    if (c == '(' || c == ')') {
        tok->kind = c == '(' ? WP_WAT_LPAR : WP_WAT_RPAR;
        lx->p++;
        tok->len = 1;
        return WP_OK;
    }
    if (c == '"') {
        tok->kind = WP_WAT_STRING;
        st = string(lx, err);
    } else if (is_idchar(c)) {
        while (lx->p < lx->end && is_idchar(*lx->p))
            lx->p++;
        tok->kind = c == '$' ? WP_WAT_ID : (c >= 'a' && c <= 'z') ? WP_WAT_KEYWORD : WP_WAT_NUMBER;
        if (c == '$' && lx->p - tok->text == 1)
            return fail_at(lx, tok->text, err, "empty identifier");
    } else {
        bool bad = utf8_len((const uint8_t *)lx->p, (size_t)(lx->end - lx->p)) == 0;
        return fail_at(lx, lx->p, err, bad ? "malformed UTF-8 encoding" : "unexpected character");
    }
    if (st != WP_OK)
        return st;
    tok->len = (size_t)(lx->p - tok->text);
    return check_separated(lx, err);
}
