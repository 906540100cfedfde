#!/usr/bin/env bash
# Live video as on a real network (tests/e2e/live_video.mjs with E2E_SERVER_NETNS): the server
# in a network namespace of its own on a veth address, HTTPS with a self-signed certificate,
# no EDGECLASS_PUBLIC_IP; Chromium in another namespace without loopback or mDNS flags. The
# server must announce its veth address by itself and the students must decode the teacher's
# video through it; then the server's namespace drops everything to one student's subscription
# port (nftables) and that student's page must show the stall and subscribe again by itself.
# Only the two namespaces this test creates carry traffic.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
. tests/scripts/lib/tools.sh
[ "$(id -u)" = 0 ] || skip_test e2e_video_netns "needs root to create network namespaces"
command -v ip >/dev/null || skip_test e2e_video_netns "iproute2 (ip) is not installed"
command -v nft >/dev/null || skip_test e2e_video_netns "nftables (nft) is not installed: it breaks a student's media path"
need_browser e2e_video_netns
bin=$(realpath "${EDGECLASS_BIN:-build/release/edgeclass}")
[ -x "$bin" ] || { echo "e2e_video_netns: no binary at $bin" >&2; exit 1; }

# Names and a subnet of this run's own, so parallel runs do not collide.
id=$(( $$ % 10000 ))
srv=ec-vsrv$id
cli=ec-vcli$id
net=10.$(( 64 + $$ % 64 )).$(( ($$ / 64) % 250 ))
work=$(mktemp -d)
cleanup() {
  ip netns del "$srv" 2>/dev/null || true
  ip netns del "$cli" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$srv"
ip netns add "$cli"
ip link add "ecs$id" type veth peer name "ecc$id"
ip link set "ecs$id" netns "$srv"
ip link set "ecc$id" netns "$cli"
ip netns exec "$srv" sh -c "ip addr add $net.1/24 dev ecs$id && ip link set ecs$id up && ip link set lo up"
ip netns exec "$cli" sh -c "ip addr add $net.2/24 dev ecc$id && ip link set ecc$id up && ip link set lo up"

"$bin" cert --self-signed --host "$net.1" --out "$work/tls" >/dev/null
cd tests/e2e
ip netns exec "$cli" env EDGECLASS_BIN="$bin" E2E_SERVER_NETNS="$srv" E2E_LISTEN="$net.1:0" \
  E2E_ADMIN_LISTEN="$net.1:0" \
  E2E_TLS_CERT="$work/tls/cert.pem" E2E_TLS_KEY="$work/tls/key.pem" NODE_TLS_REJECT_UNAUTHORIZED=0 \
  timeout 300 "$NODE" live_video.mjs
