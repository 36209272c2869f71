/* test_values.h: building expected wp_values in tests: strings and arrays. */
#ifndef WP_TEST_VALUES_H
#define WP_TEST_VALUES_H

#include <stdarg.h>

#include "wippy/value.h"

static inline wp_value str(const char *s) {
    wp_value v;
    wp_value_cstring(&v, s);
    return v;
}

/* An array of the n values that follow (taken over). */
static inline wp_value arr(int n, ...) {
    wp_value a;
    va_list ap;
    wp_value_array(&a, (size_t)n);
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        wp_value v = va_arg(ap, wp_value);
        wp_value_array_push(&a, &v);
    }
    va_end(ap);
    return a;
}

#endif
