/* p2_clocks.c: wasi:clocks: the wall clock and the monotonic clock with its pollables. The
 * monotonic clock is the host's CLOCK_MONOTONIC (wp_wasi_now), the clock of every deadline. */
#include "p2_internal.h"

#define CLOCK_REALTIME_ID 0u /* WASI preview 1 clock ids, as wp__sys_clock_* take them */

static const char *const datetime_fields[] = {"seconds", "nanoseconds"};

static wp_wasi2_outcome datetime(wp_wasi2 *w, uint64_t ns, wp_value *result) {
    wp_value vals[2] = {wp_value_int((int64_t)(ns / 1000000000u)),
                        wp_value_int((int64_t)(ns % 1000000000u))};
    return wp__p2_done(w, wp__p2_record(result, 2, datetime_fields, vals));
}

WP_P2_FN(wp__p2_wall_now) {
    (void)args;
    uint64_t ns = 0;
    if (wp__sys_clock_time(CLOCK_REALTIME_ID, &ns) != 0)
        return wp__p2_trap(w, "wall-clock.now: the host clock failed");
    return datetime(w, ns, result);
}

WP_P2_FN(wp__p2_wall_resolution) {
    (void)args;
    uint64_t ns = 0;
    if (wp__sys_clock_res(CLOCK_REALTIME_ID, &ns) != 0)
        return wp__p2_trap(w, "wall-clock.resolution: the host clock failed");
    return datetime(w, ns, result);
}

WP_P2_FN(wp__p2_mono_now) {
    (void)w;
    (void)args;
    *result = wp_value_int((int64_t)wp_wasi_now());
    return WP_WASI2_DONE;
}

WP_P2_FN(wp__p2_mono_resolution) {
    (void)args;
    uint64_t ns = 0;
    if (wp__sys_clock_res(1, &ns) != 0)
        return wp__p2_trap(w, "monotonic-clock.resolution: the host clock failed");
    *result = wp_value_int((int64_t)ns);
    return WP_WASI2_DONE;
}

static wp_wasi2_outcome deadline_pollable(wp_wasi2 *w, uint64_t when, wp_value *result) {
    uint32_t rep;
    wp_p2_res *p = wp__p2_new(w, WP_P2_POLLABLE, &rep);
    if (!p)
        return wp__p2_done(w, WP_ERR_NOMEM);
    p->of.poll = (wp_p2_pollable){.when = WP_P2_WHEN_DEADLINE, .deadline = when};
    *result = wp_value_int(rep);
    return WP_WASI2_DONE;
}

WP_P2_FN(wp__p2_mono_subscribe_instant) {
    uint64_t when;
    if (!wp__p2_arg_u64(w, &args[0], &when))
        return WP_WASI2_TRAP;
    return deadline_pollable(w, when, result);
}

WP_P2_FN(wp__p2_mono_subscribe_duration) {
    uint64_t d;
    if (!wp__p2_arg_u64(w, &args[0], &d))
        return WP_WASI2_TRAP;
    uint64_t now = wp_wasi_now();
    uint64_t when = d > WP_WASI_NO_DEADLINE - 1 - now ? WP_WASI_NO_DEADLINE - 1 : now + d;
    return deadline_pollable(w, when, result);
}
