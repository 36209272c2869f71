/* compute.c: the compute worker of the WASM process documentation: compute(6, 7) is 42. */
#include <stdint.h>

__attribute__((export_name("compute"))) int32_t compute(int32_t a, int32_t b) { return a * b; }
