# The two commands a new user needs: `make run` and `make test`.
.PHONY: all deps build run test bench bench-media bench-tls bench-city bench-live bench-cold image conformance fuzz clean

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

# Cold start (exec to the first 200) beside a static C server's: the ratio to the floor.
bench-cold:
	@scripts/install-deps.sh bench
	@scripts/bench-cold.sh

image:
	@scripts/install-deps.sh image
	@scripts/image.sh

conformance: $(BUILD)/build.ninja
	cmake --build $(BUILD) --target opa_conformance
	$(BUILD)/tests/policy/opa_conformance third_party/opa-conformance/v1

fuzz:
	@scripts/install-deps.sh fuzz
	@scripts/fuzz.sh

clean:
	rm -rf build
