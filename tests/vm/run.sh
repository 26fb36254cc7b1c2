#!/usr/bin/env bash
# Runs a shell command inside a VM that boots one of Debian 12's own kernels,
# with the host's root file system shared read-only under a tmpfs overlay
# (writes in the VM never reach the host). See tests/vm/README.md.
#
#   tests/vm/run.sh [--kernel 6.1|6.12|DIR] [--timeout SECONDS] [--mem MB]
#                   [--rootfs DIR [--forward PORT]] -- COMMAND...
#
# COMMAND (the words after --, joined by spaces) is run by bash in the VM, in
# the directory run.sh was started from. Its stdout and stderr come out on
# run.sh's stdout, and run.sh exits with its exit status; 124 when the
# timeout (default 1200 s) ran out, 125 when the VM itself failed.
#
# With --rootfs, the VM boots the Debian system in DIR instead (read-write:
# what the VM writes stays in DIR, across boots), with systemd as PID 1, and
# COMMAND runs in / as the service tollgate-vm-test once the system is up
# (multi-user.target); the VM powers off when it ends. --forward PORT
# forwards 127.0.0.1:PORT on the host to the guest's port 22 over a private
# user-mode network (192.0.2.0/24, no way out: restrict=on); the guest's
# virtio NIC is set up with 192.0.2.15/24 by systemd-networkd.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cwd="$PWD"
prog="tests/vm/run.sh"

usage() {
	cat <<EOF
usage: $prog [--kernel 6.1|6.12|DIR] [--timeout SECONDS] [--mem MB]
              [--rootfs DIR [--forward PORT]] -- COMMAND...

  --kernel   Debian 12 kernel series (default \${TOLLGATE_VM_KERNEL:-6.1}),
             or a tree made by tests/vm/fetch-kernel.sh
  --timeout  seconds before qemu is killed and $prog exits 124 (default 1200)
  --mem      guest memory in MB (default 2048)
  --rootfs   boot the Debian system in DIR (read-write) with systemd as PID 1
  --forward  host port on 127.0.0.1 forwarded to the guest's ssh (--rootfs)

Environment: TOLLGATE_VM_CACHE (default /var/cache/tollgate-vm),
TOLLGATE_VM_ENV (names of variables to pass into the VM; CI is, if set),
TOLLGATE_VM_MODULES (more modules to load at boot), TOLLGATE_VM_ACCEL
(kvm|tcg, default: kvm where the CPU has vmx/svm and /dev/kvm exists),
TOLLGATE_VM_KERNEL_LOG (file to copy the guest's console log to),
TOLLGATE_VM_APPEND (more kernel command line, e.g. loglevel=7),
TOLLGATE_VM_BZIMAGE=1 (boot the packaged bzImage, not the unpacked vmlinux).
Exit: COMMAND's status; 124 timeout; 125 the VM failed (log on stderr).
EOF
}

vmdie() {
	echo "vm: $*" >&2
	exit 125
}

kernel="${TOLLGATE_VM_KERNEL:-6.1}"
timeout_s=1200
mem=2048
rootfs=""
forward=""
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel | --timeout | --mem | --rootfs | --forward)
		[ $# -ge 2 ] || {
			usage >&2
			exit 2
		}
		case "$1" in
		--kernel) kernel="$2" ;;
		--timeout) timeout_s="$2" ;;
		--mem) mem="$2" ;;
		--rootfs) rootfs="$2" ;;
		--forward) forward="$2" ;;
		esac
		shift 2
		;;
	--kernel=*) kernel="${1#*=}" && shift ;;
	--timeout=*) timeout_s="${1#*=}" && shift ;;
	--mem=*) mem="${1#*=}" && shift ;;
	--rootfs=*) rootfs="${1#*=}" && shift ;;
	--forward=*) forward="${1#*=}" && shift ;;
	-h | --help)
		usage
		exit 0
		;;
	--)
		shift
		break
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
done
if [ $# -eq 0 ]; then
	usage >&2
	exit 2
fi
command="$*"
[[ "$timeout_s" =~ ^[1-9][0-9]*$ ]] || vmdie "--timeout wants a number of seconds, not '$timeout_s'"
if ! [[ "$mem" =~ ^[1-9][0-9]*$ ]] || [ "$mem" -lt 256 ]; then
	vmdie "--mem wants a number of MB (>= 256), not '$mem'"
fi
if [ -n "$rootfs" ]; then
	[ -x "$rootfs/lib/systemd/systemd" ] || vmdie "--rootfs $rootfs: no Debian system with systemd there (scripts/rootfs.sh system makes one)"
	rootfs="$(cd "$rootfs" && pwd)"
	[ "$rootfs" != / ] || vmdie "--rootfs /: the host's own root is never booted read-write"
fi
if [ -n "$forward" ]; then
	[ -n "$rootfs" ] || vmdie "--forward needs --rootfs"
	if ! [[ "$forward" =~ ^[1-9][0-9]*$ ]] || [ "$forward" -gt 65535 ]; then
		vmdie "--forward wants a port number, not '$forward'"
	fi
fi

# --- what the host needs -------------------------------------------------------
command -v qemu-system-x86_64 >/dev/null || vmdie "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
command -v cpio >/dev/null || vmdie "cpio not found (apt-get install cpio)"
for tool in modprobe depmod; do
	command -v "$tool" >/dev/null || vmdie "$tool not found (apt-get install kmod)"
done
busybox=/bin/busybox
[ -x "$busybox" ] || vmdie "$busybox not found (apt-get install busybox-static)"
case "$(LC_ALL=C ldd "$busybox" 2>&1 || true)" in
*"not a dynamic"* | *"statically linked"*) ;;
*) vmdie "$busybox is not statically linked (apt-get install busybox-static)" ;;
esac

cache="${TOLLGATE_VM_CACHE:-/var/cache/tollgate-vm}"
mkdir -p "$cache/runs" 2>/dev/null || vmdie "cannot create $cache/runs (set TOLLGATE_VM_CACHE)"
cache="$(cd "$cache" && pwd)"
case "$cache/" in
/run/* | /proc/* | /sys/* | /dev/*) vmdie "TOLLGATE_VM_CACHE=$cache: the VM mounts its own file systems there" ;;
esac
export TOLLGATE_VM_CACHE="$cache"

# --- the kernel ----------------------------------------------------------------
if [ -d "$kernel" ] && [ -e "$kernel/.complete" ]; then
	tree="$(cd "$kernel" && pwd)"
else
	case "$kernel" in
	6.1 | 6.12) ;;
	*) vmdie "--kernel wants 6.1 or 6.12, not '$kernel'" ;;
	esac
	tree="$("$here/fetch-kernel.sh" "$kernel")" || exit 125
fi
kver="$(head -n 1 "$tree/.complete")"
vmlinuz="$tree/boot/vmlinuz-$kver"
[ -r "$vmlinuz" ] || vmdie "no $vmlinuz"
moddir=""
for d in "$tree/lib/modules/$kver" "$tree/usr/lib/modules/$kver"; do
	if [ -d "$d" ]; then moddir="$d"; fi
done
[ -n "$moddir" ] || vmdie "no lib/modules/$kver in $tree"
modbase="${moddir%/lib/modules/*}"
if [ ! -s "$moddir/modules.dep" ]; then
	depmod -b "$modbase" "$kver" || vmdie "depmod on $tree failed"
fi

# Under TCG the kernel's own decompressor is slow (6.1 is xz: ~5 s), so boot
# the ELF vmlinux, unpacked once into the cache (qemu boots it by its PVH
# entry; both kernels have CONFIG_PVH). Falls back to the bzImage.
bzimage_payload() { # VMLINUZ: prints "OFFSET LENGTH" of the compressed kernel
	local setup_sects off len
	setup_sects="$(od -An -tu1 -j $((0x1f1)) -N1 "$1" | tr -d ' ')"
	[ "$setup_sects" != 0 ] || setup_sects=4
	off="$(od -An -tu4 -j $((0x248)) -N4 "$1" | tr -d ' ')"
	len="$(od -An -tu4 -j $((0x24c)) -N4 "$1" | tr -d ' ')"
	echo "$(((setup_sects + 1) * 512 + off)) $len"
}
unpack_vmlinux() { # VMLINUZ OUT
	local off len magic
	read -r off len <<<"$(bzimage_payload "$1")"
	[ "$len" -gt 4 ] || return 1
	magic="$(tail -c +$((off + 1)) "$1" | head -c 4 | od -An -tx1 | tr -d ' \n')"
	# The payload ends in 4 bytes of uncompressed size: not part of the stream.
	case "$magic" in
	fd377a58) tail -c +$((off + 1)) "$1" | head -c $((len - 4)) | xz -dc --single-stream >"$2" ;;
	28b52ffd) tail -c +$((off + 1)) "$1" | head -c $((len - 4)) | zstd -qdc >"$2" ;;
	1f8b*) tail -c +$((off + 1)) "$1" | head -c $((len - 4)) | gzip -dc >"$2" ;;
	*) return 1 ;;
	esac
	[ "$(head -c 4 "$2" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] # ELF
}
kernel_image="$vmlinuz"
if [ "${TOLLGATE_VM_BZIMAGE:-0}" != 1 ]; then
	if [ ! -s "$tree/vmlinux-$kver" ]; then
		tmp_vmlinux="$(mktemp "$tree/.vmlinux.XXXXXX")"
		if unpack_vmlinux "$vmlinuz" "$tmp_vmlinux" 2>/dev/null; then
			chmod 0644 "$tmp_vmlinux"
			mv "$tmp_vmlinux" "$tree/vmlinux-$kver"
		else
			rm -f "$tmp_vmlinux"
			echo "vm: cannot unpack $vmlinuz; booting it as it is (slower)" >&2
		fi
	fi
	if [ -s "$tree/vmlinux-$kver" ]; then kernel_image="$tree/vmlinux-$kver"; fi
fi

rundir=""
tmpdir=""
qpid=""
wpid=""
tpid=""
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local rc=$?
	if [ -n "$wpid" ]; then kill "$wpid" 2>/dev/null || true; fi
	if [ -n "$tpid" ]; then kill "$tpid" 2>/dev/null || true; fi
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
		kill -TERM "$qpid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$qpid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$qpid" 2>/dev/null || true
		wait "$qpid" 2>/dev/null || true
	fi
	if [ -n "$rundir" ]; then rm -rf "$rundir"; fi
	if [ -n "$tmpdir" ]; then rm -rf "$tmpdir"; fi
	return "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- the initramfs: busybox, guest-init.sh and the modules needed to mount the
# root (plus a few the tests want), in dependency order ------------------------
required=(virtio_pci virtio_console 9pnet_virtio 9p overlay)
# shellcheck disable=SC2206 # TOLLGATE_VM_MODULES is a list of words
wanted=(veth sch_ingress cls_bpf act_bpf ${TOLLGATE_VM_MODULES:-})
modfiles=()
add_module() { # NAME REQUIRED(0|1)
	local out line path seen
	if ! out="$(modprobe -d "$modbase" -S "$kver" --show-depends "$1" 2>&1)"; then
		[ "$2" = 0 ] || vmdie "$kver has no module $1: $out"
		echo "vm: $kver has no module $1; not loaded" >&2
		return 0
	fi
	while read -r line; do
		case "$line" in
		insmod\ *)
			path="${line#insmod }"
			path="${path%% *}"
			for seen in "${modfiles[@]}"; do
				[ "$seen" != "$path" ] || continue 2
			done
			modfiles+=("$path")
			;;
		esac
	done <<<"$out"
}
for m in "${required[@]}"; do add_module "$m" 1; done
for m in "${wanted[@]}"; do add_module "$m" 0; done

key="$({
	sha256sum <"$here/guest-init.sh"
	sha256sum <"$busybox"
	printf '%s\n' "${modfiles[@]}"
} | sha256sum | cut -c1-16)"
initrd="$tree/initramfs-$key.cpio"
if [ ! -s "$initrd" ]; then
	tmpdir="$(mktemp -d "$cache/.initramfs.XXXXXX")"
	root="$tmpdir/root"
	mkdir -p "$root/bin" "$root/lib/modules"
	cp "$busybox" "$root/bin/busybox"
	install -m 0755 "$here/guest-init.sh" "$root/init"
	: >"$root/modules.list"
	for f in "${modfiles[@]}"; do
		name="${f##*/}"
		case "$name" in
		*.ko) cp "$f" "$root/lib/modules/$name" ;;
		*.ko.xz) xz -dc "$f" >"$root/lib/modules/${name%.xz}" ;;
		*.ko.zst) zstd -qdc "$f" >"$root/lib/modules/${name%.zst}" ;;
		*.ko.gz) gzip -dc "$f" >"$root/lib/modules/${name%.gz}" ;;
		*) vmdie "unknown module file $f" ;;
		esac
		echo "${name%.ko*}.ko" >>"$root/modules.list"
	done
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$tmpdir/initramfs.cpio" ||
		vmdie "cpio failed"
	mv "$tmpdir/initramfs.cpio" "$initrd"
	# Older ones (made by older scripts) once no run can still be starting.
	find "$tree" -maxdepth 1 -name 'initramfs-*.cpio' ! -name "${initrd##*/}" -mmin +60 -delete 2>/dev/null || true
	rm -rf "$tmpdir"
	tmpdir=""
fi

# The service that runs COMMAND in a --rootfs system, written into it before
# each boot (the system may be booted many times, by other versions of this).
install_test_unit() { # ROOTFS
	local dir="$1/etc/systemd/system"
	mkdir -p "$dir/multi-user.target.wants"
	cat >"$dir/tollgate-vm-test.service" <<'EOF'
# Written by tollgate's tests/vm/run.sh: runs the command of its run
# directory once the system is up, then powers the VM off.
[Unit]
Description=tollgate VM test command
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/bash /run/tollgate-vm/unit-run
TimeoutStartSec=infinity
EOF
	ln -sfn ../tollgate-vm-test.service "$dir/multi-user.target.wants/tollgate-vm-test.service"
	rm -f "$1/etc/systemd/network/10-tollgate-vm.network"
	if [ -n "$forward" ]; then
		mkdir -p "$1/etc/systemd/network"
		cat >"$1/etc/systemd/network/10-tollgate-vm.network" <<'EOF'
# Written by tollgate's tests/vm/run.sh --forward: qemu's private user-mode
# network, which forwards one host port to this system's ssh.
[Match]
Driver=virtio_net
[Network]
Address=192.0.2.15/24
EOF
		ln -sfn /lib/systemd/system/systemd-networkd.service "$dir/multi-user.target.wants/systemd-networkd.service"
	fi
}

# --- the run directory, shared with the guest read-write as 9p tag tgrun -------
find "$cache/runs" -mindepth 1 -maxdepth 1 -name 'run.*' -mmin +10080 -exec rm -rf {} + 2>/dev/null || true
rundir="$(mktemp -d "$cache/runs/run.XXXXXX")"
chmod 0755 "$rundir"
printf '%s\n' "$command" >"$rundir/cmd"
printf '%s\n' "$tree" >"$rundir/tree"
cp "$here/guest-stage2.sh" "$rundir/stage2"
if [ -n "$rootfs" ]; then
	# The host's directories mean nothing in the guest's own system.
	printf '/\n' >"$rundir/cwd"
	cp "$here/guest-unit.sh" "$rundir/unit-run"
	install_test_unit "$rootfs"
else
	printf '%s\n' "$cwd" >"$rundir/cwd"
fi
: >"$rundir/env"
for name in CI ${TOLLGATE_VM_ENV:-}; do
	[[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || vmdie "TOLLGATE_VM_ENV: '$name' is not a variable name"
	if [ -n "${!name+x}" ]; then
		printf 'export %s=%q\n' "$name" "${!name}" >>"$rundir/env"
	fi
done

# --- qemu ------------------------------------------------------------------------
accel="${TOLLGATE_VM_ACCEL:-}"
if [ -z "$accel" ]; then
	accel=tcg
	if grep -wE 'vmx|svm' /proc/cpuinfo >/dev/null && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		accel=kvm
	fi
fi
# shellcheck disable=SC2054 # the commas belong to qemu's option values
case "$accel" in
kvm) accel_args=(-accel kvm -cpu host) ;;
tcg) accel_args=(-accel tcg,thread=multi -cpu max) ;;
*) vmdie "TOLLGATE_VM_ACCEL wants kvm or tcg, not '$accel'" ;;
esac

# The command's output: a virtio-serial port (tollgate.out; an emulated UART
# manages ~0.4 MB/s under TCG, this ~4 MB/s) that qemu writes to the file
# out, which tail copies to our stdout as it grows. A file, not our stdout:
# qemu makes its chardev's fd non-blocking (on a pipe shared with our caller
# that would hurt it), throttles the port when that fd is full, and what the
# guest has queued then is lost when it powers off. A file never fills up,
# and with ioeventfd=off the guest's notify is handled in the vCPU thread:
# when the guest's write returns, its data is in the file. ttyS0: the
# kernel's console and the init's messages, to kernel.log.
append="console=ttyS0 quiet panic=-1 8250.nr_uarts=1 ${TOLLGATE_VM_APPEND:-}"
q() { printf '%s' "${1//,/,,}"; } # a path inside a qemu option value
# shellcheck disable=SC2054
if [ -z "$rootfs" ]; then
	root_args=(-fsdev "local,id=tgroot,path=/,security_model=none,readonly=on,multidevs=remap")
else
	# passthrough: the guest's owners and modes are the files' own (qemu
	# runs as root), as a booted system needs. tgmod: the kernel's modules.
	root_args=(
		-fsdev "local,id=tgroot,path=$(q "$rootfs"),security_model=passthrough,multidevs=remap"
		-fsdev "local,id=tgmod,path=$(q "$moddir"),security_model=none,readonly=on"
		-device virtio-9p-pci,fsdev=tgmod,mount_tag=tgmod
	)
	append="$append tollgate.rootfs=1"
	if [ -n "$forward" ]; then
		root_args+=(
			-netdev "user,id=tgnet,restrict=on,net=192.0.2.0/24,host=192.0.2.2,hostfwd=tcp:127.0.0.1:$forward-:22"
			-device virtio-net-pci,netdev=tgnet
		)
	fi
fi
# shellcheck disable=SC2054
qemu=(
	qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot
	"${accel_args[@]}" -smp 2 -m "$mem"
	-kernel "$kernel_image" -initrd "$initrd" -append "$append"
	"${root_args[@]}"
	-device virtio-9p-pci,fsdev=tgroot,mount_tag=tgroot
	-fsdev "local,id=tgrun,path=$(q "$rundir"),security_model=none"
	-device virtio-9p-pci,fsdev=tgrun,mount_tag=tgrun
	-chardev "file,id=con,path=$(q "$rundir/kernel.log")" -serial chardev:con
	-device virtio-serial-pci,id=vser0,max_ports=2,ioeventfd=off
	-chardev "file,id=out,path=$(q "$rundir/out")"
	-device virtserialport,bus=vser0.0,chardev=out,name=tollgate.out
)

echo "vm: $kver ($accel, ${mem} MB, timeout ${timeout_s} s)" >&2
: >"$rundir/out"
"${qemu[@]}" </dev/null >&2 &
qpid=$!
# Ends once qemu has ended and all of out is copied.
tail -c +1 -s 0.1 -f --pid="$qpid" "$rundir/out" &
tpid=$!
# The watchdog waits on a FIFO nobody writes to (read -t, a builtin: it
# leaves no sleep process behind when it is killed).
mkfifo "$rundir/.watchdog"
(
	rc=0
	read -r -t "$timeout_s" <>"$rundir/.watchdog" || rc=$?
	[ "$rc" -gt 128 ] || exit 0
	: >"$rundir/timedout"
	kill -TERM "$qpid" 2>/dev/null || exit 0
	read -r -t 5 <>"$rundir/.watchdog" || true
	kill -KILL "$qpid" 2>/dev/null || true
) &
wpid=$!
qrc=0
wait "$qpid" || qrc=$?
qpid=""
kill "$wpid" 2>/dev/null || true
wait "$wpid" 2>/dev/null || true
wpid=""
wait "$tpid" || true
tpid=""

if [ -n "${TOLLGATE_VM_KERNEL_LOG:-}" ]; then
	cp "$rundir/kernel.log" "$TOLLGATE_VM_KERNEL_LOG" 2>/dev/null || true
fi
status="$(cat "$rundir/status" 2>/dev/null || true)"
if [ -e "$rundir/timedout" ] && ! [[ "$status" =~ ^[0-9]+$ ]]; then
	echo "vm: timeout: the command did not finish within ${timeout_s} s on $kver; qemu killed" >&2
	echo "vm: last console lines:" >&2
	tail -n 20 "$rundir/kernel.log" >&2 || true
	exit 124
fi
if ! [[ "$status" =~ ^[0-9]+$ ]]; then
	echo "vm: the VM stopped without the command's exit status (qemu exit $qrc); last console lines:" >&2
	tail -n 40 "$rundir/kernel.log" >&2 || true
	exit 125
fi
exit "$status"
