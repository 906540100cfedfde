#!/usr/bin/env bash
# Builds the edgeclass OCI image FROM scratch with buildah (no Docker engine) and reports
#   - the stripped static binary's size,
#   - the image's compressed size as a node pulls it (gzip layer + config + manifest).
#
#   scripts/image.sh                       # make build, then the image edgeclass:dev
#   EDGECLASS_BINARY=path scripts/image.sh # package another static binary (a stand-in)
#   IMAGE_TAG=edgeclass:1.2 scripts/image.sh
#
# Leaves the stripped binary in build/image/edgeclass, an OCI layout in build/image/oci and
# the same image as an OCI archive in build/image/edgeclass.oci.tar.
set -euo pipefail
cd "$(dirname "$0")/.."

TAG=${IMAGE_TAG:-edgeclass:dev}
OUT=build/image
BUILDAH=(buildah --storage-driver vfs)

if [ -n "${EDGECLASS_BINARY:-}" ]; then
  bin=$EDGECLASS_BINARY
else
  make --no-print-directory build
  bin=build/release/edgeclass
fi
[ -x "$bin" ] || { echo "image: no binary at $bin" >&2; exit 1; }

# The image has no loader and no libraries: the binary must be fully static (-static or
# -static-pie: no program interpreter, no shared library dependencies).
if readelf -lW "$bin" | grep -q INTERP || readelf -dW "$bin" | grep -q NEEDED; then
  echo "image: $bin is dynamically linked; configure with EDGECLASS_STATIC=ON (the release preset)" >&2
  exit 1
fi

mkdir -p "$OUT"
strip --strip-all -o "$OUT/edgeclass" "$bin"

# Reproducible: file times and the created date are the last commit's, so the same binary
# gives the same layer digest and nodes do not pull an unchanged image again.
epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)
"${BUILDAH[@]}" bud --isolation chroot --quiet --timestamp "$epoch" -t "$TAG" \
  -f deploy/Containerfile --build-arg BINARY="$OUT/edgeclass" \
  --label org.opencontainers.image.revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  . >/dev/null

# Push to an OCI layout with gzip layers, as a registry would serve them to a node.
rm -rf "$OUT/oci"
"${BUILDAH[@]}" push --quiet --compression-format gzip "$TAG" "oci:$OUT/oci:$TAG" >/dev/null

# The same image as one file, for nodes without a registry: k3s ctr images import FILE.
rm -f "$OUT/edgeclass.oci.tar"
"${BUILDAH[@]}" push --quiet --compression-format gzip "$TAG" \
  "oci-archive:$OUT/edgeclass.oci.tar:$TAG" >/dev/null

blobs=$OUT/oci/blobs/sha256
manifest_digest=$(grep -o '"digest":"sha256:[0-9a-f]*"' "$OUT/oci/index.json" | head -1 | cut -d: -f3 | tr -d '"')
manifest=$blobs/$manifest_digest
layer_bytes=0
while read -r digest; do
  layer_bytes=$((layer_bytes + $(stat -c %s "$blobs/$digest")))
done < <(tr -d ' \n' < "$manifest" | grep -o '"layers":\[.*\]' | grep -o 'sha256:[0-9a-f]*' | cut -d: -f2)
pull_bytes=0
for f in "$blobs"/*; do pull_bytes=$((pull_bytes + $(stat -c %s "$f"))); done

kib() { awk -v b="$1" 'BEGIN { printf "%.0f KiB (%.2f MB)", b / 1024, b / 1e6 }'; }
echo "image: $TAG"
echo "  binary (stripped, static): $(kib "$(stat -c %s "$OUT/edgeclass")")"
echo "  compressed layers:         $(kib "$layer_bytes")"
echo "  pulled by a node:          $(kib "$pull_bytes") (layers + config + manifest)"
echo "  OCI archive for k3s:       $OUT/edgeclass.oci.tar (k3s ctr images import)"

