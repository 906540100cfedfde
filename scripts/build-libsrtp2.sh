#!/usr/bin/env bash
# Builds libsrtp2 from Debian 12's own source package with its OpenSSL crypto backend, as a
# static PIC library, into build/third_party/libsrtp2/{include,lib}.
#
#   scripts/build-libsrtp2.sh [PREFIX_ROOT]     (default: <repo>/build/third_party)
#
# Why from source: Debian's libsrtp2-1 binary is built against NSS, which ships no static
# library, so the static release binary cannot link it. The source package is the same code
# Debian ships (with Debian's patches applied by dpkg-source), pinned by version and by the
# sha256 of the upstream tarball, and configured with --enable-openssl so that it uses the
# same libcrypto as the rest of the binary.
#
# Idempotent and fast: when the installed library's stamp matches the pinned version it exits
# at once. Needs: apt-get, dpkg-source (dpkg-dev), a C compiler, make, libssl-dev. Adds a
# deb-src entry (a copy of the system's deb entries) when apt has none; that needs root or sudo.
set -euo pipefail

readonly VERSION=2.5.0-3
readonly UPSTREAM=2.5.0
readonly ORIG_SHA256=8a43ef8e9ae2b665292591af62aa1a4ae41e468b6d98d8258f91478735da4e09
readonly DEBIAN_SHA256=3a3cafa12033d32cd0d5ad4d78f102bc6d998f7d67a17f262c436d0734865af4

repo=$(cd "$(dirname "$0")/.." && pwd)
root=${1:-$repo/build/third_party}
prefix=$root/libsrtp2
stamp=$prefix/.built-$VERSION

if [ -f "$stamp" ] && [ -f "$prefix/lib/libsrtp2.a" ] && [ -f "$prefix/include/srtp2/srtp.h" ]; then
  exit 0
fi

log() { echo "build-libsrtp2: $*" >&2; }
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo

# One build at a time per tree (configure of several build dirs may run this concurrently).
mkdir -p "$root"
exec 9>"$root/.libsrtp2.lock"
flock 9
if [ -f "$stamp" ]; then exit 0; fi

work=$root/libsrtp2-src
mkdir -p "$work"
cd "$work"

have_files() {
  [ -f libsrtp2_${UPSTREAM}.orig.tar.gz ] && [ -f libsrtp2_${VERSION}.debian.tar.xz ] &&
    [ -f libsrtp2_${VERSION}.dsc ]
}

if ! have_files; then
  # apt-get source needs a deb-src entry. Add one mirroring the system's deb entries.
  if ! apt-get source --download-only --print-uris libsrtp2="$VERSION" >/dev/null 2>&1; then
    if ! grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      log "adding a deb-src entry"
      if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
          $SUDO tee /etc/apt/sources.list.d/edgeclass-deb-src.sources >/dev/null
      else
        grep -hE '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' |
          $SUDO tee /etc/apt/sources.list.d/edgeclass-deb-src.list >/dev/null
      fi
    fi
    log "apt-get update"
    $SUDO apt-get update -qq
  fi
  log "downloading libsrtp2 $VERSION source"
  apt-get source --download-only libsrtp2="$VERSION" >/dev/null 2>&1 ||
    apt-get source --download-only libsrtp2="$VERSION"
fi

echo "$ORIG_SHA256  libsrtp2_${UPSTREAM}.orig.tar.gz" | sha256sum -c --quiet - || {
  log "checksum mismatch for libsrtp2_${UPSTREAM}.orig.tar.gz"; exit 1; }
echo "$DEBIAN_SHA256  libsrtp2_${VERSION}.debian.tar.xz" | sha256sum -c --quiet - || {
  log "checksum mismatch for libsrtp2_${VERSION}.debian.tar.xz"; exit 1; }

rm -rf src
# --no-check: the tarballs were checked above against pinned hashes; the .dsc signature
# would need debian-keyring, which a build machine does not have.
dpkg-source --no-check -x libsrtp2_${VERSION}.dsc src >/dev/null

log "building (openssl backend, static, PIC)"
cd src
CFLAGS="-O2 -fPIC" ./configure --enable-openssl --disable-debug-logging \
  --prefix="$prefix" >configure.log 2>&1 || { tail -30 configure.log; exit 1; }
make -j"$(nproc)" libsrtp2.a >make.log 2>&1 || { tail -30 make.log; exit 1; }

rm -rf "$prefix"
mkdir -p "$prefix/include/srtp2" "$prefix/lib"
cp include/srtp.h crypto/include/cipher.h crypto/include/auth.h crypto/include/crypto_types.h \
  "$prefix/include/srtp2/"
cp libsrtp2.a "$prefix/lib/"
cp LICENSE "$prefix/"
touch "$stamp"
log "installed $prefix"
