/* greet.c: the greet command. A core module whose export greet(name: string) -> string follows
 * the Canonical ABI: the host copies the name in through cabi_realloc, and greet returns a
 * pointer to the (pointer, length) of its answer; cabi_post_greet frees that answer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT(name) __attribute__((export_name(name)))

EXPORT("cabi_realloc")
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
    (void)old_size;
    (void)align; /* malloc's alignment (16) covers every canonical ABI type */
    return realloc(old, new_size ? new_size : 1);
}

static uint32_t answer[2]; /* pointer and length of the returned string */

EXPORT("greet")
uint32_t *greet(char *name, size_t len) {
    static const char hello[] = "Hello, ";
    size_t n = sizeof hello - 1 + len + 1;
    char *s = malloc(n);
    if (!s)
        abort();
    memcpy(s, hello, sizeof hello - 1);
    memcpy(s + sizeof hello - 1, name, len);
    s[n - 1] = '!';
    free(name); /* the argument was allocated for us by cabi_realloc */
    answer[0] = (uint32_t)(uintptr_t)s;
    answer[1] = (uint32_t)n;
    return answer;
}

EXPORT("cabi_post_greet")
void cabi_post_greet(uint32_t *ret) { free((void *)(uintptr_t)ret[0]); }
