#!/usr/bin/env bash
# Counters to monitoring: the exposition passes promtool without a warning,
# tollgate serve behaves as an exporter should, a real Prometheus on
# loopback scrapes it and its query API returns exactly the traffic sent,
# and the textfile is never seen half-written.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/lab/lab.sh"
need_bpffs
LABNET=$BUILD/labnet
A=tgma$$ B=tgmb$$ IA=tma$$ IB=tmb$$
work=$(mktemp -d)
trap 'lab_cleanup; rm -rf "$work"' EXIT

lab_pair "$A" "$IA" 198.18.30.1/24 "$B" "$IB" 198.18.30.2/24
lab_ipv4_only "$A" "$B"
cat >"$work/metrics.policy" <<'P'
default deny
service dns-lab { direction in; protocol udp; ports 5353; peers 198.18.30.0/24; action allow }
service syslog-lab { direction in; protocol udp; ports 5514; peers 198.18.30.0/24; action allow }
P
lab_in "$B" "$TG" attach "$IB" "$work/metrics.policy" >/dev/null || { fail metrics/attach "attach failed"; exit 0; }

free_port() { # a TCP port on 127.0.0.1 that no socket uses
	local p low
	# Below the ephemeral range, so that no outgoing connection (Prometheus
	# scraping, curl) takes it between this check and the bind.
	low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range)
	[ "${low:-0}" -gt 20100 ] || low=30000
	for p in $(shuf -i 20000-$((low - 1)) -n 50); do
		ss -tanH "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}

# ------------------------------------------------------------- promtool
lab_in "$A" "$LABNET" send 198.18.30.2 5353 --count 10 >/dev/null
"$TG" stats --prometheus "$IB" >"$work/exposition"
out=$(promtool check metrics <"$work/exposition" 2>&1)
if [ $? -eq 0 ] && [ -z "$out" ]; then ok metrics/promtool-no-warnings; else fail metrics/promtool-no-warnings "$out"; fi
# Every known series is there from zero: 2 services x 3 matches, 7 reasons x 2 actions.
n=$(grep -c "^tollgate_service_packets_total{interface=\"$IB\"" "$work/exposition")
m=$(grep -c "^tollgate_packets_total{interface=\"$IB\"" "$work/exposition")
[ "$n" -eq 6 ] && [ "$m" -eq 14 ] && ok metrics/all-series-from-zero || fail metrics/all-series-from-zero "$n service and $m reason series"
# The host's flow families: once, without an interface label, both openers.
f=$(grep -cE '^tollgate_(flows|flow_table_size|flow_insertions_total|flow_evictions_total|flow_misses_total)\{opened_by="(local|remote)"\} [0-9]+$' "$work/exposition")
[ "$f" -eq 10 ] && ok metrics/flow-families || fail metrics/flow-families "$f flow series: $(grep '^tollgate_flow' "$work/exposition" | head -4 | tr '\n' ' ')"
for fam in tollgate_policy_generation tollgate_policy_last_reload_timestamp_seconds tollgate_policy_info tollgate_enforcing; do
	grep -q "^# TYPE $fam gauge" "$work/exposition" && grep -q "^$fam{interface=\"$IB\"" "$work/exposition" &&
		ok "metrics/$fam" || fail "metrics/$fam" "missing"
done
grep -qx "tollgate_enforcing{interface=\"$IB\"} 1" "$work/exposition" && grep -qx "tollgate_orphan_packets_total{interface=\"$IB\"} 0" "$work/exposition" &&
	ok metrics/enforcing-no-orphans || fail metrics/enforcing-no-orphans "$(grep -E 'enforcing|orphan' "$work/exposition" | tr '\n' ' ')"
grep -q "^tollgate_policy_info{interface=\"$IB\",sha256=\"[0-9a-f]\{64\}\"} 1$" "$work/exposition" &&
	ok metrics/policy-hash-label || fail metrics/policy-hash-label "$(grep policy_info "$work/exposition")"
! grep -q '198\.18\.' "$work/exposition" && ok metrics/no-addresses-in-labels || fail metrics/no-addresses-in-labels "an address leaked"
# The build that answers: the same version and commit as --version says.
read -r want_version want_commit < <("$TOP/scripts/version.sh")
grep -qx "tollgate_build_info{version=\"$want_version\",commit=\"$want_commit\",libbpf=\"[0-9]*\.[0-9]*\",libxdp=\"[^\"]*\"} 1" "$work/exposition" &&
	ok metrics/build-info || fail metrics/build-info "want $want_version $want_commit: $(grep build_info "$work/exposition")"

# A stale state directory (another version, a half-removed attach) must not
# hide the interfaces that work.
STALE=tgms$$
lab_tollgate_iface "$STALE"
mkdir -p "/sys/fs/bpf/tollgate/$STALE"
bpftool map create "/sys/fs/bpf/tollgate/$STALE/meta" type array key 4 value 8 entries 1 name tg_stale
out=$("$TG" stats --prometheus 2>"$work/stale.err"); rc=$?
[ $rc -eq 0 ] && grep -q "interface=\"$IB\"" <<<"$out" && grep -q "$STALE: cannot read its counters" "$work/stale.err" &&
	ok metrics/stale-state-skipped || fail metrics/stale-state-skipped "exit $rc: $(cat "$work/stale.err")"

# ---------------------------------------------------------------- serve
port=$(free_port)
"$TG" serve --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
serve=$!
LAB_PIDS+=($serve)
lab_wait_for 10 curl -sf "http://127.0.0.1:$port/metrics"
code=$(curl -s -o "$work/scrape" -w '%{http_code} %{content_type}' "http://127.0.0.1:$port/metrics")
[ "$code" = "200 text/plain; version=0.0.4; charset=utf-8" ] && grep -q "service=\"dns-lab\"" "$work/scrape" &&
	ok serve/metrics || fail serve/metrics "$code"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nothing")" = 404 ] && ok serve/not-found || fail serve/not-found "not 404"
# Concurrent scrapes all get a whole, valid exposition.
for i in $(seq 1 16); do curl -s "http://127.0.0.1:$port/metrics" -o "$work/c$i" & done
wait $(jobs -p | grep -v "^$serve$") 2>/dev/null
bad=0
for i in $(seq 1 16); do promtool check metrics <"$work/c$i" >/dev/null 2>&1 || bad=$((bad + 1)); done
[ $bad -eq 0 ] && ok serve/concurrent-scrapes || fail serve/concurrent-scrapes "$bad of 16 invalid"
out=$("$TG" serve --listen "127.0.0.1:$port" 2>&1); rc=$?
[ $rc -eq 3 ] && grep -q "Address already in use" <<<"$out" && ok serve/busy-port || fail serve/busy-port "exit $rc: $out"
# A method other than GET or HEAD: 405, with the methods that would do.
hdrs=$(curl -s -o /dev/null -D - -X POST "http://127.0.0.1:$port/metrics" | tr -d '\r')
grep -q '^HTTP/1.1 405' <<<"$hdrs" && grep -qi '^Allow: GET, HEAD$' <<<"$hdrs" && ok serve/405-allow ||
	fail serve/405-allow "$(tr '\n' ' ' <<<"$hdrs")"
# Broken clients are their own business: no line in the exporter's log for
# a connection closed at once, a request line that is not HTTP, or a
# request cut off in the middle. The scrape after them shows they were
# handled.
exec 7<>"/dev/tcp/127.0.0.1/$port" && exec 7>&-
exec 7<>"/dev/tcp/127.0.0.1/$port" && printf 'NOT HTTP AT ALL\r\n\r\n' >&7 && timeout 5 cat <&7 >/dev/null; exec 7>&-
exec 7<>"/dev/tcp/127.0.0.1/$port" && printf 'GET /metrics HTTP/1.1\r\nHost: x' >&7 && exec 7>&-
curl -sf -o /dev/null "http://127.0.0.1:$port/metrics"
# (libmicrohttpd's own logger wrote "Error processing request ..." and
# "Connection was closed by remote side ..." here, unprefixed.)
noise=$(grep -v '^tollgate: ' "$work/serve.log"; grep 'libmicrohttpd' "$work/serve.log")
[ -z "$noise" ] && ok serve/quiet-about-broken-clients || fail serve/quiet-about-broken-clients "$(head -c 300 <<<"$noise")"
# localhost is a name every guide uses; other names are refused up front.
lport=$(free_port)
"$TG" serve --listen "localhost:$lport" >"$work/serve-localhost.log" 2>&1 &
lserve=$!
LAB_PIDS+=($lserve)
if lab_wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$lport/metrics"; then ok serve/listen-localhost; else fail serve/listen-localhost "$(head -c 300 "$work/serve-localhost.log")"; fi
kill -TERM "$lserve"
wait "$lserve" 2>/dev/null
out=$("$TG" serve --listen "metrics.example.com:$lport" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "localhost:PORT" <<<"$out" && ok serve/listen-other-name-refused || fail serve/listen-other-name-refused "exit $rc: $out"
out=$("$TG" serve --listen "127.0.0.1:$(free_port)" nosuchnic0 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "nosuchnic0 has no tollgate attached" <<<"$out" && ok serve/missing-interface ||
	fail serve/missing-interface "exit $rc: $out"

# ------------------------------------------------------- real Prometheus
pport=$(free_port)
cat >"$work/prometheus.yml" <<Y
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: tollgate
    static_configs:
      - targets: ['127.0.0.1:$port']
Y
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
	--web.listen-address="127.0.0.1:$pport" --log.level=warn >"$work/prometheus.log" 2>&1 &
LAB_PIDS+=($!)
query() { # PromQL -> the single value, or nothing
	curl -sG "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
		sed -n 's/.*"value":\[[0-9.]*,"\([0-9.e+]*\)"\].*/\1/p'
}
before_dns=$(lab_in "$B" "$TG" stats --json "$IB" | grep -o '"service": "dns-lab", "request": {"packets": [0-9]*' | grep -o '[0-9]*$')
lab_in "$A" "$LABNET" send 198.18.30.2 5353 --count 300 --rate 3000 >/dev/null
lab_in "$A" "$LABNET" send 198.18.30.2 5514 --count 120 --rate 3000 >/dev/null
lab_in "$A" "$LABNET" send 198.18.30.2 9999 --count 45 --rate 3000 >/dev/null
want_dns=$((before_dns + 300))
check_prom() {
	[ "$(query "tollgate_service_packets_total{interface=\"$IB\",service=\"dns-lab\",match=\"request\"}")" = "$want_dns" ] &&
		[ "$(query "tollgate_service_packets_total{interface=\"$IB\",service=\"syslog-lab\",match=\"request\"}")" = 120 ] &&
		[ "$(query "sum(tollgate_packets_total{interface=\"$IB\",reason=\"default\",action=\"drop\"})")" -ge 45 ]
}
if lab_wait_for 60 check_prom; then
	ok "prometheus/query-api-matches-traffic (dns-lab $want_dns, syslog-lab 120)"
else
	fail prometheus/query-api-matches-traffic "dns-lab $(query "tollgate_service_packets_total{interface=\"$IB\",service=\"dns-lab\",match=\"request\"}") (want $want_dns), syslog-lab $(query "tollgate_service_packets_total{interface=\"$IB\",service=\"syslog-lab\",match=\"request\"}") (want 120); $(tail -c 300 "$work/prometheus.log")"
fi
[ "$(query "tollgate_policy_generation{interface=\"$IB\"}")" = 1 ] && ok prometheus/generation || fail prometheus/generation "not 1"

# Without root the pin root cannot be read: a 500 that says so, not an empty 200.
nport=$(free_port)
setpriv --reuid=65534 --regid=65534 --clear-groups "$TG" serve --listen "127.0.0.1:$nport" >"$work/serve-nobody.log" 2>&1 &
nobody_serve=$!
LAB_PIDS+=($nobody_serve)
lab_wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$nport/metrics"
code=$(curl -s -o "$work/nobody-scrape" -w '%{http_code}' "http://127.0.0.1:$nport/metrics")
[ "$code" = 500 ] && grep -qi "permission denied" "$work/nobody-scrape" && ok serve/not-root-500 ||
	fail serve/not-root-500 "$code: $(head -c 200 "$work/nobody-scrape" 2>/dev/null) log: $(head -c 400 "$work/serve-nobody.log")"
kill -TERM "$nobody_serve"

kill -TERM "$serve"
wait "$serve"
rc=$?
[ $rc -eq 0 ] && grep -q "stopped (signal 15)" "$work/serve.log" && ok serve/sigterm-clean-exit || fail serve/sigterm-clean-exit "exit $rc"

# -------------------------------------------------------------- textfile
mkdir -p "$work/textfile"
# Every complete exposition of this interface has the same lines (only the
# values move), so a read with another line count is a torn file.
want_lines=$("$TG" stats --prometheus "$IB" | wc -l)
(for i in $(seq 1 150); do "$TG" stats --prometheus --textfile "$work/textfile" "$IB" || exit 1; done) &
writer=$!
reads=0 torn=0
while kill -0 $writer 2>/dev/null; do
	if [ -f "$work/textfile/tollgate.prom" ]; then
		lines=$(wc -l <"$work/textfile/tollgate.prom")
		reads=$((reads + 1))
		[ "$lines" -eq "$want_lines" ] || torn=$((torn + 1))
	fi
done
wait $writer
wrc=$?
leftovers=$(find "$work/textfile" -name '.tollgate.prom.*' | wc -l)
if [ $wrc -eq 0 ] && [ $reads -gt 0 ] && [ $torn -eq 0 ] && [ "$leftovers" -eq 0 ] &&
	promtool check metrics <"$work/textfile/tollgate.prom" >/dev/null 2>&1; then
	ok "textfile/always-complete ($reads reads during 150 rewrites, $want_lines lines each)"
else
	fail textfile/always-complete "writer $wrc, $torn torn of $reads reads, $leftovers temp files left"
fi
out=$("$TG" stats --prometheus --textfile "$work/no/such/dir" "$IB" 2>&1); rc=$?
[ $rc -eq 3 ] && grep -q "cannot write $work/no/such/dir/tollgate.prom" <<<"$out" && ok textfile/missing-directory ||
	fail textfile/missing-directory "exit $rc: $out"
