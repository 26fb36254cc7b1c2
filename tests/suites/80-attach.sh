#!/usr/bin/env bash
# tollgate on real interfaces: two namespaces joined by a veth, native XDP,
# real sockets. A is the client (198.18.10.1), B the host running tollgate
# facing outside (198.18.10.2). Everything is removed on exit, pass or fail.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/lab/lab.sh"
need_bpffs
LABNET=$BUILD/labnet
A=tgta$$ B=tgtb$$ IA=tga$$ IB=tgb$$
work=$(mktemp -d)
trap 'lab_cleanup; rm -rf "$work"' EXIT

lab_pair "$A" "$IA" 198.18.10.1/24 "$B" "$IB" 198.18.10.2/24 2001:db8:10::1/64 2001:db8:10::2/64
tgB() { lab_in "$B" "$TG" "$@"; }

cat >"$work/base.policy" <<'P'
default deny
service ssh-lab { direction in; protocol tcp; ports 2222; peers 198.18.10.0/24, 2001:db8:10::/64; action allow }
service dns-lab { direction in; protocol udp; ports 5353; peers 198.18.10.0/24; action allow }
service ping-lab { direction in; protocol icmp; types echo-request; peers 198.18.10.0/24; action allow }
service blocked-web { direction in; protocol tcp; ports 8080; peers any; action deny }
P

service_packets() { # service match -> packets, from stats --json
	tgB stats --json "$IB" | grep -o "{\"service\": \"$1\", [^}]*}[^}]*}[^}]*}" |
		sed -n "s/.*\"$2\": {\"packets\": \([0-9]*\),.*/\1/p"
}
reason_packets() { # reason action -> packets
	tgB stats --json "$IB" | sed -n "s/.*\"$1\": {\"pass\": {\"packets\": \([0-9]*\), \"bytes\": [0-9]*}, \"drop\": {\"packets\": \([0-9]*\),.*/\1 \2/p" |
		awk -v a="$2" '{print (a == "pass") ? $1 : $2}'
}

# ---------------------------------------------------------------- attach
expect_exit attach/native 0 "attached \(native, facing outside, (direct|libxdp dispatcher), egress (tcx|clsact)\)" tgB attach "$IB" "$work/base.policy"
! grep -q "could not be kept" <<<"$out" && ok attach/snapshot-kept || fail attach/snapshot-kept "$out"
expect_exit attach/twice 1 "already has tollgate attached" tgB attach "$IB" "$work/base.policy"
expect_ok attach/pins-exist test -e "/sys/fs/bpf/tollgate/$IB/gen_policy"
expect_exit attach/status-enforcing 0 "enforcing   yes" tgB status "$IB"
# From the host's namespace, where the interface does not exist: tollgate
# looks from the namespace it was attached in.
expect_exit attach/status-from-another-netns 0 "enforcing   yes" "$TG" status "$IB"
expect_exit attach/status 0 "generation  1" tgB status "$IB"
# The generation's record of its policy, written and read back on every
# kernel this suite runs on (99-kernels): no warning at attach, and show
# prints the policy in force.
expect_exit attach/show 0 "^  1\. ssh-lab: in tcp ports 2222, allow; peers 1 IPv4, 1 IPv6 prefixes$" tgB show "$IB"

# ------------------------------------------------------ real traffic
for port in 2222 8080 9999; do lab_bg "$B" "$LABNET" serve tcp $port >/dev/null; done
lab_bg "$B" "$LABNET" serve udp 5353 --report "$work/udp5353" >/dev/null
udp5353=$LAB_LAST_PID
lab_bg "$B" "$LABNET" serve udp 5354 --report "$work/udp5354" >/dev/null
lab_wait_for 5 lab_in "$B" sh -c "ss -ltn | grep -q ':2222 '"
expect_ok traffic/tcp-allowed lab_in "$A" "$LABNET" connect 198.18.10.2 2222 --timeout 2000
expect_ok traffic/tcp-allowed-ipv6 lab_in "$A" "$LABNET" connect 2001:db8:10::2 2222 --timeout 2000
expect_fail traffic/tcp-denied-service lab_in "$A" "$LABNET" connect 198.18.10.2 8080 --timeout 500
expect_fail traffic/tcp-default-deny lab_in "$A" "$LABNET" connect 198.18.10.2 9999 --timeout 500
expect_ok traffic/icmp-allowed lab_in "$A" ping -c 3 -i 0.2 -W 1 198.18.10.2
expect_fail traffic/icmpv6-not-allowed lab_in "$A" ping -6 -c 2 -i 0.2 -W 1 2001:db8:10::2

before=$(service_packets dns-lab request)
lab_in "$A" "$LABNET" send 198.18.10.2 5353 --count 500 --rate 5000 >/dev/null
lab_in "$A" "$LABNET" send 198.18.10.2 5354 --count 100 --rate 5000 >/dev/null
after=$(service_packets dns-lab request)
kill -USR1 "$udp5353"
lab_wait_for 5 test -s "$work/udp5353"
got=$(awk '{print $2}' "$work/udp5353")
if [ "$((after - before))" -eq 500 ] && [ "$got" -eq 500 ]; then
	ok "traffic/udp-counted-exactly (500 sent, 500 received, 500 counted)"
else
	fail traffic/udp-counted-exactly "sent 500, received $got, counted $((after - before))"
fi
drops=$(reason_packets default drop)
if [ "${drops:-0}" -ge 100 ]; then ok traffic/udp-default-deny-counted; else fail traffic/udp-default-deny-counted "default drops $drops"; fi
expect_exit stats/prometheus 0 "^tollgate_service_packets_total\{interface=\"$IB\",service=\"dns-lab\",match=\"request\"\} [0-9]+" tgB stats --prometheus "$IB"

# ---------------------------------------------------------- SSH guard
expect_exit ssh/refused 1 "would drop the SSH session" env SSH_CONNECTION="198.18.10.1 40000 198.18.10.2 22" \
	nsenter --net=/run/netns/"$B" "$TG" reload "$IB" "$work/base.policy"
expect_exit ssh/allowed 0 "generation 2" env SSH_CONNECTION="198.18.10.1 40000 198.18.10.2 2222" \
	nsenter --net=/run/netns/"$B" "$TG" reload "$IB" "$work/base.policy"
expect_exit ssh/forced 0 "generation 3" env SSH_CONNECTION="198.18.10.1 40000 198.18.10.2 22" \
	nsenter --net=/run/netns/"$B" "$TG" reload --force "$IB" "$work/base.policy"
expect_exit ssh/other-interface 0 "generation 4" env SSH_CONNECTION="203.0.113.5 40000 203.0.113.1 22" \
	nsenter --net=/run/netns/"$B" "$TG" reload "$IB" "$work/base.policy"

# --------------------------------------------------- a failed reload
printf 'default deny\nservice x { direction in; protocol tcp; ports 0; peers any; action allow }\n' >"$work/bad.policy"
expect_exit reload/bad-policy-refused 1 "port 0 is out of range" tgB reload "$IB" "$work/bad.policy"
expect_exit reload/bad-policy-changes-nothing 0 "generation  4" tgB status "$IB"
expect_ok reload/bad-policy-traffic-unchanged lab_in "$A" "$LABNET" connect 198.18.10.2 2222 --timeout 2000

# ------------------------------------------------------ kill -9 mid-reload
cat >"$work/noping.policy" <<'P'
default deny
service ssh-lab { direction in; protocol tcp; ports 2222; peers 198.18.10.0/24, 2001:db8:10::/64; action allow }
P
stopped() { [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = T ]; }
for point in before-switch after-switch; do
	gen=$(tgB status "$IB" | awk '/generation/ {print $2}')
	TOLLGATE_TEST_STOP_AT=$point nsenter --net=/run/netns/"$B" "$TG" reload "$IB" "$work/noping.policy" >/dev/null 2>&1 &
	pid=$!
	if lab_wait_for 10 stopped $pid; then
		kill -9 $pid
		wait $pid 2>/dev/null
		[ "$point" = before-switch ] && want=$gen || want=$((gen + 1))
		expect_exit "kill9/$point/next-command-recovers" 0 "generation  $want\$" tgB status "$IB"
		if [ "$point" = before-switch ]; then
			expect_ok "kill9/$point/old-policy-still-enforced" lab_in "$A" ping -c 1 -W 1 198.18.10.2
		else
			expect_fail "kill9/$point/new-policy-enforced" lab_in "$A" ping -c 1 -W 1 198.18.10.2
		fi
		expect_exit "kill9/$point/still-enforcing" 0 "enforcing   yes" tgB status "$IB"
		expect_exit "kill9/$point/reload-works-after" 0 "generation" tgB reload "$IB" "$work/base.policy"
	else
		kill -9 $pid 2>/dev/null
		fail "kill9/$point" "the reload never reached $point"
	fi
done

# ------------------------------------------------------------- confirm
# Long enough for the checks below to run before the deadline, also in a VM
# under emulation (TG_CONFIRM_SECONDS).
CONFIRM=${TG_CONFIRM_SECONDS:-3}
expect_exit confirm/reload 0 "rolls back to generation" tgB reload --confirm "$CONFIRM" "$IB" "$work/noping.policy"
gen=$(tgB status "$IB" | awk '/generation/ {print $2}')
expect_fail confirm/new-policy-in-force lab_in "$A" ping -c 1 -W 1 198.18.10.2
expect_exit confirm/second-reload-refused 1 "awaits confirmation" tgB reload "$IB" "$work/base.policy"
if lab_wait_for $((CONFIRM + 15)) sh -c "nsenter --net=/run/netns/$B $TG status $IB | grep -q 'generation  $((gen + 1))\$'"; then
	ok confirm/rolled-back-by-itself
else
	fail confirm/rolled-back-by-itself "still: $(tgB status "$IB" | tr '\n' ' ')"
fi
expect_ok confirm/old-policy-back lab_in "$A" ping -c 1 -W 1 198.18.10.2
expect_exit confirm/reload-again 0 "rolls back" tgB reload --confirm 60 "$IB" "$work/noping.policy"
expect_exit confirm/confirmed 0 "confirmed" tgB confirm "$IB"
if lab_wait_for 5 sh -c "! pgrep -f '[r]ollback-timer $IB' >/dev/null"; then ok confirm/timer-stopped; else fail confirm/timer-stopped "still running"; fi
expect_fail confirm/kept-after-confirm sh -c "nsenter --net=/run/netns/$B $TG status $IB | grep -q confirm"
expect_exit confirm/nothing-to-confirm 1 "nothing to confirm" tgB confirm "$IB"

# ------------------------------------------------------- error outcomes
expect_exit errors/missing-nic 1 "no network interface named 'nosuchnic0'" tgB attach nosuchnic0 "$work/base.policy"
expect_exit errors/detach-without-tollgate 1 "has no tollgate attached" lab_in "$A" "$TG" detach "$IA"
expect_exit errors/no-bpffs 3 "mount -t bpf bpf /sys/fs/bpf" \
	unshare -m sh -c "umount /sys/fs/bpf && exec nsenter --net=/run/netns/$A $TG attach $IA $work/base.policy"

# ------------------------------------------------------- not root
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
expect_exit nonroot/status-iface 3 "run it as root" nobody "$TG" status "$IB"
expect_exit nonroot/stats 3 "run it as root" nobody "$TG" stats

# -------------------------------------------------------------- detach
# From a namespace where the interface does not exist, the state is kept.
expect_exit detach/elsewhere-refused 1 "state for $IB exists .*it is kept" lab_in "$A" "$TG" detach "$IB"
expect_ok detach/elsewhere-state-kept test -e "/sys/fs/bpf/tollgate/$IB/meta"
expect_fail detach/elsewhere-filter-still-on lab_in "$A" "$LABNET" connect 198.18.10.2 9999 --timeout 500
expect_exit detach/ok 0 "detached" tgB detach "$IB"
expect_ok detach/no-xdp-left sh -c "! ip -n $B link show $IB | grep -q 'prog/xdp'"
expect_ok detach/no-pins-left test ! -e "/sys/fs/bpf/tollgate/$IB"
expect_exit detach/twice 1 "has no tollgate attached" tgB detach "$IB"
expect_ok detach/traffic-flows lab_in "$A" "$LABNET" connect 198.18.10.2 9999 --timeout 2000

# ------------------------------------------- beside a foreign XDP program
# The foreign program goes on first, through libxdp (xdp-loader), as another
# tool would put it there. Where the kernel runs libxdp's dispatcher both
# programs run; where it does not, tollgate refuses and leaves it alone.
# TOLLGATE_EXPECT_DISPATCHER=1 (the VM runs of Debian's kernels) makes the
# second outcome a failure, so a kernel where sharing must work is checked.
# B has no tollgate any more, so what A's tollgate drops is all that drops.
foreign_seen() { # packets the foreign program on IA has seen
	local id map
	id=$(lab_in "$A" xdp-loader status "$IA" | awk '$0 ~ /xdp_pass/ {for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/ && length($(i+1)) == 16 && $(i+1) ~ /^[0-9a-f]+$/) print $i}' | head -n 1)
	map=$(bpftool -j prog show id "$id" | sed -n 's/.*"map_ids":\[\([0-9]*\).*/\1/p')
	bpftool -j map dump id "$map" | sed -n 's/.*"value":\([0-9]*\).*/\1/p'
}
ia_service_packets() {
	lab_in "$A" "$TG" stats --json "$IA" | grep -o "{\"service\": \"$1\", [^}]*}" | sed -n 's/.*"packets": \([0-9]*\).*/\1/p'
}
lab_tollgate_iface "$IA"
lab_in "$A" xdp-loader load -m native "$IA" "$BUILD/xdp_pass.bpf.o" >/dev/null 2>&1
if lab_in "$A" xdp-loader status "$IA" | grep -q xdp_dispatcher; then
	expect_exit coexist/attach 0 "attached \(native, facing outside, libxdp dispatcher, egress (tcx|clsact)\)" \
		lab_in "$A" "$TG" attach "$IA" "$work/base.policy"
	expect_exit coexist/status 0 "through libxdp's dispatcher" lab_in "$A" "$TG" status "$IA"
	seen_before=$(foreign_seen)
	pings_before=$(ia_service_packets ping-lab)
	expect_ok coexist/allowed-traffic lab_in "$B" ping -c 3 -i 0.2 -W 1 198.18.10.1
	lab_bg "$A" "$LABNET" serve tcp 9999 >/dev/null
	lab_wait_for 5 lab_in "$A" sh -c "ss -ltn | grep -q ':9999 '"
	expect_fail coexist/denied-traffic lab_in "$B" "$LABNET" connect 198.18.10.1 9999 --timeout 500
	seen_after=$(foreign_seen)
	pings_after=$(ia_service_packets ping-lab)
	if [ $((${seen_after:-0} - ${seen_before:-0})) -ge 3 ] && [ $((${pings_after:-0} - ${pings_before:-0})) -ge 3 ]; then
		ok coexist/both-programs-run
	else
		fail coexist/both-programs-run "foreign saw ${seen_before:-?} -> ${seen_after:-?}, tollgate counted ${pings_before:-?} -> ${pings_after:-?}"
	fi
	expect_exit coexist/detach 0 "detached" lab_in "$A" "$TG" detach "$IA"
	expect_ok coexist/foreign-left sh -c "nsenter --net=/run/netns/$A xdp-loader status $IA | grep -q xdp_pass"
	expect_ok coexist/foreign-still-runs lab_in "$B" "$LABNET" connect 198.18.10.1 9999 --timeout 2000
else
	if [ -n "${TOLLGATE_EXPECT_DISPATCHER:-}" ]; then
		fail coexist/dispatcher "libxdp's dispatcher was expected to work on $(uname -r): $(lab_in "$A" xdp-loader status "$IA" | tr '\n' ' ')"
	fi
	expect_exit errors/foreign-xdp-program 3 "already runs the XDP program 'xdp_pass'" \
		lab_in "$A" "$TG" attach "$IA" "$work/base.policy"
	expect_ok errors/foreign-xdp-program-left-alone sh -c "ip -n $A link show $IA | grep -q 'prog/xdp'"
	expect_ok errors/foreign-attach-left-no-pins test ! -e "/sys/fs/bpf/tollgate/$IA"
fi
lab_in "$A" xdp-loader unload --all "$IA" >/dev/null 2>&1
ip -n "$A" link set dev "$IA" xdp off

# ------------------------------------------- removed from outside tollgate
expect_exit outside/attach 0 "attached" tgB attach "$IB" "$work/base.policy"
ip -n "$B" link set dev "$IB" xdp off
expect_exit outside/status 3 "enforcing   NO: .*runs no XDP program" tgB status "$IB"
expect_exit outside/reload-refused 3 "not enforcing" tgB reload "$IB" "$work/noping.policy"
expect_ok outside/metric-zero sh -c "nsenter --net=/run/netns/$B $TG stats --prometheus $IB | grep -qx 'tollgate_enforcing{interface=\"$IB\"} 0'"
expect_exit outside/detach 0 "already been removed" tgB detach "$IB"
expect_ok outside/no-pins-left test ! -e "/sys/fs/bpf/tollgate/$IB"

# ------------------------------------------------ state of another layout
# After an upgrade that changes the pinned layout, the new binary meets the
# old state (here: its version changed by hand). It refuses it and says
# what to do; detach removes the program and the egress hook whatever the
# version, so that the unit's restart attaches again. On kernels without
# tcx the hook is a clsact filter, which no pin removes.
expect_exit layout/attach 0 "attached" tgB attach "$IB" "$work/base.policy"
meta=/sys/fs/bpf/tollgate/$IB/meta
value=$(bpftool -j map lookup pinned "$meta" key 0 0 0 0 |
	python3 -c 'import json, sys; v = json.load(sys.stdin)["value"]; v[0:4] = ["0xff"] * 4; print(" ".join(v))')
expect_ok layout/version-changed bpftool map update pinned "$meta" key 0 0 0 0 value $value
expect_exit layout/reload-refused 3 "written by another version of tollgate" tgB reload "$IB" "$work/base.policy"
expect_exit layout/detach 0 "detached" tgB detach "$IB"
expect_ok layout/no-xdp-left sh -c "! ip -n $B link show $IB | grep -q 'prog/xdp'"
expect_ok layout/no-egress-filter-left sh -c "[ -z \"\$(ip netns exec $B tc filter show dev $IB egress)\" ]"
expect_ok layout/no-pins-left test ! -e "/sys/fs/bpf/tollgate/$IB"
expect_exit layout/attach-again 0 "attached" tgB attach "$IB" "$work/base.policy"
expect_exit layout/detach-again 0 "detached" tgB detach "$IB"
