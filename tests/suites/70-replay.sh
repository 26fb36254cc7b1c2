#!/usr/bin/env bash
# tollgate replay through the real program: scenario captures made by
# mkcapture must get the verdict, service, match and reason written next to
# each packet; damaged captures must get a clear error. With flow tracking,
# each packet's direction comes from the capture (pcapng epb_flags, Linux
# cooked capture) or --local, and flows expire by the capture's clock.
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

# The seed scenarios are replies without their requests: they check the
# classification, so they run with stateless replies.
stateless() { # policy -> a copy that says `replies stateless`
	local copy
	copy="$work/stateless-$(basename "$1")"
	{ printf 'replies stateless\n'; cat "$1"; } >"$copy"
	printf '%s' "$copy"
}

scenario() { # name policy [file name] [replay options...]
	local name=$1 policy=$2 file=${3:-$1.pcap} out rc
	shift 3 2>/dev/null || shift $#
	"$BUILD/mkcapture" "$name" "$work/$file" "$work/$file.expect" || { fail "replay/$file" "mkcapture failed"; return; }
	out=$("$TG" replay --json "${HOSTS[@]}" "$@" "$policy" "$work/$file" 2>"$work/$file.err")
	rc=$?
	# Nothing on stderr but the unused --host warnings (no direction warning).
	if [ $rc -ne 0 ] || ! sanitizer_clean "$work/$file.err" || grep -qv 'the policy does not use this host name' "$work/$file.err"; then
		fail "replay/$file" "exit $rc: $(head -c 400 "$work/$file.err") $(head -c 200 <<<"$out")"
	elif ! diff <(summarise <<<"$out") "$work/$file.expect" >"$work/diff"; then
		fail "replay/$file" "verdicts differ: $(head -n 6 "$work/diff" | tr '\n' ' ')"
	elif [ "$(summarise <<<"$out" | wc -l)" -ne "$(wc -l <"$work/$file.expect")" ]; then
		fail "replay/$file" "packet count differs"
	else
		ok "replay/$file ($(wc -l <"$work/$file.expect") packets${*:+, $*})"
	fi
	printf '%s\n' "$out" >"$work/${file%.pcap}.out"
	[ "$file" = "${file%.pcap}" ] || cp "$work/$file.expect" "$work/${file%.pcap}.expect"
}

scenario notarius "$(stateless policies/notarius.policy)"
scenario cryptshare "$(stateless policies/cryptshare.policy)"
scenario mixed "$(stateless policies/notarius.policy)"

# The counters line agrees with the packets: 9 replies of Notarius services passed.
last=$(tail -n 1 "$work/notarius.out")
if grep -q '"service": {"pass": {"packets": 9, ' <<<"$last" &&
	grep -q '"service": "certifio-manager-server", "request": {"packets": 0, "bytes": 0}, "reply": {"packets": 3, "bytes": 162}' <<<"$last"; then
	ok replay/counters-line
else
	fail replay/counters-line "unexpected counters: $(head -c 300 <<<"$last")"
fi

# The text view shows the same verdicts as JSON.
out=$("$TG" replay "${HOSTS[@]}" "$(stateless policies/notarius.policy)" "$work/notarius.pcap" 2>&1)
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
	out=$("$TG" replay --json "${HOSTS[@]}" "$(stateless policies/notarius.policy)" "$work/$f" 2>&1)
	if diff <(summarise <<<"$out") "$work/notarius.expect" >/dev/null; then
		ok "replay/$f"
	else
		fail "replay/$f" "$(head -c 300 <<<"$out")"
	fi
done

# Flows: the host's own requests (sent), their replies, and spoofed replies
# to ports it never used. The direction comes from pcapng's epb_flags, from
# Linux cooked captures (v1 and v2), or from --local for a plain pcap.
cat >"$work/flows.policy" <<'EOF'
# The host's own DNS and HTTPS; nothing else.
default deny

service dns {
    direction out
    protocol udp
    ports 53
    peers 198.51.100.53, 2001:db8:53::53
    action allow
}

service https {
    direction out
    protocol tcp
    ports 443
    peers 203.0.113.0/24
    action allow
}
EOF
scenario flows "$work/flows.policy" flows.pcapng
scenario flows "$work/flows.policy" flows.be.pcapng
scenario flows "$work/flows.policy" flows.sll.pcap
scenario flows "$work/flows.policy" flows.sll2.pcap
scenario flows "$work/flows.policy" flows.pcap --local 192.0.2.0/24 --local 2001:db8::10
# Flows expire by the capture's clock: a reply 200 s after a UDP request
# (udp-timeout 30 s) finds no flow, one 20 s after it does.
scenario flows-timeout "$work/flows.policy" flows-timeout.pcapng
scenario flows-timeout "$work/flows.policy" flows-timeout.pcap --local 192.0.2.10

# The counters hold the no-flow drops, the sent packets and the flows.
last=$(tail -n 1 "$work/flows.pcapng.out")
if grep -q '"no-flow": {"pass": {"packets": 0, "bytes": 0}, "drop": {"packets": 4, ' <<<"$last" &&
	grep -q '"egress": 4, "flows": {"opened": 3, "live": 3}' <<<"$last"; then
	ok replay/flows-counters
else
	fail replay/flows-counters "unexpected counters: $(tail -c 300 <<<"$last")"
fi
out=$("$TG" replay "$work/flows.policy" "$work/flows.pcapng" 2>&1)
if grep -qE '^ +1  out   egress +- +- +udp 192\.0\.2\.10:40000 -> 198\.51\.100\.53:53$' <<<"$out" &&
	grep -qE '^ +3  drop  no-flow ' <<<"$out" && grep -q '^4 packet(s) sent' <<<"$out"; then
	ok replay/flows-text
else
	fail replay/flows-text "$(head -c 600 <<<"$out")"
fi

# A plain pcap without --local: every packet arrives, the replies find no
# flows, and replay says why (exit status unchanged).
out=$("$TG" replay --json "$work/flows.policy" "$work/flows.pcap" 2>"$work/err")
rc=$?
if [ $rc -eq 0 ] && grep -q "warning: capture '.*flows.pcap' does not say which packets were sent.*--local PREFIX.*replies stateless" "$work/err" &&
	[ "$(grep -c 'warning' "$work/err")" -eq 1 ] && ! grep -q '"verdict": "out"' <<<"$out" && sanitizer_clean "$work/err"; then
	ok replay/no-direction-warning
else
	fail replay/no-direction-warning "exit $rc: $(head -c 400 "$work/err")"
fi
# No warning when the policy does not track flows.
out=$("$TG" replay --json "$(stateless "$work/flows.policy")" "$work/flows.pcap" 2>&1 >/dev/null)
if [ -z "$out" ]; then
	ok replay/no-warning-stateless
else
	fail replay/no-warning-stateless "$(head -c 300 <<<"$out")"
fi

# A bad --local: a clear error, usage exit status.
for bad in 192.0.2.300 192.0.2.0/33 2001:db8::/129 10.0.0.0/ 10.0.0.0/-1 host.example ''; do
	out=$("$TG" replay --local "$bad" "$work/flows.policy" "$work/flows.pcap" 2>&1)
	rc=$?
	if [ $rc -eq 2 ] && grep -q "^tollgate: --local: '$bad' " <<<"$out" && sanitizer_clean <(printf '%s' "$out"); then
		ok "replay/bad-local '$bad'"
	else
		fail "replay/bad-local '$bad'" "exit $rc: $(head -c 300 <<<"$out")"
	fi
done

# A damaged option in a pcapng packet block: libpcap reads the packet, the
# direction reader names the offset.
python3 - "$work/flows.pcapng" "$work/bad-option.pcapng" <<'EOF'
import struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
off = 28 + 20  # the first enhanced packet block
total, caplen = struct.unpack_from('<I', b, off + 4)[0], struct.unpack_from('<I', b, off + 20)[0]
opt = off + 28 + ((caplen + 3) & ~3)
struct.pack_into('<HH', b, opt, 2, 0xfff0)  # epb_flags longer than the block
open(sys.argv[2], 'wb').write(b)
EOF
out=$("$TG" replay "$work/flows.policy" "$work/bad-option.pcapng" 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q "capture '.*bad-option.pcapng' is damaged at offset [0-9]*: option longer than its block" <<<"$out" &&
	sanitizer_clean <(printf '%s' "$out"); then
	ok replay/pcapng-bad-option
else
	fail replay/pcapng-bad-option "exit $rc: $(head -c 300 <<<"$out")"
fi
