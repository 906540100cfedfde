# The two commands a new user needs: `make run` and `make test`.
.PHONY: all deps build run test e2e-network bench bench-http bench-media bench-tls bench-city bench-live bench-cold image image-wasm conformance fuzz wasm-core wasm test-wasm bench-wasm clean

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
	@scripts/install-deps.sh test wasm
	@scripts/test.sh

# Video on shaped networks in real Chromium (root: network namespaces and tc; issue 14):
# simulcast, a clean student, one behind 400 kbit/s and one behind 5 % loss. About a minute
# and a half, so not in `make test` (which checks simulcast on loopback, e2e_video.sh).
e2e-network: build
	@scripts/install-deps.sh test
	@E2E_NETWORK_FULL=1 tests/network/e2e_network.sh

bench:
	@scripts/install-deps.sh bench
	@scripts/bench.sh
	@scripts/bench-media.sh

# Issue 17's HTTP figures: GET course beside nginx in alternating rounds, closed loop (req/s,
# CPU per request) and a fixed 50,000/s (P50/P99/P99.9 from bench/httpload.cc, open loop,
# server and client pinned to their own cores).
bench-http: build
	@scripts/install-deps.sh bench
	@scripts/bench-http.sh

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

# Cold start (exec to the first 200) beside a static C server's: the ratio to the floor.
bench-cold:
	@scripts/install-deps.sh bench
	@scripts/bench-cold.sh

image:
	@scripts/install-deps.sh image
	@scripts/image.sh

# The wasm32-wasi server's image: FROM scratch, the AOT module as the entrypoint, annotated for
# containerd's wasm shims (scripts/image-wasm.sh; runs `make wasm` first). Prints its pulled size.
image-wasm:
	@scripts/install-deps.sh wasm image
	@scripts/image-wasm.sh

conformance: $(BUILD)/build.ninja
	cmake --build $(BUILD) --target opa_conformance
	$(BUILD)/tests/policy/opa_conformance third_party/opa-conformance/v1

fuzz:
	@scripts/install-deps.sh fuzz
	@scripts/fuzz.sh

# The portable core and its unit tests as wasm32-wasi modules (preset wasm, build/wasm/*.wasm),
# run under WasmEdge and node:wasi (tests/wasm/wasm_core.sh; not in `make test` yet, see
# docs/design.md, "The wasm32-wasi build of the core").
wasm-core:
	@scripts/install-deps.sh wasm
	@bash tests/wasm/wasm_core.sh

# The wasm32-wasi server (issue 18): build/wasm/edgeclass.wasm and edgeclass.aot.wasm (the
# AOT step takes minutes), with their sizes (scripts/build-wasm.sh).
wasm:
	@scripts/install-deps.sh wasm
	@scripts/build-wasm.sh

# The wasm32-wasi server under WasmEdge on loopback: a slice of tests/api (flow, bad input,
# malformed HTTP) and one database shared with the native server (tests/wasm/wasm_server.sh).
test-wasm:
	@scripts/install-deps.sh wasm
	@bash tests/wasm/wasm_server.sh

# Cold start of the AOT module beside WasmEdge's example server and the native binary, in one
# run (scripts/bench-wasm.sh; needs `make wasm` first).
bench-wasm:
	@scripts/install-deps.sh bench
	@scripts/bench-wasm.sh

clean:
	rm -rf build
