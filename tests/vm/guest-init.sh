#!/bin/busybox sh
# shellcheck shell=sh
# /init of the VM's initramfs (tests/vm/run.sh builds it around this file and
# busybox). Its console (/dev/console = ttyS0) goes to the run's kernel.log.
#
# Loads the modules listed in /modules.list (in that order), mounts the host's
# root (9p tag tgroot, read-only) under a tmpfs overlay, mounts the run's
# directory (9p tag tgrun) on /run/tollgate-vm, the API file systems, and
# switch_roots into the overlay, where /run/tollgate-vm/stage2 (bash) runs the
# command as PID 1.
#
# With tollgate.rootfs=1 on the command line (run.sh --rootfs), tgroot is a
# Debian system of its own, mounted read-write as it is, with the kernel's
# modules (9p tag tgmod) on /lib/modules/VERSION, and the init is its
# systemd, which runs the command as a service (tollgate-vm-test).

export PATH=/bin
/bin/busybox mkdir -p /bin
/bin/busybox --install -s /bin

MSIZE=512000 # the most the virtio transport takes on these kernels
NEW=/newroot
RUN=$NEW/run/tollgate-vm

fail() {
	echo "tollgate-vm init: $*"
	echo "tollgate-vm init: $*" >/dev/kmsg 2>/dev/null
	sleep 1 # let the console's output out
	sync
	poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 60
}

mkdir -p /proc /sys /dev /tmp /mnt/lower /mnt/rw $NEW
mount -t proc -o nosuid,nodev,noexec proc /proc || fail "mount proc"
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys || fail "mount sysfs"
mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev || fail "mount devtmpfs"
exec </dev/console >/dev/console 2>&1

while read -r mod; do
	[ -n "$mod" ] || continue
	insmod "/lib/modules/$mod" || fail "insmod $mod"
done </modules.list

# The 9p channels may show up a little after 9pnet_virtio has loaded.
mount9p() { # TAG DIR OPTIONS
	i=0
	until mount -t 9p -o "trans=virtio,version=9p2000.L,msize=$MSIZE,$3" "$1" "$2" 2>/tmp/mount.err; do
		i=$((i + 1))
		if [ $i -ge 100 ]; then
			cat /tmp/mount.err
			return 1
		fi
		sleep 0.1
	done
	[ $i -eq 0 ] || echo "tollgate-vm init: 9p $1 mounted after $i retries"
}
ROOTFS=0
case " $(cat /proc/cmdline) " in *" tollgate.rootfs=1 "*) ROOTFS=1 ;; esac
if [ $ROOTFS = 1 ]; then
	# cache=loose: systemd's journal needs shared writable mmap.
	mount9p tgroot $NEW rw,cache=loose,access=client || fail "mount 9p tgroot (the system)"
else
	mount9p tgroot /mnt/lower ro,cache=loose || fail "mount 9p tgroot (host /)"
	mount -t tmpfs -o mode=0755 tmpfs /mnt/rw || fail "mount tmpfs for overlay"
	mkdir -p /mnt/rw/upper /mnt/rw/work
	mount -t overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work overlay $NEW ||
		fail "mount overlay"
fi

mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs $NEW/run || fail "mount /run"
mkdir -p $RUN
mount9p tgrun $RUN cache=none || fail "mount 9p tgrun (run dir)"
[ -r $RUN/stage2 ] || fail "no $RUN/stage2"

if [ $ROOTFS = 1 ]; then
	kver="$(uname -r)"
	mkdir -p "$NEW/lib/modules/$kver" || fail "mkdir /lib/modules/$kver"
	mount9p tgmod "$NEW/lib/modules/$kver" ro,cache=loose || fail "mount 9p tgmod (modules)"
	for d in proc sys dev; do
		mount --move /$d $NEW/$d || fail "move /$d"
	done
	# shellcheck disable=SC2093 # fail runs only when the exec fails
	exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin switch_root $NEW /lib/systemd/systemd
	fail "switch_root to systemd failed"
fi

# /tmp: a tmpfs, unless the command's directory or the kernel tree lies
# under it (the host's /tmp then stays visible, writable through the overlay).
case "$(cat $RUN/cwd)/:$(cat $RUN/tree)/" in
/tmp/* | *:/tmp/*) ;;
*) mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs $NEW/tmp || fail "mount /tmp" ;;
esac

for d in proc sys dev; do
	mount --move /$d $NEW/$d || fail "move /$d"
done
mkdir -p $NEW/dev/pts $NEW/dev/shm $NEW/dev/mqueue
mount -t devpts -o nosuid,noexec,gid=5,mode=620,ptmxmode=666 devpts $NEW/dev/pts || fail "mount devpts"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs $NEW/dev/shm || fail "mount /dev/shm"
mount -t mqueue -o nosuid,nodev,noexec mqueue $NEW/dev/mqueue 2>/dev/null
ln -sf /proc/self/fd $NEW/dev/fd
ln -sf /proc/self/fd/0 $NEW/dev/stdin
ln -sf /proc/self/fd/1 $NEW/dev/stdout
ln -sf /proc/self/fd/2 $NEW/dev/stderr
mount -t bpf -o nosuid,nodev,noexec,mode=0700 bpf $NEW/sys/fs/bpf || fail "mount bpffs"
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 $NEW/sys/fs/cgroup 2>/dev/null
mount -t tracefs -o nosuid,nodev,noexec tracefs $NEW/sys/kernel/tracing 2>/dev/null
mount -t debugfs -o nosuid,nodev,noexec debugfs $NEW/sys/kernel/debug 2>/dev/null

# The kernel's own modules (for modprobe and the kernel's module autoload;
# run.sh has run depmod on the tree in the cache) and its config and
# System.map in /boot (bpftool feature probe reads the config), from the
# kernel tree in the host's cache.
kver="$(uname -r)"
tree="$(cat $RUN/tree)"
if [ -d "$NEW$tree" ]; then
	for d in lib/modules usr/lib/modules; do
		if [ -d "$NEW$tree/$d/$kver" ]; then
			mkdir -p $NEW/lib/modules && ln -sfn "$tree/$d/$kver" "$NEW/lib/modules/$kver"
		fi
	done
	mkdir -p $NEW/boot
	for f in config System.map; do
		[ ! -e "$NEW$tree/boot/$f-$kver" ] || ln -sf "$tree/boot/$f-$kver" "$NEW/boot/$f-$kver"
	done
else
	echo "tollgate-vm init: kernel tree $tree not found"
fi

hostname tollgate-vm
ip link set lo up || fail "ip link set lo up"
# The virtio-serial port that run.sh prints: /dev/tollgate-out.
port=""
i=0
while [ -z "$port" ] && [ $i -lt 100 ]; do
	for f in "$NEW"/sys/class/virtio-ports/*/name; do
		[ "$(cat "$f" 2>/dev/null)" != tollgate.out ] || port="${f%/name}"
	done
	[ -n "$port" ] || sleep 0.1
	i=$((i + 1))
done
[ -n "$port" ] || fail "no virtio-serial port tollgate.out"
ln -sf "${port##*/}" $NEW/dev/tollgate-out || fail "ln /dev/tollgate-out"
# stage2 sleeps with read -t on this FIFO (a fork costs much under TCG).
mkfifo $NEW/run/.tollgate-vm-tick || fail "mkfifo"
# shellcheck disable=SC2093 # fail runs only when the exec fails
exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root LANG=C.UTF-8 TOLLGATE_IN_VM="$kver" \
	switch_root $NEW /bin/bash /run/tollgate-vm/stage2
fail "switch_root failed"
