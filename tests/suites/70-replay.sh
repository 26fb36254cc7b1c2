#!/usr/bin/env bash
# tollgate replay through the real program: scenario captures made by
# mkcapture must get the verdict, service, match and reason written next to
# each packet; damaged captures must get a clear error.
. "$(dirname "$0")/../lib.sh"
need_bpffs
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$TOP"
HOSTS=(--host support.notarius.com=198.51.100.7 --host download.notarius.com=198.51.100.8)

# Turns replay's JSON lines into "verdict service match reason".
summarise() {
	sed -n 's/^{"packet": [0-9]*, "verdict": "\([a-z]*\)", "service": \(null\|"[^"]*"\), "match": \(null\|"[^"]*"\), "reason": "\([a-z-]*\)".*/\1 \2 \3 \4/p' |
		sed 's/"//g; s/null/-/g'
}

scenario() { # name policy
	local name=$1 policy=$2 out rc
	"$BUILD/mkcapture" "$name" "$work/$name.pcap" "$work/$name.expect" || { fail "replay/$name" "mkcapture failed"; return; }
	out=$("$TG" replay --json "${HOSTS[@]}" "$policy" "$work/$name.pcap" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] || ! sanitizer_clean <(printf '%s' "$out"); then
		fail "replay/$name" "exit $rc: $(head -c 400 <<<"$out")"
	elif ! diff <(summarise <<<"$out") "$work/$name.expect" >"$work/diff"; then
		fail "replay/$name" "verdicts differ: $(head -n 6 "$work/diff" | tr '\n' ' ')"
	elif [ "$(summarise <<<"$out" | wc -l)" -ne "$(wc -l <"$work/$name.expect")" ]; then
		fail "replay/$name" "packet count differs"
	else
		ok "replay/$name ($(wc -l <"$work/$name.expect") packets)"
	fi
	printf '%s\n' "$out" >"$work/$name.out"
}

scenario notarius policies/notarius.policy
scenario cryptshare policies/cryptshare.policy
scenario mixed policies/notarius.policy

# The counters line agrees with the packets: 9 replies of Notarius services passed.
last=$(tail -n 1 "$work/notarius.out")
if grep -q '"service": {"pass": {"packets": 9, ' <<<"$last" &&
	grep -q '"service": "certifio-manager-server", "request": {"packets": 0, "bytes": 0}, "reply": {"packets": 3, "bytes": 162}' <<<"$last"; then
	ok replay/counters-line
else
	fail replay/counters-line "unexpected counters: $(head -c 300 <<<"$last")"
fi

# The text view shows the same verdicts as JSON.
out=$("$TG" replay "${HOSTS[@]}" policies/notarius.policy "$work/notarius.pcap" 2>&1)
if [ "$(grep -cE '^ +[0-9]+  (pass|drop) ' <<<"$out")" -eq "$(wc -l <"$work/notarius.expect")" ] && grep -q '^reason ' <<<"$out"; then
	ok replay/text-output
else
	fail replay/text-output "$(head -c 300 <<<"$out")"
fi

# Damaged inputs: a clear message naming the file, exit status 1.
expect_error() { # name file pattern
	local out rc
	out=$("$TG" replay policies/notarius.policy "$2" 2>&1)
	rc=$?
	if [ $rc -eq 1 ] && grep -qE "$3" <<<"$out" && sanitizer_clean <(printf '%s' "$out"); then
		ok "replay/$1"
	else
		fail "replay/$1" "exit $rc: $(head -c 300 <<<"$out")"
	fi
}
: >"$work/empty.pcap"
expect_error empty-file "$work/empty.pcap" "capture '.*empty.pcap' is empty"
head -c 20 "$work/notarius.pcap" >"$work/header-cut.pcap"
expect_error truncated-header "$work/header-cut.pcap" "cannot read capture '.*header-cut.pcap'"
size=$(stat -c %s "$work/notarius.pcap")
head -c $((size - 30)) "$work/notarius.pcap" >"$work/cut.pcap"
expect_error truncated-packet "$work/cut.pcap" "capture '.*cut.pcap' is damaged after packet 19"
printf 'default deny\n' >"$work/not-a-capture.pcap"
expect_error not-a-capture "$work/not-a-capture.pcap" "cannot read capture .*expected a pcap or pcapng file"
expect_error missing-file "$work/nope.pcap" "cannot read capture '.*nope.pcap': no such file"
# A pcap header with link type 105 (802.11): valid file, unsupported link type.
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x69\x00\x00\x00' >"$work/wifi.pcap"
expect_error unsupported-link-type "$work/wifi.pcap" "link type IEEE802_11 \(105\); replay reads Ethernet"

# The same scenario as pcapng, and as a pcap with nanosecond timestamps.
"$BUILD/mkcapture" notarius "$work/notarius.pcapng" "$work/ng.expect"
for f in notarius.pcapng notarius-nano.pcap; do
	[ "$f" = notarius-nano.pcap ] && tcpdump -r "$work/notarius.pcap" -w "$work/$f" --time-stamp-precision=nano 2>/dev/null
	out=$("$TG" replay --json "${HOSTS[@]}" policies/notarius.policy "$work/$f" 2>&1)
	if diff <(summarise <<<"$out") "$work/notarius.expect" >/dev/null; then
		ok "replay/$f"
	else
		fail "replay/$f" "$(head -c 300 <<<"$out")"
	fi
done
