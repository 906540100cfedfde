#!/usr/bin/env bash
# Reproduces the experiment in docs/operations.md ("Static binary and DNS"): does a fully
# static glibc binary resolve Kubernetes Service names in a FROM-scratch root with no
# /etc/nsswitch.conf and no libnss_*.so? Needs root (unshare -n, chroot), gcc, python3.
# Exits 0 when every expectation holds; prints each lookup.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

gcc -O2 -static -o "$work/probe" "$here/probe.c" 2>/dev/null
mkdir -p "$work/root/etc"
cp "$work/probe" "$work/root/probe"
cat > "$work/root/etc/resolv.conf" <<'CONF'
search education.svc.cluster.local svc.cluster.local cluster.local
nameserver 127.0.0.1
options ndots:5
CONF

cat > "$work/inner.sh" <<INNER
set -u
ip link set lo up
python3 "$here/responder.py" 127.0.0.1 redis.education.svc.cluster.local=10.43.0.15 \
  only-dns.test=127.0.0.7 both.test=127.0.0.8 2>"$work/queries.log" &
dns=\$!
trap 'kill \$dns 2>/dev/null' EXIT  # also when the output pipe closes early
for _ in \$(seq 100); do ss -lun | grep -q "127.0.0.1:53 " && break; sleep 0.02; done  # until bound
fail=0
expect() {  # expect PATTERN NAME: the probe's output for NAME must match PATTERN
  out=\$(chroot "$work/root" /probe "\$2" | head -1)
  if [[ "\$out" =~ \$1 ]]; then echo "ok    \$out"; else echo "FAIL  \$out (wanted \$1)"; fail=1; fi
}
echo "# root: probe + resolv.conf only"
expect '10\.43\.0\.15' redis
expect '127\.0\.0\.7' only-dns.test
expect 'error' localhost
printf '127.0.0.1 localhost\n10.42.0.9 edgeclass-pod\n10.9.9.9 both.test\n' > "$work/root/etc/hosts"
echo "# + /etc/hosts (as the kubelet mounts it)"
expect '127\.0\.0\.1' localhost
expect '10\.42\.0\.9' edgeclass-pod
expect '10\.9\.9\.9' both.test
expect '10\.43\.0\.15' redis
kill \$dns; wait \$dns 2>/dev/null; trap - EXIT
echo "# DNS server stopped"
expect 'Temporary failure' redis
expect '10\.42\.0\.9' edgeclass-pod
exit \$fail
INNER
rc=0
unshare -n bash "$work/inner.sh" || rc=$?
echo "# questions the DNS server saw:"
sort "$work/queries.log" | uniq -c
exit $rc
