# Network-namespace helpers for the lab (scripts/demo.sh) and the
# end-to-end tests. Sourced. Everything made here is registered and removed
# by lab_cleanup, which callers run from an EXIT trap: namespaces and the
# veths inside them by name, tollgate pins by interface (and the host's flow
# tables once no interface is left), processes by PID.
LAB_NETNS=()
LAB_PIDS=()
LAB_IFACES=()

# lab_ns NAME: a fresh namespace with loopback up and IPv6 DAD off.
lab_ns() {
	ip netns add "$1"
	LAB_NETNS+=("$1")
	ip -n "$1" link set lo up
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

# lab_link NS1 IF1 ADDR1 NS2 IF2 ADDR2 [ADDR6_1 ADDR6_2]: a veth pair between two namespaces.
lab_link() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$4" addr add "$6" dev "$5"
	if [ -n "${7:-}" ]; then
		ip -n "$1" addr add "$7" dev "$2" nodad
		ip -n "$4" addr add "$8" dev "$5" nodad
	fi
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}

# lab_pair NS_A IF_A ADDR_A NS_B IF_B ADDR_B [V6_A V6_B]: the end-to-end
# suites' topology, a client namespace and a host namespace whose interface
# carries tollgate (its pins are removed by lab_cleanup).
lab_pair() {
	lab_ns "$1"
	lab_ns "$4"
	lab_link "$@"
	lab_tollgate_iface "$5"
}

# lab_ipv4_only NS...: no IPv6, so router solicitations and the like stay
# out of counters that a test compares exactly.
lab_ipv4_only() {
	local ns
	for ns in "$@"; do
		lab_in "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	done
}

# lab_in NS CMD...: run in a namespace's network only, keeping this mount
# namespace so that bpffs and tollgate's pins stay where they are.
lab_in() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# lab_bg NS CMD...: the same in the background; the PID is registered.
lab_bg() {
	local ns=$1
	shift
	# exec: the PID we keep is the command's own (nsenter execs it too).
	(exec nsenter --net="/run/netns/$ns" "$@") &
	LAB_PIDS+=($!)
	LAB_LAST_PID=$!
}

# Interfaces that may carry tollgate pins to remove at the end.
lab_tollgate_iface() {
	LAB_IFACES+=("$1")
}

# lab_wait_for SECONDS CMD...: retry a check until it holds or time is up.
# For conditions that are reached asynchronously (a server listening, a
# rollback timer firing); never a fixed sleep.
lab_wait_for() {
	local deadline=$(($(date +%s%N) + $1 * 1000000000))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

lab_cleanup() {
	local pid ns ifname
	for pid in "${LAB_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${LAB_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	for ifname in "${LAB_IFACES[@]}"; do
		rm -rf "/sys/fs/bpf/tollgate/$ifname" /run/tollgate/"$ifname".lock
	done
	# As tollgate's last detach does: with no interface left on the host, the
	# host's flow tables go too, so that a failed run leaves none behind
	# (they would decide the next attach's flow-table size).
	if rmdir /sys/fs/bpf/tollgate 2>/dev/null && [ ${#LAB_IFACES[@]} -gt 0 ]; then
		rm -f /sys/fs/bpf/tollgate-host/flows_out /sys/fs/bpf/tollgate-host/flows_in \
			/sys/fs/bpf/tollgate-host/flow_stats /sys/fs/bpf/tollgate-host/flow_hints
		rmdir /sys/fs/bpf/tollgate-host 2>/dev/null
	fi
	for ns in "${LAB_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	LAB_PIDS=()
	LAB_NETNS=()
	LAB_IFACES=()
}
