#!/usr/bin/env bash
# Installs the Debian 12 packages a make target needs, only those missing.
#   scripts/install-deps.sh build|test|bench|image|fuzz|wasm ...
set -euo pipefail

build=(cmake ninja-build ccache g++ pkg-config lld  # lld: the release link's start-up order (cmake/static.cmake)
       libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
       libssl-dev zlib1g-dev libsqlite3-dev libre2-dev libhiredis-dev libyaml-cpp-dev
       libgtest-dev libgmock-dev libbenchmark-dev
       make dpkg-dev)  # make, dpkg-source: scripts/build-libsrtp2.sh
# Test peers: promtool validates /metrics, redis-server backs the city tests,
# chromium + node drive the browser tests (fonts-wqy-zenhei: a CJK font, so the Chinese pages
# render as text, not boxes, in screenshots); clang: the sanitizer build (tests/scripts/asan.sh).
test=(prometheus redis-server chromium nodejs npm sqlite3 curl python3-yaml openssl
      fonts-wqy-zenhei clang-14 libclang-rt-14-dev
      iproute2 nftables)  # e2e_network: tc (shaping), nft (random loss; netem may be absent)
bench=(nginx-light wrk nghttp2-client hyperfine python3 curl janus util-linux redis-server
       nodejs npm linux-perf)  # node + npm: make bench-live (its client and the ws peer)
image=(buildah binutils zstd python3)
fuzz=(clang-14 libclang-rt-14-dev)
# The wasm32-wasi build (make wasm, its tests): clang-14 with Debian's WASI sysroot (/usr),
# libc++ for wasm32, wasm-ld (lld-14), the compiler-rt builtins; libllvm15 for wasmedgec (the
# AOT compiler in ../shared/tools/wasmedge); dpkg-dev: dpkg-source unpacks the SQLite source.
wasm=(clang-14 lld-14 wasi-libc libc++-14-dev-wasm32 libc++abi-14-dev-wasm32
      libclang-rt-14-dev-wasm32 libllvm15 libboost1.81-dev dpkg-dev zstd)

want=()
for group in "$@"; do
  case "$group" in
    build) want+=("${build[@]}") ;;
    test) want+=("${build[@]}" "${test[@]}") ;;
    bench) want+=("${build[@]}" "${bench[@]}") ;;
    image) want+=("${build[@]}" "${image[@]}") ;;
    fuzz) want+=("${fuzz[@]}") ;;
    wasm) want+=("${wasm[@]}") ;;
    *) echo "install-deps: unknown group '$group'" >&2; exit 2 ;;
  esac
done

missing=()
for pkg in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    # nodejs/npm may come from elsewhere (a preinstalled Node); accept a working binary.
    case "$pkg" in
      nodejs) command -v node >/dev/null && continue ;;
      npm) command -v npm >/dev/null && continue ;;
    esac
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
