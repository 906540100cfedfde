# The two commands a new user needs: `make run` and `make test`.
.PHONY: all deps build run test bench bench-media bench-tls bench-city bench-live image conformance fuzz wasm-core clean

BUILD := build/release
NINJA_JOBS ?=

all: build

deps:
	@scripts/install-deps.sh build

$(BUILD)/build.ninja: CMakeLists.txt CMakePresets.json
	@scripts/install-deps.sh build
	cmake --preset release >/dev/null

build: $(BUILD)/build.ninja
	cmake --build $(BUILD) --target edgeclass

run: build
	@scripts/run.sh

test:
	@scripts/install-deps.sh test
	@scripts/test.sh

bench:
	@scripts/install-deps.sh bench
	@scripts/bench.sh
	@scripts/bench-media.sh

bench-media:
	@scripts/install-deps.sh bench
	@scripts/bench-media.sh

bench-tls:
	@scripts/install-deps.sh bench
	@scripts/bench-tls.sh

bench-city: build
	@scripts/install-deps.sh bench
	@scripts/bench-city.sh

# Live fan-out beside a Node `ws` broadcast server (bench/fanout, docs/live-performance.md).
bench-live:
	@scripts/install-deps.sh bench
	@scripts/bench-live.sh

image:
	@scripts/install-deps.sh image
	@scripts/image.sh

conformance: $(BUILD)/build.ninja
	cmake --build $(BUILD) --target opa_conformance
	$(BUILD)/tests/policy/opa_conformance third_party/opa-conformance/v1

fuzz:
	@scripts/install-deps.sh fuzz
	@scripts/fuzz.sh

# The portable core and its unit tests as wasm32-wasi modules (preset wasm, build/wasm/*.wasm),
# run under WasmEdge and node:wasi; the same as tests/scripts/wasm_core.sh in `make test`.
wasm-core:
	@scripts/install-deps.sh wasm
	@bash tests/scripts/wasm_core.sh

clean:
	rm -rf build
