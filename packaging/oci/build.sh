#!/usr/bin/env bash
# Builds tollgate's OCI image without a registry, a Dockerfile or a running
# container, and writes it as an OCI archive.
#
#   packaging/oci/build.sh ROOTFS_TAR DEB OUT_DIR
#
#   ROOTFS_TAR  a tarball of a Debian 12 minbase root that already holds the
#               package's runtime libraries (scripts/rootfs.sh image)
#   DEB         the package (make deb: build/deb/tollgate_VERSION_amd64.deb)
#   OUT_DIR     where the archive goes (make oci: build/oci)
#
# From a Makefile:
#   oci: deb
#   	@packaging/oci/build.sh "$$(scripts/rootfs.sh image)" \
#   		"$$(ls -t build/deb/tollgate_*.deb | head -n 1)" build/oci
#
# Steps: unpack the root, `dpkg -i` the package in a chroot (no daemon runs
# there: the maintainer scripts must cope), slim it (apt lists and caches,
# documentation but the copyright files, man pages, locales), add the
# entrypoint packaging/oci/tollgate-node, and hand the tree to buildah as one
# layer of a `scratch` image. buildah keeps its storage in a private,
# temporary root (driver vfs), so the host's containers storage is neither
# needed nor touched, and needs neither `buildah run` nor `buildah mount`.
#
# The image is committed as localhost/tollgate:TAG and localhost/tollgate:latest
# in that private storage, and pushed to OUT_DIR/tollgate-TAG.oci.tar with
# the reference name localhost/tollgate:TAG. TAG is the package's version
# with the characters a tag cannot hold (~ + :) turned into "-"; the label
# org.opencontainers.image.version carries the version as it is. Load it
# with `podman load -i ARCHIVE` or
# `ctr -n k8s.io images import --base-name localhost/tollgate ARCHIVE`
# (packaging/kubernetes/README.md). The last line on standard output is the
# archive's path; progress goes to standard error.
#
# Needs root (chroot, file ownership), buildah, dpkg-deb and tar.
# OCI_REVISION, if set, becomes the label org.opencontainers.image.revision;
# SOURCE_DATE_EPOCH, if set, the image's creation time.
set -euo pipefail
export LC_ALL=C

die() {
	echo "oci/build.sh: $*" >&2
	exit 1
}
say() { echo "oci/build.sh: $*" >&2; }

[ $# -eq 3 ] || die "usage: packaging/oci/build.sh ROOTFS_TAR DEB OUT_DIR"
rootfs_tar=$1
deb=$2
out_dir=$3
here=$(cd "$(dirname "$0")" && pwd)
entrypoint=$here/tollgate-node

[ "$(id -u)" -eq 0 ] || die "needs root (chroot and dpkg -i into the root)"
for t in buildah dpkg-deb tar chroot; do
	command -v "$t" >/dev/null || die "$t not found"
done
[ -f "$rootfs_tar" ] || die "no root file system tarball at '$rootfs_tar' (scripts/rootfs.sh image)"
[ -f "$deb" ] || die "no package at '$deb' (make deb)"
[ -f "$entrypoint" ] || die "no entrypoint at $entrypoint"

pkg=$(dpkg-deb -f "$deb" Package) || die "$deb is not a Debian package"
[ "$pkg" = tollgate ] || die "$deb is package '$pkg', not tollgate"
version=$(dpkg-deb -f "$deb" Version)
arch=$(dpkg-deb -f "$deb" Architecture)
[ -n "$version" ] || die "$deb has no Version"
# An OCI tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
tag=$(printf '%s' "$version" | sed -e 's/[^A-Za-z0-9_.-]/-/g' -e 's/^[.-]*//' | cut -c1-128)
[ -n "$tag" ] || die "cannot make an image tag of version '$version'"
image=localhost/tollgate

mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)
archive=$out_dir/tollgate-$tag.oci.tar

# Everything temporary in one directory next to the output, removed on exit:
# the unpacked root, its tarball, buildah's storage and run roots.
work=$(mktemp -d "$out_dir/.oci-build.XXXXXX")
ctr=
bh() { buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs "$@"; }
cleanup() {
	local rc=$?
	if [ -n "$ctr" ]; then bh rm "$ctr" >/dev/null 2>&1 || true; fi
	# vfs layers are plain directories; nothing is mounted below $work.
	rm -rf "$work"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

root=$work/root
mkdir "$root"
say "unpacking $rootfs_tar"
tar -C "$root" --numeric-owner -xpf "$rootfs_tar"
[ -x "$root/usr/bin/dpkg" ] || die "$rootfs_tar holds no Debian root (no usr/bin/dpkg)"
# Maintainer scripts may write to /dev/null; a tarball made without device
# nodes has none.
[ -c "$root/dev/null" ] || { rm -f "$root/dev/null" && mknod -m 666 "$root/dev/null" c 1 3; }

# Installing into a root where nothing runs: no service may be started.
cat >"$root/usr/sbin/policy-rc.d" <<'EOF'
#!/bin/sh
exit 101
EOF
chmod 755 "$root/usr/sbin/policy-rc.d"
cp "$deb" "$root/tmp/tollgate.deb"
say "dpkg -i $(basename "$deb") ($version) in the root"
if ! chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	DEBIAN_FRONTEND=noninteractive LC_ALL=C \
	dpkg -i /tmp/tollgate.deb >"$work/dpkg.log" 2>&1; then
	sed 's/^/  /' "$work/dpkg.log" >&2
	die "dpkg -i failed in the image's root (missing dependencies in $rootfs_tar, or a maintainer script that needs a running system)"
fi
# shellcheck disable=SC2016 # dpkg-query's format
status=$(chroot "$root" dpkg-query -W -f='${Status} ${Version}' tollgate)
[ "$status" = "install ok installed $version" ] || die "after dpkg -i, tollgate is '$status'"
chroot "$root" /usr/sbin/tollgate --version >/dev/null 2>"$work/version.err" ||
	die "tollgate does not run in the image's root: $(head -n 3 "$work/version.err")"
rm -f "$root/tmp/tollgate.deb" "$root/usr/sbin/policy-rc.d"

say "slimming"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
	"$root"/var/lib/dpkg/*-old "$root"/var/cache/ldconfig/aux-cache \
	"$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/lintian \
	"$root"/usr/share/locale/* "$root"/tmp/* "$root"/var/tmp/*
# Documentation: each package's copyright stays (the licences travel with
# the binaries), and tollgate's own directory with its example policies.
find "$root/usr/share/doc" -mindepth 1 -path "$root/usr/share/doc/tollgate" -prune -o \
	! -type d ! -name copyright -print0 | xargs -0r rm -f
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
find "$root/var/log" -type f -exec truncate -s 0 {} +
# A container gets its own hostname, resolv.conf and machine id.
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"

install -D -m 0755 "$entrypoint" "$root/usr/local/bin/tollgate-node"
# Mount points: the policy (a ConfigMap), bpffs, the locks (both hostPath).
mkdir -p "$root/etc/tollgate/policy" "$root/run/tollgate" "$root/sys/fs/bpf"

# One layer. /dev, /proc and /sys are the runtime's; device nodes stay out.
tar -C "$root" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' \
	--exclude='./sys/*' -cf "$work/layer.tar" .
rm -rf "$root"

say "building $image:$tag with buildah (private storage in $work)"
ctr=$(bh from --quiet scratch)
bh add --quiet "$ctr" "$work/layer.tar" / >/dev/null
rm -f "$work/layer.tar"
bh config \
	--entrypoint '["/usr/local/bin/tollgate-node"]' \
	--workingdir / \
	--stop-signal SIGTERM \
	--port 9731/tcp \
	--env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	--env TOLLGATE_POLICY=/etc/tollgate/policy/policy \
	--env TOLLGATE_FACING=outside \
	--env TOLLGATE_MODE=native \
	--env TOLLGATE_LISTEN=0.0.0.0:9731 \
	--env TOLLGATE_POLL_SECONDS=10 \
	--label org.opencontainers.image.title=tollgate \
	--label "org.opencontainers.image.description=tollgate XDP/eBPF packet filter for a node's NIC (hostNetwork); entrypoint tollgate-node" \
	--label "org.opencontainers.image.version=$version" \
	--label "org.opencontainers.image.licenses=GPL-2.0 OR BSD-2-Clause" \
	--label org.opencontainers.image.base.name=debian:bookworm-minbase \
	${OCI_REVISION:+--label "org.opencontainers.image.revision=$OCI_REVISION"} \
	--author tollgate \
	--created-by "packaging/oci/build.sh $(basename "$deb")" \
	--arch "$arch" --os linux \
	"$ctr"
commit_opts=(--quiet --format oci --rm)
[ -n "${SOURCE_DATE_EPOCH:-}" ] && commit_opts+=(--timestamp "$SOURCE_DATE_EPOCH")
bh commit "${commit_opts[@]}" "$ctr" "$image:$tag" >/dev/null
ctr= # --rm removed the working container
bh tag "$image:$tag" "$image:latest"

rm -f "$archive"
bh push --quiet "$image:$tag" "oci-archive:$archive:$image:$tag" >/dev/null
say "$image:$tag ($(du -h "$archive" | cut -f1) archive)"
echo "$archive"
