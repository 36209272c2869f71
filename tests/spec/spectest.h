/* spectest.h: the "spectest" host module that the spec scripts import from. */
#ifndef SPEC_SPECTEST_H
#define SPEC_SPECTEST_H

#include "wippy/wasm.h"

#define SPEC_HOST_EXPORTS 13

/* The module's exports. The objects are owned by the store they were made in. */
typedef struct spec_host {
    struct {
        const char *name;
        wp_extern ext;
    } exports[SPEC_HOST_EXPORTS];
    uint32_t count;
} spec_host;

/* Creates the spectest objects in s: functions print, print_i32, print_i64, print_f32,
 * print_f64, print_i32_f32, print_f64_f64 (they do nothing), immutable globals global_i32
 * and global_i64 (666), global_f32 and global_f64 (666.6), table (10..20 funcref) and
 * memory (1..2 pages). Fails: what the engine's constructors fail with (err says which). */
wp_status spec_host_init(spec_host *h, wp_store *s, wp_err *err);

/* Looks up an export by name (len bytes). False if there is none. */
bool spec_host_lookup(const spec_host *h, const char *name, size_t len, wp_extern *out);

#endif
