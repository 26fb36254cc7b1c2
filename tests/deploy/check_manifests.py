#!/usr/bin/env python3
"""Checks tollgate's Kubernetes manifests against what
packaging/kubernetes/README.md promises.

    tests/deploy/check_manifests.py FILE...
    tests/deploy/check_manifests.py --extract-policy FILE OUT

The first form parses every YAML document of every FILE and prints one line
per check, "ok deploy/k8s-NAME" or "FAIL deploy/k8s-NAME: why"; it exits 1
when any check failed (2 for a usage error). The files together must hold
the Namespace, the DaemonSet, the ConfigMap tollgate-policy and the
PodMonitor. The second form writes the policy of the ConfigMap in FILE
(the key the DaemonSet's TOLLGATE_POLICY names, "policy") to OUT, so that a
shell test can run `tollgate check` on it.
"""
import sys

try:
    import yaml
except ImportError:  # pragma: no cover
    print("FAIL deploy/k8s-parse: python3 has no PyYAML (apt-get install python3-yaml)")
    sys.exit(1)

CAPS = {"BPF", "NET_ADMIN", "PERFMON", "SYS_ADMIN"}
METRICS_PORT = 9731
POLICY_KEY = "policy"
CONFIGMAP = "tollgate-policy"

results = []


def ok(name):
    results.append(True)
    print(f"ok deploy/k8s-{name}")


def fail(name, why):
    results.append(False)
    print(f"FAIL deploy/k8s-{name}: {why}")


def check(name, cond, why):
    if cond:
        ok(name)
    else:
        fail(name, why)


def load(files):
    docs = []
    for f in files:
        try:
            with open(f, encoding="utf-8") as fh:
                for i, d in enumerate(yaml.safe_load_all(fh)):
                    if d is None:
                        continue
                    if not isinstance(d, dict) or "kind" not in d or "apiVersion" not in d:
                        raise ValueError(f"document {i + 1} has no kind/apiVersion")
                    d["_file"] = f
                    docs.append(d)
        except (OSError, yaml.YAMLError, ValueError) as e:
            fail("parse", f"{f}: {e}".replace("\n", " "))
            return None
    ok("parse")
    return docs


def one(docs, kind, name=None):
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"].get("name") == name)]
    label = kind + (f" {name}" if name else "")
    if len(found) != 1:
        fail(f"{kind.lower()}-present", f"want exactly one {label}, found {len(found)}")
        return None
    ok(f"{kind.lower()}-present")
    return found[0]


def env_of(c):
    return {e["name"]: e.get("value") for e in c.get("env", []) if "name" in e}


def policy_path(ds):
    """TOLLGATE_POLICY of the DaemonSet's container (the image's default)."""
    c = ds["spec"]["template"]["spec"]["containers"][0]
    return env_of(c).get("TOLLGATE_POLICY") or "/etc/tollgate/policy/policy"


def configmap_file_for(ds, path):
    """(configmap name, key) the DaemonSet mounts at PATH, or None."""
    pod = ds["spec"]["template"]["spec"]
    c = pod["containers"][0]
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    for m in c.get("volumeMounts", []):
        v = vols.get(m["name"], {})
        if "configMap" not in v or m.get("subPath"):
            continue
        base = m["mountPath"].rstrip("/") + "/"
        if not path.startswith(base):
            continue
        rel = path[len(base):]
        items = v["configMap"].get("items")
        if items:
            for it in items:
                if it.get("path") == rel:
                    return v["configMap"].get("name"), it.get("key")
            return None
        return v["configMap"].get("name"), rel
    return None


def check_all(docs):
    ns_doc = one(docs, "Namespace")
    ds = one(docs, "DaemonSet")
    cm = one(docs, "ConfigMap", CONFIGMAP)
    pm = one(docs, "PodMonitor")
    if ds is None:
        return
    ns = ds["metadata"].get("namespace")
    spaces = {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"}
    check("namespace", ns and spaces == {ns} and (ns_doc is None or ns_doc["metadata"]["name"] == ns),
          f"objects are in namespaces {sorted(map(str, spaces))}, the Namespace is "
          f"{ns_doc['metadata']['name'] if ns_doc else None}")
    if ns_doc is not None:
        lab = ns_doc["metadata"].get("labels", {})
        check("pod-security", lab.get("pod-security.kubernetes.io/enforce") == "privileged",
              "the namespace must enforce the Pod Security level privileged (hostNetwork, hostPath, capabilities)")

    tmpl = ds["spec"]["template"]
    pod = tmpl["spec"]
    labels = tmpl["metadata"].get("labels", {})
    sel = ds["spec"].get("selector", {}).get("matchLabels", {})
    check("selector", sel and all(labels.get(k) == v for k, v in sel.items()),
          f"selector {sel} does not match the template's labels {labels}")
    check("host-network", pod.get("hostNetwork") is True, "hostNetwork is not true")
    check("dns-policy", pod.get("dnsPolicy") == "ClusterFirstWithHostNet",
          f"dnsPolicy is {pod.get('dnsPolicy')}, want ClusterFirstWithHostNet with hostNetwork")
    grace = pod.get("terminationGracePeriodSeconds", 30)
    check("grace", isinstance(grace, int) and grace >= 10,
          f"terminationGracePeriodSeconds {grace}: the pod needs time to detach")

    cs = pod.get("containers", [])
    if len(cs) != 1:
        fail("container", f"want one container, found {len(cs)}")
        return
    ok("container")
    c = cs[0]
    env = env_of(c)
    image = c.get("image", "")
    check("image", image.startswith("localhost/tollgate:") and c.get("imagePullPolicy") == "IfNotPresent",
          f"image {image} pull policy {c.get('imagePullPolicy')}: want localhost/tollgate:TAG, IfNotPresent")
    check("iface", bool(env.get("TOLLGATE_IFACE")), "TOLLGATE_IFACE has no value")

    # Volumes by mount path.
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = {m["mountPath"].rstrip("/") or "/": m for m in c.get("volumeMounts", [])}

    def host_mount(name, path, types):
        m = mounts.get(path)
        v = vols.get(m["name"]) if m else None
        hp = (v or {}).get("hostPath")
        if not hp:
            fail(name, f"no hostPath volume mounted at {path}")
        elif hp.get("path") != path:
            fail(name, f"{path} is mounted from the host's {hp.get('path')}, want {path}")
        elif hp.get("type") not in types:
            fail(name, f"hostPath {path} has type {hp.get('type')}, want one of {types}")
        elif m.get("readOnly"):
            fail(name, f"{path} is mounted read-only; tollgate writes there")
        else:
            ok(name)
            return m
        return None

    m = host_mount("bpffs", "/sys/fs/bpf", ["Directory"])
    if m is not None:
        check("bpffs-propagation", m.get("mountPropagation") in (None, "None", "HostToContainer"),
              f"mountPropagation {m.get('mountPropagation')}: HostToContainer is enough, Bidirectional is not needed")
    host_mount("locks", "/run/tollgate", ["DirectoryOrCreate", "Directory"])
    tm = mounts.get("/tmp")
    check("tmp", tm is not None and "emptyDir" in vols.get(tm["name"], {}) and not tm.get("readOnly"),
          "no writable emptyDir at /tmp (the root is read-only and the entrypoint uses mktemp)")

    sc = c.get("securityContext", {})
    caps = sc.get("capabilities", {})
    drop = caps.get("drop") or []
    add = caps.get("add") or []
    check("cap-drop", [x.upper() for x in drop] == ["ALL"], f"capabilities.drop is {drop}, want [ALL]")
    norm = {x.upper().removeprefix("CAP_") for x in add}
    check("cap-add", norm == CAPS and len(add) == len(CAPS),
          f"capabilities.add is {add}, want exactly {sorted(CAPS)}")
    check("read-only-root", sc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem is not true")
    check("not-privileged", sc.get("privileged") is not True, "privileged is true")
    check("escalation", not (sc.get("allowPrivilegeEscalation") is False and "SYS_ADMIN" in norm),
          "Kubernetes refuses allowPrivilegeEscalation false with SYS_ADMIN")
    check("run-as-root", sc.get("runAsUser", 0) == 0 and sc.get("runAsNonRoot") is not True,
          "tollgate's pins are root's: runAsUser must be 0")

    probe = c.get("readinessProbe", {}).get("exec", {}).get("command", [])
    text = " ".join(map(str, probe))
    check("readiness", "tollgate status" in text and ("TOLLGATE_IFACE" in text or env.get("TOLLGATE_IFACE", "@") in probe),
          f"readinessProbe runs {probe}, want `tollgate status` on TOLLGATE_IFACE")
    if "$TOLLGATE_IFACE" in text and probe[:1] not in (["sh"], ["/bin/sh"], ["bash"], ["/bin/bash"]):
        fail("readiness-shell", "the probe names $TOLLGATE_IFACE without a shell to expand it")

    ports = {p.get("name"): p for p in c.get("ports", [])}
    mp = ports.get("metrics")
    listen = env.get("TOLLGATE_LISTEN") or "0.0.0.0:9731"
    check("metrics-port", mp is not None and mp.get("containerPort") == METRICS_PORT
          and mp.get("protocol", "TCP") == "TCP" and listen.rsplit(":", 1)[-1] == str(METRICS_PORT),
          f"want a TCP port named metrics, {METRICS_PORT}, and TOLLGATE_LISTEN on it (ports {list(ports)}, "
          f"listen {listen})")
    check("metrics-listen", not listen.startswith(("127.", "localhost", "[::1]")),
          f"TOLLGATE_LISTEN {listen} is loopback only: Prometheus could not scrape it")

    ann = tmpl["metadata"].get("annotations", {})
    check("annotations", ann.get("prometheus.io/scrape") == "true"
          and ann.get("prometheus.io/port") == str(METRICS_PORT)
          and ann.get("prometheus.io/path", "/metrics") == "/metrics",
          f"prometheus.io annotations {ann} do not match the metrics port")

    path = policy_path(ds)
    where = configmap_file_for(ds, path)
    if where is None:
        fail("policy-mount", f"TOLLGATE_POLICY {path} is not a file of a mounted ConfigMap")
    elif where[0] != CONFIGMAP or where[1] != POLICY_KEY:
        fail("policy-mount", f"{path} is ConfigMap {where[0]} key {where[1]}, want {CONFIGMAP} key {POLICY_KEY}")
    else:
        ok("policy-mount")
    if cm is not None:
        data = cm.get("data", {})
        check("policy-key", isinstance(data.get(POLICY_KEY), str) and data[POLICY_KEY].strip(),
              f"ConfigMap {CONFIGMAP} has no key {POLICY_KEY}")

    if pm is not None:
        spec = pm.get("spec", {})
        psel = spec.get("selector", {}).get("matchLabels", {})
        check("podmonitor-selector", psel and all(labels.get(k) == v for k, v in psel.items()),
              f"PodMonitor selects {psel}, the pods have {labels}")
        nss = spec.get("namespaceSelector", {})
        pm_ns = pm["metadata"].get("namespace")
        check("podmonitor-namespace", nss.get("any") is True or ns in nss.get("matchNames", [])
              or (not nss and pm_ns == ns),
              f"PodMonitor in {pm_ns} with namespaceSelector {nss} does not see namespace {ns}")
        eps = spec.get("podMetricsEndpoints", [])
        names = [e.get("port") for e in eps]
        check("podmonitor-port", eps and all(n in ports for n in names) and "metrics" in names,
              f"PodMonitor scrapes ports {names}, the container has {list(ports)}")
        check("podmonitor-path", all(e.get("path", "/metrics") == "/metrics" for e in eps),
              "PodMonitor path is not /metrics")


def extract(file, out):
    with open(file, encoding="utf-8") as fh:
        for d in yaml.safe_load_all(fh):
            if isinstance(d, dict) and d.get("kind") == "ConfigMap" \
                    and d.get("metadata", {}).get("name") == CONFIGMAP:
                text = d.get("data", {}).get(POLICY_KEY)
                if not isinstance(text, str):
                    break
                with open(out, "w", encoding="utf-8") as o:
                    o.write(text)
                return 0
    print(f"check_manifests: {file} has no ConfigMap {CONFIGMAP} with key {POLICY_KEY}", file=sys.stderr)
    return 1


def main(argv):
    if argv[:1] == ["--extract-policy"]:
        if len(argv) != 3:
            print("usage: check_manifests.py --extract-policy FILE OUT", file=sys.stderr)
            return 2
        return extract(argv[1], argv[2])
    if not argv or argv[0].startswith("-"):
        print("usage: check_manifests.py FILE... | --extract-policy FILE OUT", file=sys.stderr)
        return 2
    docs = load(argv)
    if docs is not None:
        try:
            check_all(docs)
        except (KeyError, TypeError, AttributeError, IndexError) as e:
            fail("structure", f"unexpected manifest layout: {type(e).__name__}: {e}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
