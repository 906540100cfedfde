#!/usr/bin/env bash
# The monitoring kit (deploy/monitoring): the alert rules pass `promtool check rules` and their
# unit tests (`promtool test rules`); every PromQL expression of the Grafana dashboard parses
# (promtool, as a recording rule) and every edgeclass_* metric that the rules and the dashboard
# use is exported by a real server (scraped from its admin listener), so a renamed metric
# breaks this test instead of a panel. The promtail config is valid YAML with the pipeline.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/scripts/lib/tools.sh
need_tool monitoring_test PROMTOOL "scripts/install-deps.sh test (prometheus)" promtool
bin=$(realpath "${EDGECLASS_BIN:-build/release/edgeclass}")
[ -x "$bin" ] || { echo "monitoring_test: no binary at $bin" >&2; exit 1; }
kit=deploy/monitoring
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$PROMTOOL" check rules "$kit/prometheus/edgeclass-rules.yml"
(cd "$kit/prometheus" && "$PROMTOOL" test rules edgeclass-rules.test.yml)

# A live exposition: the binary with TLS off, media on, on loopback.
"$bin" cert --self-signed --host 127.0.0.1 --out "$work/tls" >/dev/null
EDGECLASS_LISTEN=127.0.0.1:0 EDGECLASS_ADMIN_LISTEN=127.0.0.1:0 EDGECLASS_DATA_DIR="$work/data" \
  EDGECLASS_TLS_CERT="$work/tls/cert.pem" EDGECLASS_TLS_KEY="$work/tls/key.pem" \
  EDGECLASS_MEDIA_PORT=0 EDGECLASS_JWT_SECRET=monitoring-secret-0123456789 \
  "$bin" serve >"$work/log" 2>&1 &
pid=$!
# (up to 30 s: a loaded machine can take more than the few seconds an idle one never needs)
for _ in $(seq 1500); do grep -q '"edgeclass.ready"' "$work/log" && break; sleep 0.02; done
grep -q '"edgeclass.ready"' "$work/log" || { echo "monitoring_test: the server did not become ready:" >&2; cat "$work/log" >&2; exit 1; }
admin=$(python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if "edgeclass.ready" in l][0]["admin_url"])' "$work/log")
curl -sf "${admin}metrics" >"$work/metrics"
"$PROMTOOL" check metrics <"$work/metrics"

python3 - "$kit" "$work" <<'PY'
import json, re, subprocess, sys, yaml
kit, work = sys.argv[1], sys.argv[2]
dash = json.load(open(f"{kit}/grafana/edgeclass-city.json"))
exprs = []
def walk(panels):
    for p in panels:
        walk(p.get("panels", []))
        for t in p.get("targets", []):
            exprs.append((p["title"], t["expr"]))
walk(dash["panels"])
assert len(exprs) >= 20, f"only {len(exprs)} dashboard queries"
# Grafana's variables as Prometheus sees them once substituted.
rules = {"groups": [{"name": "dashboard", "rules": [
    {"record": f"dashboard:query_{i}", "expr": e.replace("$__rate_interval", "5m").replace("$instance", ".*")}
    for i, (_, e) in enumerate(exprs)]}]}
open(f"{work}/dashboard-rules.yml", "w").write(yaml.safe_dump(rules))
r = subprocess.run(["promtool", "check", "rules", f"{work}/dashboard-rules.yml"], capture_output=True, text=True)
assert r.returncode == 0, "a dashboard query does not parse:\n" + r.stdout + r.stderr
print(f"ok - {len(exprs)} dashboard queries parse")

exported = set()
for line in open(f"{work}/metrics"):
    m = re.match(r"# TYPE (\S+) (\S+)", line)
    if m:
        exported.add(m.group(1))
        if m.group(2) == "histogram":
            exported |= {m.group(1) + s for s in ("_bucket", "_count", "_sum")}
# Exported only by a replica in a city (EDGECLASS_REDIS_URL set; src/app/serve.cc start_city),
# and the test server runs alone.
elsewhere = {"edgeclass_city_connected"}
alert_rules = yaml.safe_load(open(f"{kit}/prometheus/edgeclass-rules.yml"))
used = {}
for g in alert_rules["groups"]:
    for rule in g["rules"]:
        used.setdefault("rules", []).append(rule["expr"])
used["dashboard"] = [e for _, e in exprs]
missing = []
for where, es in used.items():
    for e in es:
        for name in re.findall(r"\b(edgeclass_[a-z0-9_]+)", e):
            if name not in exported and name not in elsewhere:
                missing.append(f"{where}: {name}")
assert not missing, "metrics used but not exported:\n" + "\n".join(sorted(set(missing)))
print(f"ok - every edgeclass_* metric in the rules and the dashboard is exported ({len(exported)} series names)")

pt = yaml.safe_load(open(f"{kit}/loki/promtail.yml"))
stages = pt["scrape_configs"][0]["pipeline_stages"]
json_stage = [s for s in stages if "match" in s][0]["match"]["stages"]
labels = [s["labels"] for s in json_stage if "labels" in s][0]
assert set(labels) == {"level"}, f"promtail labels must stay low-cardinality: {labels}"
print("ok - promtail pipeline parses JSON lines and labels only by level")
PY
echo "monitoring_test: ok"
