/* test_validate.c: WebAssembly 2.0 validation: function bodies and module-level rules. */
#include <stdint.h>
#include <stdlib.h>

#include "../../src/wasm/internal.h"
#include "test.h"
#include "wasm_bytes.h"

/* Extras of the one-function test module. */
enum {
    X_MEM = 1 << 0,      /* memory 0: 1 page */
    X_TABLE = 1 << 1,    /* table 0: funcref, 4 elements */
    X_EXTTABLE = 1 << 2, /* next table: externref, 4 elements */
    X_GLOBALS = 1 << 3,  /* global 0: i32 immutable; global 1: i64 mutable */
    X_DATA = 1 << 4,     /* data count 1 and one passive data segment */
    X_ELEM = 1 << 5,     /* one passive funcref element segment holding function 0 */
    X_EXPORT = 1 << 6,   /* function 0 exported as "f" */
};

static uint8_t type_byte(char c) {
    switch (c) {
    case 'i':
        return WP_I32;
    case 'I':
        return WP_I64;
    case 'f':
        return WP_F32;
    case 'F':
        return WP_F64;
    case 'r':
        return WP_FUNCREF;
    default:
        return WP_EXTERNREF;
    }
}

/* Value types of 'sig' from 'from' up to the first of 'stops' (or the end). */
static void put_types(wb *b, const char *from, const char *stops) {
    size_t n = strcspn(from, stops);
    wb_u32(b, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        wb_byte(b, type_byte(from[i]));
}

static void put_functype(wb *b, const char *params, const char *results) {
    wb_byte(b, 0x60);
    put_types(b, params, ":");
    put_types(b, results, ";");
}

/* Types: 0 = the function's 'sig' ("params:results;locals", as "ii:i;I"), 1 = [i32] ->
 * [i32 i32], 2 = [] -> []. One function of type 0 with body 'code' (final end included). */
static void func_module(wb *b, const char *sig, const uint8_t *code, size_t n, unsigned x) {
    wb s = {0};
    const char *colon = strchr(sig, ':');
    const char *semi = strchr(sig, ';');
    wb_header(b);
    wb_byte(&s, 3);
    put_functype(&s, sig, colon + 1);
    put_functype(&s, "i:", "ii");
    put_functype(&s, ":", "");
    wb_section(b, 1, &s);
    static const uint8_t funcs[] = {1, 0};
    wb_section_raw(b, 3, funcs, sizeof funcs);
    s.len = 0;
    wb_u32(&s, ((x & X_TABLE) ? 1 : 0) + ((x & X_EXTTABLE) ? 1 : 0));
    if (x & X_TABLE)
        wb_bytes(&s, (const uint8_t[]){0x70, 0, 4}, 3);
    if (x & X_EXTTABLE)
        wb_bytes(&s, (const uint8_t[]){0x6f, 0, 4}, 3);
    if (x & (X_TABLE | X_EXTTABLE))
        wb_section(b, 4, &s);
    if (x & X_MEM)
        wb_section_raw(b, 5, (const uint8_t[]){1, 0, 1}, 3);
    if (x & X_GLOBALS)
        wb_section_raw(b, 6, (const uint8_t[]){2, 0x7f, 0, 0x41, 0, 0x0b, 0x7e, 1, 0x42, 0, 0x0b},
                       11);
    if (x & X_EXPORT)
        wb_section_raw(b, 7, (const uint8_t[]){1, 1, 'f', 0, 0}, 5);
    if (x & X_ELEM)
        wb_section_raw(b, 9, (const uint8_t[]){1, 1, 0, 1, 0}, 5);
    if (x & X_DATA)
        wb_section_raw(b, 12, (const uint8_t[]){1}, 1);
    s.len = 0;
    wb body = {0};
    size_t nlocals = semi ? strlen(semi + 1) : 0;
    wb_u32(&body, (uint32_t)nlocals);
    for (size_t i = 0; i < nlocals; i++) {
        wb_byte(&body, 1);
        wb_byte(&body, type_byte(semi[1 + i]));
    }
    wb_bytes(&body, code, n);
    wb_byte(&s, 1);
    wb_u32(&s, (uint32_t)body.len);
    wb_bytes(&s, body.buf, body.len);
    wb_section(b, 10, &s);
    if (x & X_DATA)
        wb_section_raw(b, 11, (const uint8_t[]){1, 1, 2, 'h', 'i'}, 5);
}

static void check_bytes(int line, const wb *b, wp_status want, const char *text) {
    int before = test_failures;
    wp_module *m = NULL;
    wp_err err = {0};
    CHECK(!b->overflow);
    wp_status st = wp_module_decode(b->buf, b->len, &m, &err);
    CHECK_EQ(st, want);
    if (want != WP_OK)
        CHECK_STR_CONTAINS(err.msg, text);
    wp_module_free(m);
    if (test_failures != before)
        fprintf(stderr, "  (line %d: %s)\n", line, st == WP_OK ? "accepted" : err.msg);
}

static void check_func(int line, const char *sig, const uint8_t *code, size_t n, unsigned x,
                       const char *text) {
    wb b = {0};
    func_module(&b, sig, code, n, x);
    check_bytes(line, &b, text ? WP_ERR_INVALID : WP_OK, text);
}

/* The function body is the remaining arguments, as bytes. */
#define VALID(sig, x, ...)                                                                         \
    do {                                                                                           \
        static const uint8_t code_[] = {__VA_ARGS__};                                              \
        check_func(__LINE__, sig, code_, sizeof code_, x, NULL);                                   \
    } while (0)
#define INVALID(text, sig, x, ...)                                                                 \
    do {                                                                                           \
        static const uint8_t code_[] = {__VA_ARGS__};                                              \
        check_func(__LINE__, sig, code_, sizeof code_, x, text);                                   \
    } while (0)

#define I32C(v) WP_OP_I32_CONST, v
#define I64C(v) WP_OP_I64_CONST, v
#define END WP_OP_END
#define DROP WP_OP_DROP
#define FC WP_OP_PREFIX_FC

/* ---- Function bodies ------------------------------------------------------------------------- */

static void test_numeric(void) {
    VALID(":", 0, I32C(1), I32C(2), WP_OP_I32_ADD, DROP, END);
    VALID("iI:F", 0, WP_OP_LOCAL_GET, 1, WP_OP_F64_CONVERT_I64_S, END);
    VALID("f:i;F", 0, WP_OP_LOCAL_GET, 0, WP_OP_LOCAL_GET, 1, WP_OP_F32_DEMOTE_F64, WP_OP_F32_LT,
          END);
    INVALID("type mismatch in i32.add", ":", 0, I32C(1), I64C(2), WP_OP_I32_ADD, DROP, END);
    INVALID("type mismatch", ":i", 0, I64C(0), END);
    INVALID("type mismatch", ":", 0, WP_OP_I32_ADD, END);
    INVALID("type mismatch", ":", 0, I32C(1), END); /* a value left over */
    /* i32.trunc_sat_f32_s of nothing */
    INVALID("type mismatch", ":", 0, FC, 0, DROP, END);
    VALID("f:i", 0, WP_OP_LOCAL_GET, 0, FC, 0, END);
}

static void test_unknown_indices(void) {
    INVALID("unknown local", "i:", 0, WP_OP_LOCAL_GET, 1, DROP, END);
    INVALID("unknown local", "i:;I", 0, WP_OP_LOCAL_SET, 2, END);
    INVALID("unknown global", ":", X_GLOBALS, WP_OP_GLOBAL_GET, 2, DROP, END);
    INVALID("unknown function", ":", 0, WP_OP_CALL, 1, END);
    INVALID("unknown table", ":", 0, I32C(0), WP_OP_CALL_INDIRECT, 2, 0, END);
    INVALID("unknown type", ":", X_TABLE, I32C(0), WP_OP_CALL_INDIRECT, 9, 0, END);
    INVALID("unknown memory", ":", 0, I32C(0), WP_OP_I32_LOAD, 2, 0, DROP, END);
    INVALID("unknown memory", ":", 0, WP_OP_MEMORY_SIZE, 0, DROP, END);
    INVALID("unknown type", ":", 0, WP_OP_BLOCK, 9, END, END);
    INVALID("unknown label", ":", 0, WP_OP_BLOCK, 0x40, WP_OP_BR, 2, END, END);
    INVALID("unknown label", ":", 0, I32C(0), WP_OP_BR_IF, 1, END);
    INVALID("unknown table", ":", 0, I32C(0), WP_OP_TABLE_GET, 0, DROP, END);
    INVALID("unknown data segment", ":", X_MEM | X_DATA, FC, WP_OPFC_DATA_DROP, 1, END);
    INVALID("unknown elem segment", ":", X_TABLE | X_ELEM, FC, WP_OPFC_ELEM_DROP, 1, END);
    VALID(":", X_MEM | X_DATA, FC, WP_OPFC_DATA_DROP, 0, END);
    VALID(":", X_TABLE | X_ELEM, FC, WP_OPFC_ELEM_DROP, 0, END);
}

static void test_data_count_required(void) {
    /* Data segments but no data count section: memory.init and data.drop may not appear. */
    static const uint8_t code[] = {I32C(0), I32C(0), I32C(0), FC, WP_OPFC_MEMORY_INIT, 0, 0, END};
    wb b = {0};
    func_module(&b, ":", code, sizeof code, X_MEM);
    /* Data segments but no data count section. */
    wb_section_raw(&b, 11, (const uint8_t[]){1, 1, 1, 'x'}, 4);
    check_bytes(__LINE__, &b, WP_ERR_INVALID, "data count section required");
    VALID(":", X_MEM | X_DATA, I32C(0), I32C(0), I32C(0), FC, WP_OPFC_MEMORY_INIT, 0, 0, END);
    INVALID("zero byte expected", ":", X_MEM | X_DATA, I32C(0), I32C(0), I32C(0), FC,
            WP_OPFC_MEMORY_INIT, 0, 1, END);
}

/* After unreachable, br, br_table and return the stack is polymorphic. */
static void test_unreachable_typing(void) {
    VALID(":", 0, WP_OP_UNREACHABLE, WP_OP_I32_ADD, DROP, END);
    VALID(":i", 0, WP_OP_UNREACHABLE, END);
    VALID(":", 0, WP_OP_UNREACHABLE, WP_OP_SELECT, DROP, END);
    VALID(":", 0, WP_OP_BLOCK, 0x40, WP_OP_BR, 0, WP_OP_I32_ADD, DROP, END, END);
    VALID(":I", 0, I64C(1), WP_OP_RETURN, WP_OP_I64_ADD, END);
    INVALID("type mismatch", ":", 0, WP_OP_UNREACHABLE, I64C(0), WP_OP_I32_ADD, DROP, END);
    INVALID("type mismatch", ":", 0, WP_OP_RETURN, I64C(0), WP_OP_I32_EQZ, DROP, END);
    INVALID("type mismatch", ":i", 0, WP_OP_UNREACHABLE, I64C(0), END);
    /* Polymorphism ends with the frame: after the block the stack is typed again. */
    INVALID("type mismatch", ":", 0, WP_OP_BLOCK, 0x40, WP_OP_UNREACHABLE, END, WP_OP_I32_ADD, DROP,
            END);
}

static void test_br_table(void) {
    VALID(":i", 0, WP_OP_BLOCK, 0x7f, I32C(7), I32C(0), WP_OP_BR_TABLE, 1, 0, 1, END, END);
    INVALID("type mismatch", ":", 0, WP_OP_BLOCK, 0x7f, WP_OP_BLOCK, 0x40, I32C(1), I32C(0),
            WP_OP_BR_TABLE, 1, 0, 1, END, I32C(0), END, DROP, END);
    /* Labels of different types but one arity: valid only when the operand is unknown. */
    VALID(":", 0, WP_OP_BLOCK, 0x7f, WP_OP_BLOCK, 0x7e, WP_OP_UNREACHABLE, WP_OP_BR_TABLE, 1, 0, 1,
          END, DROP, I32C(0), END, DROP, END);
    INVALID("type mismatch", ":", 0, WP_OP_BLOCK, 0x7f, WP_OP_BLOCK, 0x7e, I32C(0), I32C(0),
            WP_OP_BR_TABLE, 1, 0, 1, END, DROP, I32C(0), END, DROP, END);
    INVALID("unknown label", ":", 0, I32C(0), WP_OP_BR_TABLE, 1, 5, 0, END);
    INVALID("unknown label", ":", 0, I32C(0), WP_OP_BR_TABLE, 0, 1, END);
    INVALID("type mismatch", ":", 0, WP_OP_BR_TABLE, 0, 0, END); /* no index operand */
    INVALID("unexpected end", ":", 0, I32C(0), WP_OP_BR_TABLE, 0x7f, 0, END);
}

static void test_select(void) {
    VALID(":", 0, I64C(1), I64C(2), I32C(0), WP_OP_SELECT, DROP, END);
    INVALID("type mismatch", ":", 0, I32C(1), I64C(2), I32C(0), WP_OP_SELECT, DROP, END);
    INVALID("type mismatch", ":", 0, I64C(1), I64C(2), I64C(0), WP_OP_SELECT, DROP, END);
    INVALID("type mismatch", ":", 0, WP_OP_REF_NULL, 0x70, WP_OP_REF_NULL, 0x70, I32C(1),
            WP_OP_SELECT, DROP, END);
    VALID(":", 0, WP_OP_REF_NULL, 0x70, WP_OP_REF_NULL, 0x70, I32C(1), WP_OP_SELECT_T, 1, 0x70,
          DROP, END);
    INVALID("type mismatch", ":", 0, WP_OP_REF_NULL, 0x6f, WP_OP_REF_NULL, 0x70, I32C(1),
            WP_OP_SELECT_T, 1, 0x70, DROP, END);
    INVALID("invalid result arity", ":", 0, I32C(1), I32C(1), I32C(1), WP_OP_SELECT_T, 2, 0x7f,
            0x7f, DROP, END);
    /* Under the polymorphic stack, untyped select takes its type from the known operand. */
    INVALID("type mismatch", ":", 0, WP_OP_UNREACHABLE, I64C(1), I32C(0), WP_OP_SELECT,
            WP_OP_I32_EQZ, DROP, END);
    INVALID("type mismatch", ":", 0, WP_OP_UNREACHABLE, WP_OP_REF_NULL, 0x70, I32C(0), WP_OP_SELECT,
            DROP, END);
}

static void test_variables(void) {
    VALID("i:i", 0, I32C(5), WP_OP_LOCAL_TEE, 0, END);
    INVALID("type mismatch", "i:", 0, I64C(5), WP_OP_LOCAL_SET, 0, END);
    VALID(":", X_GLOBALS, I64C(1), WP_OP_GLOBAL_SET, 1, END);
    INVALID("global is immutable", ":", X_GLOBALS, I32C(1), WP_OP_GLOBAL_SET, 0, END);
    INVALID("type mismatch", ":", X_GLOBALS, I32C(1), WP_OP_GLOBAL_SET, 1, END);
}

static void test_references(void) {
    INVALID("undeclared function reference", ":", 0, WP_OP_REF_FUNC, 0, DROP, END);
    VALID(":", X_EXPORT, WP_OP_REF_FUNC, 0, DROP, END);
    VALID(":", X_TABLE | X_ELEM, WP_OP_REF_FUNC, 0, DROP, END);
    INVALID("unknown function", ":", X_EXPORT, WP_OP_REF_FUNC, 1, DROP, END);
    VALID(":i", 0, WP_OP_REF_NULL, 0x6f, WP_OP_REF_IS_NULL, END);
    INVALID("type mismatch", ":i", 0, I32C(0), WP_OP_REF_IS_NULL, END);
    INVALID("malformed reference type", ":", 0, WP_OP_REF_NULL, 0x7f, DROP, END);
}

static void test_memory(void) {
    VALID(":", X_MEM, I32C(0), WP_OP_I32_LOAD, 2, 0, DROP, END);
    VALID(":", X_MEM, I32C(0), I64C(0), WP_OP_I64_STORE32, 2, 8, END);
    INVALID("alignment must not be larger than natural", ":", X_MEM, I32C(0), WP_OP_I32_LOAD, 3, 0,
            DROP, END);
    INVALID("alignment must not be larger than natural", ":", X_MEM, I32C(0), WP_OP_I64_LOAD8_U, 1,
            0, DROP, END);
    INVALID("alignment must not be larger than natural", ":", X_MEM, I32C(0), WP_OP_I32_LOAD, 0x20,
            0, DROP, END);
    INVALID("type mismatch", ":", X_MEM, I64C(0), WP_OP_I32_LOAD, 2, 0, DROP, END);
    VALID(":i", X_MEM, I32C(1), WP_OP_MEMORY_GROW, 0, END);
    INVALID("zero byte expected", ":i", X_MEM, WP_OP_MEMORY_SIZE, 1, END);
    VALID(":", X_MEM, I32C(0), I32C(0), I32C(0), FC, WP_OPFC_MEMORY_COPY, 0, 0, END);
    INVALID("zero byte expected", ":", X_MEM, I32C(0), I32C(0), I32C(0), FC, WP_OPFC_MEMORY_COPY, 0,
            1, END);
    INVALID("unknown memory", ":", 0, I32C(0), I32C(0), I32C(0), FC, WP_OPFC_MEMORY_FILL, 0, END);
}

static void test_tables(void) {
    unsigned both = X_TABLE | X_EXTTABLE;
    VALID(":", X_TABLE, I32C(0), WP_OP_CALL_INDIRECT, 2, 0, END);
    INVALID("type mismatch", ":", both, I32C(0), WP_OP_CALL_INDIRECT, 2, 1, END);
    VALID(":", both, I32C(0), WP_OP_REF_NULL, 0x6f, WP_OP_TABLE_SET, 1, END);
    INVALID("type mismatch", ":", both, I32C(0), WP_OP_REF_NULL, 0x70, WP_OP_TABLE_SET, 1, END);
    VALID(":i", both, WP_OP_REF_NULL, 0x6f, I32C(1), FC, WP_OPFC_TABLE_GROW, 1, END);
    VALID(":i", both, FC, WP_OPFC_TABLE_SIZE, 1, END);
    VALID(":", both, I32C(0), WP_OP_REF_NULL, 0x70, I32C(1), FC, WP_OPFC_TABLE_FILL, 0, END);
    INVALID("type mismatch", ":", both, I32C(0), WP_OP_REF_NULL, 0x70, I32C(1), FC,
            WP_OPFC_TABLE_FILL, 1, END);
    VALID(":", both, I32C(0), I32C(0), I32C(0), FC, WP_OPFC_TABLE_COPY, 0, 0, END);
    INVALID("type mismatch", ":", both, I32C(0), I32C(0), I32C(0), FC, WP_OPFC_TABLE_COPY, 0, 1,
            END);
    VALID(":", both | X_ELEM, I32C(0), I32C(0), I32C(0), FC, WP_OPFC_TABLE_INIT, 0, 0, END);
    INVALID("type mismatch", ":", both | X_ELEM, I32C(0), I32C(0), I32C(0), FC, WP_OPFC_TABLE_INIT,
            0, 1, END);
}

static void test_control(void) {
    VALID(":i", 0, I32C(1), WP_OP_IF, 0x7f, I32C(1), WP_OP_ELSE, I32C(2), END, END);
    /* An if without else must produce what it takes. */
    INVALID("type mismatch", ":", 0, I32C(1), WP_OP_IF, 0x7f, I32C(1), END, DROP, END);
    VALID(":", 0, I32C(5), I32C(1), WP_OP_IF, 1, I32C(2), WP_OP_ELSE, I32C(3), END, DROP, DROP,
          END);
    INVALID("type mismatch", ":", 0, I32C(5), I32C(1), WP_OP_IF, 1, I32C(2), END, DROP, DROP, END);
    INVALID("type mismatch", ":", 0, I32C(5), I32C(1), WP_OP_IF, 1, I32C(2), WP_OP_ELSE, END, DROP,
            DROP, END);
    INVALID("else without a matching if", ":", 0, WP_OP_ELSE, END);
    INVALID("else without a matching if", ":", 0, WP_OP_BLOCK, 0x40, WP_OP_ELSE, END, END);
    /* Multi-value block typed by a type index, taking a param. */
    VALID(":", 0, I32C(1), WP_OP_BLOCK, 1, I32C(2), END, DROP, DROP, END);
    INVALID("type mismatch", ":", 0, WP_OP_BLOCK, 1, I32C(2), END, DROP, DROP, END);
    /* A branch to a loop carries the loop's params, to a block its results. */
    VALID(":", 0, I32C(1), WP_OP_LOOP, 1, WP_OP_BR, 0, END, DROP, DROP, END);
    INVALID("type mismatch", ":", 0, I32C(1), WP_OP_BLOCK, 1, WP_OP_BR, 0, END, DROP, DROP, END);
    INVALID("malformed block type", ":", 0, WP_OP_BLOCK, 0x7a, END, END);
    INVALID("type mismatch", ":", 0, I64C(0), WP_OP_IF, 0x40, END, END);
    INVALID("illegal opcode", ":", 0, 0x06, END);
    INVALID("illegal opcode", ":", 0, 0xc5, END);
    INVALID("illegal opcode", ":", 0, FC, 18, END);
    INVALID("illegal opcode", ":", 0, FC, 0x80, 0x80, 0x04, END);
}

/* ---- Module-level rules ---------------------------------------------------------------------- */

/* A module from raw sections: pairs of (id, bytes) given as one array per section. */
static void check_sections(int line, wp_status want, const char *text, const uint8_t *const *secs,
                           const size_t *lens, const uint8_t *ids, size_t n) {
    wb b = {0};
    wb_header(&b);
    for (size_t i = 0; i < n; i++)
        wb_section_raw(&b, ids[i], secs[i], lens[i]);
    check_bytes(line, &b, want, text);
}

#define SEC(id, ...) id, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

/* Up to five sections; unused ones are NONE (a NULL body). */
static void sections5(int line, const char *text, uint8_t id0, const uint8_t *s0, size_t n0,
                      uint8_t id1, const uint8_t *s1, size_t n1, uint8_t id2, const uint8_t *s2,
                      size_t n2, uint8_t id3, const uint8_t *s3, size_t n3, uint8_t id4,
                      const uint8_t *s4, size_t n4) {
    const uint8_t *secs[5] = {s0, s1, s2, s3, s4};
    const size_t lens[5] = {n0, n1, n2, n3, n4};
    const uint8_t ids[5] = {id0, id1, id2, id3, id4};
    size_t n = 0;
    while (n < 5 && secs[n])
        n++;
    check_sections(line, text ? WP_ERR_INVALID : WP_OK, text, secs, lens, ids, n);
}

#define NONE 0, NULL, 0
#define MODULE(text, a, b, c, d, e) sections5(__LINE__, text, a, b, c, d, e)

static void test_memories_and_limits(void) {
    MODULE("multiple memories", SEC(5, 2, 0, 1, 0, 1), NONE, NONE, NONE, NONE);
    MODULE("multiple memories", SEC(2, 1, 1, 'm', 1, 'a', 2, 0, 1), SEC(5, 1, 0, 1), NONE, NONE,
           NONE);
    MODULE("memory size must be at most 65536 pages (4GiB)", SEC(5, 1, 0, 0x81, 0x80, 0x04), NONE,
           NONE, NONE, NONE);
    MODULE("memory size must be at most 65536 pages (4GiB)", SEC(5, 1, 1, 0, 0x81, 0x80, 0x04),
           NONE, NONE, NONE, NONE);
    MODULE(NULL, SEC(5, 1, 1, 0x80, 0x80, 0x04, 0x80, 0x80, 0x04), NONE, NONE, NONE, NONE);
    MODULE("size minimum must not be greater than maximum", SEC(5, 1, 1, 2, 1), NONE, NONE, NONE,
           NONE);
    MODULE("size minimum must not be greater than maximum", SEC(4, 1, 0x70, 1, 5, 4), NONE, NONE,
           NONE, NONE);
    MODULE(NULL, SEC(4, 1, 0x70, 1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0xff, 0xff, 0xff, 0xff, 0x0f),
           NONE, NONE, NONE, NONE);
}

static void test_exports_and_start(void) {
    /* type () -> (); one function; exports; code */
#define TYPES SEC(1, 1, 0x60, 0, 0)
#define FUNCS SEC(3, 1, 0)
#define CODE SEC(10, 1, 2, 0, 0x0b)
    MODULE("duplicate export name", TYPES, FUNCS, SEC(7, 2, 1, 'a', 0, 0, 1, 'a', 0, 0), CODE,
           NONE);
    MODULE(NULL, TYPES, FUNCS, SEC(7, 2, 1, 'a', 0, 0, 1, 'b', 0, 0), CODE, NONE);
    MODULE("unknown function", TYPES, FUNCS, SEC(7, 1, 1, 'a', 0, 1), CODE, NONE);
    MODULE("unknown memory", TYPES, FUNCS, SEC(7, 1, 1, 'a', 2, 0), CODE, NONE);
    MODULE("unknown table", TYPES, FUNCS, SEC(7, 1, 1, 'a', 1, 0), CODE, NONE);
    MODULE("unknown global", TYPES, FUNCS, SEC(7, 1, 1, 'a', 3, 0), CODE, NONE);
    MODULE(NULL, TYPES, FUNCS, SEC(8, 0), CODE, NONE);
    MODULE("unknown function", TYPES, FUNCS, SEC(8, 1), CODE, NONE);
    MODULE("start function", SEC(1, 1, 0x60, 1, 0x7f, 0), FUNCS, SEC(8, 0), SEC(10, 1, 2, 0, 0x0b),
           NONE);
    MODULE("start function", SEC(1, 1, 0x60, 0, 1, 0x7f), FUNCS, SEC(8, 0),
           SEC(10, 1, 4, 0, 0x41, 0, 0x0b), NONE);
    MODULE("unknown type", SEC(1, 1, 0x60, 0, 0), SEC(3, 1, 1), CODE, NONE, NONE);
    MODULE("unknown type", SEC(2, 1, 1, 'm', 1, 'f', 0, 3), NONE, NONE, NONE, NONE);
}

static void test_constant_exprs(void) {
    /* imports: global 0 = immutable i32, global 1 = mutable i32 */
#define IMPORTS SEC(2, 2, 1, 'm', 1, 'a', 3, 0x7f, 0, 1, 'm', 1, 'b', 3, 0x7f, 1)
    MODULE(NULL, IMPORTS, SEC(6, 1, 0x7f, 0, 0x23, 0, 0x0b), NONE, NONE, NONE);
    MODULE("constant expression required", IMPORTS, SEC(6, 1, 0x7f, 0, 0x23, 1, 0x0b), NONE, NONE,
           NONE);
    MODULE("type mismatch", IMPORTS, SEC(6, 1, 0x7e, 0, 0x23, 0, 0x0b), NONE, NONE, NONE);
    MODULE("unknown global", IMPORTS, SEC(6, 1, 0x7f, 0, 0x23, 2, 0x0b), NONE, NONE, NONE);
    /* WebAssembly 2.0: a defined global is not visible to constant expressions. */
    MODULE("unknown global", SEC(6, 2, 0x7f, 0, 0x41, 0, 0x0b, 0x7f, 0, 0x23, 0, 0x0b), NONE, NONE,
           NONE, NONE);
    MODULE("type mismatch", SEC(6, 1, 0x7f, 0, 0x42, 0, 0x0b), NONE, NONE, NONE, NONE);
    MODULE("type mismatch", SEC(6, 1, 0x70, 0, 0xd0, 0x6f, 0x0b), NONE, NONE, NONE, NONE);
    MODULE("unknown function", SEC(6, 1, 0x70, 0, 0xd2, 0, 0x0b), NONE, NONE, NONE, NONE);
    /* A global initialised with ref.func declares the function for bodies. */
    MODULE(NULL, TYPES, FUNCS, SEC(6, 1, 0x70, 0, 0xd2, 0, 0x0b),
           SEC(10, 1, 5, 0, 0xd2, 0, 0x1a, 0x0b), NONE);
    /* Offsets must be i32. */
    MODULE("type mismatch", SEC(5, 1, 0, 1), SEC(11, 1, 0, 0x42, 0, 0x0b, 0), NONE, NONE, NONE);
    MODULE("unknown memory", SEC(11, 1, 0, 0x41, 0, 0x0b, 0), NONE, NONE, NONE, NONE);
}

static void test_element_segments(void) {
#define TABLES SEC(4, 2, 0x70, 0, 1, 0x6f, 0, 1)
    MODULE(NULL, TYPES, FUNCS, TABLES, SEC(9, 1, 0, 0x41, 0, 0x0b, 1, 0), CODE);
    MODULE("type mismatch", TYPES, FUNCS, TABLES, SEC(9, 1, 2, 1, 0x41, 0, 0x0b, 0, 1, 0), CODE);
    MODULE("type mismatch", TYPES, FUNCS, TABLES, SEC(9, 1, 4, 0x42, 0, 0x0b, 0), CODE);
    MODULE("unknown table", TYPES, FUNCS, TABLES, SEC(9, 1, 2, 2, 0x41, 0, 0x0b, 0, 0), CODE);
    MODULE("unknown function", TYPES, FUNCS, TABLES, SEC(9, 1, 1, 0, 1, 4), CODE);
    /* Expression items must have the segment's type. */
    MODULE("type mismatch", TYPES, FUNCS, TABLES, SEC(9, 1, 5, 0x70, 1, 0xd0, 0x6f, 0x0b), CODE);
    MODULE("type mismatch", TYPES, FUNCS, TABLES, SEC(9, 1, 5, 0x70, 1, 0x41, 0, 0x0b), CODE);
    MODULE(NULL, TYPES, FUNCS, TABLES, SEC(9, 1, 5, 0x6f, 1, 0xd0, 0x6f, 0x0b), CODE);
#undef TABLES
#undef TYPES
#undef FUNCS
#undef CODE
#undef IMPORTS
}

/* An imported function returning WP_MAX_FUNC_RESULTS values, called until the operand stack
 * would pass WP_MAX_OPERAND_DEPTH: the validator stops instead of allocating without bound. */
static void test_operand_depth_limit(void) {
    uint32_t nresults = WP_MAX_FUNC_RESULTS;
    uint32_t calls = WP_MAX_OPERAND_DEPTH / nresults + 1;
    static wb b; /* large: keep it off the stack */
    wb s = {0};
    memset(&b, 0, sizeof b);
    wb_header(&b);
    wb_bytes(&s, (const uint8_t[]){2, 0x60, 0}, 3);
    wb_u32(&s, nresults);
    for (uint32_t i = 0; i < nresults; i++)
        wb_byte(&s, 0x7f);
    wb_bytes(&s, (const uint8_t[]){0x60, 0, 0}, 3);
    wb_section(&b, 1, &s);
    wb_section_raw(&b, 2, (const uint8_t[]){1, 1, 'm', 1, 'f', 0, 0}, 7);
    wb_section_raw(&b, 3, (const uint8_t[]){1, 1}, 2);
    /* The body (2 bytes per call) does not fit a wb: write the code section by hand. */
    size_t body_len = 1 + 2 * (size_t)calls + 1;
    size_t len = b.len + 16 + body_len;
    uint8_t *bytes = malloc(len);
    CHECK(bytes != NULL);
    if (!bytes)
        return;
    memcpy(bytes, b.buf, b.len);
    wb head = {0};
    wb_byte(&head, 10);
    wb_u32(&head, (uint32_t)(body_len + 1 + 5)); /* count, body size (5-byte LEB), body */
    wb_byte(&head, 1);
    wb_bytes(&head,
             (const uint8_t[]){0x80 | (body_len & 0x7f), 0x80 | ((body_len >> 7) & 0x7f),
                               0x80 | ((body_len >> 14) & 0x7f), 0x80 | ((body_len >> 21) & 0x7f),
                               (body_len >> 28) & 0x7f},
             5);
    size_t n = b.len;
    memcpy(bytes + n, head.buf, head.len);
    n += head.len;
    bytes[n++] = 0; /* no locals */
    for (uint32_t i = 0; i < calls; i++) {
        bytes[n++] = WP_OP_CALL;
        bytes[n++] = 0;
    }
    bytes[n++] = END;
    wp_module *m = NULL;
    wp_err err = {0};
    CHECK_EQ(wp_module_decode(bytes, n, &m, &err), WP_ERR_INVALID);
    CHECK_STR_CONTAINS(err.msg, "operand stack deeper than WP_MAX_OPERAND_DEPTH");
    free(bytes);
}

/* The validator's stacks grow past their first size; fail each allocation in turn. */
static void test_validator_out_of_memory(void) {
    wb code = {0};
    for (int i = 0; i < 100; i++)
        wb_bytes(&code, (const uint8_t[]){WP_OP_BLOCK, 0x40}, 2);
    for (int i = 0; i < 100; i++)
        wb_bytes(&code, (const uint8_t[]){I32C(1)}, 2);
    for (int i = 0; i < 99; i++)
        wb_byte(&code, WP_OP_I32_ADD);
    wb_byte(&code, DROP);
    for (int i = 0; i < 101; i++)
        wb_byte(&code, END);
    wb b = {0};
    func_module(&b, ":", code.buf, code.len, 0);
    CHECK(!b.overflow);
    check_bytes(__LINE__, &b, WP_OK, NULL);
    test_heap th;
    test_heap_init(&th);
    long k = 0;
    for (;; k++) {
        wp_module *m = NULL;
        wp_err err = {0};
        test_heap_fail_at(&th, k);
        wp_status st = wp_module_decode_in(&th.heap, b.buf, b.len, &m, &err);
        if (st == WP_OK) {
            wp_module_free(m);
            break;
        }
        CHECK_EQ(st, WP_ERR_NOMEM);
        CHECK_EQ(th.heap.used, 0);
        if (st != WP_ERR_NOMEM || k > 1000)
            break;
    }
    CHECK(k > 4);
    CHECK_EQ(th.heap.used, 0);
}

int main(void) {
    RUN_TEST(test_numeric);
    RUN_TEST(test_unknown_indices);
    RUN_TEST(test_data_count_required);
    RUN_TEST(test_unreachable_typing);
    RUN_TEST(test_br_table);
    RUN_TEST(test_select);
    RUN_TEST(test_variables);
    RUN_TEST(test_references);
    RUN_TEST(test_memory);
    RUN_TEST(test_tables);
    RUN_TEST(test_control);
    RUN_TEST(test_memories_and_limits);
    RUN_TEST(test_exports_and_start);
    RUN_TEST(test_constant_exprs);
    RUN_TEST(test_element_segments);
    RUN_TEST(test_operand_depth_limit);
    RUN_TEST(test_validator_out_of_memory);
    return TEST_EXIT();
}
