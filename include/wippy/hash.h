/* wippy/hash.h: SHA-256 (over OpenSSL's libcrypto), for module integrity and cache keys. */
#ifndef WIPPY_HASH_H
#define WIPPY_HASH_H

#include "wippy/base.h"

#define WP_SHA256_LEN 32u                      /* bytes of a digest */
#define WP_SHA256_HEX_LEN (2u * WP_SHA256_LEN) /* lowercase hex digits, without the NUL */

/* The SHA-256 digest of len bytes at data (data may be NULL when len is 0).
 * Fails: WP_ERR_INTERNAL if libcrypto refuses (err says so), WP_ERR_NOMEM. */
WP_API wp_status wp_sha256(const void *data, size_t len, uint8_t out[WP_SHA256_LEN], wp_err *err);

/* Writes a digest as WP_SHA256_HEX_LEN lowercase hex digits and a NUL. */
WP_API void wp_sha256_hex(const uint8_t digest[WP_SHA256_LEN], char out[WP_SHA256_HEX_LEN + 1]);

#endif
