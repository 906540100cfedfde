#!/usr/bin/env bash
# Checks deploy/k3s without a cluster: every file parses, every kustomization lists files
# that exist, and the edgeclass StatefulSet keeps the properties docs/operations.md relies on
# for a city (issue 12): a stable replica id (the pod name) and a PVC per replica for its
# SQLite, the advertised URL under a headless Service, the client Service, the media port as
# a hostPort with one replica per node, probes, the case study's 200m/512Mi -> 1/1Gi,
# non-root, the JWT secret from the Secret, ports matching the image's EXPOSE lines,
# runtimeClassName runc with its RuntimeClass, a PodDisruptionBudget. And the wasm32-wasi
# variant in deploy/k3s/wasm (issue 18): RuntimeClass wasmedge, one replica of the
# edgeclass-wasm image with the compat-smart annotation, plain HTTP probes, its own volume.
# (Until issue 12 this checked a DaemonSet with hostNetwork, a hostPath and Guaranteed
# 2 CPU / 1 GiB: a replica's identity was its node. A city needs an identity and a volume
# that follow the replica, hence the StatefulSet; docs/operations.md, "K3s deployment".)
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

ss = find("StatefulSet", "edgeclass")
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
        check(any(x["kind"] == "RuntimeClass" and x["metadata"]["name"] == rcn for _, x in docs),
              f"{d['kind']}/{d['metadata']['name']}: no RuntimeClass {rcn} in deploy/k3s")
check(not any(d["kind"] == "DaemonSet" and d["metadata"]["name"] == "edgeclass" for _, d in docs),
      "edgeclass must not also be a DaemonSet")
secret = find("Secret", "edgeclass-jwt")
if ss:
    spec = ss["spec"]
    tpl = spec["template"]
    pod = tpl["spec"]
    sel = spec["selector"]["matchLabels"]
    check(all(tpl["metadata"]["labels"].get(k) == v for k, v in sel.items()),
          "StatefulSet selector does not match its template labels")
    check(not pod.get("hostNetwork"), "edgeclass has its own pod network (media is a hostPort)")
    check(pod.get("runtimeClassName") == "runc",
          "the native static image runs under runc, named explicitly for the Gatekeeper runtime-class policy")
    check(pod["securityContext"].get("runAsUser") == 65532, "edgeclass must run as uid 65532")
    anti = pod.get("affinity", {}).get("podAntiAffinity", {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution", [])
    check(any(t.get("topologyKey") == "kubernetes.io/hostname" and
              all(t.get("labelSelector", {}).get("matchLabels", {}).get(k) == v for k, v in sel.items())
              for t in anti), "one edgeclass replica per node (the media hostPort): required anti-affinity")
    c = next(c for c in pod["containers"] if c["name"] == "edgeclass")
    env = {e["name"]: e for e in c["env"]}
    order = [e["name"] for e in c["env"]]
    for name in ("MAX_STUDENTS", "VIDEO_QUALITY", "EDGECLASS_LISTEN", "EDGECLASS_DATA_DIR",
                 "EDGECLASS_REDIS_URL", "EDGECLASS_MEDIA_PORT", "EDGECLASS_JWT_SECRET",
                 "EDGECLASS_REPLICA_ID", "EDGECLASS_ADVERTISE_URL"):
        check(name in env, f"edgeclass env lacks {name}")
    ref = env.get("EDGECLASS_JWT_SECRET", {}).get("valueFrom", {}).get("secretKeyRef", {})
    check(ref.get("name") == "edgeclass-jwt", "EDGECLASS_JWT_SECRET must come from Secret edgeclass-jwt")
    if secret:
        check(ref.get("key") in secret.get("stringData", {}) or ref.get("key") in secret.get("data", {}),
              f"Secret edgeclass-jwt has no key {ref.get('key')}")
    # The replica id is the pod name (stable, bound to its PVC), and the advertised URL is the
    # pod's name under the StatefulSet's headless Service, on the HTTPS port.
    rid = env.get("EDGECLASS_REPLICA_ID", {}).get("valueFrom", {}).get("fieldRef", {})
    check(rid.get("fieldPath") == "metadata.name", "EDGECLASS_REPLICA_ID must be the pod name")
    peers = spec.get("serviceName")
    adv = env.get("EDGECLASS_ADVERTISE_URL", {}).get("value", "")
    check(adv == f"https://$(EDGECLASS_REPLICA_ID).{peers}.education.svc.cluster.local:8080",
          f"EDGECLASS_ADVERTISE_URL {adv!r} must be the pod's name under Service {peers}")
    # Forwarding over TLS: the image has no CA bundle, so the replicas pin their shared cert.
    check(env.get("EDGECLASS_CITY_CA", {}).get("value") ==
          env.get("EDGECLASS_TLS_CERT", {}).get("value"),
          "EDGECLASS_CITY_CA must be the replicas' own certificate (https:// peers, no CA bundle)")
    check("EDGECLASS_REPLICA_ID" in order and "EDGECLASS_ADVERTISE_URL" in order and
          order.index("EDGECLASS_REPLICA_ID") < order.index("EDGECLASS_ADVERTISE_URL"),
          "$(EDGECLASS_REPLICA_ID) expands only when defined earlier in env")
    headless = find("Service", peers) if peers else None
    if headless:
        hs = headless["spec"]
        check(hs.get("clusterIP") == "None", f"Service {peers} must be headless")
        check(hs.get("publishNotReadyAddresses") is True,
              f"Service {peers}: a starting replica must be reachable by its peers")
        check(all(hs.get("selector", {}).get(k) == v for k, v in sel.items()),
              f"Service {peers} does not select edgeclass")
        check(any(p.get("port") == 8080 for p in hs.get("ports", [])), f"Service {peers} lacks 8080")
    client = find("Service", "edgeclass")
    if client:
        check(client["spec"].get("clusterIP") != "None", "the client Service is not headless")
        check(client["spec"].get("sessionAffinity", "None") == "None",
              "the city needs no sticky sessions: the client Service has no affinity")
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
    media = [p for p in c["ports"] if p["protocol"] == "UDP"]
    check(all(p.get("hostPort") == p["containerPort"] for p in media),
          "the media port must be a hostPort (clients reach it at the node's address)")
    listen = env.get("EDGECLASS_LISTEN", {}).get("value", "")
    check(listen.endswith(":8080") and listen.startswith("0.0.0.0"),
          "EDGECLASS_LISTEN must bind all interfaces on 8080 (probes and peers)")
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    data_vol = mounts.get(env.get("EDGECLASS_DATA_DIR", {}).get("value"))
    claims = [t["metadata"]["name"] for t in spec.get("volumeClaimTemplates", [])]
    check(data_vol is not None and data_vol in claims,
          "the data dir must be a volume from volumeClaimTemplates (a PVC per replica)")
    pdb = find("PodDisruptionBudget", "edgeclass")
    if pdb:
        check(all(pdb["spec"]["selector"]["matchLabels"].get(k) == v for k, v in sel.items()),
              "the PodDisruptionBudget must select edgeclass")

# The wasm32-wasi variant (deploy/k3s/wasm, issue 18): the case study's RuntimeClass
# wasmedge, one replica on one SQLite volume, the image make image-wasm builds, the
# annotation crun's wasm handler looks for, plain HTTP probes (the module has no TLS).
wrc = find("RuntimeClass", "wasmedge")
if wrc:
    check(wrc["apiVersion"] == "node.k8s.io/v1" and wrc.get("handler") == "wasmedge",
          "RuntimeClass wasmedge must be node.k8s.io/v1 with handler wasmedge (K3s's own)")
wd = find("Deployment", "edgeclass-wasm")
if wd:
    spec = wd["spec"]
    tpl = spec["template"]
    pod = tpl["spec"]
    sel = spec["selector"]["matchLabels"]
    check(all(tpl["metadata"]["labels"].get(k) == v for k, v in sel.items()),
          "edgeclass-wasm: selector does not match its template labels")
    check(pod.get("runtimeClassName") == "wasmedge", "edgeclass-wasm must run under RuntimeClass wasmedge")
    check(spec.get("replicas") == 1 and spec.get("strategy", {}).get("type") == "Recreate",
          "edgeclass-wasm: one replica, Recreate (one writer on its SQLite volume)")
    check(tpl["metadata"].get("annotations", {}).get("module.wasm.image/variant") == "compat-smart",
          "edgeclass-wasm: the pod needs module.wasm.image/variant=compat-smart (crun's wasm handler)")
    check(pod["securityContext"].get("runAsUser") == 65532, "edgeclass-wasm must run as uid 65532")
    c = next(c for c in pod["containers"] if c["name"] == "edgeclass")
    check(c["image"].split(":")[0] == "edgeclass-wasm", "edgeclass-wasm runs the image edgeclass-wasm")
    env = {e["name"]: e for e in c["env"]}
    for name in ("EDGECLASS_LISTEN", "EDGECLASS_DATA_DIR", "EDGECLASS_JWT_SECRET", "MAX_STUDENTS"):
        check(name in env, f"edgeclass-wasm env lacks {name}")
    check(env.get("EDGECLASS_JWT_SECRET", {}).get("valueFrom", {}).get("secretKeyRef", {}).get("name")
          == "edgeclass-jwt", "edgeclass-wasm: EDGECLASS_JWT_SECRET must come from Secret edgeclass-jwt")
    check(env.get("EDGECLASS_LISTEN", {}).get("value") == "0.0.0.0:8080",
          "edgeclass-wasm: EDGECLASS_LISTEN must be 0.0.0.0:8080")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        g = c.get(probe, {}).get("httpGet", {})
        check(g.get("path") == path and g.get("scheme", "HTTP") == "HTTP" and g.get("port") == "http",
              f"edgeclass-wasm: {probe} must be plain HTTP {path} on the http port")
    with open("deploy/Containerfile.wasm") as fh:
        exposed = {(int(i.split("/")[0]), i.split("/")[1].upper())
                   for line in fh if line.startswith("EXPOSE") for i in line.split()[1:]}
    ports = {(p["containerPort"], p["protocol"]) for p in c["ports"]}
    check(ports == exposed, f"edgeclass-wasm ports {sorted(ports)} differ from Containerfile.wasm's EXPOSE {sorted(exposed)}")
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    claim = vols.get(mounts.get(env.get("EDGECLASS_DATA_DIR", {}).get("value")), {}).get(
        "persistentVolumeClaim", {}).get("claimName")
    check(claim is not None and find("PersistentVolumeClaim", claim) is not None,
          "edgeclass-wasm: the data dir must be a PersistentVolumeClaim in deploy/k3s/wasm")
    r = c.get("resources", {})
    check(r.get("requests") and r.get("limits"), "edgeclass-wasm: requests and limits")
    check(find("Service", "edgeclass-wasm") is not None, "edgeclass-wasm needs its Service")
# Each overlay names its own pieces: the native city and the wasm server are separate choices.
for overlay, wanted in (("deploy/k3s/base", {"edgeclass.yaml", "runtimeclass.yaml", "../common"}),
                        ("deploy/k3s/wasm", {"edgeclass-wasm.yaml", "runtimeclass.yaml", "../common"})):
    with open(os.path.join(overlay, "kustomization.yaml")) as fh:
        res = set(yaml.safe_load(fh).get("resources", []))
    check(wanted <= res, f"{overlay}/kustomization.yaml must list {sorted(wanted - res)}")

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
