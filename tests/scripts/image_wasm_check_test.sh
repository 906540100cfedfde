#!/usr/bin/env bash
# tools/image/check_wasm_image.py, the check `make image-wasm` runs on the image it built,
# against synthetic OCI layouts (no buildah, no module build; one Python process): a good
# layout passes, and each thing containerd's wasm shims rely on, when wrong, fails it with its
# own message (no annotation, another platform, an entrypoint that is not our module, a file
# besides it, over the size limit).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/scripts/lib/tools.sh
command -v zstd >/dev/null || skip_test image_wasm_check "zstd missing (scripts/install-deps.sh image)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp" <<'PY'
import hashlib, io, json, os, subprocess, sys, tarfile
sys.path.insert(0, "tools/image")
from check_wasm_image import check

tmp = sys.argv[1]
module = b"\0asm\1\0\0\0"
open(os.path.join(tmp, "module.wasm"), "wb").write(module)

def layout(case):
    """An OCI layout of the image make image-wasm builds, or with one thing wrong."""
    out = os.path.join(tmp, case)
    os.makedirs(os.path.join(out, "blobs", "sha256"))
    def put(data):
        d = hashlib.sha256(data).hexdigest()
        open(os.path.join(out, "blobs", "sha256", d), "wb").write(data)
        return {"digest": "sha256:" + d, "size": len(data)}
    files = {"edgeclass.wasm": b"other module" if case == "other_module" else module}
    if case == "extra_file":
        files["etc/passwd"] = b"root:x:0:0::/:/bin/sh\n"
    if case == "big":
        files["edgeclass.wasm"] = module + os.urandom(300000)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    tar = buf.getvalue()
    layer = subprocess.run(["zstd", "-q", "-c"], input=tar, check=True, capture_output=True).stdout
    wasi = case == "platform"
    config = {"os": "wasi" if wasi else "linux", "architecture": "wasm" if wasi else "amd64",
              "config": {"Entrypoint": ["/edgeclass.wasm", "serve"]},
              "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]}}
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": dict(put(json.dumps(config).encode()),
                               mediaType="application/vnd.oci.image.config.v1+json"),
                "layers": [dict(put(layer), mediaType="application/vnd.oci.image.layer.v1.tar+zstd")]}
    if case != "no_annotation":
        manifest["annotations"] = {"module.wasm.image/variant": "compat-smart"}
    index = {"schemaVersion": 2, "manifests": [dict(put(json.dumps(manifest).encode()),
                                                    mediaType="application/vnd.oci.image.manifest.v1+json")]}
    json.dump(index, open(os.path.join(out, "index.json"), "w"))
    return check(out, os.path.join(tmp, "module.wasm"), "module.wasm.image/variant=compat-smart",
                 "linux/amd64", 200000)

failed = False
problems, found = layout("good")
if problems:
    print("FAIL image_wasm_check: the good layout was refused:", problems, found)
    failed = True
for case, want in [("no_annotation", "annotation module.wasm.image/variant"),
                   ("platform", "config platform wasi/wasm"), ("other_module", "differs from"),
                   ("extra_file", "files besides the module"), ("big", "is over 200000")]:
    problems, found = layout(case)
    if not any(want in p for p in problems):
        print(f"FAIL image_wasm_check: layout {case!r}: want a problem saying {want!r}, got {problems} ({found})")
        failed = True
if failed:
    sys.exit(1)
print("image_wasm_check: a good layout passes; no annotation, wasi platform, another module, "
      "an extra file, oversize: each fails with its reason")
PY
