/* hash.c: SHA-256 through OpenSSL's EVP interface. */
#include <openssl/evp.h>

#include "wippy/hash.h"

wp_status wp_sha256(const void *data, size_t len, uint8_t out[WP_SHA256_LEN], wp_err *err) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return wp_err_set(err, WP_ERR_NOMEM, "sha256: out of memory");
    unsigned int n = 0;
    int ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(ctx, len ? data : "", len) && EVP_DigestFinal_ex(ctx, out, &n);
    EVP_MD_CTX_free(ctx);
    if (!ok || n != WP_SHA256_LEN)
        return wp_err_set(err, WP_ERR_INTERNAL, "sha256: libcrypto failed");
    return WP_OK;
}

void wp_sha256_hex(const uint8_t digest[WP_SHA256_LEN], char out[WP_SHA256_HEX_LEN + 1]) {
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < WP_SHA256_LEN; i++) {
        out[2 * i] = digits[digest[i] >> 4];
        out[2 * i + 1] = digits[digest[i] & 15];
    }
    out[WP_SHA256_HEX_LEN] = '\0';
}
