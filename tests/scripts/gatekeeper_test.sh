#!/usr/bin/env bash
# Our Gatekeeper admission policies (deploy/gatekeeper) and the Gatekeeper library conformance
# samples (third_party/gatekeeper-library) through `edgeclass policy verify`, as `gator verify`
# would run them. Fails on any failed case, or when fewer cases ran than the suites declare.
# Also checks that the k3s_*_pod.yaml samples are still the pod templates of the workloads in
# deploy/k3s (so drift between our manifests and our policies fails here), and that a wrong
# assertion and a drifted manifest both make `policy verify` fail. After a deliberate change to
# a workload in deploy/k3s, `UPDATE_K3S_SAMPLES=1 bash tests/scripts/gatekeeper_test.sh`
# rewrites those samples (then the policies judge the new pod spec).
# Needs python3 with PyYAML (Debian python3-yaml, in scripts/install-deps.sh test).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=build/release/edgeclass
LIBRARY=third_party/gatekeeper-library
py=python3
/usr/bin/python3 -c 'import yaml' 2>/dev/null && py=/usr/bin/python3

# Minimum case counts, so a suite that silently lost cases is noticed too.
MIN_OURS=41
MIN_LIBRARY=41

# Number of cases the suite.yaml files under $1 declare.
declared_cases() {
  "$py" - "$1" <<'PY'
import os, sys, yaml
n = 0
for dirpath, _, files in os.walk(sys.argv[1]):
    if "suite.yaml" in files:
        suite = yaml.safe_load(open(os.path.join(dirpath, "suite.yaml")))
        n += sum(len(t.get("cases") or []) for t in suite.get("tests") or [])
print(n)
PY
}

# verify DIR MIN: every declared case ran and passed, and at least MIN of them.
verify() {
  local dir=$1 min=$2 out rc=0 want passed failed
  want=$(declared_cases "$dir")
  out=$("$BIN" policy verify "$dir" 2>&1) || rc=$?
  echo "$out" | grep -v '^ok ' || true
  summary=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)
  passed=$(echo "$summary" | grep -oE '^[0-9]+' || echo 0)
  failed=$(echo "$summary" | grep -oE '[0-9]+ failed' | grep -oE '^[0-9]+' || echo 1)
  if [ "$rc" -ne 0 ] || [ -z "$summary" ] || [ "$failed" -ne 0 ]; then
    echo "FAIL: policy verify $dir (exit $rc): ${summary:-no summary}" >&2
    return 1
  fi
  if [ "$passed" -ne "$want" ] || [ "$passed" -lt "$min" ]; then
    echo "FAIL: policy verify $dir ran $passed cases; the suites declare $want, expected at least $min" >&2
    return 1
  fi
  echo "policy verify $dir: $passed cases passed"
}

[ -x "$BIN" ] || { echo "FAIL: $BIN not built" >&2; exit 1; }
[ -d "$LIBRARY" ] || { echo "FAIL: no conformance samples at $LIBRARY" >&2; exit 1; }

# The extracted pod samples are the k3s workloads' pod templates, and every policy's suite
# asserts that they pass.
"$py" - <<'PY'
import os, sys, yaml
errors = []
workloads = []
for dirpath, _, files in os.walk("deploy/k3s"):
    for f in sorted(files):
        if f.endswith(".yaml") and f != "kustomization.yaml":
            path = os.path.join(dirpath, f)
            for d in yaml.safe_load_all(open(path)):
                if d and d.get("kind") in ("DaemonSet", "Deployment", "StatefulSet"):
                    workloads.append((path, d))
if not workloads:
    errors.append("no workloads found in deploy/k3s")
policies = sorted(p for p in os.listdir("deploy/gatekeeper")
                  if os.path.isfile(os.path.join("deploy/gatekeeper", p, "suite.yaml")))
if len(policies) < 3:
    errors.append(f"expected 3 policies in deploy/gatekeeper, found {policies}")
for policy in policies:
    base = os.path.join("deploy/gatekeeper", policy)
    suite = yaml.safe_load(open(os.path.join(base, "suite.yaml")))
    cases = {c["object"]: c for t in suite["tests"] for c in t.get("cases") or []}
    for path, w in workloads:
        name = w["metadata"]["name"]
        rel = f"samples/k3s_{name}_pod.yaml"
        sample = os.path.join(base, rel)
        if os.environ.get("UPDATE_K3S_SAMPLES") == "1":
            tpl = w["spec"]["template"]
            pod = {"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": f"{name}-k3s", "namespace": w["metadata"]["namespace"],
                                "labels": tpl["metadata"].get("labels", {}),
                                "annotations": {"edgeclass.dev/extracted-from": f"{path} {w['kind']}/{name}"}},
                   "spec": tpl["spec"]}
            with open(sample, "w") as fh:
                fh.write(f"# The pod template of {w['kind']}/{name} in {path}, as a Pod. Must stay identical\n"
                         "# to it (tests/scripts/gatekeeper_test.sh compares the spec; UPDATE_K3S_SAMPLES=1\n"
                         "# rewrites it): our own manifests must pass our own admission policies.\n")
                yaml.safe_dump(pod, fh, sort_keys=False, default_flow_style=False, width=100)
        if not os.path.exists(sample):
            errors.append(f"{sample}: missing (the pod template of {w['kind']}/{name} in {path})")
            continue
        pod = yaml.safe_load(open(sample))
        tpl = w["spec"]["template"]
        if pod.get("kind") != "Pod" or pod.get("spec") != tpl["spec"]:
            errors.append(f"{sample}: differs from the pod template of {w['kind']}/{name} in {path}"
                          " (UPDATE_K3S_SAMPLES=1 bash tests/scripts/gatekeeper_test.sh rewrites it)")
        if pod.get("metadata", {}).get("namespace") != w["metadata"].get("namespace"):
            errors.append(f"{sample}: not in the namespace of {w['kind']}/{name}")
        case = cases.get(rel)
        # PyYAML reads `no` as false.
        if not case or case.get("assertions") not in ([{"violations": False}], [{"violations": "no"}]):
            errors.append(f"{base}/suite.yaml: no case asserting `violations: no` for {rel}")
for e in errors:
    print("FAIL:", e)
print(f"k3s pod samples: {len(workloads)} workloads x {len(policies)} policies, {len(errors)} problems")
sys.exit(1 if errors else 0)
PY

verify deploy/gatekeeper "$MIN_OURS"
verify "$LIBRARY" "$MIN_LIBRARY"

# A wrong assertion, and a drifted manifest, must make `policy verify` fail.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r deploy/gatekeeper/k8sedgeruntimeclass "$tmp/wrong"
# Only the runc-allowed case changes: its `violations: no` becomes `yes`.
"$py" - "$tmp/wrong/suite.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
i = s.index("- name: runc-allowed")
j = s.index("- violations: no", i)
open(p, "w").write(s[:j] + "- violations: yes" + s[j + len("- violations: no"):])
PY
if out=$("$BIN" policy verify "$tmp/wrong" 2>&1); then
  echo "FAIL: a wrong assertion did not fail policy verify" >&2; exit 1
fi
grep -q 'FAIL .*runc-allowed' <<<"$out" || { echo "FAIL: the wrong case was not the failure: $out" >&2; exit 1; }
grep -qE '^[0-9]+ passed, 1 failed$' <<<"$out" || { echo "FAIL: want exactly one failure: $out" >&2; exit 1; }
cp -r deploy/gatekeeper/k8sedgeruntimeclass "$tmp/drift"
sed -i '/^  runtimeClassName: runc$/d' "$tmp/drift/samples/k3s_edgeclass_pod.yaml"
if out=$("$BIN" policy verify "$tmp/drift" 2>&1); then
  echo "FAIL: a StatefulSet without runtimeClassName did not fail policy verify" >&2; exit 1
fi
grep -q 'FAIL .*k3s-edgeclass-statefulset-pod' <<<"$out" || { echo "FAIL: the drifted case was not the failure: $out" >&2; exit 1; }
echo "gatekeeper policies ok"
