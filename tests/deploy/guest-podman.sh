#!/usr/bin/env bash
# tollgate's OCI image under podman, as the DaemonSet runs it: runs INSIDE a
# Debian 12 VM, as root, with no network access.
#
#   tests/deploy/guest-podman.sh ARCHIVE
#
#   ARCHIVE  build/oci/tollgate-VERSION.oci.tar (make oci, tests/deploy/image.sh)
#
# The VM needs: podman (Debian 12's 4.3), crun, conmon (containernetworking-
# plugins are not used: the container has --network host), iproute2,
# iputils-ping, curl, and the tollgate package itself (`tollgate status` is
# run on the VM to watch the container's work); bpffs on /sys/fs/bpf (mounted
# here if it is not) and cgroup2. Booted with systemd or not: without
# /run/systemd/system, podman is told to use cgroupfs and a file event log.
#
# Storage: a tmpfs is mounted on /var/lib/containers (overlayfs cannot use a
# 9p root as its upper layer) unless that is already a tmpfs; the storage
# driver is overlay, or vfs when overlay does not work there.
#
# The lab: a veth pair tgp0 (the VM's root namespace: the "node's NIC", the
# container runs with --network host) and tgp1 in the namespace tgp-peer,
# with 192.0.2.2 (allowed to ping) and 192.0.2.3 (denied). Each check prints
# "ok deploy/podman-NAME" or "FAIL deploy/podman-NAME: why". Waits are
# polls with a deadline, never fixed sleeps. Everything made here is
# removed on exit, by name: the containers, the image, the veth, the
# namespace, tollgate's state on tgp0, the tmpfs.
# Functions run from traps and through wait_for: shellcheck cannot see it.
# shellcheck disable=SC2317
set -u
export LC_ALL=C

ok() { printf 'ok deploy/podman-%s\n' "$1"; }
fail() { printf 'FAIL deploy/podman-%s: %s\n' "$1" "$2"; }
oneline() { tail -n "${2:-5}" <<<"$1" | tr '\n' ' ' | cut -c1-400; }

if [ $# -ne 1 ]; then
	echo "usage: tests/deploy/guest-podman.sh ARCHIVE" >&2
	exit 2
fi
ARCHIVE=$1
TG=${TG:-tollgate}
IF=tgp0
PEER_IF=tgp1
NS=tgp-peer
HOST_ADDR=192.0.2.1
GOOD=192.0.2.2
BAD=192.0.2.3
CTR=tgp-node
POLL=1 # TOLLGATE_POLL_SECONDS in the container

# ------------------------------------------------------------ preflight
missing=
for t in podman ip ping curl nsenter "$TG"; do
	command -v "$t" >/dev/null || missing="$missing $t"
done
if [ -n "$missing" ]; then
	fail preflight "not installed in the VM:$missing"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	fail preflight "run as root"
	exit 0
fi
if [ ! -r "$ARCHIVE" ]; then
	fail preflight "no archive at $ARCHIVE"
	exit 0
fi
if ip link show dev "$IF" >/dev/null 2>&1 || ip netns list | grep -qw "$NS"; then
	fail preflight "$IF or netns $NS exists already (a previous run?); not touching it"
	exit 0
fi

work=$(mktemp -d /tmp/tgp.XXXXXX)
mounted_storage=0
made_netns=0
made_link=0
image=
pm_opts=()

cleanup() {
	local c
	for c in "$CTR" "$CTR-2"; do
		podman "${pm_opts[@]}" rm -f -t 5 "$c" >/dev/null 2>&1
	done
	# A container killed before its detach leaves the state: ours, by name.
	if [ "$made_link" -eq 1 ] && "$TG" status "$IF" >/dev/null 2>&1; then
		"$TG" detach "$IF" >/dev/null 2>&1
	fi
	[ -d "/sys/fs/bpf/tollgate/$IF" ] && "$TG" detach --force "$IF" >/dev/null 2>&1
	[ "$made_link" -eq 1 ] && ip link del dev "$IF" 2>/dev/null
	[ "$made_netns" -eq 1 ] && ip netns del "$NS" 2>/dev/null
	if [ -n "$image" ]; then
		podman "${pm_opts[@]}" rmi -f "$image" localhost/tollgate:latest >/dev/null 2>&1
	fi
	if [ "$mounted_storage" -eq 1 ]; then
		umount -R /var/lib/containers 2>/dev/null || umount -l /var/lib/containers 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for SECONDS CMD...: true once CMD succeeds, false at the deadline.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ $SECONDS -ge $end ] && return 1
		sleep 0.2
	done
}

# ------------------------------------------------------ podman's setup
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mkdir -p /run/tollgate
if [ "$(stat -f -c %T /var/lib/containers 2>/dev/null)" != tmpfs ]; then
	mkdir -p /var/lib/containers
	if mount -t tmpfs -o mode=0700,size=1g tmpfs /var/lib/containers; then
		mounted_storage=1
	else
		fail storage "cannot mount a tmpfs on /var/lib/containers"
		exit 0
	fi
fi
if [ ! -d /run/systemd/system ]; then
	pm_opts+=(--cgroup-manager=cgroupfs --events-backend=file)
fi
driver=overlay
if ! out=$(podman "${pm_opts[@]}" --storage-driver overlay info 2>&1); then
	driver=vfs
	echo "# overlay storage does not work here ($(oneline "$out" 2)); using vfs"
	# The probe left a store that names overlay: start from an empty one.
	rm -rf /run/containers/storage /run/libpod
	if [ "$mounted_storage" -eq 1 ]; then
		umount /var/lib/containers && mount -t tmpfs -o mode=0700,size=1g tmpfs /var/lib/containers
	else
		rm -rf /var/lib/containers/storage
	fi
fi
pm_opts+=(--storage-driver "$driver")
pm() { podman "${pm_opts[@]}" "$@"; }

# ---------------------------------------------------------------- load
if out=$(pm load -i "$ARCHIVE" 2>&1); then
	image=$(sed -n 's/^Loaded image[(s)]*: *//p' <<<"$out" | head -n 1 | cut -d, -f1)
	if [ -n "$image" ] && pm tag "$image" localhost/tollgate:latest 2>/dev/null; then
		ok load
	else
		fail load "loaded, but no image name in: $(oneline "$out")"
		exit 0
	fi
else
	fail load "$(oneline "$out")"
	exit 0
fi
echo "# $image ($driver storage)"
entry=$(pm image inspect -f '{{json .Config.Entrypoint}}' localhost/tollgate:latest 2>&1)
if [ "$entry" = '["/usr/local/bin/tollgate-node"]' ]; then ok entrypoint; else fail entrypoint "$entry"; fi

# ----------------------------------------------------------------- lab
ip netns add "$NS" && made_netns=1
ip link add name "$IF" type veth peer name "$PEER_IF" && made_link=1
if [ "$made_netns" -ne 1 ] || [ "$made_link" -ne 1 ]; then
	fail lab "cannot make netns $NS and veth $IF/$PEER_IF"
	exit 0
fi
ip link set dev "$PEER_IF" netns "$NS"
ip addr add "$HOST_ADDR/24" dev "$IF"
ip link set dev "$IF" up
ip -n "$NS" link set dev lo up
ip -n "$NS" addr add "$GOOD/24" dev "$PEER_IF"
ip -n "$NS" addr add "$BAD/24" dev "$PEER_IF"
ip -n "$NS" link set dev "$PEER_IF" up

# ping_from SRC: one echo from the peer namespace to the VM's tgp0 address,
# a few tries (the first may wait for ARP).
ping_from() { nsenter --net="/run/netns/$NS" ping -n -q -c 1 -W 1 -I "$1" "$HOST_ADDR"; }
pings() { wait_for 4 ping_from "$1"; }

if pings "$GOOD" && pings "$BAD"; then
	ok lab
else
	fail lab "no ping over $PEER_IF -> $IF before tollgate"
	exit 0
fi

# ------------------------------------------------------------- policies
pdir=$work/policy
mkdir -p "$pdir"
# write_policy TEXT: replaces the file by a rename, as a ConfigMap update
# replaces its files: the container sees the old content or the new.
write_policy() {
	printf '%s\n' "$1" >"$pdir/.policy.new"
	mv -f "$pdir/.policy.new" "$pdir/policy"
}
policy_v1="# guest-podman.sh, version 1
default deny

service ping-good {
    direction in
    protocol icmp
    types echo-request
    peers $GOOD
    action allow
}

service ping-bad {
    direction in
    protocol icmp
    types echo-request
    peers $BAD
    action deny
}"
policy_v2="# guest-podman.sh, version 2: the other way round
default deny

service ping-bad-now-allowed {
    direction in
    protocol icmp
    types echo-request
    peers $BAD
    action allow
}"
policy_broken="# guest-podman.sh, broken
default maybe
service {"
write_policy "$policy_v1"
if out=$("$TG" check "$pdir/policy" 2>&1); then ok policy-checks; else fail policy-checks "$(oneline "$out")"; fi

# The metrics port: 9731 as in the DaemonSet, unless something on the VM
# (tollgate-exporter.service) listens there already.
port=9731
if [ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]; then
	port=19731
	echo "# port 9731 is in use on the VM; the container listens on $port"
fi

run_node() { # NAME
	pm run -d --name "$1" \
		--network host \
		--cap-drop all --cap-add bpf,net_admin,perfmon,sys_admin \
		--read-only \
		-v /sys/fs/bpf:/sys/fs/bpf \
		-v /run/tollgate:/run/tollgate \
		-v "$pdir:/etc/tollgate/policy:ro" \
		--tmpfs /tmp \
		-e TOLLGATE_IFACE="$IF" \
		-e TOLLGATE_POLL_SECONDS="$POLL" \
		-e TOLLGATE_LISTEN="0.0.0.0:$port" \
		localhost/tollgate:latest
}
running() { [ "$(pm inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }
not_running() { ! running "$1"; }
logs() { pm logs "$1" 2>&1; }
enforcing() { "$TG" status "$IF" 2>/dev/null | grep -q '^  enforcing   yes'; }
generation() { "$TG" status "$IF" 2>/dev/null | awk '$1 == "generation" { print $2 }'; }
gen_is() { [ "$(generation)" = "$1" ]; }
logs_have() { logs "$1" | grep -q -- "$2"; }

# ---------------------------------------------------------------- start
if ! out=$(run_node "$CTR" 2>&1); then
	fail run "$(oneline "$out")"
	exit 0
fi
ok run
if wait_for 60 enforcing; then
	ok attached
else
	fail attached "tgp0 not enforcing after 60 s (running: $(running "$CTR" && echo yes || echo no)); logs: $(oneline "$(logs "$CTR")" 8)"
	exit 0
fi
if ip link show dev "$IF" | grep -q 'xdp'; then ok xdp-on-link; else fail xdp-on-link "$(ip link show dev "$IF" | tr '\n' ' ')"; fi
status=$("$TG" status "$IF" 2>&1)
if grep -q '^  policy      /etc/tollgate/policy/policy$' <<<"$status" && grep -q '^  generation  1$' <<<"$status" &&
	grep -q '^  facing      outside$' <<<"$status"; then
	ok status
else
	fail status "$(oneline "$status" 12)"
fi

# The DaemonSet's readiness probe, inside the container with its
# capabilities only.
# shellcheck disable=SC2016 # expanded by the container's sh
if out=$(pm exec "$CTR" sh -c 'exec tollgate status "$TOLLGATE_IFACE"' 2>&1); then
	ok readiness-probe
else
	fail readiness-probe "$(oneline "$out")"
fi

# ------------------------------------------------------------- traffic
if pings "$GOOD"; then ok allowed-ping; else fail allowed-ping "no echo from $GOOD, which the policy allows"; fi
if ping_from "$BAD" >/dev/null 2>&1 || ping_from "$BAD" >/dev/null 2>&1; then
	fail denied-ping "an echo from $BAD passed; the policy denies it"
else
	ok denied-ping
fi

# ------------------------------------------------------------- metrics
metrics() { curl -s --max-time 5 "http://127.0.0.1:$port/metrics"; }
metrics_ok() { metrics | grep -q '^tollgate_'; }
if wait_for 20 metrics_ok; then
	m=$(metrics)
	if grep -q "service=\"ping-good\"" <<<"$m" && grep -q "interface=\"$IF\"" <<<"$m"; then
		ok metrics
	else
		fail metrics "tollgate_ series without the service ping-good on $IF: $(grep -m3 '^tollgate_' <<<"$m" | tr '\n' ' ')"
	fi
else
	fail metrics "no tollgate_ series at http://127.0.0.1:$port/metrics; logs: $(oneline "$(logs "$CTR")")"
fi

# -------------------------------------------------------------- reload
write_policy "$policy_v2"
if wait_for $((POLL * 10 + 10)) gen_is 2; then
	ok reload
else
	fail reload "generation $(generation) after the policy changed; logs: $(oneline "$(logs "$CTR")")"
fi
if pings "$BAD"; then ok reload-allows; else fail reload-allows "no echo from $BAD after the reload allowed it"; fi
if ping_from "$GOOD" >/dev/null 2>&1 || ping_from "$GOOD" >/dev/null 2>&1; then
	fail reload-denies "an echo from $GOOD passed; the new policy has no service for it"
else
	ok reload-denies
fi

# --------------------------------------------------------- broken policy
write_policy "$policy_broken"
if wait_for $((POLL * 10 + 10)) logs_have "$CTR" "does not check"; then
	if gen_is 2 && enforcing && pings "$BAD"; then
		ok broken-keeps-old
	else
		fail broken-keeps-old "generation $(generation), enforcing $(enforcing && echo yes || echo no)"
	fi
	# tollgate check's FILE:LINE:COL diagnostics are in the log.
	if logs "$CTR" | grep -q 'policy:[0-9]*:[0-9]*: error:'; then
		ok broken-logged
	else
		fail broken-logged "no FILE:LINE:COL error in the logs: $(oneline "$(logs "$CTR")")"
	fi
else
	fail broken-keeps-old "the entrypoint did not report the broken policy; logs: $(oneline "$(logs "$CTR")")"
fi
if running "$CTR"; then ok survives-broken; else fail survives-broken "the container exited on a broken policy"; fi

# ---------------------------------------------- takeover after a crash
# A pod killed without detaching (SIGKILL, OOM) leaves the policy pinned and
# in force; the next one takes it over with a reload.
write_policy "$policy_v1"
wait_for $((POLL * 10 + 10)) gen_is 3 || fail takeover-precondition "the good policy was not reloaded before the kill (generation $(generation))"
pm kill -s KILL "$CTR" >/dev/null 2>&1
wait_for 20 not_running "$CTR"
if enforcing && gen_is 3; then ok killed-stays-enforcing; else fail killed-stays-enforcing "after SIGKILL: generation $(generation)"; fi
pm rm -f "$CTR" >/dev/null 2>&1
if out=$(run_node "$CTR-2" 2>&1) && wait_for 60 gen_is 4; then
	if logs_have "$CTR-2" "taking it over"; then ok takeover; else fail takeover "$(oneline "$(logs "$CTR-2")")"; fi
else
	fail takeover "no reload to generation 4 (generation $(generation)); logs: $(oneline "$(logs "$CTR-2")")"
fi
if pings "$GOOD"; then ok takeover-allows; else fail takeover-allows "no echo from $GOOD under the taken-over policy"; fi

# ----------------------------------------------------------------- stop
# podman stop sends SIGTERM and waits up to -t seconds before SIGKILL: a
# prompt stop with status 0 is the entrypoint's own.
start=$SECONDS
if out=$(pm stop -t 20 "$CTR-2" 2>&1); then
	took=$((SECONDS - start))
	code=$(pm inspect -f '{{.State.ExitCode}}' "$CTR-2" 2>&1)
	if [ "$code" = 0 ] && [ $took -lt 10 ]; then
		ok stop
	else
		fail stop "exit code $code after ${took}s; logs: $(oneline "$(logs "$CTR-2")")"
	fi
else
	fail stop "$(oneline "$out")"
fi
out=$("$TG" status "$IF" 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q 'has no tollgate attached' <<<"$out"; then
	ok detached
else
	fail detached "tollgate status $IF: exit $rc: $(oneline "$out")"
fi
if ip link show dev "$IF" | grep -q 'xdp'; then
	fail link-clean "$(ip link show dev "$IF" | tr '\n' ' ')"
else
	ok link-clean
fi
if [ ! -e "/sys/fs/bpf/tollgate/$IF" ]; then ok pins-removed; else fail pins-removed "/sys/fs/bpf/tollgate/$IF is still there"; fi
if logs_have "$CTR-2" "detaching $IF"; then ok stop-logged; else fail stop-logged "$(oneline "$(logs "$CTR-2")")"; fi
if pings "$GOOD"; then ok unfiltered-after-stop; else fail unfiltered-after-stop "no echo from $GOOD after the detach"; fi
exit 0
