#!/usr/bin/env python3
"""Checks the wasm32-wasi image in an OCI layout (scripts/image-wasm.sh, make image-wasm).

    check_wasm_image.py LAYOUT_DIR MODULE ANNOTATION PLATFORM LIMIT_BYTES

What containerd's wasm shims need, read back from what a node would pull:
  - the manifest carries ANNOTATION (key=value; crun's wasm handler reads
    module.wasm.image/variant);
  - the config's os/architecture are PLATFORM, and its entrypoint is a .wasm file in the image;
  - the only file in the image is that entrypoint, byte for byte MODULE (a WebAssembly module);
  - layers + config + manifest together are at most LIMIT_BYTES.
Prints what it found; exits 1 on the first problem list.
"""
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile


def blob(layout, digest):
    algo, hexd = digest.split(":", 1)
    return os.path.join(layout, "blobs", algo, hexd)


def check(layout, module, annotation, platform, limit):
    """The problems found (empty: none) and a line saying what the image holds."""
    limit = int(limit)
    problems = []
    index = json.load(open(os.path.join(layout, "index.json")))
    mdesc = index["manifests"][0]
    manifest = json.load(open(blob(layout, mdesc["digest"])))
    config = json.load(open(blob(layout, manifest["config"]["digest"])))

    key, value = annotation.split("=", 1)
    got = manifest.get("annotations", {}).get(key)
    if got != value:
        problems.append(f"manifest annotation {key} is {got!r}, want {value!r}")
    os_, arch = platform.split("/", 1)
    if (config.get("os"), config.get("architecture")) != (os_, arch):
        problems.append(f"config platform {config.get('os')}/{config.get('architecture')}, want {platform}")
    entry = config.get("config", {}).get("Entrypoint") or []
    if not entry or not entry[0].endswith(".wasm"):
        problems.append(f"entrypoint {entry} does not start with a .wasm module")

    files = {}
    for layer in manifest["layers"]:
        raw = open(blob(layout, layer["digest"]), "rb").read()
        mt = layer["mediaType"]
        if mt.endswith("+zstd"):
            raw = subprocess.run(["zstd", "-d", "-q", "-c"], input=raw, check=True,
                                 capture_output=True).stdout
        elif mt.endswith("+gzip"):
            import gzip
            raw = gzip.decompress(raw)
        with tarfile.open(fileobj=io.BytesIO(raw)) as t:
            for m in t.getmembers():
                if m.isfile():
                    files["/" + m.name.lstrip("./")] = t.extractfile(m).read()
    want = open(module, "rb").read()
    if entry and files.get(entry[0]) is None:
        problems.append(f"the entrypoint {entry[0]} is not in the image (files: {sorted(files)})")
    elif entry and hashlib.sha256(files[entry[0]]).digest() != hashlib.sha256(want).digest():
        problems.append(f"{entry[0]} in the image differs from {module}")
    if entry and files.get(entry[0], b"")[:4] != b"\0asm":
        problems.append(f"{entry[0]} is not a WebAssembly module")
    extra = sorted(set(files) - {entry[0] if entry else ""})
    if extra:
        problems.append(f"files besides the module: {extra}")

    pulled = os.path.getsize(blob(layout, mdesc["digest"])) + manifest["config"]["size"] + \
        sum(l["size"] for l in manifest["layers"])
    if pulled > limit:
        problems.append(f"pulled size {pulled} bytes is over {limit}")

    return problems, (f"check_wasm_image: {config.get('os')}/{config.get('architecture')}, "
                      f"{key}={got}, entrypoint {entry}, files {sorted(files)}, pulled {pulled} bytes")


def main():
    problems, found = check(*sys.argv[1:6])
    print(found)
    for p in problems:
        print("FAIL:", p, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
