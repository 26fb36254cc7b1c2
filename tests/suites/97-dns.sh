#!/usr/bin/env bash
# Host-name peers that follow DNS, against a real DNS server (dnsmasq) that
# the test runs and whose answers it changes: a new address reaches the data
# plane within the TTL, a failing name keeps its last addresses, a name with
# both families gets both, a name that never resolves does not stop the rest
# of the policy, and the service's counters carry on through the changes.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/lab/lab.sh"
need_bpffs
LABNET=$BUILD/labnet
A=tgda$$ B=tgdb$$ IA=tda$$ IB=tdb$$
TTL=2
work=$(mktemp -d)
trap 'lab_cleanup; rm -rf "$work"' EXIT

lab_pair "$A" "$IA" 198.18.50.2/24 "$B" "$IB" 198.18.50.1/24 2001:db8:50::2/64 2001:db8:50::1/64
ip -n "$A" addr add 198.18.50.11/24 dev "$IA"
ip -n "$A" addr add 198.18.50.12/24 dev "$IA"
ip -n "$A" addr add 2001:db8:50::11/64 dev "$IA" nodad
tgB() { lab_in "$B" "$TG" "$@"; }

# dnsmasq inside B, on B's loopback: the resolver tollgate asks.
printf '198.18.50.11 peer.example.test\n2001:db8:50::11 peer.example.test\n' >"$work/hosts"
start_dns() {
	lab_bg "$B" dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null --user=root \
		--listen-address=127.0.0.1 --bind-interfaces --port=5300 --local=/example.test/ \
		--addn-hosts="$work/hosts" --local-ttl=$TTL --pid-file="$work/dnsmasq.pid" --log-facility=- 2>/dev/null
	DNS_PID=$LAB_LAST_PID
	lab_wait_for 5 sh -c "nsenter --net=/run/netns/$B ss -lun | grep -q '127.0.0.1:5300 '"
}
start_dns
DNS=(--dns-server 127.0.0.1:5300)

cat >"$work/dns.policy" <<'P'
default deny
service peer-udp { direction in; protocol udp; ports 5353; peers peer.example.test; action allow }
service nowhere { direction in; protocol udp; ports 5354; peers never.example.test; action allow }
service static { direction in; protocol udp; ports 5355; peers 198.18.50.0/24; action allow }
P

host_line() { tgB status "$IB" | grep "host        $1:"; }
counted() { tgB stats --json "$IB" | grep -o "\"service\": \"$1\", \"request\": {\"packets\": [0-9]*" | grep -o '[0-9]*$'; }
send_from() { lab_in "$A" "$LABNET" send "${3:-198.18.50.1}" "$2" --count 50 --from "$1" >/dev/null; }
# IPv6 datagrams wait for neighbour discovery before they leave: wait for
# the count they must reach rather than reading it once.
counted_is() { [ "$(counted "$1")" = "$2" ]; }

out=$(tgB attach "${DNS[@]}" "$IB" "$work/dns.policy" 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "never.example.test did not resolve (nxdomain); it has no addresses until it does" <<<"$out" &&
	ok dns/attach-with-an-unresolvable-name || fail dns/attach-with-an-unresolvable-name "exit $rc: $out"
host_line peer.example.test | grep -q ": 198.18.50.11 2001:db8:50::11 (ttl $TTL s" &&
	ok dns/both-families || fail dns/both-families "$(host_line peer.example.test)"

send_from 198.18.50.11 5353
send_from 2001:db8:50::11 5353 2001:db8:50::1
send_from 198.18.50.12 5353
lab_wait_for 5 counted_is peer-udp 100 && ok dns/resolved-addresses-enforced || fail dns/resolved-addresses-enforced "counted $(counted peer-udp), want 100"
send_from 198.18.50.11 5355
lab_wait_for 5 counted_is static 50 && ok dns/rest-of-policy-loaded || fail dns/rest-of-policy-loaded "static counted $(counted static)"

# Follow DNS; change the answer; it must reach the maps within the TTL.
lab_bg "$B" "$TG" dns --watch "${DNS[@]}" --ttl-min 1 "$IB" >"$work/watch.log" 2>&1
WATCH_PID=$LAB_LAST_PID
gen=$(tgB status "$IB" | awk '/generation/ {print $2}')
printf '198.18.50.12 peer.example.test\n2001:db8:50::11 peer.example.test\n' >"$work/hosts"
kill -HUP "$DNS_PID"
changed_at=$(date +%s%N)
if lab_wait_for $((TTL + 3)) sh -c "nsenter --net=/run/netns/$B $TG status $IB | grep -q 'peer.example.test: 198.18.50.12 2001:db8:50::11'"; then
	took=$((($(date +%s%N) - changed_at) / 1000000))
	ok "dns/change-reaches-the-maps (${took} ms, TTL ${TTL} s)"
else
	fail dns/change-reaches-the-maps "$(host_line peer.example.test); $(tail -c 300 "$work/watch.log")"
fi
[ "$(tgB status "$IB" | awk '/generation/ {print $2}')" -gt "$gen" ] && ok dns/applied-by-reload || fail dns/applied-by-reload "generation unchanged"
send_from 198.18.50.12 5353
send_from 198.18.50.11 5353
lab_wait_for 5 counted_is peer-udp 150 && ok dns/counters-carry-on-and-old-address-dropped ||
	fail dns/counters-carry-on-and-old-address-dropped "counted $(counted peer-udp), want 150"

# The server goes away: the name keeps its addresses and says so.
kill "$DNS_PID"
wait "$DNS_PID" 2>/dev/null
if lab_wait_for $((TTL + 5)) sh -c "nsenter --net=/run/netns/$B $TG status $IB | grep -q 'peer.example.test: .*FAILING'"; then
	ok dns/failure-reported-by-status
else
	fail dns/failure-reported-by-status "$(host_line peer.example.test)"
fi
host_line peer.example.test | grep -q "198.18.50.12 2001:db8:50::11 (FAILING" && ok dns/failure-keeps-last-addresses ||
	fail dns/failure-keeps-last-addresses "$(host_line peer.example.test)"
send_from 198.18.50.12 5353
lab_wait_for 5 counted_is peer-udp 200 && ok dns/failing-name-still-enforced || fail dns/failing-name-still-enforced "counted $(counted peer-udp)"
metrics=$("$TG" stats --prometheus "$IB")
grep -q "^tollgate_host_resolution_ok{interface=\"$IB\",host=\"peer.example.test\"} 0$" <<<"$metrics" &&
	grep -qE "^tollgate_host_resolution_failures_total\{interface=\"$IB\",host=\"peer.example.test\"\} [1-9]" <<<"$metrics" &&
	ok dns/failure-metric || fail dns/failure-metric "$(grep tollgate_host_ <<<"$metrics" | tr '\n' ' ')"
promtool check metrics <<<"$metrics" >/dev/null 2>&1 && [ -z "$(promtool check metrics <<<"$metrics" 2>&1)" ] &&
	ok dns/metrics-promtool-clean || fail dns/metrics-promtool-clean "$(promtool check metrics <<<"$metrics" 2>&1 | head -3)"

# Offline: check and replay take fixed addresses instead of asking.
out=$("$TG" check --host peer.example.test=192.0.2.7 --host never.example.test=192.0.2.8 "$work/dns.policy" 2>&1)
grep -q ": ok: " <<<"$out" && ! grep -q "resolved at attach time" <<<"$out" && ok dns/check-offline-with-fixed-addresses ||
	fail dns/check-offline-with-fixed-addresses "$out"

# --watch and reloads: a policy without names leaves the watcher nothing to
# ask for ttl-max (an hour); a reload that brings names back is followed
# within its 5-second rescan all the same. (Whether the watcher had seen
# the policy without names first depends on timing: the deploy VM's
# dns-follows-change is the check that cannot pass without the rescan.)
printf '198.18.50.11 peer.example.test\n' >"$work/hosts"
start_dns
printf 'default deny\nservice static { direction in; protocol udp; ports 5355; peers 198.18.50.0/24; action allow }\n' >"$work/nonames.policy"
if tgB reload "${DNS[@]}" "$IB" "$work/nonames.policy" >/dev/null 2>&1 &&
	tgB reload "${DNS[@]}" "$IB" "$work/dns.policy" >/dev/null 2>&1; then
	printf '198.18.50.13 peer.example.test\n' >"$work/hosts"
	kill -HUP "$DNS_PID"
	if lab_wait_for 12 sh -c "nsenter --net=/run/netns/$B $TG status $IB | grep -q 'peer.example.test: 198.18.50.13'"; then
		ok dns/watch-follows-names-a-reload-brought
	else
		fail dns/watch-follows-names-a-reload-brought "$(host_line peer.example.test); $(tail -c 300 "$work/watch.log")"
	fi
else
	fail dns/watch-follows-names-a-reload-brought "the reloads failed"
fi
# Failures were reported as they happened (the server went away above); a
# stop is not one: systemd would mark the service failed.
kill -TERM "$WATCH_PID"
wait "$WATCH_PID"
rc=$?
[ $rc -eq 0 ] && ok dns/watch-stop-exits-0 || fail dns/watch-stop-exits-0 "exit $rc after SIGTERM"
