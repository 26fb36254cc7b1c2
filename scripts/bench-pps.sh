#!/usr/bin/env bash
# Packets per second at the receiving XDP hook (issue 4): numbers, never
# pass/fail. Run as root on an otherwise idle machine; a few minutes.
#
# build/bench/trafficgen sends 60-byte UDP frames (port 443 -> 444) with
# BPF_PROG_TEST_RUN live frames into veth tgp-g (namespace tgp-gen), whose
# peer tgp-r sits in namespace tgp-rx; nothing else is connected to either.
# Every source address is in the benchmarking range 198.18.0.0/15: the
# generated policies (gen_policy --lab) hold, besides their random feeds, 16
# prefixes inside 198.18.0.0/16 per set, and each frame's source is the next
# address of a trace drawn from those, every service's set equally often: the
# frames from svc0's set (a reply from 443) and svc1's (a request to 444),
# about a quarter, pass to the receiver's stack (a closed UDP port there),
# and the rest are dropped by `default deny`.
#
# Side by side on tgp-r, in one run:
#   floor       XDP_DROP that counts (build/bench/trafficgen attach drop)
#   touch-floor counts, reads the frame's source address and drops (trafficgen
#               attach touch): the least any filter that decides on the source
#               pays. The floor never touches the frame's data; this one reads
#               the one line the generator has just written on its own CPU
#   parse-floor counts, runs tollgate's parser and drops (trafficgen attach
#               parse): what any filter that reads the headers pays first
#   pass        XDP_PASS that counts: every frame to the receiver's stack
#   tollgate    `tollgate attach`, policies of 10, 10k, 100k, 1M IPv4 prefixes,
#               with `replies tracked` (the default): svc0's frames look like
#               replies from 443 but no flow was opened for them, so they are
#               dropped as no-flow (a spoofed-reply flood); svc1's pass
#   tollgate-sl the first (10-prefix) policy with `replies stateless`: svc0's frames
#               pass on their ports alone, as before flow tracking
#   tg-flood    issue 13's all-drop flood, for the policies of 10k prefixes and more:
#               requests to svc1's port 444 (from port 40000) from 4,096 addresses
#               of 198.19.0.0/16 that no prefix covers (gen_policy --flood-hosts),
#               where the random feed is as dense as anywhere else: each frame is
#               looked up and dropped by `default deny`. Its share of the floor is
#               the floor's ns/pkt over its own; of the touch and parse floors,
#               likewise
#   tg-spoof,   issue 12's floods, on one tracked program whose only service is
#   tg-deny     `out udp 443` from 198.19.0.0/16, with 4,096 hosts of that range:
#               tg-spoof sends from port 443 (spoofed replies: no flow, dropped as
#               no-flow), tg-deny from port 9999 (no service: dropped as default).
#               Three pairs in turn; the ns/pkt ratio of each pair, and their median
#   xdp-filter  Debian's xdp-filter, deny policy, one address of every prefix of
#               svc0's and svc1's sets as exact source addresses
#   xf-flood    xdp-filter with the same addresses under tg-flood's frames, all
#               dropped: the reference for the flood shares
#   nftables    the same policy as interval sets in a netdev ingress chain
#
# Pinning: the generator runs on CPU 0 (sched_setaffinity). tgp-r gets
# threaded NAPI (a veth has no IRQ to steer), and its NAPI kthread is pinned
# to the last CPU: that thread runs the XDP program under test and, for
# passed frames, the rest of the receive path. This script and everything it
# starts stay on CPU 0 too.
#
# Each figure is the median of TG_PPS_INTERVALS (default 5) intervals of
# one second, after one second of warm-up:
#   Mpps       frames counted by the program under test (its own per-CPU
#              counters; for nftables, a counting XDP_PASS program in front)
#   rx-busy    share of the interval the NAPI thread was running
#   ns/pkt     the NAPI thread's CPU time per frame (from /proc/PID/schedstat)
#   passed     frames that reached the receiver's IP layer (IpInReceives)
# The generator is paced (tests/bench/trafficgen.bpf.c): it keeps the veth's
# ring nearly full and waits for room rather than overflowing it, so the
# receiver is never starved and never flooded. What it sent, and the frames
# it gave up on (held back after a long wait, or refused by the ring), are
# in the JSON.
# Results also go to build/bench/pps.json. TG_PPS_TOLLGATE_ONLY=1 leaves out
# xdp-filter and nftables; TG_PPS_SIZES="10 10000" picks the policy sizes
# (the stateless row takes the first); TG_PPS_FLOODS_ONLY=1 runs only the
# two floors and issue 12's two floods.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$TOP/build
TG=$BUILD/tollgate
GEN=$BUILD/bench/trafficgen
INTERVALS=${TG_PPS_INTERVALS:-5}
[[ "$INTERVALS" =~ ^[1-9][0-9]*$ ]] || INTERVALS=5
read -r -a SIZES <<<"${TG_PPS_SIZES:-10 10000 100000 1000000}"
NS_GEN=tgp-gen NS_RX=tgp-rx IF_GEN=tgp-g IF_RX=tgp-r
ADDR_GEN=198.18.0.1 ADDR_RX=198.18.0.2
SPORT=443 DPORT=444
JSON=$BUILD/bench/pps.json
XDPF_PINS=/sys/fs/bpf/xdp-filter

die() {
	echo "bench-pps: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root (namespaces, XDP, nftables)"
# One run at a time: runs would share the names and the CPUs.
exec 9<"$0"
flock -n 9 || die "another bench-pps run is in progress"

# ------------------------------------------------------------- setup

install_missing() {
	local p missing=() status=0
	for p in xdp-tools nftables; do
		[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return
	echo "bench-pps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Installing nftables must not start its service and load the host's
	# ruleset (Debian's policy-rc.d: 101 = do not start).
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		RC_GUARD=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' >"$RC_GUARD"
		chmod 755 "$RC_GUARD"
	fi
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } || status=$?
	if [ -n "$RC_GUARD" ]; then
		rm -f "$RC_GUARD"
		RC_GUARD=
	fi
	[ $status -eq 0 ] || echo "bench-pps: could not install ${missing[*]}; those rows will say n/a"
}

rxns() { nsenter --net="/run/netns/$NS_RX" "$@"; }

GEN_PID=
PACED=1
XDPF_OURS=0
THREADED=
RC_GUARD=
work=

cleanup() {
	set +e
	[ -n "$RC_GUARD" ] && rm -f "$RC_GUARD"
	if [ -n "$GEN_PID" ]; then
		kill -TERM "$GEN_PID" 2>/dev/null
		wait "$GEN_PID" 2>/dev/null
	fi
	if [ -e "/run/netns/$NS_RX" ]; then
		rxns "$TG" detach "$IF_RX" >/dev/null 2>&1
		[ "$XDPF_OURS" = 1 ] && rxns xdp-filter unload "$IF_RX" >/dev/null 2>&1
	fi
	remove_ours
	[ -n "$work" ] && rm -rf "$work"
}

# Everything of ours, by name: also what a killed earlier run left behind.
remove_ours() {
	local ns
	# xdp-filter keeps global pins; remove them only if they are ours.
	if [ "$XDPF_OURS" = 1 ] ||
		{ [ -d $XDPF_PINS/programs ] && [ "$(ls $XDPF_PINS/programs)" = "$IF_RX" ]; }; then
		rm -rf "$XDPF_PINS"
	fi
	rm -rf "/sys/fs/bpf/tollgate/$IF_RX" "/run/tollgate/$IF_RX.lock"
	rmdir /sys/fs/bpf/tollgate 2>/dev/null || true
	for ns in "$NS_GEN" "$NS_RX"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	return 0
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

make_lab() {
	local ns
	for ns in "$NS_GEN" "$NS_RX"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		# No router solicitations or MLD reports among the counted frames.
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	done
	ip link add "$IF_GEN" netns "$NS_GEN" type veth peer name "$IF_RX" netns "$NS_RX"
	ip -n "$NS_GEN" addr add "$ADDR_GEN/24" dev "$IF_GEN"
	ip -n "$NS_RX" addr add "$ADDR_RX/24" dev "$IF_RX"
	ip -n "$NS_GEN" link set "$IF_GEN" up
	ip -n "$NS_RX" link set "$IF_RX" up
	RX_MAC=$(ip -n "$NS_RX" link show "$IF_RX" | awk '/link\/ether/ {print $2}')
}

# Policies, the hosts that send (one per prefix), and each filter's rules.
make_inputs() {
	local n
	for n in "${SIZES[@]}"; do
		"$BUILD/bench/gen_policy" --seed 42 --lab "$n" 0 >"$work/$n.policy"
		awk '/^set feed/ {f = substr($2, 5)} /^  [0-9]/ {print f, $1}' "$work/$n.policy" |
			"$GEN" hosts >"$work/$n.allhosts"
		# Frames only from the benchmarking range; xdp-filter gets every host.
		grep ' 198\.18\.' "$work/$n.allhosts" >"$work/$n.hosts"
		[ "$n" -lt 10000 ] ||
			"$BUILD/bench/gen_policy" --seed 42 --flood-hosts 4096 "$n" 0 >"$work/$n.flood.hosts"
		awk '$1 == 0 || $1 == 1 {print $2}' "$work/$n.allhosts" | sort -u >"$work/$n.allow"
		awk -v dev="$IF_RX" -f <(nft_awk) "$work/$n.policy" >"$work/$n.nft"
	done
	[ ${#SIZES[@]} -eq 0 ] ||
		{ echo "replies stateless"; cat "$work/${SIZES[0]}.policy"; } >"$work/${SIZES[0]}.stateless.policy"
	# The floods: one service, hosts in the benchmarking range.
	printf 'default deny\nservice reply-443 { direction out; protocol udp; ports 443; peers 198.19.0.0/16; action allow }\n' \
		>"$work/flood.policy"
	awk 'BEGIN { srand(42); for (i = 0; i < 4096; i++) printf "0 198.19.%d.%d\n", int(rand() * 256), 1 + int(rand() * 254) }' \
		>"$work/flood.hosts"
	# The reloads alternate between two policies of the same size.
	for n in "${SIZES[@]}"; do
		[ "$n" -lt 100000 ] || "$BUILD/bench/gen_policy" --seed 43 --lab "$n" 0 >"$work/$n.b.policy"
		# From 1M prefixes the reloads swap two policies with a tenth as many IPv6 prefixes too.
		if [ "$n" -ge 1000000 ]; then
			"$BUILD/bench/gen_policy" --seed 42 --lab "$n" $((n / 10)) >"$work/$n.r.policy"
			"$BUILD/bench/gen_policy" --seed 43 --lab "$n" $((n / 10)) >"$work/$n.rb.policy"
		fi
	done
}

# gen_policy's output as nftables rules, outside facing (the remote address
# is the source): `in` services match requests (destination port), `out`
# services replies (source port; TCP only with ACK), in file order, each
# with its counter; then `default deny`. Ports are tested before the set,
# the cheaper order for nft.
nft_awk() {
	cat <<'AWK'
BEGIN { print "table netdev tgp {" }
/^set feed/ { set = $2; n = 0; print "\tset " set " {\n\t\ttype ipv4_addr; flags interval; auto-merge"; next }
set != "" && /^}/ { if (n) print "\t\t}"; print "\t}"; set = ""; next }
set != "" { if (!n++) print "\t\telements = {"; print "\t\t\t" $1 ","; next }
/^service/ { svc = $2 }
/^  direction/ { dir = $2 }
/^  ports/ { port = $2 }
/^  peers/ { peer = substr($2, 2) }
/^  action/ {
	verdict = $2 == "allow" ? "accept" : "drop"
	if (dir == "in") {
		udp = "udp dport " port; tcp = "tcp dport " port
	} else {
		udp = "udp sport " port; tcp = "tcp sport " port " tcp flags & ack == ack"
	}
	rule[++rules] = udp " ip saddr @" peer " counter " verdict " comment \"" svc "\""
	rule[++rules] = tcp " ip saddr @" peer " counter " verdict " comment \"" svc "\""
}
END {
	print "\tchain in {\n\t\ttype filter hook ingress device \"" dev "\" priority 0; policy accept;"
	for (i = 1; i <= rules; i++) print "\t\t" rule[i]
	print "\t\tcounter drop comment \"default\"\n\t}\n}"
}
AWK
}

# ------------------------------------------------------------ measuring

napi_pids() {
	local p
	for p in /proc/[0-9]*; do
		case "$(cat "$p/comm" 2>/dev/null)" in "napi/$IF_RX-"*) echo "${p#/proc/}" ;; esac
	done
}

# A veth has NAPI only while an XDP program is on it, and each attach brings
# up a new NAPI, so threading and pinning it follow every attach. ip netns
# exec mounts the namespace's own /sys, where tgp-r is.
pin_napi() {
	local p
	if ip netns exec "$NS_RX" sh -c "echo 1 > /sys/class/net/$IF_RX/threaded" 2>/dev/null; then
		THREADED=1
	else
		[ "$THREADED" = 0 ] || echo "bench-pps: no threaded NAPI: the receive side runs in softirq on the generator's CPU"
		THREADED=0
	fi
	NAPI_PIDS=$(napi_pids)
	for p in $NAPI_PIDS; do
		taskset -pc "$RX_CPU" "$p" >/dev/null
	done
}

napi_runtime_ns() {
	local p sum=0 t
	for p in $NAPI_PIDS; do
		read -r t _ <"/proc/$p/schedstat" || t=0
		sum=$((sum + t))
	done
	echo "$sum"
}

# shellcheck disable=SC2016 # an awk program, for awk to expand
ip_in_receives() { rxns awk '/^Ip: [0-9]/ {print $4}' /proc/net/snmp; }

count_ours() { rxns "$GEN" count "$IF_RX"; }
count_tollgate() {
	rxns "$TG" stats --json "$IF_RX" | sed 's/.*"reasons"//' | grep -o '"packets": [0-9]*' |
		awk '{s += $2} END {print s + 0}'
}
count_xdp_filter() {
	bpftool map dump pinned $XDPF_PINS/xdp_stats_map | grep -o '"packets": [0-9]*' | awk '{s += $2} END {print s + 0}'
}

# Pacing waits for the receiver, which needs a CPU of its own to get on.
start_generator() {
	local pace=()
	[ "$NCPUS" -gt 1 ] && pace=(--pace "$IF_RX")
	(exec nsenter --net="/run/netns/$NS_GEN" "$GEN" send --cpu "$GEN_CPU" "${pace[@]}" "$IF_GEN" "$1" "$RX_MAC" \
		"$ADDR_RX" "${GEN_SPORT:-$SPORT}" "$DPORT" >"$work/gen.out" 2>&1) &
	GEN_PID=$!
	[ "$NCPUS" -gt 1 ] || PACED=0
}

stop_generator() {
	kill -TERM "$GEN_PID" 2>/dev/null
	wait "$GEN_PID" 2>/dev/null || true
	GEN_PID=
	# "generator seconds T frames F sent S held H refused R lost L": the
	# rate sent, and the share of frames held back or refused.
	GEN_STATS=$(awk '$1 == "generator" && $3 > 0 && $5 > 0 {
		printf "%.3f %.3f\n", $7 / $3 / 1e6, 100 * ($9 + $11) / $5 }' "$work/gen.out")
	GEN_STATS=${GEN_STATS:-"0 0"}
	grep -q 'without pacing' "$work/gen.out" && PACED=0
	return 0
}

# One line per sample: microseconds, frames counted, NAPI ns, IpInReceives.
# The time is taken right after the counter is read.
sample() {
	local c t
	c=$("$COUNT")
	t=${EPOCHREALTIME/./}
	echo "$t $c $(napi_runtime_ns) $(ip_in_receives)"
}

# Medians over the intervals: "Mpps busy% ns/pkt passed%".
medians() {
	awk '
		function median(v, n,   i, j, t) {
			for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
			return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		}
		NR > 1 {
			dt = $1 - t; dc = $2 - c; n++
			mpps[n] = dc / dt
			busy[n] = 100 * ($3 - r) / (dt * 1000)
			ns[n] = dc > 0 ? ($3 - r) / dc : 0
			pass[n] = dc > 0 ? 100 * ($4 - ip) / dc : 0
		}
		{ t = $1; c = $2; r = $3; ip = $4 }
		END { printf "%.3f %.0f %.1f %.1f\n", median(mpps, n), median(busy, n), median(ns, n), median(pass, n) }'
}

# measure HOSTS: traffic on, warm-up, samples, traffic off; sets RESULT.
measure() {
	local i
	pin_napi
	start_generator "$1"
	sleep 1
	: >"$work/samples"
	for i in $(seq 0 "$INTERVALS"); do
		[ "$i" -eq 0 ] || sleep 1
		sample >>"$work/samples"
	done
	stop_generator
	if [ "$(awk 'NR == 1 {a = $2} END {print $2 - a}' "$work/samples")" -le 0 ]; then
		echo "bench-pps: no frames arrived; the generator said:" >&2
		cat "$work/gen.out" >&2
		exit 1
	fi
	RESULT="$(medians <"$work/samples") $GEN_STATS"
}

# ------------------------------------------------------------ reporting

ROWS=()
FLOOR_MPPS=0 FLOOR_NS=0 TOUCH_NS=0 PARSE_NS=0

fmt_count() {
	awk -v n="$1" 'BEGIN { if (n == 0) printf "-"; else if (n >= 1000000 && n % 1000000 == 0) printf "%dM", n / 1000000
		else if (n >= 1000 && n % 1000 == 0) printf "%dk", n / 1000; else printf "%d", n }'
}

# row FILTER PREFIXES RULES LOAD_S "RESULT"
row() {
	local filter=$1 prefixes=$2 rules=$3 load=$4 mpps busy ns pass sent gave_up
	read -r mpps busy ns pass sent gave_up <<<"$5"
	if [ "$filter" = floor ]; then FLOOR_MPPS=$mpps FLOOR_NS=$ns; fi
	if [ "$filter" = touch-floor ]; then TOUCH_NS=$ns; fi
	if [ "$filter" = parse-floor ]; then PARSE_NS=$ns; fi
	printf '%-11s %7s %9s %8.3f %6.2fx %6s%% %8.1f %6.2fx %6.1f%% %7s\n' "$filter" "$(fmt_count "$prefixes")" \
		"$rules" "$mpps" "$(ratio "$mpps" "$FLOOR_MPPS")" "$busy" "$ns" "$(ratio "$ns" "$FLOOR_NS")" "$pass" "$load"
	ROWS+=("$(printf '{"filter": "%s", "prefixes": %s, "rules": "%s", "mpps": %s, "mpps_vs_floor": %s, "rx_busy_pct": %s, "rx_ns_per_packet": %s, "rx_ns_vs_floor": %s, "passed_pct": %s, "generator_sent_mpps": %s, "generator_gave_up_pct": %s, "load_seconds": %s}' \
		"$filter" "$prefixes" "$rules" "$mpps" "$(ratio "$mpps" "$FLOOR_MPPS")" "$busy" "$ns" \
		"$(ratio "$ns" "$FLOOR_NS")" "$pass" "$sent" "$gave_up" "${load:-null}")")
	if awk -v g="$gave_up" 'BEGIN { exit !(g > 1) }'; then
		echo "  note: the generator gave up on $gave_up% of its frames (held back or refused by the ring)"
	fi
}

# A filter that could not run: the reason instead of numbers.
row_na() {
	printf '%-11s %7s %9s   n/a (%s)\n' "$1" "$(fmt_count "$2")" "$3" "$4"
	ROWS+=("$(printf '{"filter": "%s", "prefixes": %s, "rules": "%s", "na": "%s"}' "$1" "$2" "$3" "${4//\"/\'}")")
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# wall CMD...: its wall time in seconds, output discarded; fails with it.
wall() {
	local t0=${EPOCHREALTIME/./} t1
	"$@" >/dev/null || return
	t1=${EPOCHREALTIME/./}
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.2f", d / 1e6 }'
}

# Share of all CPUs busy over one second before anything of ours runs.
background_busy() {
	local a b
	a=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6}' /proc/stat)
	sleep 1
	b=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6}' /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); busy = y[1] - x[1]; all = busy + y[2] - x[2]
		printf "%.0f", (all > 0 ? 100 * busy / all : 0) }'
}

# ------------------------------------------------------------ the runs

# The two references: drop everything at once (floor), and pass everything
# to the stack (pass), which is what every passed frame costs on top.
run_reference() {
	rxns "$GEN" attach "$IF_RX" "$1"
	COUNT=count_ours
	measure "$REFERENCE_HOSTS"
	rxns "$GEN" detach "$IF_RX"
	row "$2" 0 - "" "$RESULT"
}

RELOADS=()
time_reloads() {
	local n=$1 times=() i p t a=$work/$1.policy b=$work/$1.b.policy v6=0
	if [ -e "$work/$n.r.policy" ]; then
		a=$work/$n.r.policy b=$work/$n.rb.policy v6=$((n / 10))
	fi
	for i in 1 2 3; do
		p=$b
		[ $((i % 2)) -eq 1 ] || p=$a
		t=$(wall rxns "$TG" reload "$IF_RX" "$p") || die "tollgate reload failed"
		times+=("$t")
	done
	RELOADS+=("$n $v6 $(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p) ${times[*]}")
}

# run_tollgate N [stateless]
run_tollgate() {
	local n=$1 load policy=$work/$1.policy name=tollgate
	if [ "${2:-}" = stateless ]; then policy=$work/$n.stateless.policy name=tollgate-sl; fi
	load=$(wall rxns "$TG" attach "$IF_RX" "$policy") || die "tollgate attach failed"
	COUNT=count_tollgate
	measure "$work/$n.hosts"
	row "$name" "$n" "$n" "$load" "$RESULT"
	if [ -z "${2:-}" ] && [ -e "$work/$n.flood.hosts" ]; then
		GEN_SPORT=40000 measure "$work/$n.flood.hosts"
		row tg-flood "$n" "$n" "$load" "$RESULT"
		ALL_DROP+=("tollgate $n $(flood_shares "$RESULT")")
	fi
	if [ "$n" -ge 100000 ] && [ -z "${2:-}" ]; then time_reloads "$n"; fi
	rxns "$TG" detach "$IF_RX" >/dev/null
}

# A flood row's shares: the floor's ns/pkt over its own, then the touch
# floor's and the parse floor's.
flood_shares() {
	local ns
	ns=$(awk '{print $3}' <<<"$1")
	echo "$(ratio "$FLOOR_NS" "$ns") $(ratio "$TOUCH_NS" "$ns") $(ratio "$PARSE_NS" "$ns")"
}

# Spoofed replies against default-deny drops (issue 12): the same program
# and hosts, only the source port differs. Pairs in turn, so that both
# halves of a ratio see the same machine.
ALL_DROP=()
FLOOD_RATIOS=()
run_floods() {
	local load i spoof deny
	load=$(wall rxns "$TG" attach "$IF_RX" "$work/flood.policy") || die "tollgate attach failed"
	COUNT=count_tollgate
	for i in 1 2 3; do
		GEN_SPORT=443 measure "$work/flood.hosts"
		spoof=$RESULT
		GEN_SPORT=9999 measure "$work/flood.hosts"
		deny=$RESULT
		row tg-spoof 1 1 "$load" "$spoof"
		row tg-deny 1 1 "$load" "$deny"
		FLOOD_RATIOS+=("$(ratio "$(awk '{print $3}' <<<"$spoof")" "$(awk '{print $3}' <<<"$deny")")")
	done
	FLOOD_REASONS=$(rxns "$TG" stats --json "$IF_RX" | grep -o '"\(no-flow\|default\)": {"pass": {"packets": [0-9]*, "bytes": [0-9]*}, "drop": {"packets": [0-9]*' |
		sed 's/"\([a-z-]*\)".*"drop": {"packets": \([0-9]*\)/\1 \2/' | tr '\n' ' ')
	rxns "$TG" detach "$IF_RX" >/dev/null
}

# xdp-filter takes exact addresses: the hosts of svc0 and svc1, as sources,
# under its deny policy (everything else is dropped).
run_xdp_filter() {
	local n=$1 addrs max first load t0 t1 err key value hosts_result flood_result
	addrs=$(wc -l <"$work/$n.allow")
	if [ -n "$XDPF_NA" ]; then
		row_na xdp-filter "$n" "$addrs" "$XDPF_NA"
		return
	fi
	[ -d $XDPF_PINS ] && { row_na xdp-filter "$n" "$addrs" "xdp-filter is in use on this host"; return; }
	t0=${EPOCHREALTIME/./}
	if ! err=$(rxns xdp-filter load -p deny -f ipv4 "$IF_RX" 2>&1); then
		XDPF_NA="xdp-filter load failed: $(echo "$err" | tail -1)"
		row_na xdp-filter "$n" "$addrs" "$XDPF_NA"
		return
	fi
	XDPF_OURS=1
	max=$(bpftool map show pinned $XDPF_PINS/filter_ipv4 |
		awk '{ for (i = 1; i < NF; i++) if ($i == "max_entries") print $(i + 1) }')
	if [ "$addrs" -gt "$max" ]; then
		rxns xdp-filter unload "$IF_RX"
		XDPF_OURS=0
		row_na xdp-filter "$n" "$addrs" "its address map holds $max entries"
		return
	fi
	# The first address through the CLI; the rest written the same way in one
	# bpftool batch (one CLI call per address would take minutes).
	first=$(head -1 "$work/$n.allow")
	IFS=. read -ra key <<<"$first"
	rxns xdp-filter ip -m src "$first"
	# Read whole, then matched: grep -q would close the pipe under pipefail.
	value=$(bpftool map lookup pinned $XDPF_PINS/filter_ipv4 key "${key[@]}")
	if ! grep -q '"value": 1$' <<<"$value"; then
		rxns xdp-filter unload "$IF_RX"
		XDPF_OURS=0
		row_na xdp-filter "$n" "$addrs" "unexpected filter_ipv4 value format"
		return
	fi
	awk -v m="$XDPF_PINS/filter_ipv4" \
		'NR > 1 { gsub(/\./, " "); print "map update pinned " m " key " $0 " value 1 0 0 0 0 0 0 0" }' \
		"$work/$n.allow" >"$work/xdpf.batch"
	[ -s "$work/xdpf.batch" ] && bpftool batch file "$work/xdpf.batch" >/dev/null
	t1=${EPOCHREALTIME/./}
	load=$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.2f", d / 1e6 }')
	COUNT=count_xdp_filter
	measure "$work/$n.hosts"
	hosts_result=$RESULT
	if [ -e "$work/$n.flood.hosts" ]; then
		GEN_SPORT=40000 measure "$work/$n.flood.hosts"
		flood_result=$RESULT
	fi
	rxns xdp-filter unload "$IF_RX"
	XDPF_OURS=0
	row xdp-filter "$n" "$addrs" "$load" "$hosts_result"
	if [ -e "$work/$n.flood.hosts" ]; then
		row xf-flood "$n" "$addrs" "$load" "$flood_result"
		ALL_DROP+=("xdp-filter $n $(flood_shares "$flood_result")")
	fi
}

run_nft() {
	local n=$1 load
	if [ -n "$NFT_NA" ]; then
		row_na nftables "$n" "$n" "$NFT_NA"
		return
	fi
	rxns "$GEN" attach "$IF_RX" pass
	if ! load=$(wall rxns nft -f "$work/$n.nft" 2>"$work/nft.err"); then
		rxns "$GEN" detach "$IF_RX"
		NFT_NA="nft -f failed: $(tail -1 "$work/nft.err")"
		row_na nftables "$n" "$n" "$NFT_NA"
		return
	fi
	COUNT=count_ours
	measure "$work/$n.hosts"
	rxns nft delete table netdev tgp
	rxns "$GEN" detach "$IF_RX"
	row nftables "$n" "$n" "$load" "$RESULT"
}

print_json() {
	local i n v6 med a b c sep=
	{
		printf '{"date": "%s", "kernel": "%s", "cpus": %s, "generator_cpu": %s, "rx_cpu": %s, "threaded_napi": %s,\n' \
			"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uname -r)" "$NCPUS" "$GEN_CPU" "$RX_CPU" "$THREADED"
		printf ' "background_busy_pct": %s, "paced": %s, "frame_bytes": 60, "intervals": %s, "interval_seconds": 1,\n' \
			"$BUSY" "$PACED" "$INTERVALS"
		printf ' "results": [\n'
		for i in "${ROWS[@]}"; do
			printf '%s  %s' "$sep" "$i"
			sep=$',\n'
		done
		printf '\n ],\n "flood_spoof_vs_deny_ns_ratios": [%s],\n "all_drop_share_of_floor": [' "$(IFS=,; echo "${FLOOD_RATIOS[*]}")"
		sep=
		for i in "${ALL_DROP[@]}"; do
			read -r f n a t p <<<"$i"
			printf '%s{"filter": "%s", "prefixes": %s, "floor_ns_over_filter_ns": %s, "touch_floor_ns_over_filter_ns": %s, "parse_floor_ns_over_filter_ns": %s}' \
				"$sep" "$f" "$n" "$a" "$t" "$p"
			sep=', '
		done
		printf '],\n "reloads": ['
		sep=
		for i in "${RELOADS[@]}"; do
			read -r n v6 med a b c <<<"$i"
			printf '%s{"prefixes": %s, "v6_prefixes": %s, "median_seconds": %s, "seconds": [%s, %s, %s]}' "$sep" "$n" "$v6" "$med" "$a" "$b" "$c"
			sep=', '
		done
		printf ']}\n'
	} >"$JSON"
}

main() {
	local n i med a b c v6 label
	install_missing
	make -C "$TOP" --no-print-directory build/tollgate build/bench/gen_policy build/bench/trafficgen >/dev/null
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	# Pacing attaches to two tracepoints, which libbpf finds in tracefs; a
	# machine without it mounted would run unpaced, and measure the ring's
	# overflow along with the filter.
	mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
	command -v xdp-filter >/dev/null && XDPF_NA= || XDPF_NA="xdp-filter is not installed"
	command -v nft >/dev/null && NFT_NA= || NFT_NA="nft is not installed"
	remove_ours
	NCPUS=$(nproc)
	GEN_CPU=0
	RX_CPU=$((NCPUS - 1))
	BUSY=$(background_busy)
	taskset -pc "$GEN_CPU" $$ >/dev/null
	work=$(mktemp -d)
	mkdir -p "$BUILD/bench"
	make_lab
	[ -z "${TG_PPS_FLOODS_ONLY:-}" ] || SIZES=()
	make_inputs
	REFERENCE_HOSTS=$work/flood.hosts
	[ ${#SIZES[@]} -eq 0 ] || REFERENCE_HOSTS=$work/${SIZES[0]}.hosts

	echo "== packets per second at the receiving XDP hook (veth, live frames)"
	echo "60-byte UDP $SPORT->$DPORT frames from the policy's addresses in 198.18.0.0/16; median of $INTERVALS x 1 s"
	printf '%-11s %7s %9s %8s %7s %7s %8s %7s %7s %7s\n' filter policy rules Mpps x-floor rx-busy ns/pkt \
		x-floor passed load-s
	run_reference drop floor
	run_reference touch touch-floor
	run_reference parse parse-floor
	[ ${#SIZES[@]} -eq 0 ] || run_reference pass pass
	for n in "${SIZES[@]}"; do run_tollgate "$n"; done
	[ ${#SIZES[@]} -eq 0 ] || run_tollgate "${SIZES[0]}" stateless
	run_floods
	if [ -z "${TG_PPS_TOLLGATE_ONLY:-}" ] && [ ${#SIZES[@]} -gt 0 ]; then
		for n in "${SIZES[@]}"; do run_xdp_filter "$n"; done
		for n in "${SIZES[@]}"; do run_nft "$n"; done
	fi
	echo "Mpps: frames counted at the receiving hook; rx-busy: the receive thread's share of its CPU (well below"
	echo "100%, Mpps is bounded by the generator or by other work, not by the filter); ns/pkt: the receive thread's"
	echo "CPU time per frame; passed: frames that reached the receiver's IP layer; load-s: attaching or loading"
	echo "the filter with its rules (one run)"
	[ "$PACED" = 1 ] || echo "note: the generator ran without pacing (one CPU, or no napi/xdp tracepoints)"
	if [ "$THREADED" = 1 ]; then
		echo "generator on CPU $GEN_CPU; receive: threaded NAPI, its thread on CPU $RX_CPU"
	else
		echo "generator on CPU $GEN_CPU; receive: softirq on the generator's CPU (no threaded NAPI), so rx-busy is 0"
	fi
	echo "CPUs busy before the run (other work on this machine): $BUSY% of $NCPUS"
	if [ "$BUSY" -gt 10 ]; then
		echo "note: other work was using the CPUs; expect low and noisy Mpps, and trust ns/pkt more"
	fi

	if [ ${#ALL_DROP[@]} -gt 0 ]; then
		echo
		echo "== all-drop floods (tg-flood, xf-flood rows above): the share of each floor's rate the filter keeps"
		echo "(the floor's ns/pkt over the filter's); the floor never touches the frame, the touch floor reads its"
		echo "source address, the parse floor its headers"
		printf 'touch-floor       %5.0f%% of the floor: the most a filter that reads the source can keep\n' \
			"$(awk -v r="$(ratio "$FLOOR_NS" "$TOUCH_NS")" 'BEGIN { print 100 * r }')"
		for i in "${ALL_DROP[@]}"; do
			read -r f n a t p <<<"$i"
			printf '%-11s %-5s %5.0f%% of the floor  %5.0f%% of the touch floor  %5.0f%% of the parse floor\n' \
				"$f" "$(fmt_count "$n")" "$(awk -v a="$a" 'BEGIN { print 100 * a }')" \
				"$(awk -v t="$t" 'BEGIN { print 100 * t }')" "$(awk -v p="$p" 'BEGIN { print 100 * p }')"
		done
	fi

	echo
	echo "== a spoofed-reply flood against a default-deny flood (tg-spoof / tg-deny rows above)"
	echo "ns/pkt ratio per pair: ${FLOOD_RATIOS[*]}; median $(printf '%s\n' "${FLOOD_RATIOS[@]}" | sort -n | sed -n 2p)"
	echo "drops by reason: $FLOOD_REASONS"

	echo
	echo "== tollgate reload (wall time, median of 3, no traffic)"
	for i in "${RELOADS[@]}"; do
		read -r n v6 med a b c <<<"$i"
		label=$(fmt_count "$n")
		[ "$v6" -eq 0 ] || label="$label+$(fmt_count "$v6")"
		printf '%-9s %6s s   (%s %s %s)\n' "$label" "$med" "$a" "$b" "$c"
	done
	print_json
	echo "results: $JSON"
}

main "$@"
