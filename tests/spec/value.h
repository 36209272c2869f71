/* value.h: spec-test values (arguments and expected results) and how results are matched. */
#ifndef SPEC_VALUE_H
#define SPEC_VALUE_H

#include "json.h"
#include "wippy/wasm.h"

/* What an expected float (or float lane) accepts besides an exact bit pattern. */
typedef enum spec_nan {
    SPEC_NAN_NONE = 0,   /* exactly the bits in the value */
    SPEC_NAN_CANONICAL,  /* a canonical NaN: either sign, only the quiet bit in the payload */
    SPEC_NAN_ARITHMETIC, /* an arithmetic NaN: either sign, the quiet bit set, any payload */
} spec_nan;

#define SPEC_MAX_LANES 16

/* An expected result. Arguments are plain wp_vals (spec_value_parse_arg). */
typedef struct spec_value {
    wp_val val;    /* the exact value, where no pattern below applies */
    spec_nan nan;  /* f32/f64 */
    bool any_ref;  /* funcref/externref written without a value: any non-null reference */
    /* v128 only: the lane shape the script wrote, and a NaN pattern per float lane. */
    unsigned lane_bits; /* 8, 16, 32 or 64 */
    bool lane_float;
    spec_nan lane_nan[SPEC_MAX_LANES];
} spec_value;

/* The host pointer standing for "ref.extern n": n + 1, so that every n is non-null and the
 * pointers are distinct. spec_extern_index() maps back; false for NULL. */
void *spec_extern_ref(uint64_t n);
bool spec_extern_index(const void *ref, uint64_t *n);

/* Parses an integer of 'bits' bits (8, 16, 32 or 64) written in decimal, either unsigned
 * ("4294967295", as wast2json writes every integer and float bit pattern) or negative
 * ("-1", two's complement). Fails (false) on anything else or on overflow. */
bool spec_parse_bits(const char *s, unsigned bits, uint64_t *out);

/* Parses an argument {"type": T, "value": V}: i32/i64 integers, f32/f64 bit patterns,
 * "null" references, "N" for ref.extern N, v128 lanes {"lane_type", "value": [..]}.
 * Fails: WP_ERR_INVALID (err says why): unknown type, bad number, a NaN pattern or a
 * non-null funcref (a script cannot pass those). */
wp_status spec_value_parse_arg(const spec_json *j, wp_val *out, wp_err *err);

/* Parses an expected result: as an argument, plus "nan:canonical" / "nan:arithmetic" for
 * floats and float lanes, and a reference type with no value for "any non-null".
 * Fails: WP_ERR_INVALID. */
wp_status spec_value_parse_expected(const spec_json *j, spec_value *out, wp_err *err);

/* True if got is what e expects: same type; integers and floats bit for bit unless a NaN
 * pattern applies; references by identity (externrefs through spec_extern_ref). */
bool spec_value_matches(const spec_value *e, const wp_val *got);

/* Writes "i32:42", "f32:0x7fc00000", "externref:3", "funcref:null", "v128:i32x4:..." into
 * buf (always NUL-terminated, truncated to size). */
void spec_value_format(const wp_val *v, char *buf, size_t size);
void spec_expected_format(const spec_value *e, char *buf, size_t size);

/* Message checks. spec_text_prefix: msg starts with expected (a trap message, which starts
 * with the trap's text). spec_text_in_chain: some message of an error chain ("ctx: ctx:
 * cause") starts with expected, i.e. msg starts with it or contains ": " followed by it. */
bool spec_text_prefix(const char *msg, const char *expected);
bool spec_text_in_chain(const char *msg, const char *expected);

#endif
