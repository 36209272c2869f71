/* fuzz_wit.c: libFuzzer target over WIT signature text: parse; for every function, print it,
 * flatten it to its core type and check that the signature accepts that very type. */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "wippy/component.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!sink && !(sink = fopen("/dev/null", "w")))
        abort();
    wp_wit *w = NULL;
    wp_err err = {0};
    wp_status st = wp_wit_parse((const char *)data, size, &w, &err);
    fuzz_expect_status(st,
                       FUZZ_STATUS_BIT(WP_OK) | FUZZ_STATUS_BIT(WP_ERR_INVALID) |
                           FUZZ_STATUS_BIT(WP_ERR_UNSUPPORTED) | FUZZ_STATUS_BIT(WP_ERR_NOMEM),
                       "wp_wit_parse", &err);
    if (st != WP_OK)
        return 0;
    for (uint32_t i = 0; i < wp_wit_func_count(w); i++) {
        const wp_wit_func *f = wp_wit_func_at(w, i);
        wp_wit_func_print(sink, f);
        wp_valtype types[WP_CABI_MAX_FLAT_PARAMS + WP_CABI_MAX_FLAT_RESULTS];
        uint32_t np = 0;
        uint32_t nr = 0;
        wp_cabi_core_type(f, types, &np, types + WP_CABI_MAX_FLAT_PARAMS, &nr);
        /* wp_functype wants params then results, contiguous. */
        types[np] = types[WP_CABI_MAX_FLAT_PARAMS];
        wp_functype core = {np, nr, types};
        fuzz_expect_status(wp_cabi_check(f, core, NULL, NULL, &err), FUZZ_STATUS_BIT(WP_OK),
                           "wp_cabi_check of its own core type", &err);
    }
    wp_wit_free(w);
    return 0;
}
