/* p2_random.c: wasi:random: secure and insecure random bytes (both from the host's random
 * source) and the context's fixed insecure seed. */
#include "p2_internal.h"

WP_P2_FN(wp__p2_random_bytes) {
    uint64_t len;
    if (!wp__p2_arg_u64(w, &args[0], &len))
        return WP_WASI2_TRAP;
    if (len > WP_P2_RANDOM_MAX)
        return wp__p2_trap(w, "get-random-bytes: %llu bytes, more than the %u allowed",
                           (unsigned long long)len, WP_P2_RANDOM_MAX);
    uint8_t *buf = len ? wp_heap_alloc(w->heap, (size_t)len) : NULL;
    if (len && !buf)
        return wp__p2_done(w, WP_ERR_NOMEM);
    if (len && wp__sys_random(buf, (size_t)len) != 0) {
        wp_heap_free(w->heap, buf, (size_t)len);
        return wp__p2_trap(w, "get-random-bytes: the host's random source failed");
    }
    wp_status st = wp_value_bytes(result, buf, (size_t)len);
    wp_heap_free(w->heap, buf, (size_t)len);
    return wp__p2_done(w, st);
}

WP_P2_FN(wp__p2_random_u64) {
    (void)args;
    uint64_t v;
    if (wp__sys_random(&v, sizeof v) != 0)
        return wp__p2_trap(w, "get-random-u64: the host's random source failed");
    *result = wp_value_int((int64_t)v);
    return WP_WASI2_DONE;
}

WP_P2_FN(wp__p2_random_seed) {
    (void)args;
    wp_value a = wp_value_int((int64_t)w->seed[0]);
    wp_value b = wp_value_int((int64_t)w->seed[1]);
    return wp__p2_done(w, wp__p2_pair(result, &a, &b));
}

/* wasi:random/insecure: the same secure source; nothing is gained by a weaker one here. */
WP_P2_FN(wp__p2_insecure_bytes) { return wp__p2_random_bytes(w, args, result); }
WP_P2_FN(wp__p2_insecure_u64) { return wp__p2_random_u64(w, args, result); }
