#!/usr/bin/env bash
# The package and its units under real systemd: boots a Debian 12 system
# (scripts/rootfs.sh system, a copy per run) in the VM harness on Debian's
# 6.1 kernel, with systemd as PID 1, and drives it through
# tests/deploy/guest-systemd.sh, one phase per boot:
#   1. install   the .deb, the units, an upgrade
#   2. reboot    the filter is back after a reboot; remove and purge
#   3. ansible   the role (tests/deploy/ansible/run.sh) from this host over
#                ssh, forwarded by qemu to the VM's port 22
#   4. podman    the OCI image in podman (tests/deploy/guest-podman.sh)
#
#   tests/deploy/systemd.sh DEB [OCI_ARCHIVE]
#
# Prints "ok deploy/NAME" / "FAIL deploy/NAME: why" lines. Without
# OCI_ARCHIVE the podman boot is left out (and says so as a failure).
# TOLLGATE_DEPLOY_PHASES="install reboot" (say) runs only those, for work on
# one of them; the later ones need the earlier ones' system.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
DEB=${1:?usage: tests/deploy/systemd.sh DEB [OCI_ARCHIVE]}
OCI=${2:-}
KERNEL=${TOLLGATE_DEPLOY_KERNEL:-6.1}
PHASES=" ${TOLLGATE_DEPLOY_PHASES:-install reboot ansible podman} "
wanted() { [[ $PHASES == *" $1 "* ]]; }

fail() { echo "FAIL deploy/$1: $2"; }

tarball=$(bash "$TOP/scripts/rootfs.sh" system) || {
	fail rootfs "scripts/rootfs.sh system failed"
	exit 0
}
cache=${TOLLGATE_VM_CACHE:-/var/cache/tollgate-vm}
work=$(mktemp -d "$cache/deploy.XXXXXX")
vm="" # the Ansible boot's run.sh, in the background
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	# run.sh kills its qemu when it is told to end.
	if [ -n "$vm" ]; then
		kill "$vm" 2>/dev/null
		wait "$vm" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
root=$work/root
mkdir -p "$root"
tar -C "$root" -xf "$tarball"

# The package and a "next version" of it: the same files, a higher version
# and a changed dns.env, for the upgrade.
tg=$root/root/tg
mkdir -p "$tg"
cp "$DEB" "$tg/tollgate.deb"
next=$work/next
dpkg-deb -R "$DEB" "$next"
version=$(dpkg-deb -f "$DEB" Version)
sed -i "s/^Version: .*/Version: $version+next1/" "$next/DEBIAN/control"
echo '# next version: this line marks the upgraded file' >>"$next/etc/tollgate/dns.env"
(cd "$next" && find . -type f ! -path './DEBIAN/*' -printf '%P\n' | sort | xargs md5sum >DEBIAN/md5sums)
dpkg-deb -b --root-owner-group "$next" "$tg/tollgate-next.deb" >/dev/null
install -m 0755 "$TOP/tests/deploy/guest-systemd.sh" "$tg/guest-systemd.sh"
if [ -n "$OCI" ]; then
	cp "$OCI" "$tg/tollgate.oci.tar"
	install -m 0755 "$TOP/tests/deploy/guest-podman.sh" "$tg/guest-podman.sh"
fi

# The lab NIC: made at every boot, as a NIC appears.
cat >"$root/etc/systemd/system/tgd-lab.service" <<'UNIT'
[Unit]
Description=tollgate deploy test: the veth tgd0 and its peer namespace
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -ec 'ip netns add tgd-peer; ip link add tgd0 type veth peer name tgd1 netns tgd-peer; \
  ip addr add 198.51.100.1/24 dev tgd0; ip link set tgd0 up; ip -n tgd-peer link set lo up; \
  ip -n tgd-peer addr add 198.51.100.2/24 dev tgd1; ip -n tgd-peer link set tgd1 up'
[Install]
WantedBy=multi-user.target
UNIT
ln -sfn ../tgd-lab.service "$root/etc/systemd/system/multi-user.target.wants/tgd-lab.service"

boot() { # TIMEOUT [--forward PORT] -- COMMAND: one boot, its results on stdout
	local timeout=$1
	shift
	"$TOP/tests/vm/run.sh" --kernel "$KERNEL" --timeout "$timeout" --rootfs "$root" "$@"
}
phase() { # NAME TIMEOUT: a guest-systemd.sh phase in its own boot
	local rc=0
	boot "$2" -- /root/tg/guest-systemd.sh "$1" || rc=$?
	[ $rc -eq 0 ] || fail "boot-$1" "the VM's $1 boot ended with status $rc"
}

if wanted install; then phase install 900; fi
if wanted reboot; then phase reboot 600; fi

# Ansible: the VM waits (bounded) for this host to say it is done.
if ! wanted ansible; then
	:
elif [ -x "$TOP/tests/deploy/ansible/run.sh" ]; then
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	ssh-keygen -q -t ed25519 -N '' -f "$work/key"
	install -d -m 0700 "$root/root/.ssh"
	install -m 0600 "$work/key.pub" "$root/root/.ssh/authorized_keys"
	# shellcheck disable=SC2016 # expanded in the VM
	"$TOP/tests/vm/run.sh" --kernel "$KERNEL" --timeout 1500 --rootfs "$root" --forward "$port" -- \
		'for i in $(seq 1400); do [ -e /run/tgd-ansible-done ] && exit 0; sleep 1; done; exit 1' \
		>"$work/ansible-vm.out" 2>&1 &
	vm=$!
	vssh() { ssh -p "$port" -i "$work/key" -o BatchMode=yes -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10 root@127.0.0.1 "$@"; }
	# Until the guest's sshd answers (qemu takes the connection at once and
	# drops it while the guest boots), bounded, and not past the VM's end.
	up=0
	for _ in $(seq 120); do
		kill -0 "$vm" 2>/dev/null || break
		if vssh true >/dev/null 2>&1; then
			up=1
			break
		fi
		sleep 2
	done
	if [ $up = 1 ]; then
		bash "$TOP/tests/deploy/ansible/run.sh" "$port" "$work/key" "$DEB" tgd0
		vssh touch /run/tgd-ansible-done >/dev/null 2>&1
	else
		fail ansible-ssh "the VM's sshd did not answer on 127.0.0.1:$port: $(tail -n 3 "$work/ansible-vm.out" | tr '\n' ' ')"
		kill "$vm" 2>/dev/null
	fi
	if ! wait "$vm"; then
		fail boot-ansible "the VM's ansible boot failed: $(tail -n 5 "$work/ansible-vm.out" | tr '\n' ' ')"
	fi
	vm=""
else
	fail ansible "no tests/deploy/ansible/run.sh"
fi

if ! wanted podman; then
	:
elif [ -n "$OCI" ]; then
	rc=0
	# The package from the Ansible boot, or (when that one failed) now.
	boot 900 -- 'dpkg -s tollgate >/dev/null 2>&1 || dpkg -i /root/tg/tollgate.deb >/dev/null;' \
		/root/tg/guest-podman.sh /root/tg/tollgate.oci.tar || rc=$?
	[ $rc -eq 0 ] || fail boot-podman "the VM's podman boot ended with status $rc"
else
	fail podman "no OCI archive given"
fi
exit 0
