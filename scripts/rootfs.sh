#!/usr/bin/env bash
# Prints the path of a Debian 12 root file system as a tarball, made with
# debootstrap the first time and cached after that (a download of 100-300 MB
# from Debian's archive, then none).
#
#   scripts/rootfs.sh system   a bootable system: systemd as PID 1, sshd,
#                              dnsmasq, podman, python3 (an Ansible target),
#                              and tollgate's runtime libraries. The deploy
#                              tests boot it in the VM harness (tests/vm).
#   scripts/rootfs.sh image    a minbase root with tollgate's runtime
#                              libraries: the base of the OCI image.
#
# TOLLGATE_VM_CACHE (default /var/cache/tollgate-vm) holds the tarballs under
# rootfs/; the name carries a hash of the package list, so a changed list
# makes a new one. TOLLGATE_MIRROR overrides the archive (default: the one
# apt on this host uses, else deb.debian.org).
set -euo pipefail
export LC_ALL=C PATH="$PATH:/usr/sbin:/sbin"

die() {
	echo "rootfs.sh: $*" >&2
	exit 1
}

# What the tollgate binary links (the package's Depends name the same ones).
RUNTIME=(libbpf1 libxdp1 libpcap0.8 libmicrohttpd12 libc-ares2 libssl3 libelf1 zlib1g)

case ${1:-} in
system)
	variant=minbase
	packages=(
		"${RUNTIME[@]}"
		systemd systemd-sysv udev dbus kmod procps iproute2 iputils-ping
		curl dnsmasq-base openssh-server python3
		# podman and what Debian 12's podman needs but only recommends or
		# misses: crun, the CNI plugins, and cffi's backend for its python
		podman crun containernetworking-plugins conmon python3-cffi-backend
	)
	;;
image)
	variant=minbase
	packages=("${RUNTIME[@]}" iproute2)
	;;
*) die "usage: scripts/rootfs.sh system|image" ;;
esac

[ "$(id -u)" -eq 0 ] || die "debootstrap needs root"
command -v debootstrap >/dev/null || die "debootstrap not found (apt-get install debootstrap)"

mirror=${TOLLGATE_MIRROR:-}
if [ -z "$mirror" ]; then
	mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
	[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
	[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
fi

cache=${TOLLGATE_VM_CACHE:-/var/cache/tollgate-vm}/rootfs
mkdir -p "$cache"
key=$(printf '%s\n' "$variant" "${packages[@]}" | sha256sum | cut -c1-12)
tarball=$cache/bookworm-$1-$key.tar
if [ -s "$tarball" ]; then
	echo "$tarball"
	exit 0
fi

work=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
include=$(
	IFS=,
	echo "${packages[*]}"
)
echo "rootfs.sh: debootstrap bookworm ($1) from $mirror; this happens once" >&2
if ! debootstrap --variant="$variant" --include="$include" bookworm "$work/root" "$mirror" >"$work/log" 2>&1; then
	tail -n 30 "$work/log" >&2
	die "debootstrap failed (log above)"
fi
# No package lists or downloaded .debs in the tarball: nothing installs later.
chroot "$work/root" apt-get clean
rm -rf "$work/root/var/lib/apt/lists/"*
tar -C "$work/root" --numeric-owner -cf "$work/rootfs.tar" .
mv "$work/rootfs.tar" "$tarball"
# Older tarballs of the same set, made from another package list.
find "$cache" -maxdepth 1 -name "bookworm-$1-*.tar" ! -name "${tarball##*/}" -delete
echo "$tarball"
