#!/usr/bin/env bash
# Reload under load: two UDP streams of two services keep flowing while 100
# reloads flip between two policies that both allow them but compile to
# different tables (services reordered, prefixes split differently, other
# services added and removed). Not one packet of the streams may be dropped
# or counted under no service, the streams' counters must add up to what was
# received, and no counter may ever go backwards.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/lab/lab.sh"
need_bpffs
LABNET=$BUILD/labnet
RELOADS=${TG_RELOADS:-100}
# Datagrams per second per stream; a VM under emulation needs fewer.
RATE=${TG_STREAM_RATE:-4000}
A=tgra$$ B=tgrb$$ IA=tra$$ IB=trb$$
work=$(mktemp -d)
trap 'lab_cleanup; rm -rf "$work"' EXIT

lab_pair "$A" "$IA" 198.18.20.1/24 "$B" "$IB" 198.18.20.2/24
lab_ipv4_only "$A" "$B"
tgB() { lab_in "$B" "$TG" "$@"; }

cat >"$work/even.policy" <<'P'
default deny
service stream-a { direction in; protocol udp; ports 5001; peers 198.18.20.0/24; action allow }
service stream-b { direction in; protocol udp; ports 5002; peers 198.18.20.0/24; action allow }
service extra-even { direction in; protocol tcp; ports 8000-8100; peers 198.18.0.0/15; action allow }
P
cat >"$work/odd.policy" <<'P'
default deny
set lower { 198.18.20.0/25 }
set upper { 198.18.20.128/25, 198.18.20.1 }
service extra-odd { direction in; protocol udp; ports 6000-7000; peers any; action deny }
service stream-b { direction in; protocol udp; ports 5002, 5002-5003; peers @upper, @lower; action allow }
service stream-a { direction in; protocol udp, tcp; ports 5001; peers @lower, @upper; action allow }
service extra-odd-2 { direction out; protocol tcp; ports 443; peers 203.0.113.0/24; action allow }
P

if ! tgB attach "$IB" "$work/even.policy" >/dev/null; then
	fail reload-load/attach "attach failed"
	exit 0
fi
lab_bg "$B" "$LABNET" serve udp 5001 --report "$work/recv-a" >/dev/null
recv_a=$LAB_LAST_PID
lab_bg "$B" "$LABNET" serve udp 5002 --report "$work/recv-b" >/dev/null
recv_b=$LAB_LAST_PID
lab_wait_for 5 lab_in "$B" sh -c "ss -lun | grep -q ':5002 '"

# Senders run until told to stop, well past the last reload.
lab_bg "$A" "$LABNET" send 198.18.20.2 5001 --count 100000000 --rate "$RATE" >"$work/sent-a"
send_a=$LAB_LAST_PID
lab_bg "$A" "$LABNET" send 198.18.20.2 5002 --count 100000000 --rate "$RATE" >"$work/sent-b"
send_b=$LAB_LAST_PID

counters() { # "stream-a stream-b default malformed fragment" packets
	tgB stats --json "$IB" | awk '
		{
			while (match($0, /"service": "stream-[ab]", "request": \{"packets": [0-9]+/)) {
				s = substr($0, RSTART, RLENGTH); n = s; sub(/.*"packets": /, "", n)
				if (s ~ /stream-a/) a = n; else b = n
				$0 = substr($0, RSTART + RLENGTH)
			}
		}
		END { printf "%d %d\n", a, b }'
}
reasons() {
	tgB stats --json "$IB" | grep -o '"\(default\|malformed\|fragment\)": {"pass": {"packets": [0-9]*, "bytes": [0-9]*}, "drop": {"packets": [0-9]*' |
		grep -o 'packets": [0-9]*' | awk '{s += $2} END {print s + 0}'
}

lab_wait_for 5 sh -c "[ \"\$(nsenter --net=/run/netns/$B $TG stats --json $IB | grep -c stream)\" -gt 0 ]"
prev_a=0 prev_b=0 backwards=0 failed_reloads=0
for i in $(seq 1 "$RELOADS"); do
	p=$([ $((i % 2)) -eq 1 ] && echo odd || echo even)
	tgB reload "$IB" "$work/$p.policy" >/dev/null 2>"$work/err" || failed_reloads=$((failed_reloads + 1))
	read -r a b < <(counters)
	if [ "$a" -lt "$prev_a" ] || [ "$b" -lt "$prev_b" ]; then backwards=$((backwards + 1)); fi
	prev_a=$a prev_b=$b
done
gen=$(tgB status "$IB" | awk '/generation/ {print $2}')

kill -TERM "$send_a" "$send_b"
wait "$send_a" "$send_b" 2>/dev/null
sent_a=$(awk '/^sent/ {print $2}' "$work/sent-a")
sent_b=$(awk '/^sent/ {print $2}' "$work/sent-b")
# Wait until the receivers have every datagram that was sent (a receiver
# writes its count on SIGUSR1); a loss shows as a timeout and the counts.
received_all() {
	kill -USR1 "$recv_a" "$recv_b"
	[ "$(awk '{print $2}' "$work/recv-a" 2>/dev/null)" = "$sent_a" ] &&
		[ "$(awk '{print $2}' "$work/recv-b" 2>/dev/null)" = "$sent_b" ]
}
lab_wait_for 10 received_all
kill -TERM "$recv_a" "$recv_b"
wait "$recv_a" "$recv_b" 2>/dev/null
got_a=$(awk '{print $2}' "$work/recv-a")
got_b=$(awk '{print $2}' "$work/recv-b")
read -r count_a count_b < <(counters)
unclassified=$(reasons)

summary="$RELOADS reloads to generation $gen; stream-a sent $sent_a received $got_a counted $count_a; stream-b sent $sent_b received $got_b counted $count_b; unclassified $unclassified"
[ "$failed_reloads" -eq 0 ] && [ "$gen" -eq $((RELOADS + 1)) ] && ok "reload-load/all-reloads-applied ($RELOADS)" ||
	fail reload-load/all-reloads-applied "$failed_reloads failed: $(cat "$work/err")"
[ "${sent_a:-0}" -gt 1000 ] && [ "${sent_b:-0}" -gt 1000 ] && ok "reload-load/streams-ran ($sent_a + $sent_b datagrams)" ||
	fail reload-load/streams-ran "$summary"
[ "$got_a" = "$sent_a" ] && [ "$got_b" = "$sent_b" ] && ok reload-load/no-packet-dropped ||
	fail reload-load/no-packet-dropped "$summary"
[ "$count_a" = "$got_a" ] && [ "$count_b" = "$got_b" ] && ok reload-load/counters-add-up ||
	fail reload-load/counters-add-up "$summary"
[ "$unclassified" -eq 0 ] && ok reload-load/nothing-counted-under-no-service ||
	fail reload-load/nothing-counted-under-no-service "$summary"
[ "$backwards" -eq 0 ] && ok reload-load/counters-never-go-backwards ||
	fail reload-load/counters-never-go-backwards "$backwards samples went down"
echo "# $summary" >&2
