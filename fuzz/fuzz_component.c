/* fuzz_component.c: libFuzzer target over component binaries: decode; for one that decodes,
 * list its imports and exports, instantiate it with no host interfaces (every import a stub)
 * in a store with fuel, so hostile start functions end, and call each export that takes no
 * arguments, lifting its result. */
#include <stdlib.h>

#include "harness.h"
#include "wippy/component.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Calls an export that takes no arguments and lifts whatever it returns (lifting garbage must
 * fail cleanly); one with parameters must refuse zero arguments. */
static void call(wp_comp_inst *ci, wp_exec *x, const wp_comp_func *f) {
    wp_err err = {0};
    wp_status st = wp_comp_call_begin(ci, x, f, NULL, 0, &err);
    if (wp_comp_func_nparams(f) != 0) {
        if (st == WP_OK)
            abort();
        return;
    }
    if (st != WP_OK)
        return;
    wp_run_state rs = wp_exec_run(x, 1000000);
    if (rs != WP_RUN_DONE) {
        wp_exec_reset(x);
        return;
    }
    wp_value out;
    st = wp_comp_call_finish(ci, x, &out, &err);
    fuzz_expect_status(st,
                       FUZZ_STATUS_BIT(WP_OK) | FUZZ_STATUS_BIT(WP_ERR_TRAP) |
                           FUZZ_STATUS_BIT(WP_ERR_INVALID) | FUZZ_STATUS_BIT(WP_ERR_NOMEM) |
                           FUZZ_STATUS_BIT(WP_ERR_LINK),
                       "wp_comp_call_finish", &err);
    if (st == WP_OK)
        wp_value_free(&out);
}

static void instantiate(const wp_component *c) {
    wp_store_config cfg = {.fuel = FUZZ_FUEL, .max_memory_pages = FUZZ_MAX_PAGES,
                           .max_call_depth = FUZZ_CALL_DEPTH, .max_heap_bytes = FUZZ_HEAP_BYTES};
    wp_store *s = NULL;
    wp_exec *x = NULL;
    wp_comp_linker *l = NULL;
    wp_comp_inst *ci = NULL;
    wp_err err = {0};
    if (wp_store_new(&cfg, &s, &err) != WP_OK || wp_exec_new(s, &x, &err) != WP_OK ||
        wp_comp_linker_new(&l, &err) != WP_OK) {
        wp_store_free(s);
        return;
    }
    wp_status st = wp_comp_instantiate(c, s, x, l, &ci, &err);
    fuzz_expect_status(st,
                       FUZZ_STATUS_BIT(WP_OK) | FUZZ_STATUS_BIT(WP_ERR_LINK) |
                           FUZZ_STATUS_BIT(WP_ERR_TRAP) | FUZZ_STATUS_BIT(WP_ERR_NOMEM) |
                           FUZZ_STATUS_BIT(WP_ERR_INVALID) | FUZZ_STATUS_BIT(WP_ERR_UNSUPPORTED),
                       "wp_comp_instantiate", &err);
    for (uint32_t i = 0; st == WP_OK && i < wp_component_export_func_count(c); i++) {
        const wp_comp_func *f = wp_comp_inst_func(ci, wp_component_export_func_name(c, i));
        if (!f)
            abort(); /* every listed export can be found */
        call(ci, x, f);
    }
    wp_comp_inst_free(ci);
    wp_store_free(s);
    wp_comp_linker_free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    wp_component *c = NULL;
    wp_err err = {0};
    wp_status st = wp_component_decode(data, size, &c, &err);
    fuzz_expect_status(st,
                       FUZZ_STATUS_BIT(WP_OK) | FUZZ_STATUS_BIT(WP_ERR_INVALID) |
                           FUZZ_STATUS_BIT(WP_ERR_UNSUPPORTED) | FUZZ_STATUS_BIT(WP_ERR_NOMEM),
                       "wp_component_decode", &err);
    if (st != WP_OK)
        return 0;
    for (uint32_t i = 0; i < wp_component_import_count(c); i++)
        if (!wp_component_import_name(c, i))
            abort();
    instantiate(c);
    wp_component_free(c);
    return 0;
}
