#!/usr/bin/env bash
# `make image-wasm`: the wasm32-wasi server as an OCI image FROM scratch (deploy/Containerfile.wasm),
# built with buildah (no Docker engine), holding only the AOT-compiled module
# build/wasm/edgeclass.aot.wasm as /edgeclass.wasm, the entrypoint. Prints the module's size and
# the image's size as a node pulls it (zstd -19 layer + config + manifest); fails over 5 MB.
#
#   scripts/image-wasm.sh                          # make wasm, then the image edgeclass-wasm:dev
#   EDGECLASS_WASM_MODULE=path scripts/image-wasm.sh   # package another module
#   IMAGE_TAG=edgeclass-wasm:1.2 scripts/image-wasm.sh
#   IMAGE_WASM_PLATFORM=wasi/wasm scripts/image-wasm.sh
#
# What the wasm shims look for:
#   - the annotation module.wasm.image/variant=compat-smart on the image manifest (crun built
#     with WasmEdge runs the entrypoint as a module when it sees it; the pod template in
#     deploy/k3s/wasm sets it too, which is what CRI hands crun);
#   - an entrypoint that is a .wasm file (runwasi's containerd-shim-wasmedge, K3s's
#     RuntimeClass wasmedge, runs it under WasmEdge; arguments follow it).
# Platform: linux/amd64 by default. The AOT module carries x86-64 code compiled for this machine
# type, so it is an amd64 artifact, and a linux/amd64 image pulls through every containerd's
# CRI (containerd 2.1's transfer service does not unpack wasi/wasm images for the node).
# IMAGE_WASM_PLATFORM=wasi/wasm labels it the way `buildah build --platform wasi/wasm` and the
# runwasi examples do, for runtimes that select on it.
#
# Leaves an OCI layout in build/image-wasm/oci and the image as an OCI archive in
# build/image-wasm/edgeclass-wasm.oci.tar (k3s ctr images import FILE).
set -euo pipefail
cd "$(dirname "$0")/.."

TAG=${IMAGE_TAG:-edgeclass-wasm:dev}
PLATFORM=${IMAGE_WASM_PLATFORM:-linux/amd64}
OUT=build/image-wasm
BUILDAH=(buildah --storage-driver vfs)
ANNOTATION=module.wasm.image/variant=compat-smart
LIMIT=5000000  # bytes as pulled (issue 18: under 5 MB)

if [ -n "${EDGECLASS_WASM_MODULE:-}" ]; then
  module=$EDGECLASS_WASM_MODULE
else
  make --no-print-directory wasm
  module=build/wasm/edgeclass.aot.wasm
fi
[ -f "$module" ] || { echo "image-wasm: no module at $module (make wasm; wasmedgec missing?)" >&2; exit 1; }
[ "$(head -c4 "$module" | od -An -tx1 | tr -d ' ')" = 0061736d ] ||
  { echo "image-wasm: $module is not a WebAssembly module" >&2; exit 1; }

# A build context of the module alone (the repository is large and the image needs nothing
# else from it).
rm -rf "$OUT"
mkdir -p "$OUT/ctx"
cp "$module" "$OUT/ctx/edgeclass.wasm"
cp deploy/Containerfile.wasm "$OUT/ctx/Containerfile"
epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)
"${BUILDAH[@]}" bud --isolation chroot --quiet --timestamp "$epoch" -t "$TAG" \
  --platform "$PLATFORM" --annotation "$ANNOTATION" \
  -f "$OUT/ctx/Containerfile" --build-arg MODULE=edgeclass.wasm \
  --label org.opencontainers.image.revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  "$OUT/ctx" >/dev/null

# shellcheck source=scripts/image-lib.sh
. scripts/image-lib.sh  # layout, sizes, kib
layout zstd "$OUT/oci"
read -r layer_bytes pull_bytes < <(sizes "$OUT/oci")
tar -C "$OUT/oci" -cf "$OUT/edgeclass-wasm.oci.tar" .

# The pulled image must hold our module as its entrypoint, with the annotation and platform.
python3 tools/image/check_wasm_image.py "$OUT/oci" "$module" "$ANNOTATION" "$PLATFORM" "$LIMIT"

echo "image-wasm: $TAG (zstd layer, platform $PLATFORM, $ANNOTATION)"
echo "  module (AOT):              $(kib "$(stat -c %s "$module")")"
echo "  compressed layer:          $(kib "$layer_bytes")"
echo "  pulled by a node:          $(kib "$pull_bytes") (layer + config + manifest; limit 5 MB)"
echo "  OCI archive for k3s:       $OUT/edgeclass-wasm.oci.tar (k3s ctr images import)"
