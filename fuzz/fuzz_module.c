/* fuzz_module.c: libFuzzer target over module binaries: decode, validate, compile, instantiate
 * against dummy imports, run. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_module_bytes(data, size);
    return 0;
}
