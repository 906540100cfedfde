# Shared by scripts/image.sh (make image) and scripts/image-wasm.sh (make image-wasm); sourced.
# Needs BUILDAH (an array: the buildah command with its storage options) and TAG.

# layout FORMAT DIR: the image $TAG as an OCI layout in DIR, layers compressed with FORMAT
# (zstd: pushed uncompressed, then every layer recompressed with the zstd CLI at -19, far
# smaller than buildah's own zstd encoder; gzip: buildah's gzip -9).
layout() {
  rm -rf "$2"
  if [ "$1" = zstd ]; then
    "${BUILDAH[@]}" push --quiet --disable-compression "$TAG" "oci:$2:$TAG" >/dev/null
    python3 tools/image/recompress_layers.py "$2" 19
  else
    "${BUILDAH[@]}" push --quiet --compression-format gzip --compression-level 9 "$TAG" \
      "oci:$2:$TAG" >/dev/null
  fi
}

# sizes LAYOUT_DIR -> "LAYER_BYTES PULL_BYTES" (pull = layers + config + manifest)
sizes() {
  local blobs=$1/blobs/sha256 manifest digest layer=0 pull=0 f
  manifest=$blobs/$(grep -o '"digest":"sha256:[0-9a-f]*"' "$1/index.json" | head -1 | cut -d: -f3 | tr -d '"')
  while read -r digest; do
    layer=$((layer + $(stat -c %s "$blobs/$digest")))
  done < <(tr -d ' \n' < "$manifest" | grep -o '"layers":\[.*\]' | grep -o 'sha256:[0-9a-f]*' | cut -d: -f2)
  for f in "$blobs"/*; do pull=$((pull + $(stat -c %s "$f"))); done
  echo "$layer $pull"
}

kib() { awk -v b="$1" 'BEGIN { printf "%.0f KiB (%.2f MB)", b / 1024, b / 1e6 }'; }
