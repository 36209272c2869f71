# Top-level make: wraps CMake. `make` builds build/wippy; see `make help`.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
SHARED     ?= ../shared
CMAKE_FLAGS ?=
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all test unit spec bench fuzz asan ci demo clean help

all: $(BUILD)/Makefile
	@cmake --build $(BUILD) -j $(JOBS)

$(BUILD)/Makefile:
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

help:
	@echo "make         build build/wippy"
	@echo "make test    unit tests and spec tests"
	@echo "make spec    WebAssembly spec tests (needs wast2json; data from SHARED=$(SHARED))"
	@echo "make bench   benchmarks: our engine against native code"
	@echo "make asan    unit and spec tests under AddressSanitizer + UBSan (clang; spec with fuel)"
	@echo "make fuzz    libFuzzer targets for FUZZ_SECONDS (default 60) each"
	@echo "make demo    build and run the examples (ends with: wippy run greet World)"
	@echo "make ci      everything CI runs"

unit: all
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

spec: all
	@SHARED=$(SHARED) scripts/spec.sh $(BUILD)

test: unit spec

# The sanitizer run also gives the spec scripts fuel, so the metered code passes the suite too.
asan:
	@SPEC_FUEL=1000000000000000 $(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) \
	    CMAKE_FLAGS="-DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DWIPPY_SANITIZE=ON" test

fuzz:
	@scripts/fuzz.sh $(FUZZ_BUILD)

bench: all
	@SHARED=$(SHARED) scripts/bench.sh $(BUILD)
	@scripts/bench-runtime.sh $(BUILD)

ci: test asan fuzz

demo: all
	@echo '$$ $(BUILD)/wippy exec --invoke fib examples/fib.wat 30'
	@$(BUILD)/wippy exec --invoke fib examples/fib.wat 30
	@echo '$$ cd examples && ../$(BUILD)/wippy run list'
	@cd examples && $(abspath $(BUILD))/wippy run list
	@echo '$$ cd examples && ../$(BUILD)/wippy run greet World'
	@cd examples && $(abspath $(BUILD))/wippy run greet World

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
