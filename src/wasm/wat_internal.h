/* wat_internal.h: the text-format reader's lexer, numbers and parser state, shared by wat*.c. */
#ifndef WP_WASM_WAT_INTERNAL_H
#define WP_WASM_WAT_INTERNAL_H

#include <stdarg.h>

#include "../base/compiler.h"
#include "wippy/config.h"
#include "wippy/wat.h"

/* WP_WAT_MAX_DEPTH (config.h) bounds the recursive descent's C stack on hostile input: each
 * level of nesting costs a few hundred bytes. */
/* `(module quote ...)` may itself hold a quoted module; this bounds that recursion. */
#define WP_WAT_MAX_QUOTE_DEPTH 4

/* ---- Lexer (wat_lex.c) ------------------------------------------------------------------- */

typedef enum wp_wat_tokkind {
    WP_WAT_EOF,
    WP_WAT_LPAR,
    WP_WAT_RPAR,
    WP_WAT_STRING,  /* text includes the quotes; escapes and UTF-8 already checked */
    WP_WAT_ID,      /* "$name": text includes the '$' */
    WP_WAT_KEYWORD, /* starts with a lowercase letter: instructions, "inf", "nan:0x1", ... */
    WP_WAT_NUMBER,  /* any other run of idchars: a number, or nothing valid (checked in use) */
} wp_wat_tokkind;

typedef struct wp_wat_token {
    wp_wat_tokkind kind;
    const char *text; /* into the source, not NUL-terminated */
    size_t len;
    uint32_t line; /* 1-based */
    uint32_t col;  /* 1-based, in bytes */
} wp_wat_token;

/* The lexer is a plain value: copying it saves a position, assigning it back rewinds. */
typedef struct wp_wat_lexer {
    const char *p;
    const char *end;
    const char *line_start;
    uint32_t line;
} wp_wat_lexer;

void wp__wat_lex_init(wp_wat_lexer *lx, const char *text, size_t len);

/* Reads the next token. Fails with WP_ERR_INVALID ("line L, column C: reason") on text that is
 * no token: a stray character, an unterminated string or comment, a bad escape, bad UTF-8. */
wp_status wp__wat_lex(wp_wat_lexer *lx, wp_wat_token *tok, wp_err *err);

/* Decodes a string token's contents into dst (room for tok->len bytes suffices) and returns the
 * decoded length. The token was checked when it was read, so this cannot fail. */
size_t wp__wat_string_decode(const wp_wat_token *tok, uint8_t *dst);


/* Sets err to "line L, column C: <message>" for the token and returns WP_ERR_INVALID. */
wp_status wp__wat_fail(wp_err *err, const wp_wat_token *tok, const char *fmt, ...)
    WP_PRINTF(3, 4);

/* ---- Numbers (wat_num.c) ----------------------------------------------------------------- */

typedef enum wp_wat_num {
    WP_WAT_NUM_OK,
    WP_WAT_NUM_SYNTAX, /* the text is not a number of the asked form */
    WP_WAT_NUM_RANGE,  /* a number, but it does not fit */
} wp_wat_num;

/* An unsigned integer (decimal or 0x hex, '_' between digits, no sign) below 2^bits. */
wp_wat_num wp__wat_uint(const char *s, size_t len, unsigned bits, uint64_t *out);

/* An iN.const literal: optional sign, in [-2^(bits-1), 2^bits - 1]; *out is the two's
 * complement bit pattern in the low 'bits' bits. */
wp_wat_num wp__wat_int(const char *s, size_t len, unsigned bits, uint64_t *out);

/* A float literal (decimal, hex, inf, nan, nan:0x...) rounded to nearest-even into the bit
 * pattern of an f32 (is_f64 false, low 32 bits of *out) or an f64. Rounding to infinity is
 * WP_WAT_NUM_RANGE, as is a nan payload of 0 or too wide. */
wp_wat_num wp__wat_float(const char *s, size_t len, bool is_f64, uint64_t *out);

/* ---- Output buffers ---------------------------------------------------------------------- */

/* A growable byte buffer. Writes that cannot get memory set 'oom' and are dropped; the parser
 * checks 'oom' at the end of each field, so emitting code stays a list of plain calls. */
typedef struct wp_wat_buf {
    wp_heap *heap;
    uint8_t *data;
    size_t len;
    size_t cap;
    bool oom;
} wp_wat_buf;

void wp__wat_buf_init(wp_wat_buf *b, wp_heap *h);
void wp__wat_buf_free(wp_wat_buf *b);
void wp__wat_buf_bytes(wp_wat_buf *b, const void *bytes, size_t n);
void wp__wat_buf_u8(wp_wat_buf *b, uint8_t v);
void wp__wat_buf_uleb(wp_wat_buf *b, uint64_t v);
void wp__wat_buf_sleb(wp_wat_buf *b, int64_t v);
/* Appends the decoded contents of a string token. */
void wp__wat_buf_string(wp_wat_buf *b, const wp_wat_token *tok);
/* A name or byte string: its length as a u32 LEB128, then the bytes. */
void wp__wat_buf_vec(wp_wat_buf *b, const void *bytes, size_t n);

/* ---- Name tables ------------------------------------------------------------------------- */

/* Identifier -> index for one index space. Keys point into the source text. */
typedef struct wp_wat_name {
    const char *text; /* NULL: empty slot */
    size_t len;
    uint32_t index;
} wp_wat_name;

typedef struct wp_wat_names {
    wp_wat_name *slots;
    uint32_t cap; /* 0 or a power of two */
    uint32_t count;
} wp_wat_names;

/* Adds name -> index. WP_ERR_ALREADY_EXISTS if the name is taken, WP_ERR_NOMEM. */
wp_status wp__wat_names_add(wp_wat_names *n, wp_heap *h, const char *text, size_t len,
                            uint32_t index);
/* Looks a name up; false if absent. */
bool wp__wat_names_find(const wp_wat_names *n, const char *text, size_t len, uint32_t *index);
/* Empties the table, keeping its memory. */
void wp__wat_names_clear(wp_wat_names *n);
void wp__wat_names_free(wp_wat_names *n, wp_heap *h);

/* ---- Parser (wat_parse.c, wat_instr.c) --------------------------------------------------- */

typedef enum wp_wat_space {
    WP_WAT_TYPE,
    WP_WAT_FUNC,
    WP_WAT_TABLE,
    WP_WAT_MEM,
    WP_WAT_GLOBAL,
    WP_WAT_ELEM,
    WP_WAT_DATA,
    WP_WAT_SPACES
} wp_wat_space;

/* A function type: nparams + nresults value-type bytes at 'off' in the parser's type pool. */
typedef struct wp_wat_functype {
    uint32_t off;
    uint32_t nparams;
    uint32_t nresults;
} wp_wat_functype;

/* A label in scope inside a function body: its identifier or none. */
typedef struct wp_wat_label {
    const char *text; /* NULL: no identifier */
    size_t len;
} wp_wat_label;

/* Everything one translation needs. Pass 1 collects identifiers and types; pass 2 emits. */
typedef struct wp_wat_parser {
    wp_heap *heap;
    wp_err *err;
    wp_wat_lexer lx;
    wp_wat_token tok; /* the current token */
    uint32_t depth;   /* nesting of the recursive descent, bounded by WP_WAT_MAX_DEPTH */
    bool dry;         /* parsing only to skip: resolve nothing that has side effects */

    wp_wat_names names[WP_WAT_SPACES];
    uint32_t counts[WP_WAT_SPACES]; /* pass 1: entities seen so far in each space */
    uint32_t index[WP_WAT_SPACES];  /* pass 2: index of the next entity in each space */
    uint32_t ndefs[WP_WAT_SPACES];  /* pass 2: entities defined, not imported, so far */
    const char *first_def;          /* pass 1: kind of the first definition, for import order */
    wp_wat_functype *types;         /* explicit types, then implicit ones appended */
    uint32_t ntypes;
    uint32_t types_cap;
    wp_wat_buf type_pool; /* value types of all function types */

    /* The current function: local names and the label stack. */
    wp_wat_names locals;
    uint32_t nlocals;
    wp_wat_label *labels;
    uint32_t nlabels;
    uint32_t labels_cap;

    /* Sections being built in pass 2, with their entry counts. */
    wp_wat_buf imports, funcs, tables, mems, globals, exports, elems, code, datas;
    uint32_t nimports, nexports;
    bool has_start;
    uint32_t start;
    bool uses_data_count; /* memory.init or data.drop seen: emit the data count section */

    wp_wat_buf body;    /* the function body being built */
    wp_wat_buf scratch; /* throwaway output of dry runs; data strings */
} wp_wat_parser;

/* A typeuse or block type as written, before it is resolved to a type index. */
typedef struct wp_wat_sig {
    bool has_type;         /* (type x) given */
    uint32_t type_index;   /* x */
    wp_wat_token type_tok; /* where x is, for errors */
    wp_wat_token start;    /* where the typeuse begins, for errors */
    uint32_t pool_start;   /* inline params then results, in type_pool from here */
    uint32_t nparams;
    uint32_t nresults;
} wp_wat_sig;

/* A resolved block type: a short form byte (0x40 or a value type) or a type index. */
typedef struct wp_wat_blocktype {
    bool short_form;
    uint8_t byte;
    uint32_t index;
} wp_wat_blocktype;

/* Reads the next token into p->tok. */
wp_status wp__wat_advance(wp_wat_parser *p);
/* Fails at the current token with the given reason. */
wp_status wp__wat_unexpected(wp_wat_parser *p);
/* Fails at a token that should have been a number: "unknown operator" if it starts like one
 * (wabt's and the spec's wording), else "unexpected token". */
wp_status wp__wat_not_number(wp_wat_parser *p);
/* True if the current token is '(' followed by the given keyword (does not consume). */
bool wp__wat_peek_lpar_kw(wp_wat_parser *p, const char *kw);
/* True if the token is the keyword kw. */
bool wp__wat_is_kw(const wp_wat_token *t, const char *kw);
/* Consumes ')' or fails with "unexpected token". */
wp_status wp__wat_expect_rpar(wp_wat_parser *p);
/* Consumes a number or an identifier naming an entity of 'space'; sets *index. */
wp_status wp__wat_index(wp_wat_parser *p, wp_wat_space space, uint32_t *index);
/* Consumes a value type keyword (i32, i64, f32, f64, funcref, externref) into its byte. */
wp_status wp__wat_valtype(wp_wat_parser *p, uint8_t *out);
/* Consumes `(type x)? (param ...)* (result ...)*`. names: non-NULL to collect parameter
 * identifiers (a function), NULL where they are not allowed (blocks, call_indirect). */
wp_status wp__wat_sig(wp_wat_parser *p, wp_wat_names *names, wp_wat_sig *sig);
/* Resolves a sig just parsed (nothing parsed since) to a type index, checking (type x) against
 * inline params and results and adding an implicit type if no type matches. *nparams: the
 * function's parameter count. */
wp_status wp__wat_sig_index(wp_wat_parser *p, wp_wat_sig *sig, uint32_t *index,
                            uint32_t *nparams);
/* The same for a block type, which takes its short form when it has no params and at most one
 * result. */
wp_status wp__wat_sig_block(wp_wat_parser *p, wp_wat_sig *sig, wp_wat_blocktype *bt);
/* The function type at index, or NULL if there is none. */
const wp_wat_functype *wp__wat_type_at(const wp_wat_parser *p, uint32_t index);

/* Parses instructions (plain and folded) up to the next ')' and appends their code to out.
 * Used for function bodies and constant expressions; the 'end' byte is not written. */
wp_status wp__wat_instrs(wp_wat_parser *p, wp_wat_buf *out);
/* Parses one folded instruction at '(' into out (offsets and element items). */
wp_status wp__wat_folded(wp_wat_parser *p, wp_wat_buf *out);

/* Pass 1 over module fields from the current token to ')' or the end: registers identifiers in
 * every index space and parses (type) fields. */
wp_status wp__wat_collect(wp_wat_parser *p);
/* Skips to the ')' closing the current field, and past it. */
wp_status wp__wat_skip_field(wp_wat_parser *p);
/* Pass 2 over the same fields: fills the section buffers. */
wp_status wp__wat_emit(wp_wat_parser *p);

/* Frees everything the parser holds. */
void wp__wat_parser_free(wp_wat_parser *p);


/* The reader over a given heap: the binary comes back in a block of h that only
 * wp__wat_free_in(h, ...) may free. Unit tests pass a failing heap here. */
wp_status wp__wat_to_wasm_in(wp_heap *h, const char *text, size_t len, uint8_t **out,
                             size_t *out_len, wp_err *err);
void wp__wat_free_in(wp_heap *h, uint8_t *bytes);

#endif
