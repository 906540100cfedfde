#!/usr/bin/env bash
# The city: a real redis-server and three edgeclass replicas on loopback (tests/api/test_city.py):
# cross-replica reads and writes, join by class code, the city-wide course list, exact capacity
# over replicas, Redis down and back empty, a live room on its home while Redis is down, a
# replica killed with -9; and a city whose replicas listen with TLS (forwarding over TLS, trust
# through EDGECLASS_CITY_CA: pinned, CA-signed with a name check, refused); and one live class
# across the replicas (tests/api/test_city_live.py: students relayed by other replicas than
# the course's home, a spread room on the home with edges, capacity, resume anywhere, an edge
# killed -9, Redis lost mid-class, a replica stopped with SIGTERM mid-class (edge and home:
# goodbyes), Redis back empty mid-class (presence written again), and video for a student on
# an edge: the home's SFU answers its offer with the home's candidate).
# EDGECLASS_BIN as in api.sh. Skips when redis-server is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/scripts/lib/tools.sh
command -v redis-server >/dev/null || skip_test city "redis-server is not installed (scripts/install-deps.sh test)"
bin=${EDGECLASS_BIN:-build/release/edgeclass}
[ -x "$bin" ] || { echo "city.sh: no edgeclass binary at $bin (build it, or set EDGECLASS_BIN)" >&2; exit 1; }
export EDGECLASS_BIN=$(realpath "$bin")
cd tests/api
exec timeout 260 python3 -m unittest -v test_city test_city_live 2>&1
