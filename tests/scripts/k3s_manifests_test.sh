#!/usr/bin/env bash
# Checks deploy/k3s without a cluster: every file parses, every kustomization lists files
# that exist, and the edgeclass DaemonSet keeps the properties docs/operations.md relies on
# (hostNetwork with ClusterFirstWithHostNet DNS, probes, Guaranteed 2 CPU / 1 GiB, non-root,
# the JWT secret from the Secret, ports matching the image's EXPOSE lines, runtimeClassName
# runc with its RuntimeClass).
# Needs python3 with PyYAML (Debian python3-yaml, in scripts/install-deps.sh test).
set -euo pipefail
cd "$(dirname "$0")/../.."
py=python3
/usr/bin/python3 -c 'import yaml' 2>/dev/null && py=/usr/bin/python3
"$py" - <<'PY'
import os, re, sys
import yaml

root = "deploy/k3s"
errors = []
def check(cond, msg):
    if not cond:
        errors.append(msg)

CLUSTER_SCOPED = {"Namespace", "RuntimeClass"}
docs = []
for dirpath, _, files in os.walk(root):
    for f in sorted(files):
        if not f.endswith(".yaml"):
            continue
        path = os.path.join(dirpath, f)
        with open(path) as fh:
            try:
                loaded = [d for d in yaml.safe_load_all(fh) if d is not None]
            except yaml.YAMLError as e:
                errors.append(f"{path}: does not parse: {e}")
                continue
        if f == "kustomization.yaml":
            for res in loaded[0].get("resources", []):
                check(os.path.exists(os.path.join(dirpath, res)), f"{path}: missing resource {res}")
            continue
        for d in loaded:
            for key in ("apiVersion", "kind", "metadata"):
                check(key in d, f"{path}: a document without {key}")
            meta = d.get("metadata", {})
            check("name" in meta, f"{path}: {d.get('kind')} without a name")
            if d.get("kind") not in CLUSTER_SCOPED:
                check(meta.get("namespace") == "education",
                      f"{path}: {d.get('kind')}/{meta.get('name')} not in namespace education")
            docs.append((path, d))

def find(kind, name):
    for _, d in docs:
        if d["kind"] == kind and d["metadata"]["name"] == name:
            return d
    errors.append(f"no {kind}/{name}")
    return None

ds = find("DaemonSet", "edgeclass")
rc = find("RuntimeClass", "runc")
if rc:
    check(rc["apiVersion"] == "node.k8s.io/v1" and rc.get("handler") == "runc",
          "RuntimeClass runc must be node.k8s.io/v1 with handler runc")
# Every pod in education names a runtime class the Gatekeeper policy allows.
for _, d in docs:
    if d["kind"] in ("Deployment", "DaemonSet", "StatefulSet"):
        rcn = d["spec"]["template"]["spec"].get("runtimeClassName")
        check(rcn in ("runc", "wasmedge"),
              f"{d['kind']}/{d['metadata']['name']}: runtimeClassName {rcn!r} not allowed by deploy/gatekeeper")
        check(rcn != "runc" or rc is not None, f"{d['kind']}/{d['metadata']['name']}: no RuntimeClass {rcn}")
secret = find("Secret", "edgeclass-jwt")
if ds:
    spec = ds["spec"]
    tpl = spec["template"]
    pod = tpl["spec"]
    sel = spec["selector"]["matchLabels"]
    check(all(tpl["metadata"]["labels"].get(k) == v for k, v in sel.items()),
          "DaemonSet selector does not match its template labels")
    check(pod.get("hostNetwork") is True, "edgeclass must use hostNetwork for the media port")
    check(pod.get("dnsPolicy") == "ClusterFirstWithHostNet",
          "hostNetwork needs dnsPolicy ClusterFirstWithHostNet to resolve Service names")
    check(pod.get("runtimeClassName") == "runc",
          "the native static image runs under runc, named explicitly for the Gatekeeper runtime-class policy")
    check(pod["securityContext"].get("runAsUser") == 65532, "edgeclass must run as uid 65532")
    c = next(c for c in pod["containers"] if c["name"] == "edgeclass")
    env = {e["name"]: e for e in c["env"]}
    for name in ("MAX_STUDENTS", "VIDEO_QUALITY", "EDGECLASS_LISTEN", "EDGECLASS_DATA_DIR",
                 "EDGECLASS_REDIS_URL", "EDGECLASS_MEDIA_PORT", "EDGECLASS_JWT_SECRET"):
        check(name in env, f"edgeclass env lacks {name}")
    ref = env.get("EDGECLASS_JWT_SECRET", {}).get("valueFrom", {}).get("secretKeyRef", {})
    check(ref.get("name") == "edgeclass-jwt", "EDGECLASS_JWT_SECRET must come from Secret edgeclass-jwt")
    if secret:
        check(ref.get("key") in secret.get("stringData", {}) or ref.get("key") in secret.get("data", {}),
              f"Secret edgeclass-jwt has no key {ref.get('key')}")
    check(c["livenessProbe"]["httpGet"]["path"] == "/healthz", "liveness must be /healthz")
    check(c["readinessProbe"]["httpGet"]["path"] == "/readyz", "readiness must be /readyz")
    r = c["resources"]
    check(r["requests"] == {"cpu": "200m", "memory": "512Mi"} and r["limits"] == {"cpu": "1", "memory": "1Gi"},
          "edgeclass resources must be the case study's: requests 200m/512Mi, limits 1/1Gi")
    for probe in ("livenessProbe", "readinessProbe"):
        g = c[probe]["httpGet"]
        check(g.get("port") == "https" and g.get("scheme") == "HTTPS",
              f"{probe} must probe the public HTTPS port")
    check(env.get("EDGECLASS_TLS_CERT", {}).get("value", "").startswith("/tls/")
          and env.get("EDGECLASS_TLS_KEY", {}).get("value", "").startswith("/tls/"),
          "EDGECLASS_TLS_CERT/KEY must point into the TLS Secret mounted at /tls")
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    check(vols.get("tls", {}).get("secret", {}).get("secretName") == "edgeclass-tls",
          "the TLS certificate must come from Secret edgeclass-tls")
    check(env.get("EDGECLASS_ADMIN_LISTEN", {}).get("value", "").endswith(":9091"),
          "the admin listener must be on 9091")
    ann = tpl["metadata"].get("annotations", {})
    check(ann.get("prometheus.io/port") == "9091", "Prometheus must scrape the admin port")
    pdb = find("PodDisruptionBudget", "edgeclass")
    check(pdb is not None and pdb["spec"].get("maxUnavailable") == 1, "a PodDisruptionBudget must bound drains")
    np = find("NetworkPolicy", "edgeclass-admin")
    check(np is not None, "a NetworkPolicy must restrict the admin port")
    if np:
        admin_rules = [r for r in np["spec"]["ingress"] if any(p.get("port") == 9091 for p in r.get("ports", []))]
        check(len(admin_rules) == 1 and admin_rules[0].get("from"), "port 9091 only from the monitoring namespace")
        open_rules = [r for r in np["spec"]["ingress"] if not r.get("from")]
        check(all(p.get("port") != 9091 for r in open_rules for p in r.get("ports", [])),
              "the admin port must not be open to everyone")
    ports = {(p["containerPort"], p["protocol"]) for p in c["ports"]}
    with open("deploy/Containerfile") as fh:
        exposed = set()
        for line in fh:
            if line.startswith("EXPOSE"):
                for item in line.split()[1:]:
                    port, proto = item.split("/")
                    exposed.add((int(port), proto.upper()))
    check(ports == exposed, f"container ports {sorted(ports)} differ from EXPOSE {sorted(exposed)}")
    listen = env.get("EDGECLASS_LISTEN", {}).get("value", "")
    check(listen.endswith(":8080") and listen.startswith("0.0.0.0"),
          "EDGECLASS_LISTEN must bind all interfaces on 8080 (probes come from the node)")
    mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
    check(env.get("EDGECLASS_DATA_DIR", {}).get("value") in mounts, "the data dir must be a volume")

# Every Service selects some workload and names ports that workload declares.
workloads = [d for _, d in docs if d["kind"] in ("Deployment", "DaemonSet", "StatefulSet")]
for _, svc in [(p, d) for p, d in docs if d["kind"] == "Service"]:
    sel = svc["spec"]["selector"]
    matches = [w for w in workloads
               if all(w["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in sel.items())]
    check(len(matches) == 1, f"Service {svc['metadata']['name']} selects {len(matches)} workloads")
    for m in matches:
        names = {p.get("name") for c in m["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
        for p in svc["spec"]["ports"]:
            t = p.get("targetPort")
            check(not isinstance(t, str) or t in names,
                  f"Service {svc['metadata']['name']} targets unknown port {t}")

for e in errors:
    print("FAIL:", e)
print(f"k3s manifests: {len(docs)} objects, {len(errors)} problems")
sys.exit(1 if errors else 0)
PY
