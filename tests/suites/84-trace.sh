#!/usr/bin/env bash
# tollgate trace on a real interface: a dropped datagram shows up with the
# right fields within a second; --drops, --service and a second tracer at
# once; the data plane's rate limit under a flood; the pcap Wireshark opens;
# at most TG_TRACERS tracers, and a killed one's slot is taken again.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/lab/lab.sh"
need_bpffs
LABNET=$BUILD/labnet
A=tgqa$$ B=tgqb$$ IA=tqa$$ IB=tqb$$
work=$(mktemp -d)
trap 'lab_cleanup; rm -rf "$work"' EXIT

lab_pair "$A" "$IA" 198.18.70.1/24 "$B" "$IB" 198.18.70.2/24
lab_ipv4_only "$A" "$B"
tgB() { lab_in "$B" "$TG" "$@"; }
cat >"$work/trace.policy" <<'P'
default deny
service dns-lab { direction in; protocol udp; ports 5353; peers 198.18.70.0/24; action allow }
service syslog-lab { direction in; protocol udp; ports 5514; peers 198.18.70.0/24; action allow }
P
tgB attach "$IB" "$work/trace.policy" >/dev/null 2>&1 || { fail trace/attach "attach failed"; exit 0; }

# start_tracer NAME ARGS...: a tracer in B writing $work/NAME.out and .err;
# returns once it holds its slot (it says so on stderr).
start_tracer() {
	local name=$1
	shift
	lab_bg "$B" "$TG" trace "$@" "$IB" >"$work/$name.out" 2>"$work/$name.err"
	eval "pid_$name=$LAB_LAST_PID"
	lab_wait_for 10 grep -q "tracing $IB" "$work/$name.err"
}
stop_tracer() { # NAME: SIGINT, as Ctrl-C; the exit status is the tracer's
	local pid
	eval "pid=\$pid_$1"
	kill -INT "$pid"
	wait "$pid"
}
send() { lab_in "$A" "$LABNET" send 198.18.70.2 "$1" --count "${2:-1}" >/dev/null 2>&1; }

# ------------------------------------------------------------ one drop
start_tracer all --json --pcap "$work/all.pcap" || fail trace/starts "$(cat "$work/all.err")"
start_tracer drops --drops || fail trace/starts-second "$(cat "$work/drops.err")"
start_tracer dns --json --service dns-lab || fail trace/starts-third "$(cat "$work/dns.err")"
send 9
# Within a second natively; the VMs of other kernels emulate the CPU (TG_TRACE_SECONDS).
if lab_wait_for "${TG_TRACE_SECONDS:-1}" grep -q '"dport": 9,' "$work/all.out"; then ok trace/drop-within-a-second; else fail trace/drop-within-a-second "$(cat "$work/all.out")"; fi
send 5353
lab_wait_for 2 grep -q '"dport": 5353,' "$work/all.out"
lab_wait_for 2 grep -q '"dport": 5353,' "$work/dns.out"
if python3 - "$work/all.out" "$IB" >"$work/cmp" 2>&1 <<'PY'; then
import json, sys, datetime
lines = [json.loads(l) for l in open(sys.argv[1])]
drop = [e for e in lines if e["dport"] == 9][0]
want = {"interface": sys.argv[2], "verdict": "drop", "reason": "default", "service": None, "role": "request",
        "family": "ipv4", "protocol": "udp", "src": "198.18.70.1", "dst": "198.18.70.2", "dport": 9, "icmp_type": None}
for k, v in want.items():
    assert drop[k] == v, (k, drop[k], v)
assert isinstance(drop["sport"], int) and drop["sport"] > 0 and drop["length"] >= 42, drop
t = datetime.datetime.strptime(drop["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
assert abs((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds()) < 60, t
ok = [e for e in lines if e["dport"] == 5353][0]
assert ok["verdict"] == "pass" and ok["reason"] == "service" and ok["service"] == "dns-lab", ok
assert set(drop) == {"time", "interface", "verdict", "reason", "service", "role", "family", "protocol", "src", "dst",
                     "sport", "dport", "icmp_type", "length"}, sorted(drop)
print("fields")
PY
	ok trace/json-fields
else
	fail trace/json-fields "$(tail -c 400 "$work/cmp")"
fi
# --drops: the drop, in text, and not the pass; --service: the pass only.
if grep -q " drop default - request ipv4 udp 198.18.70.1:[0-9]* -> 198.18.70.2:9 len " "$work/drops.out" &&
	! grep -q " pass " "$work/drops.out"; then
	ok trace/drops-only
else
	fail trace/drops-only "$(cat "$work/drops.out")"
fi
if grep -q '"service": "dns-lab"' "$work/dns.out" && ! grep -q '"dport": 9,' "$work/dns.out"; then
	ok trace/service-only
else
	fail trace/service-only "$(cat "$work/dns.out")"
fi

# ------------------------------------------------------------ slots
start_tracer fourth --drops || fail trace/fourth "$(cat "$work/fourth.err")"
out=$(tgB trace "$IB" 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "4 tracers already run" <<<"$out" && ok trace/at-most-four || fail trace/at-most-four "exit $rc: $out"
eval "kill -KILL \$pid_fourth"
eval "wait \$pid_fourth" 2>/dev/null
start_tracer fifth --drops && ok trace/killed-slot-taken-again || fail trace/killed-slot-taken-again "$(cat "$work/fifth.err")"
stop_tracer fifth

# ------------------------------------------------------------ rate
start_tracer rate --drops --rate 5 || fail trace/rate-starts "$(cat "$work/rate.err")"
t0=$(date +%s)
send 9 3000
t1=$(date +%s)
send 5514 # passes: once it is in the first tracer's output, the flood's drops are all in
lab_wait_for 5 grep -q '"dport": 5514,' "$work/all.out"
stop_tracer rate
n=$(wc -l <"$work/rate.out")
# At most 5 per second per CPU, over the seconds the flood spanned (and one more window).
max=$((5 * $(nproc) * (t1 - t0 + 2)))
[ "$n" -ge 1 ] && [ "$n" -le "$max" ] && ok trace/rate-limit-holds || fail trace/rate-limit-holds "$n lines, at most $max"

# ------------------------------------------------------------ stop, pcap
for t in all drops dns; do
	if stop_tracer "$t"; then ok "trace/stops-cleanly-$t"; else fail "trace/stops-cleanly-$t" "exit $?"; fi
done
if tcpdump -nr "$work/all.pcap" 2>/dev/null | grep -q '198\.18\.70\.1\.[0-9]* > 198\.18\.70\.2\.9: UDP'; then
	ok trace/pcap-opens
else
	fail trace/pcap-opens "$(tcpdump -nr "$work/all.pcap" 2>&1 | head -3)"
fi
# Every tracer gone: no slot stays taken.
# The first 4 bytes of the value are the active mask (bpftool prints bytes:
# the pinned map carries no BTF of its own).
active=$(bpftool -j map dump pinned "/sys/fs/bpf/tollgate/$IB/tracers" |
	python3 -c 'import json,sys; v=json.load(sys.stdin)[0]["value"]; print(sum(int(b, 16) << 8 * i for i, b in enumerate(v[:4])))')
[ "$active" = 0 ] && ok trace/slots-released || fail trace/slots-released "active $active"

# ------------------------------------------------------------ errors
expect_exit trace/unknown-service 1 "no service 'nosuch' in the policy in force" tgB trace --service nosuch "$IB"
expect_exit trace/missing-interface 1 "has no tollgate attached" "$TG" trace tgnosuch$$
expect_exit trace/bad-rate 2 "--rate takes" "$TG" trace --rate 0 "$IB"
tgB detach "$IB" >/dev/null
