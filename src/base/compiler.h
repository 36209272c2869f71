/* compiler.h: the only place compiler extensions are named; everything else uses these macros. */
#ifndef WP_BASE_COMPILER_H
#define WP_BASE_COMPILER_H

#include <assert.h>

#if defined(__GNUC__) || defined(__clang__)
#define WP_LIKELY(x) __builtin_expect(!!(x), 1)
#define WP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define WP_NOINLINE __attribute__((noinline))
#define WP_ALWAYS_INLINE inline __attribute__((always_inline))
#define WP_UNUSED __attribute__((unused))
#define WP_HAVE_COMPUTED_GOTO 1
/* For the interpreter loop only: UBSan's pointer-overflow checks on its thousands of slot
 * accesses make clang take minutes to compile it (ASan still checks every access). */
#define WP_NO_SANITIZE_POINTER_OVERFLOW __attribute__((no_sanitize("pointer-overflow")))
#else
#define WP_LIKELY(x) (x)
#define WP_UNLIKELY(x) (x)
#define WP_NOINLINE
#define WP_ALWAYS_INLINE inline
#define WP_UNUSED
#define WP_HAVE_COMPUTED_GOTO 0
#define WP_NO_SANITIZE_POINTER_OVERFLOW
#endif

/* clang turns the interpreter's computed gotos into slower code than its switch (it
 * duplicates the dispatch into every handler, then spills around each: 30 s to compile,
 * minutes with sanitizers), so clang builds take the switch unless asked otherwise. */
#if defined(__clang__) && !defined(WP_FORCE_COMPUTED_GOTO)
#undef WP_HAVE_COMPUTED_GOTO
#define WP_HAVE_COMPUTED_GOTO 0
#endif

/* Build with -DWP_NO_COMPUTED_GOTO to test the portable switch dispatch. */
#ifdef WP_NO_COMPUTED_GOTO
#undef WP_HAVE_COMPUTED_GOTO
#define WP_HAVE_COMPUTED_GOTO 0
#endif

/* Assertions guard our own invariants, never input. On in debug and sanitizer builds. */
#ifdef WP_DEBUG
#define WP_ASSERT(x) assert(x)
#else
#define WP_ASSERT(x) ((void)0)
#endif

#define WP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
