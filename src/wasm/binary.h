/* binary.h: binary-format helpers shared by the decoder and the validator (src/wasm only). */
#ifndef WP_WASM_BINARY_H
#define WP_WASM_BINARY_H

#include "internal.h"
#include "reader.h"

/* Fails with WP_ERR_INVALID and "at 0x<off>: <why>". Returns WP_ERR_INVALID. */
wp_status wp__bin_invalid(wp_err *err, size_t off, const char *why);

/* Fails with WP_ERR_UNSUPPORTED: SIMD (v128 or the 0xFD prefix) at offset off. */
wp_status wp__bin_simd(wp_err *err, size_t off);

/* Reports a failed read of rd: its reason at its position. Returns WP_ERR_INVALID. */
wp_status wp__bin_read_failed(wp_err *err, const wp_reader *rd);

/* Reads a value type byte. v128 fails as unsupported, anything else unknown as malformed. */
wp_status wp__bin_valtype(wp_reader *rd, wp_valtype *out, wp_err *err);

/* Reads a reference type byte (funcref or externref). */
wp_status wp__bin_reftype(wp_reader *rd, wp_valtype *out, wp_err *err);

/* Orders entries a and b of some array (ctx): negative, zero or positive. */
typedef int (*wp_index_cmp_fn)(const void *ctx, uint32_t a, uint32_t b);

/* Sorts idx[0, n) by cmp in place: O(n log n) comparisons on any input (hostile input cannot
 * make it quadratic as it can a hash table), no allocation, not stable. */
void wp__sort_indices(uint32_t *idx, uint32_t n, wp_index_cmp_fn cmp, const void *ctx);

/* Validates every defined function's body (validate_code.c). */
wp_status wp__validate_code(const wp_module *m, wp_err *err);

static inline bool wp__is_reftype(wp_valtype t) { return t == WP_FUNCREF || t == WP_EXTERNREF; }

#endif
