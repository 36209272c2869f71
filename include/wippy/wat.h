/* wippy/wat.h: the WebAssembly text format reader (part of the wasm layer). */
#ifndef WIPPY_WAT_H
#define WIPPY_WAT_H

#include "wippy/base.h"

/* Translates WebAssembly 2.0 text into a module binary. The text is one module: either
 * "(module ...)" or its fields alone, as in "(func ...) (memory 1)".
 * text:  borrowed; need not be NUL-terminated.
 * *out:  set on WP_OK to a buffer of *out_len bytes, owned by the caller; release it with
 *        wp_wat_free(). The binary is not validated: decode it to check it.
 * Fails: WP_ERR_INVALID for malformed text, err says "line L, column C: reason";
 *        WP_ERR_UNSUPPORTED for SIMD; WP_ERR_NOMEM. Nothing is leaked on failure. */
WP_API wp_status wp_wat_to_wasm(const char *text, size_t len, uint8_t **out, size_t *out_len,
                                wp_err *err);

/* Releases a binary returned by wp_wat_to_wasm. Accepts NULL. */
WP_API void wp_wat_free(uint8_t *bytes);

#endif
