/* harness.h: what every fuzz target does with a module binary once it has one. */
#ifndef WP_FUZZ_HARNESS_H
#define WP_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "wippy/wasm.h"

/* Limits the fuzzed code runs under: small enough that every input finishes quickly. */
#define FUZZ_MAX_PAGES 16u       /* per memory */
#define FUZZ_MAX_TABLE 1024u     /* elements per table */
#define FUZZ_CALL_DEPTH 256u     /* wasm frames */
#define FUZZ_STACK_BYTES 65536u  /* value stack */
#define FUZZ_FUEL 200000u        /* wasm instructions for all the code of one input */
#define FUZZ_HEAP_BYTES (64u << 20) /* engine allocations of one store */

/* Decodes bytes; if the module is valid, instantiates it with a dummy for every import, runs
 * its start function, then calls each exported function with zero arguments. Traps, invalid
 * modules and resource limits are normal outcomes. A broken contract of the engine (a status
 * wasm.h does not list, an import of exactly the declared type refused, a memory past the
 * store's limit, a heap that does not return to zero) aborts, so libFuzzer reports it. */
void fuzz_module_bytes(const uint8_t *bytes, size_t len);

#define FUZZ_STATUS_BIT(st) (1u << (st))

/* Aborts unless st is one of the allowed statuses (a mask of FUZZ_STATUS_BIT), naming call and
 * printing err's message. */
void fuzz_expect_status(wp_status st, unsigned allowed, const char *call, const wp_err *err);

#endif
