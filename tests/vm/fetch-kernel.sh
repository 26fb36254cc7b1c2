#!/usr/bin/env bash
# Fetches the newest Debian 12 kernel of a series from apt and unpacks it into
# the VM cache; prints the path of the unpacked tree (it holds boot/vmlinuz-*,
# boot/config-* and lib/modules/*).
#
#   tests/vm/fetch-kernel.sh 6.1|6.12
#
# 6.1  -> linux-image-6.1.0-N-amd64          (Debian 12's own kernel)
# 6.12 -> linux-image-6.12.N+deb12-amd64     (the 6.12 kernel Debian 12 ships)
# Cache: ${TOLLGATE_VM_CACHE:-/var/cache/tollgate-vm}/<package>/, reused when
# complete. When apt offers no such package (and apt-get update does not help)
# the newest tree already in the cache is used. Any other failure: exit 1 with
# one line "vm: cannot get kernel SERIES: REASON" on stderr.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

series="${1:-}"
die() {
	echo "vm: cannot get kernel ${series:-?}: $*" >&2
	exit 1
}

case "$series" in
6.1) pattern='^linux-image-6\.1\.0-[0-9]+-amd64$' ;;
6.12) pattern='^linux-image-6\.12\.[0-9]+\+deb12-amd64$' ;;
*)
	echo "usage: $0 6.1|6.12" >&2
	exit 2
	;;
esac

cache="${TOLLGATE_VM_CACHE:-/var/cache/tollgate-vm}"
mkdir -p "$cache" 2>/dev/null || die "cannot create cache dir $cache"
[ -w "$cache" ] || die "cache dir $cache is not writable (set TOLLGATE_VM_CACHE)"
command -v apt-cache >/dev/null || die "apt-cache not found (Debian host needed)"
command -v dpkg-deb >/dev/null || die "dpkg-deb not found"

# One fetch at a time per cache (parallel runs would download twice).
exec 9>"$cache/.fetch.lock"
flock -w 900 9 || die "timed out waiting for $cache/.fetch.lock"

tmp=""
cleanup() {
	if [ -n "$tmp" ]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Newest package of the series that apt can download. (One apt-cache call:
# on hosts without apt's binary cache each call costs most of a second.
# "search" lists real packages only, not names apt merely knows of.)
newest() {
	apt-cache search --names-only "$pattern" 2>/dev/null | awk '{ print $1 }' |
		grep -E "$pattern" | sort -V | tail -n 1
}

# Newest tree of the series already in the cache.
newest_cached() {
	local d
	for d in "$cache"/linux-image-*; do
		[ -e "$d/.complete" ] || continue
		basename "$d"
	done | grep -E "$pattern" | sort -rV | head -n 1
}

# The answer only changes when apt's lists do: remember it until then
# (ctime: apt dates the lists as the archive does, not when it got them).
memo="$cache/.newest-$series"
pkg=""
if [ -s "$memo" ] && [ -d /var/lib/apt/lists ] &&
	[ -z "$(find /var/lib/apt/lists -maxdepth 1 -cnewer "$memo" -name '*Packages*' -print -quit 2>/dev/null)" ]; then
	read -r pkg <"$memo" || pkg=""
	[[ "$pkg" =~ $pattern ]] || pkg=""
fi
if [ -z "$pkg" ]; then
	pkg="$(newest || true)"
	if [ -n "$pkg" ]; then echo "$pkg" >"$memo"; fi
fi
if [ -z "$pkg" ]; then
	if [ "$(id -u)" -eq 0 ]; then
		echo "vm: no $series kernel in apt's lists; running apt-get update" >&2
		timeout 300 apt-get update -qq >&2 || echo "vm: apt-get update failed" >&2
		pkg="$(newest || true)"
		if [ -n "$pkg" ]; then echo "$pkg" >"$memo"; fi
	fi
fi
if [ -z "$pkg" ]; then
	pkg="$(newest_cached || true)"
	[ -n "$pkg" ] || die "apt offers no package matching $pattern (is the Debian archive reachable?)"
	echo "vm: apt offers no $series kernel; using cached $pkg" >&2
fi

dest="$cache/$pkg"
if [ -e "$dest/.complete" ]; then
	echo "$dest"
	exit 0
fi

echo "vm: fetching $pkg" >&2
tmp="$(mktemp -d "$cache/.fetch.XXXXXX")"
apt_opts=(-qq)
# As root apt drops to _apt for downloads, which cannot write here.
[ "$(id -u)" -ne 0 ] || apt_opts+=(-o APT::Sandbox::User=root)
(cd "$tmp" && timeout 900 apt-get "${apt_opts[@]}" download "$pkg" >&2) ||
	die "apt-get download $pkg failed"
deb="$(find "$tmp" -maxdepth 1 -name '*.deb' | head -n 1)"
[ -n "$deb" ] || die "apt-get download $pkg produced no .deb"
dpkg-deb -x "$deb" "$tmp/tree" || die "dpkg-deb -x $deb failed"
rm -f "$deb"

vmlinuz="$(find "$tmp/tree/boot" -maxdepth 1 -name 'vmlinuz-*' | head -n 1)"
[ -n "$vmlinuz" ] || die "$pkg holds no boot/vmlinuz-*"
kver="${vmlinuz##*/vmlinuz-}"
moddir=""
for d in "$tmp/tree/lib/modules/$kver" "$tmp/tree/usr/lib/modules/$kver"; do
	if [ -d "$d" ]; then moddir="$d"; fi
done
[ -n "$moddir" ] || die "$pkg holds no lib/modules/$kver"
# The package leaves modules.dep to its postinst; make it here so that
# modprobe works on the tree (the guest loads modules from it on demand).
if command -v depmod >/dev/null; then
	depmod -b "${moddir%/lib/modules/*}" "$kver" || die "depmod failed on $pkg"
fi

rm -rf "$dest"
mv "$tmp/tree" "$dest"
echo "$kver" >"$dest/.complete"
echo "$dest"
