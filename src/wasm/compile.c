/* compile.c: STUB until the compiler lands (owned by the interpreter work). */
#include "internal.h"

wp_status wp__compile(wp_module *m, wp_err *err) {
    (void)m;
    (void)err;
    return WP_OK;
}

void wp__code_free(wp_heap *heap, struct wp_code *code) {
    (void)heap;
    (void)code;
}
