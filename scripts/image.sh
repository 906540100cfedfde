#!/usr/bin/env bash
# Builds the edgeclass OCI image FROM scratch with buildah (no Docker engine) and reports
#   - the stripped static binary's size,
#   - the image's compressed size as a node pulls it (zstd layer + config + manifest).
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

# Layer compression. zstd -19 from the zstd CLI: buildah's own zstd encoder tops out far
# below it (5.14 MB vs 4.53 MB for this binary), so the layout is pushed uncompressed and its
# layers recompressed (tools/image/recompress_layers.py); K3s's containerd (1.5 and later)
# pulls zstd layers. IMAGE_COMPRESSION=gzip (buildah's gzip -9) for older runtimes.
COMPRESSION=${IMAGE_COMPRESSION:-zstd}
case "$COMPRESSION" in
  zstd|gzip) ;;
  *) echo "image: IMAGE_COMPRESSION must be zstd or gzip" >&2; exit 2 ;;
esac
# shellcheck source=scripts/image-lib.sh
. scripts/image-lib.sh  # layout, sizes, kib

# An OCI layout, as a registry would serve the image to a node, and the same image as one
# file for nodes without a registry (k3s ctr images import FILE): an oci-archive is the
# layout in a tar.
rm -f "$OUT/edgeclass.oci.tar"
layout "$COMPRESSION" "$OUT/oci"
read -r layer_bytes pull_bytes < <(sizes "$OUT/oci")
tar -C "$OUT/oci" -cf "$OUT/edgeclass.oci.tar" .
# The recompressed image must still load: pull it back through containers/image (the same
# Go zstd decoder family containerd uses) and compare the binary inside with ours.
"${BUILDAH[@]}" pull --quiet "oci:$OUT/oci:$TAG" >/dev/null
ctr=$("${BUILDAH[@]}" from --quiet "oci:$OUT/oci:$TAG" 2>/dev/null || "${BUILDAH[@]}" from --quiet "$TAG")
mnt=$("${BUILDAH[@]}" mount "$ctr")
cmp -s "$mnt/edgeclass" "$OUT/edgeclass" || { echo "image: the binary in the image differs" >&2; exit 1; }
"${BUILDAH[@]}" umount "$ctr" >/dev/null
"${BUILDAH[@]}" rm "$ctr" >/dev/null
# For comparison, the other compression.
other=gzip
[ "$COMPRESSION" = gzip ] && other=zstd
tmp=$(mktemp -d)
layout "$other" "$tmp/oci"
read -r _ other_pull < <(sizes "$tmp/oci")
rm -rf "$tmp"

echo "image: $TAG ($COMPRESSION layers)"
echo "  binary (stripped, static): $(kib "$(stat -c %s "$OUT/edgeclass")")"
echo "  compressed layers:         $(kib "$layer_bytes")"
echo "  pulled by a node:          $(kib "$pull_bytes") (layers + config + manifest)"
printf "  %-27s%s\n" "with $other layers:" "$(kib "$other_pull")"
echo "  OCI archive for k3s:       $OUT/edgeclass.oci.tar (k3s ctr images import)"
