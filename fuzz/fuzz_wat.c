/* fuzz_wat.c: libFuzzer target over module text: wp_wat_to_wasm, then everything
 * fuzz_module does with the binary. */
#include "harness.h"
#include "wippy/wat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *bin = NULL;
    size_t len = 0;
    wp_err err = {0};
    wp_status st = wp_wat_to_wasm((const char *)data, size, &bin, &len, &err);
    fuzz_expect_status(st,
                       FUZZ_STATUS_BIT(WP_OK) | FUZZ_STATUS_BIT(WP_ERR_INVALID) |
                           FUZZ_STATUS_BIT(WP_ERR_UNSUPPORTED) | FUZZ_STATUS_BIT(WP_ERR_NOMEM),
                       "wp_wat_to_wasm", &err);
    if (st == WP_OK)
        fuzz_module_bytes(bin, len);
    wp_wat_free(bin);
    return 0;
}
