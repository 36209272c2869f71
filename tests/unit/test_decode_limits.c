/* test_decode_limits.c: byte offsets in module-level errors; caps against hostile modules. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "../../src/wasm/internal.h"
#include "test.h"
#include "wasm_bytes.h"

/* The offsets below are counted by hand: the header is bytes 0-7, so the first section's id is
 * at 8 and its size at 9 (one byte while the section is under 128 bytes). */
#define HDR 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00
#define TYPES 1, 4, 1, 0x60, 0, 0 /* bytes 8-13: one type [] -> [] */
#define FUNCS 3, 2, 1, 0          /* bytes 14-17: one function of type 0 */
#define CODE 10, 4, 1, 2, 0, 0x0b /* its body: no locals, end */

/* Decodes through a test heap; the error must be INVALID and read "at 0x<off>: <why>...",
 * with nothing left allocated. */
static void expect_at(int line, const uint8_t *bytes, size_t len, size_t off, const char *why) {
    int before = test_failures;
    char want[160];
    snprintf(want, sizeof want, "at 0x%zx: %s", off, why);
    test_heap th;
    test_heap_init(&th);
    wp_module *m = NULL;
    wp_err err = {0};
    wp_status st = wp_module_decode_in(&th.heap, bytes, len, &m, &err);
    CHECK_EQ(st, WP_ERR_INVALID);
    CHECK(strncmp(err.msg, want, strlen(want)) == 0);
    CHECK_EQ(th.heap.used, 0);
    if (st == WP_OK)
        wp_module_free(m);
    if (test_failures != before)
        fprintf(stderr, "  (line %d: want \"%s\", got \"%s\")\n", line, want, err.msg);
}

#define EXPECT_AT(arr, off, why) expect_at(__LINE__, arr, sizeof arr, off, why)

static bool decodes(const uint8_t *bytes, size_t len) {
    wp_module *m = NULL;
    wp_err err = {0};
    wp_status st = wp_module_decode(bytes, len, &m, &err);
    if (st != WP_OK)
        fprintf(stderr, "  (unexpected: %s)\n", err.msg);
    wp_module_free(m);
    return st == WP_OK;
}

/* ---- Rules the decoder checks where it reads the entry --------------------------------------- */

static void test_limits_offsets(void) {
    /* memory section: count at 10, flags at 11, min at 12, max at 13 */
    static const uint8_t min_pages[] = {HDR, 5, 5, 1, 0, 0x81, 0x80, 0x04};
    static const uint8_t max_pages[] = {HDR, 5, 6, 1, 1, 0, 0x81, 0x80, 0x04};
    static const uint8_t mem_min_max[] = {HDR, 5, 4, 1, 1, 2, 1};
    /* table section: count at 10, reftype at 11, flags at 12, min at 13, max at 14 */
    static const uint8_t table_min_max[] = {HDR, 4, 5, 1, 0x70, 1, 5, 4};
    /* import "m" "a" memory: count 10, names 11-14, kind 15, flags 16, min 17 */
    static const uint8_t import_pages[] = {HDR, 2, 10, 1, 1, 'm', 1, 'a', 2, 0, 0x81, 0x80, 0x04};
    static const uint8_t at_limit[] = {HDR, 5, 8, 1, 1, 0x80, 0x80, 0x04, 0x80, 0x80, 0x04};
    EXPECT_AT(min_pages, 0xc, "memory size must be at most 65536 pages (4GiB)");
    EXPECT_AT(max_pages, 0xd, "memory size must be at most 65536 pages (4GiB)");
    EXPECT_AT(mem_min_max, 0xd, "size minimum must not be greater than maximum");
    EXPECT_AT(table_min_max, 0xe, "size minimum must not be greater than maximum");
    EXPECT_AT(import_pages, 0x11, "memory size must be at most 65536 pages (4GiB)");
    CHECK(decodes(at_limit, sizeof at_limit));
}

static void test_memory_count_offsets(void) {
    /* memory section: count at 10, first memory at 11-12, second at 13 */
    static const uint8_t two_defined[] = {HDR, 5, 5, 2, 0, 1, 0, 1};
    /* import section 8-17 (content 10-17); memory section: id 18, size 19, count 20, entry 21 */
    static const uint8_t imported_and_defined[] = {HDR, 2, 8, 1, 1, 'm', 1,
                                                   'a', 2, 0, 1, 5, 3, 1, 0, 1};
    /* import section: count at 10, first import 11-17, second import at 18 */
    static const uint8_t two_imported[] = {HDR, 2,   15, 2, 1,   'm', 1, 'a', 2, 0,
                                           1,   1,   'm', 1, 'b', 2,   0, 1};
    EXPECT_AT(two_defined, 0xd, "multiple memories");
    EXPECT_AT(imported_and_defined, 0x15, "multiple memories");
    EXPECT_AT(two_imported, 0x12, "multiple memories");
}

static void test_type_index_offsets(void) {
    /* function section: id 14, size 15, count 16, type index 17 */
    static const uint8_t func_type[] = {HDR, TYPES, 3, 2, 1, 1, CODE};
    /* import section: id 14, size 15, count 16, names 17-20, kind 21, type index 22 */
    static const uint8_t import_type[] = {HDR, TYPES, 2, 7, 1, 1, 'm', 1, 'f', 0, 3};
    EXPECT_AT(func_type, 0x11, "unknown type");
    EXPECT_AT(import_type, 0x16, "unknown type");
}

/* A type section of one type with np i32 params and nr i32 results. */
static void wide_type(wb *b, uint32_t np, uint32_t nr) {
    wb s = {0};
    wb_byte(&s, 1);
    wb_byte(&s, 0x60);
    wb_u32(&s, np);
    for (uint32_t i = 0; i < np; i++)
        wb_byte(&s, 0x7f);
    wb_u32(&s, nr);
    for (uint32_t i = 0; i < nr; i++)
        wb_byte(&s, 0x7f);
    b->len = 0;
    wb_header(b);
    wb_section(b, 1, &s);
}

static void test_func_type_caps(void) {
    static wb b; /* 2 KB of types: keep it off the stack */
    wide_type(&b, WP_MAX_FUNC_PARAMS, WP_MAX_FUNC_RESULTS);
    CHECK(!b.overflow);
    CHECK(decodes(b.buf, b.len));
    /* The section's size takes two bytes (8-10): count at 11, form at 12, param count at 13;
     * with no params, the result count is at 14. */
    wide_type(&b, WP_MAX_FUNC_PARAMS + 1, 0);
    expect_at(__LINE__, b.buf, b.len, 0xd, "too many params");
    wide_type(&b, 0, WP_MAX_FUNC_RESULTS + 1);
    expect_at(__LINE__, b.buf, b.len, 0xe, "too many results");
}

/* ---- Rules the validator checks, at the offsets the decoder recorded ------------------------- */

static void test_export_offsets(void) {
    /* export section: id 18, size 19, count 20, first entry at 21 */
    static const uint8_t func[] = {HDR, TYPES, FUNCS, 7, 5, 1, 1, 'a', 0, 1, CODE};
    static const uint8_t table[] = {HDR, TYPES, FUNCS, 7, 5, 1, 1, 'a', 1, 0, CODE};
    static const uint8_t memory[] = {HDR, TYPES, FUNCS, 7, 5, 1, 1, 'a', 2, 0, CODE};
    static const uint8_t global[] = {HDR, TYPES, FUNCS, 7, 5, 1, 1, 'a', 3, 0, CODE};
    /* four entries of four bytes at 21, 25, 29, 33: "b" "a" "a" "b", then "b" "a" "b" "a". In
     * both the first repeated name, in binary order, is the third entry's. */
    static const uint8_t dup1[] = {HDR, TYPES, FUNCS, 7,   17, 4, 1, 'b', 0, 0, 1,  'a', 0,
                                   0,   1,     'a', 0, 0, 1, 'b', 0, 0, CODE};
    static const uint8_t dup2[] = {HDR, TYPES, FUNCS, 7,   17, 4, 1, 'b', 0, 0, 1,  'a', 0,
                                   0,   1,     'b', 0, 0, 1, 'a', 0, 0, CODE};
    static const uint8_t distinct[] = {HDR, TYPES, FUNCS, 7,   14, 3, 1, 'a', 0, 0, 2, 'a',
                                       'b', 0,     0,     1, 'b', 0,  0, CODE};
    EXPECT_AT(func, 0x15, "unknown function");
    EXPECT_AT(table, 0x15, "unknown table");
    EXPECT_AT(memory, 0x15, "unknown memory");
    EXPECT_AT(global, 0x15, "unknown global");
    EXPECT_AT(dup1, 0x1d, "duplicate export name");
    EXPECT_AT(dup2, 0x1d, "duplicate export name");
    CHECK(decodes(distinct, sizeof distinct));
}

/* Many exports, one repeated name far apart: sorting finds it, at the later entry. */
static void test_many_exports(void) {
    static wb b;
    wb s = {0};
    uint32_t n = 500;
    size_t dup_at = 0;
    memset(&b, 0, sizeof b);
    wb_u32(&s, n + 1);
    for (uint32_t i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "e%03u", (unsigned)(n - 1 - i)); /* descending */
        wb_name(&s, name);
        wb_bytes(&s, (const uint8_t[]){0, 0}, 2);
    }
    dup_at = s.len;
    wb_name(&s, "e250");
    wb_bytes(&s, (const uint8_t[]){0, 0}, 2);
    wb_header(&b);
    wb_section_raw(&b, 1, (const uint8_t[]){1, 0x60, 0, 0}, 4);
    wb_section_raw(&b, 3, (const uint8_t[]){1, 0}, 2);
    size_t head = b.len + 1 + 2; /* the export section's id and two-byte size */
    wb_section(&b, 7, &s);
    wb_section_raw(&b, 10, (const uint8_t[]){1, 2, 0, 0x0b}, 4);
    CHECK(!b.overflow);
    expect_at(__LINE__, b.buf, b.len, head + dup_at, "duplicate export name");
}

static void test_start_offsets(void) {
    /* start section: id 18, size 19, index 20 */
    static const uint8_t unknown[] = {HDR, TYPES, FUNCS, 8, 1, 1, CODE};
    /* type [] -> [i32] is bytes 8-14, functions 15-18; start: id 19, size 20, index 21 */
    static const uint8_t bad_type[] = {HDR, 1, 5, 1,    0x60, 0, 1, 0x7f, 3, 2, 1, 0,
                                       8,   1, 0, 10,   6,    1, 4, 0,    0x41, 0, 0x0b};
    EXPECT_AT(unknown, 0x14, "unknown function");
    EXPECT_AT(bad_type, 0x15, "start function must be [] -> []");
}

static void test_segment_offsets(void) {
    /* tables funcref and externref: bytes 18-26; element section: id 27, size 28, count 29,
     * segment at 30 */
#define TABLES 4, 7, 2, 0x70, 0, 1, 0x6f, 0, 1
    static const uint8_t unknown_table[] = {HDR,  TYPES, FUNCS, TABLES, 9, 8, 1,
                                            2,    2,     0x41,  0,      0x0b, 0, 0, CODE};
    static const uint8_t table_type[] = {HDR,  TYPES, FUNCS, TABLES, 9, 9, 1,    2,
                                         1,    0x41,  0,     0x0b,   0, 1, 0, CODE};
    /* passive segment at 30: flags 30, kind 31, count 32, function index 33 */
    static const uint8_t unknown_item[] = {HDR, TYPES, FUNCS, TABLES, 9, 5, 1, 1, 0, 1, 4, CODE};
    /* active segment at 30: flags 30, offset expression at 31 */
    static const uint8_t offset_type[] = {HDR, TYPES, FUNCS, TABLES, 9, 6, 1, 0,
                                          0x42, 0,    0x0b, 0, CODE};
#undef TABLES
    /* data section: id 8, size 9, count 10, segment at 11 */
    static const uint8_t unknown_memory[] = {HDR, 11, 6, 1, 0, 0x41, 0, 0x0b, 0};
    /* memory 8-12; data: id 13, size 14, count 15, flags 16, offset expression 17 */
    static const uint8_t data_offset[] = {HDR, 5, 3, 1, 0, 1, 11, 6, 1, 0, 0x42, 0, 0x0b, 0};
    EXPECT_AT(unknown_table, 0x1e, "unknown table");
    EXPECT_AT(table_type, 0x1e, "type mismatch");
    EXPECT_AT(unknown_item, 0x21, "unknown function");
    EXPECT_AT(offset_type, 0x1f, "type mismatch");
    EXPECT_AT(unknown_memory, 0xb, "unknown memory");
    EXPECT_AT(data_offset, 0x11, "type mismatch");
}

static void test_global_offsets(void) {
    /* global section: id 8, size 9, count 10, type 11, mutability 12, init at 13 */
    static const uint8_t init_type[] = {HDR, 6, 6, 1, 0x7f, 0, 0x42, 0, 0x0b};
    /* imports "m" "a" (immutable) and "m" "b" (mutable): bytes 8-24; globals: id 25, size 26,
     * count 27, type 28, mutability 29, init at 30 */
    static const uint8_t mutable_get[] = {HDR, 2,   15, 2,    1, 'm', 1,   'a', 3,    0x7f,
                                          0,   1,   'm', 1,   'b', 3,  0x7f, 1,   6,    6,
                                          1,   0x7f, 0,  0x23, 1,   0x0b};
    EXPECT_AT(init_type, 0xd, "type mismatch");
    EXPECT_AT(mutable_get, 0x1e, "constant expression required");
}

/* Body errors name the instruction's offset too. */
static void test_body_offset(void) {
    /* code section: id 18, size 19, count 20, body size 21, locals 22, i32.const 23-24,
     * i64.const 25-26, i32.add at 27 */
    static const uint8_t add[] = {HDR, TYPES, FUNCS, 10, 10,   1, 8,    0,
                                  0x41, 1,    0x42,  1,  0x6a, 0x1a, 0x0b};
    EXPECT_AT(add, 0x1b, "type mismatch in i32.add");
}

/* A length past 4 GiB fails before the bytes are read: the culprit is the first byte past
 * what 32-bit offsets can name. */
static void test_module_too_large(void) {
    static const uint8_t hdr[] = {HDR};
    if (SIZE_MAX <= UINT32_MAX)
        return;
    expect_at(__LINE__, hdr, (size_t)UINT32_MAX + 1, (size_t)UINT32_MAX + 1, "module too large");
}

/* Every byte of a valid module changed in a few ways, and every truncation: an INVALID error
 * always reads "at 0x<offset>: " with an offset inside the module. */
static bool error_has_offset(const uint8_t *bytes, size_t len, size_t *bad_len, char *msg) {
    wp_module *m = NULL;
    wp_err err = {0};
    wp_status st = wp_module_decode(bytes, len, &m, &err);
    wp_module_free(m);
    if (st != WP_ERR_INVALID && st != WP_ERR_UNSUPPORTED)
        return true;
    unsigned long long off = 0;
    int used = 0;
    bool good = sscanf(err.msg, "at 0x%llx: %n", &off, &used) == 1 && used > 0 && off <= len;
    if (!good && *bad_len == 0) {
        *bad_len = len;
        snprintf(msg, WP_ERR_MSG_MAX, "%s", err.msg);
    }
    return good;
}

static void test_every_error_has_offset(void) {
    size_t len = 0;
    unsigned char *orig = test_fixture("decode_full", &len);
    CHECK(orig != NULL);
    if (!orig)
        return;
    unsigned char *bytes = malloc(len);
    CHECK(bytes != NULL);
    size_t bad_len = 0;
    char msg[WP_ERR_MSG_MAX] = "";
    long bad = 0;
    for (size_t i = 0; bytes && i < len; i++) {
        const uint8_t subst[] = {orig[i] ^ 1, orig[i] ^ 0x80, 0, 0x7f, 0xff};
        for (size_t k = 0; k < sizeof subst; k++) {
            memcpy(bytes, orig, len);
            bytes[i] = subst[k];
            bad += !error_has_offset(bytes, len, &bad_len, msg);
        }
        bad += !error_has_offset(orig, i, &bad_len, msg); /* truncated before byte i */
    }
    CHECK_EQ(bad, 0);
    if (bad)
        fprintf(stderr, "  (first without an offset, %zu bytes: %s)\n", bad_len, msg);
    free(bytes);
    free(orig);
}

/* ---- Caps against hostile modules ------------------------------------------------------------ */

static size_t leb_len(uint32_t v) {
    size_t n = 1;
    while (v >>= 7)
        n++;
    return n;
}

/* Bodies that each declare WP_MAX_FUNC_LOCALS locals, then one that brings the module's total
 * to WP_MAX_MODULE_LOCALS + extra. Sets *last_group to the offset of that body's group count. */
static void locals_module(wb *b, uint32_t extra, size_t *last_group) {
    uint32_t per = WP_MAX_FUNC_LOCALS;
    uint32_t full = WP_MAX_MODULE_LOCALS / per;
    uint32_t rest = WP_MAX_MODULE_LOCALS % per + extra;
    wb funcs = {0};
    wb code = {0};
    wb_u32(&funcs, full + 1);
    wb_u32(&code, full + 1);
    for (uint32_t i = 0; i <= full; i++) {
        uint32_t n = i < full ? per : rest;
        wb_byte(&funcs, 0);
        wb_u32(&code, (uint32_t)(1 + leb_len(n) + 2));
        if (i == full)
            *last_group = code.len + 1; /* past the group count byte, at the first group */
        wb_byte(&code, 1);
        wb_u32(&code, n);
        wb_bytes(&code, (const uint8_t[]){0x7f, 0x0b}, 2);
    }
    memset(b, 0, sizeof *b);
    wb_header(b);
    wb_section_raw(b, 1, (const uint8_t[]){1, 0x60, 0, 0}, 4);
    wb_section(b, 3, &funcs);
    *last_group += b->len + 1 + leb_len((uint32_t)code.len);
    wb_section(b, 10, &code);
}

static void test_module_locals_cap(void) {
    static wb b;
    size_t at = 0;
    locals_module(&b, 0, &at);
    CHECK(!b.overflow);
    wp_module *m = NULL;
    wp_err err = {0};
    CHECK_EQ(wp_module_decode(b.buf, b.len, &m, &err), WP_OK);
    if (m) {
        uint64_t total = 0;
        for (uint32_t i = 0; i < m->nfuncs; i++)
            total += m->funcs[i].nlocals;
        CHECK_EQ(total, WP_MAX_MODULE_LOCALS);
    }
    wp_module_free(m);
    locals_module(&b, 1, &at);
    CHECK(!b.overflow);
    expect_at(__LINE__, b.buf, b.len, at, "too many locals in the module");
}

/* v as a five-byte (padded) LEB128, for sizes and counts of large generated modules. */
static size_t put_leb5(uint8_t *p, uint32_t v) {
    for (int k = 0; k < 5; k++, v >>= 7)
        p[k] = (uint8_t)((v & 0x7f) | (k < 4 ? 0x80 : 0));
    return 5;
}

/* A module of one function whose body is 'body' (n bytes, final end included), after the
 * sections in 'head' (header, types, imports, functions). */
static uint8_t *big_module(const wb *head, const uint8_t *body, size_t n, size_t *len) {
    size_t code_size = 1 + 5 + 1 + n; /* count, body size, no locals, body */
    uint8_t *out = malloc(head->len + 1 + 5 + code_size);
    if (!out)
        return NULL;
    size_t at = head->len;
    memcpy(out, head->buf, head->len);
    out[at++] = 10;
    at += put_leb5(out + at, (uint32_t)code_size);
    out[at++] = 1;
    at += put_leb5(out + at, (uint32_t)(1 + n));
    out[at++] = 0;
    memcpy(out + at, body, n);
    *len = at + n;
    return out;
}

/* Header, type 0 = [i32 x np] -> [i32 x nr], type 1 = [] -> [], function "m" "f" of type 0
 * imported, one function of type 1 defined. */
static void wide_head(wb *b, uint32_t np, uint32_t nr) {
    wb s = {0};
    b->len = 0;
    wb_header(b);
    wb_u32(&s, 2);
    wb_byte(&s, 0x60);
    wb_u32(&s, np);
    for (uint32_t i = 0; i < np; i++)
        wb_byte(&s, 0x7f);
    wb_u32(&s, nr);
    for (uint32_t i = 0; i < nr; i++)
        wb_byte(&s, 0x7f);
    wb_bytes(&s, (const uint8_t[]){0x60, 0, 0}, 3);
    wb_section(b, 1, &s);
    wb_section_raw(b, 2, (const uint8_t[]){1, 1, 'm', 1, 'f', 0, 0}, 7);
    wb_section_raw(b, 3, (const uint8_t[]){1, 1}, 2);
}

/* CPU seconds to decode and validate a module (compiling is another layer's cost); *st gets
 * the status. */
static double decode_seconds(const uint8_t *bytes, size_t len, wp_status *st) {
    wp_module *m = NULL;
    wp_err err = {0};
    clock_t t0 = clock();
    *st = wp__decode(wp_heap_default(), bytes, len, &m, &err);
    if (*st == WP_OK)
        *st = wp__validate(m, &err);
    clock_t t1 = clock();
    if (*st != WP_OK)
        fprintf(stderr, "  (%s)\n", err.msg);
    wp__module_destroy(m);
    return (double)(t1 - t0) / CLOCKS_PER_SEC;
}

/* The same number of body bytes made of the cheapest instruction, as the yardstick. */
static double nop_seconds(const wb *head, size_t n) {
    uint8_t *body = malloc(n);
    size_t len = 0;
    wp_status st = WP_OK;
    if (!body)
        return 0;
    memset(body, WP_OP_NOP, n);
    body[n - 1] = WP_OP_END;
    uint8_t *mod = big_module(head, body, n, &len);
    double t = mod ? decode_seconds(mod, len, &st) : 0;
    CHECK_EQ(st, WP_OK);
    free(mod);
    free(body);
    return t;
}

/* Checks that a hostile body validates and costs at most 'factor' times as much as nops. */
static void check_bounded(int line, const wb *head, const uint8_t *body, size_t n, double factor) {
    size_t len = 0;
    wp_status st = WP_OK;
    uint8_t *mod = big_module(head, body, n, &len);
    CHECK(mod != NULL);
    if (!mod)
        return;
    double base = nop_seconds(head, n);
    double t = decode_seconds(mod, len, &st);
    CHECK_EQ(st, WP_OK);
    CHECK(t <= factor * base + 0.05);
    if (t > factor * base + 0.05)
        fprintf(stderr, "  (line %d: %.3f s, nops %.3f s)\n", line, t, base);
    free(mod);
}

/* Calls of a function taking and returning WP_MAX_FUNC_PARAMS/RESULTS values, two bytes each,
 * and blocks of that type, three bytes each: each moves a thousand types. Before the caps and
 * the memcmp/memcpy paths, 800 KB of such calls took 0.5 s (and 600 KB over 100,000-value
 * types 27 s); now such bodies cost a small multiple of as many nops. */
static void test_wide_types_bounded(void) {
    static wb head;
    size_t calls = 200000;
    size_t n = 2 * calls + 3;
    uint8_t *body = malloc(n);
    CHECK(body != NULL);
    if (!body)
        return;
    wide_head(&head, WP_MAX_FUNC_PARAMS, WP_MAX_FUNC_RESULTS);
    CHECK(!head.overflow);
    body[0] = WP_OP_UNREACHABLE;
    for (size_t i = 0; i < calls; i++)
        body[1 + 2 * i] = WP_OP_CALL, body[2 + 2 * i] = 0;
    body[n - 2] = WP_OP_UNREACHABLE;
    body[n - 1] = WP_OP_END;
    check_bounded(__LINE__, &head, body, n, 40);
    /* block (type 0) end: pops and pushes the params, then the results. */
    size_t blocks = calls * 2 / 3;
    n = 3 * blocks + 3;
    body[0] = WP_OP_UNREACHABLE;
    for (size_t i = 0; i < blocks; i++)
        memcpy(body + 1 + 3 * i, (const uint8_t[]){WP_OP_BLOCK, 0, WP_OP_END}, 3);
    body[n - 2] = WP_OP_UNREACHABLE;
    body[n - 1] = WP_OP_END;
    check_bounded(__LINE__, &head, body, n, 40);
    free(body);
}

/* A br_table of 400,000 labels alternating between a loop and a block whose label types are
 * equal but stored apart, over a thousand values: each label is one memcmp. */
static void test_br_table_bounded(void) {
    static wb head;
    size_t labels = 400000;
    uint8_t *body = malloc(labels + 32);
    CHECK(body != NULL);
    if (!body)
        return;
    /* type 0 = [i32 x R] -> [i32 x R] (the loop), 1 = [] -> [], 2 = [] -> [i32 x R] (the
     * block and f): rebuild the head with a third type. */
    uint32_t r = WP_MAX_FUNC_RESULTS;
    wb s = {0};
    head.len = 0;
    wb_header(&head);
    wb_u32(&s, 3);
    for (int t = 0; t < 3; t++) {
        wb_byte(&s, 0x60);
        wb_u32(&s, t == 0 ? r : 0);
        for (uint32_t i = 0; t == 0 && i < r; i++)
            wb_byte(&s, 0x7f);
        wb_u32(&s, t == 1 ? 0 : r);
        for (uint32_t i = 0; t != 1 && i < r; i++)
            wb_byte(&s, 0x7f);
    }
    wb_section(&head, 1, &s);
    wb_section_raw(&head, 2, (const uint8_t[]){1, 1, 'm', 1, 'f', 0, 2}, 7);
    wb_section_raw(&head, 3, (const uint8_t[]){1, 1}, 2);
    CHECK(!head.overflow);
    /* block 2, call f, loop 0, i32.const 0, br_table <labels> 0, end, end, unreachable, end */
    size_t at = 0;
    const uint8_t pre[] = {WP_OP_BLOCK, 2, WP_OP_CALL, 0, WP_OP_LOOP, 0, WP_OP_I32_CONST, 0,
                           WP_OP_BR_TABLE};
    memcpy(body, pre, sizeof pre);
    at = sizeof pre;
    at += put_leb5(body + at, (uint32_t)labels);
    for (size_t i = 0; i < labels; i++)
        body[at++] = (uint8_t)(i & 1);
    const uint8_t post[] = {0, WP_OP_END, WP_OP_END, WP_OP_UNREACHABLE, WP_OP_END};
    memcpy(body + at, post, sizeof post);
    at += sizeof post;
    check_bounded(__LINE__, &head, body, at, 40);
    free(body);
}

/* Many malformed name sections after many functions: each is dropped at the cost of its own
 * bytes (they used to clear every function's name: 4 s for 850 KB). */
static void test_name_sections_bounded(void) {
    size_t nfuncs = 50000;
    size_t nsections = 25000;
    static const uint8_t bad[] = {0, 7, 4, 'n', 'a', 'm', 'e', 1, 5};
    uint8_t *mod = malloc(64 + nfuncs + sizeof bad * nsections + 3 * nfuncs);
    CHECK(mod != NULL);
    if (!mod)
        return;
    wb head = {0};
    wb_header(&head);
    wb_section_raw(&head, 1, (const uint8_t[]){1, 0x60, 0, 0}, 4);
    memcpy(mod, head.buf, head.len);
    size_t at = head.len;
    mod[at++] = 3; /* nfuncs functions of type 0 */
    at += put_leb5(mod + at, (uint32_t)(5 + nfuncs));
    at += put_leb5(mod + at, (uint32_t)nfuncs);
    memset(mod + at, 0, nfuncs);
    at += nfuncs;
    for (size_t i = 0; i < nsections; i++, at += sizeof bad)
        memcpy(mod + at, bad, sizeof bad);
    mod[at++] = 10; /* their bodies: no locals, end */
    at += put_leb5(mod + at, (uint32_t)(5 + 3 * nfuncs));
    at += put_leb5(mod + at, (uint32_t)nfuncs);
    for (size_t i = 0; i < nfuncs; i++, at += 3)
        memcpy(mod + at, (const uint8_t[]){2, 0, 0x0b}, 3);
    wp_status st = WP_OK;
    double t = decode_seconds(mod, at, &st);
    CHECK_EQ(st, WP_OK);
    CHECK(t < 0.5);
    if (t >= 0.5)
        fprintf(stderr, "  (%.3f s)\n", t);
    free(mod);
}

/* Name sections are all or nothing: a malformed one after a good one leaves its names. */
static void test_name_section_dropped_whole(void) {
    /* module name "mod", then function 0 named "f" */
    static const uint8_t mod[] = {HDR,  TYPES, FUNCS, CODE, 0,   17,  4,   'n', 'a', 'm', 'e', 0,
                                  4,    3,     'm',   'o',  'd', 1,   4,   1,   0,   1,   'f'};
    static const uint8_t bad[] = {0, 9, 4, 'n', 'a', 'm', 'e', 0, 2, 1, 0xff};
    uint8_t both[sizeof mod + sizeof bad];
    memcpy(both, mod, sizeof mod);
    memcpy(both + sizeof mod, bad, sizeof bad);
    wp_module *m = NULL;
    wp_err err = {0};
    CHECK_EQ(wp_module_decode(both, sizeof both, &m, &err), WP_OK);
    if (!m)
        return;
    CHECK(m->module_name.len == 3 && memcmp(m->module_name.ptr, "mod", 3) == 0);
    CHECK(m->funcs[0].name.len == 1 && m->funcs[0].name.ptr[0] == 'f');
    wp_module_free(m);
}

/* Types deduplicated by sorting: equal types far apart share the lowest index. */
static void test_type_canon(void) {
    static wb b;
    wb s = {0};
    uint32_t n = 240;
    memset(&b, 0, sizeof b);
    wb_u32(&s, n);
    for (uint32_t i = 0; i < n; i++) { /* type i: (param i32 x (i % 40)) */
        wb_byte(&s, 0x60);
        wb_u32(&s, i % 40);
        for (uint32_t k = 0; k < i % 40; k++)
            wb_byte(&s, 0x7f);
        wb_byte(&s, 0);
    }
    wb_header(&b);
    wb_section(&b, 1, &s);
    CHECK(!b.overflow);
    wp_module *m = NULL;
    wp_err err = {0};
    CHECK_EQ(wp_module_decode(b.buf, b.len, &m, &err), WP_OK);
    if (!m)
        return;
    for (uint32_t i = 0; i < n; i++)
        CHECK_EQ(m->canon[i], i % 40);
    wp_module_free(m);
}

int main(void) {
    RUN_TEST(test_limits_offsets);
    RUN_TEST(test_memory_count_offsets);
    RUN_TEST(test_type_index_offsets);
    RUN_TEST(test_func_type_caps);
    RUN_TEST(test_export_offsets);
    RUN_TEST(test_many_exports);
    RUN_TEST(test_start_offsets);
    RUN_TEST(test_segment_offsets);
    RUN_TEST(test_global_offsets);
    RUN_TEST(test_body_offset);
    RUN_TEST(test_module_too_large);
    RUN_TEST(test_every_error_has_offset);
    RUN_TEST(test_module_locals_cap);
    RUN_TEST(test_wide_types_bounded);
    RUN_TEST(test_br_table_bounded);
    RUN_TEST(test_name_sections_bounded);
    RUN_TEST(test_name_section_dropped_whole);
    RUN_TEST(test_type_canon);
    return TEST_EXIT();
}
