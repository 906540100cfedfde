#!/usr/bin/env bash
# A multi-homed media server (docs/operations.md, "Media addresses"): in a network namespace
# this test creates, a veth pair carries two networks (10.x.1.0/24 and 10.x.2.0/24, and
# fdxx:1::/64 and fdxx:2::/64). A peer on the first network sends a STUN Binding request to
# the server's address on the second; without IP_PKTINFO / IPV6_PKTINFO the kernel would
# answer from the first network's address (its route to the peer), which a browser drops.
# Runs media_sfu_test's UdpServer.AnswersFromTheAddressTheRequestArrivedAtInANamespace with
# IPv4, IPv6 and a dual-stack socket. Needs root or unprivileged user namespaces (unshare -rn);
# no traffic leaves the namespace.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/scripts/lib/tools.sh
command -v ip >/dev/null || skip_test media_pktinfo_netns "iproute2 (ip) is not installed"
command -v unshare >/dev/null || skip_test media_pktinfo_netns "unshare (util-linux) is not installed"
bin=$(realpath "${MEDIA_SFU_TEST:-build/release/tests/media/media_sfu_test}")
[ -x "$bin" ] || { echo "media_pktinfo_netns: no test binary at $bin" >&2; exit 1; }
unshare -rn true 2>/dev/null || skip_test media_pktinfo_netns "cannot create a network namespace (unshare -rn)"

# Two digits: 10.n.x.y, and fdnn::/16 stays one four-digit IPv6 group.
n=$(( $$ % 90 + 10 ))
cases="0.0.0.0;10.$n.1.2;10.$n.2.1 0.0.0.0;10.$n.2.1;10.$n.1.2 ::;fd$n:1::2;fd$n:2::1 ::;10.$n.1.2;10.$n.2.1"
exec unshare -rn sh -ec "
  ip link set lo up
  ip link add ecpa type veth peer name ecpb
  ip link set ecpa up
  ip link set ecpb up
  ip addr add 10.$n.1.2/24 dev ecpa
  ip addr add 10.$n.2.1/24 dev ecpb
  ip -6 addr add fd$n:1::2/64 dev ecpa nodad
  ip -6 addr add fd$n:2::1/64 dev ecpb nodad
  EDGECLASS_TEST_PKTINFO='$cases' '$bin' \
    --gtest_filter='UdpServer.*AnswersFromTheAddressTheRequestArrivedAt*' --gtest_also_run_disabled_tests --gtest_brief=0
"
