#!/usr/bin/env bash
# The OCI image and the Kubernetes manifests, on the host: builds the image
# with packaging/oci/build.sh, then reads the archive (it never runs the
# image: tests/deploy/guest-podman.sh does that, in a VM).
#
#   tests/deploy/image.sh DEB ROOTFS_TAR OUT_DIR
#
#   DEB         build/deb/tollgate_VERSION_amd64.deb (make deb)
#   ROOTFS_TAR  scripts/rootfs.sh image
#   OUT_DIR     where the archive is written (kept: guest-podman.sh loads it)
#
# One line per check: "ok deploy/NAME" or "FAIL deploy/NAME: why", then a
# line "# image ..." with its sizes. TG (default build/tollgate) runs
# `tollgate check` on the ConfigMap's policy. Needs root (build.sh's
# chroot), buildah, python3 with PyYAML.
set -uo pipefail
export LC_ALL=C
TOP=$(cd "$(dirname "$0")/../.." && pwd)
TG=${TG:-$TOP/build/tollgate}

ok() { printf 'ok %s\n' "$1"; }
fail() { printf 'FAIL %s: %s\n' "$1" "$2"; }

if [ $# -ne 3 ]; then
	echo "usage: tests/deploy/image.sh DEB ROOTFS_TAR OUT_DIR" >&2
	exit 2
fi
deb=$1
rootfs=$2
out_dir=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --------------------------------------------------------------- build
if archive=$("$TOP/packaging/oci/build.sh" "$rootfs" "$deb" "$out_dir" 2>"$work/build.log" | tail -n 1) &&
	[ -n "$archive" ]; then
	ok deploy/oci-build
else
	fail deploy/oci-build "$(tail -n 8 "$work/build.log" | tr '\n' ' ')"
	archive=
fi
if [ -n "$archive" ] && [ -s "$archive" ]; then
	ok deploy/oci-archive
else
	fail deploy/oci-archive "no archive at '${archive:-?}' (build.sh's last line)"
	archive=
fi

# ------------------------------------------------------ image contents
# Reads the archive with python3's tarfile: index.json -> manifest -> config
# and layers. No skopeo, no container storage.
if [ -n "$archive" ]; then
	version=$(dpkg-deb -f "$deb" Version)
	python3 - "$archive" "$version" "$TOP/packaging/oci/tollgate-node" <<'EOF' || fail deploy/oci-contents "the archive's checks stopped (python3 exited $?)"
import gzip, io, json, sys, tarfile

archive, version, entrypoint = sys.argv[1:4]
tag = "".join(c if c.isalnum() or c in "_.-" else "-" for c in version).lstrip(".-")[:128]

def ok(n): print(f"ok deploy/{n}")
def fail(n, why): print(f"FAIL deploy/{n}: {why}")
def check(n, cond, why):
    ok(n) if cond else fail(n, why)

try:
    outer = tarfile.open(archive)
    def blob(desc):
        algo, hexd = desc["digest"].split(":", 1)
        return outer.extractfile(f"blobs/{algo}/{hexd}").read()
    index = json.load(outer.extractfile("index.json"))
    mans = index["manifests"]
    check("oci-index", len(mans) == 1
          and mans[0].get("annotations", {}).get("org.opencontainers.image.ref.name") == f"localhost/tollgate:{tag}",
          f"want one manifest named localhost/tollgate:{tag}: {json.dumps(mans)}")
    manifest = json.loads(blob(mans[0]))
    config = json.loads(blob(manifest["config"]))
except Exception as e:  # a damaged archive: report it, nothing else to read
    fail("oci-index", f"cannot read {archive}: {type(e).__name__}: {e}")
    sys.exit(0)

cfg = config.get("config", {})
check("oci-entrypoint", cfg.get("Entrypoint") == ["/usr/local/bin/tollgate-node"] and not cfg.get("Cmd"),
      f"Entrypoint {cfg.get('Entrypoint')} Cmd {cfg.get('Cmd')}")
labels = cfg.get("Labels") or {}
check("oci-labels", labels.get("org.opencontainers.image.version") == version
      and labels.get("org.opencontainers.image.title") == "tollgate",
      f"labels {labels}")
env = dict(e.split("=", 1) for e in cfg.get("Env", []))
check("oci-env", env.get("TOLLGATE_POLICY") == "/etc/tollgate/policy/policy"
      and env.get("TOLLGATE_LISTEN", "").endswith(":9731") and "/usr/sbin" in env.get("PATH", ""),
      f"Env {cfg.get('Env')}")
check("oci-platform", config.get("os") == "linux" and config.get("architecture") == "amd64",
      f"{config.get('os')}/{config.get('architecture')}")

# Every layer, later ones over earlier ones (there is one).
files = {}
unpacked = 0
for desc in manifest["layers"]:
    data = blob(desc)
    if desc["mediaType"].endswith("+gzip"):
        data = gzip.decompress(data)
    unpacked += len(data)
    with tarfile.open(fileobj=io.BytesIO(data)) as layer:
        for m in layer.getmembers():
            name = m.name.lstrip("./")
            files[name] = (m, layer.extractfile(m).read() if m.isfile() and name in (
                "var/lib/dpkg/status", "usr/local/bin/tollgate-node") else None)

def entry(path):
    return files.get(path, (None, None))

m, status = entry("var/lib/dpkg/status")
stanza = {}
if status:
    for para in status.decode("utf-8", "replace").split("\n\n"):
        fields = dict(l.split(": ", 1) for l in para.splitlines() if ": " in l and not l.startswith(" "))
        if fields.get("Package") == "tollgate":
            stanza = fields
check("oci-package", stanza.get("Status") == "install ok installed" and stanza.get("Version") == version,
      f"tollgate in the image's dpkg status: {stanza.get('Status')} {stanza.get('Version')}, want {version}")
for path in ("usr/sbin/tollgate", "usr/local/bin/tollgate-node"):
    m, _ = entry(path)
    check("oci-file-" + path.rsplit("/", 1)[1], m is not None and m.isfile() and m.mode & 0o111 and m.uid == 0,
          f"/{path} is missing or not an executable of root's")
_, node = entry("usr/local/bin/tollgate-node")
with open(entrypoint, "rb") as f:
    check("oci-entrypoint-current", node == f.read(),
          "the image's /usr/local/bin/tollgate-node differs from packaging/oci/tollgate-node")
for d in ("etc/tollgate/policy", "run/tollgate", "tmp"):
    m, _ = entry(d)
    check("oci-dir-" + d.replace("/", "-"), m is not None and m.isdir(), f"/{d} is not a directory in the image")
devs = [n for n, (m, _) in files.items() if m.ischr() or m.isblk()]
check("oci-no-devices", not devs, f"device nodes in the layer: {devs[:5]}")
slim = [n for n in files if n.startswith(("var/lib/apt/lists/", "var/cache/apt/", "usr/share/man/"))
        and not files[n][0].isdir()]
check("oci-slim", not slim, f"left in the image: {slim[:5]}")
lib = "usr/lib/x86_64-linux-gnu/"
missing = [l for l in ("libbpf.so.1", "libxdp.so.1", "libpcap.so.0.8", "libmicrohttpd.so.12", "libcares.so.2")
           if lib + l not in files]
check("oci-libraries", not missing, f"runtime libraries missing: {missing}")
print(f"# image localhost/tollgate:{tag}: archive {outer.fileobj.seek(0, 2) // 1048576} MiB, "
      f"unpacked {unpacked // 1048576} MiB, {len(files)} entries")
EOF
fi

# ------------------------------------------------- Kubernetes manifests
python3 "$TOP/tests/deploy/check_manifests.py" "$TOP"/packaging/kubernetes/*.yaml
if python3 "$TOP/tests/deploy/check_manifests.py" --extract-policy \
	"$TOP/packaging/kubernetes/configmap-example.yaml" "$work/policy" 2>"$work/extract.err"; then
	if [ ! -x "$TG" ]; then
		fail deploy/k8s-policy-checks "no tollgate binary at $TG (make, or set TG)"
	elif out=$("$TG" check "$work/policy" 2>&1); then
		ok deploy/k8s-policy-checks
	else
		fail deploy/k8s-policy-checks "$(tail -n 5 <<<"$out" | tr '\n' ' ')"
	fi
else
	fail deploy/k8s-policy-checks "$(cat "$work/extract.err")"
fi

# --------------------------------------------------------- shell lint
# The entrypoint runs where nobody watches it, and the deploy scripts run
# as root: no shellcheck warning in any of them.
if ! command -v shellcheck >/dev/null; then
	fail deploy/shellcheck "shellcheck not found (scripts/install-deps.sh --deploy installs it)"
elif out=$(shellcheck "$TOP/packaging/oci/tollgate-node" "$TOP/packaging/oci/build.sh" \
	"$TOP"/tests/deploy/*.sh "$TOP/tests/deploy/ansible/run.sh" "$TOP/scripts/deb.sh" "$TOP/scripts/rootfs.sh" \
	"$TOP/tests/vm/run.sh" "$TOP/tests/vm/guest-unit.sh" "$TOP/.ci/run" 2>&1); then
	ok deploy/shellcheck
else
	fail deploy/shellcheck "$(head -n 8 <<<"$out" | tr '\n' ' ')"
fi
exit 0
