#!/usr/bin/env bash
# Installs what tollgate needs to build, test and run, and nothing that is
# already there. Safe to run again and again. Debian and derivatives (apt).
set -euo pipefail

# Build: compiler, BPF toolchain, libraries. Test: cmocka, the clang fuzzer
# runtime, valgrind, iproute2 for the namespace lab, tcpdump for captures,
# prometheus (promtool and a server), dnsmasq for DNS, systemd and man-db for
# the packaging checks (systemd-analyze verify, man -l).
PACKAGES=(
	make gcc clang llvm pkg-config
	libbpf-dev libxdp-dev bpftool libpcap-dev libmicrohttpd-dev libc-ares-dev
	libssl-dev libcmocka-dev libclang-rt-dev valgrind
	# the format check (make format, tests/suites/05-structure.sh): version 14
	# exactly, since another version lays out the same code differently
	clang-format-14
	iproute2 iputils-ping tcpdump time
	prometheus curl dnsmasq-base
	# the suites' JSON checks (status --json, show --json, the dashboard)
	python3
	systemd man-db
	# the VM harness (tests/vm): qemu, busybox for its initramfs, kmod
	# (depmod, modprobe), cpio, and xz/zstd to unpack Debian's kernels
	qemu-system-x86 busybox-static cpio kmod xz-utils zstd
	# a foreign XDP program on the NIC through libxdp (tests/suites/80-attach.sh)
	xdp-tools
)

# make check-deploy (tests/deploy): the package build and lintian,
# debootstrap for the VM's system and the image's root, buildah for the
# image, ansible-core and ssh to drive the role against the VM, shellcheck
# for the scripts that run as root on users' hosts and nodes.
if [ "${1:-}" = --deploy ]; then
	PACKAGES+=(debhelper dpkg-dev fakeroot lintian debootstrap buildah ansible-core openssh-client python3-yaml shellcheck)
fi

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PACKAGES[@]} packages present"
else
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing packages: ${missing[*]}" >&2
		echo "install-deps: run as root (or: sudo apt-get install ${missing[*]})" >&2
		exit 1
	fi
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Packages such as prometheus start a system service when installed; the
	# tests start their own instances, so keep the host's services as they
	# are (Debian's policy-rc.d: 101 = do not start).
	guard=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		guard=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' >"$guard"
		chmod 755 "$guard"
	fi
	apt-get update -qq
	status=0
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
	[ -n "$guard" ] && rm -f "$guard"
	[ $status -eq 0 ] || exit $status
	echo "install-deps: installed ${#missing[@]} package(s)"
fi

# The data plane keeps its state in bpffs; some minimal hosts do not mount it.
if [ "$(id -u)" -eq 0 ] && ! mountpoint -q /sys/fs/bpf; then
	mount -t bpf bpf /sys/fs/bpf && echo "install-deps: mounted bpffs at /sys/fs/bpf"
fi
