#!/usr/bin/env bash
# make demo: the lab. Three network namespaces joined by veths:
#
#   tgl-ws (workstation)          tgl-edge (tollgate on both NICs)             tgl-srv (servers)
#   192.0.2.10 ---- tgl-lan [inside] 192.0.2.1 | 198.51.100.1 [outside] tgl-wan ---- 198.51.100.10
#                                                                                  203.0.113.0/27, .64/28, .200
#
# The edge runs the Notarius policy with its two ranges moved to
# 203.0.113.0/27 and 203.0.113.64/28 (documentation addresses): the same
# services, enforced on real sockets. Everything made here is removed on exit,
# on Ctrl-C and on failure; the demo can be run again at once.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
TG=$TOP/build/tollgate
LABNET=$TOP/build/labnet
. "$TOP/tests/lab/lab.sh"
work=$(mktemp -d)
trap 'lab_cleanup; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

if [ -t 1 ]; then
	bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	bold() { printf '\n== %s\n' "$*"; }
fi
step() { printf '\n$ %s\n' "$*"; }

# Removes what an interrupted earlier run may have left (our names only).
for ns in tgl-ws tgl-edge tgl-srv; do ip netns del "$ns" 2>/dev/null; done
rm -rf /sys/fs/bpf/tollgate/tgl-lan /sys/fs/bpf/tollgate/tgl-wan

if ! mountpoint -q /sys/fs/bpf; then mount -t bpf bpf /sys/fs/bpf; fi

bold "The shipped policies"
for p in policies/notarius.policy policies/cryptshare.policy; do
	step "tollgate check $p"
	(cd "$TOP" && "$TG" check "$p") || exit 1
done

bold "Building the lab"
lab_ns tgl-ws
lab_ns tgl-edge
lab_ns tgl-srv
lab_link tgl-ws tgl-ws0 192.0.2.10/24 tgl-edge tgl-lan 192.0.2.1/24
lab_link tgl-edge tgl-wan 198.51.100.1/24 tgl-srv tgl-srv0 198.51.100.10/24
lab_tollgate_iface tgl-lan
lab_tollgate_iface tgl-wan
ip -n tgl-ws route add default via 192.0.2.1
ip -n tgl-srv route add 192.0.2.0/24 via 198.51.100.1
ip -n tgl-edge route add 203.0.113.0/24 via 198.51.100.10
lab_in tgl-edge sysctl -qw net.ipv4.ip_forward=1
for a in 203.0.113.5/32 203.0.113.70/32 203.0.113.200/32 203.0.113.80/32; do
	ip -n tgl-srv addr add "$a" dev lo
done
for port in 80 389 443 829 24250 24260 22; do
	lab_bg tgl-srv "$LABNET" serve tcp "$port" >/dev/null
done
lab_wait_for 5 lab_in tgl-srv sh -c "ss -ltn | grep -q ':24260 '" || { echo "servers did not start"; exit 1; }
echo "workstation 192.0.2.10, edge 192.0.2.1 / 198.51.100.1, servers 203.0.113.5, .70 (in the ranges), .200 (outside)"

# The Notarius policy on lab addresses; its host names get fixed lab addresses.
sed -e 's#206\.55\.89\.0/27#203.0.113.0/27#; s#192\.252\.131\.64/28#203.0.113.64/28#' \
	"$TOP/policies/notarius.policy" >"$work/notarius-lab.policy"
HOSTS=(--host support.notarius.com=203.0.113.80 --host download.notarius.com=203.0.113.80)

bold "Attaching tollgate to both NICs of the edge"
step "tollgate attach --facing inside tgl-lan notarius-lab.policy"
lab_in tgl-edge "$TG" attach --facing inside "${HOSTS[@]}" tgl-lan "$work/notarius-lab.policy" || exit 1
step "tollgate attach --facing outside tgl-wan notarius-lab.policy"
lab_in tgl-edge "$TG" attach --facing outside "${HOSTS[@]}" tgl-wan "$work/notarius-lab.policy" || exit 1

try() { # what host port
	local out
	out=$(lab_in tgl-ws "$LABNET" connect "$2" "$3" --timeout 1000)
	printf '  %-44s %-18s -> %s\n' "$1" "$2:$3" "$out"
}

bold "Flows from the workstation"
try "CMP signature generation (allowed)" 203.0.113.5 829
try "ConsignO licensing, HTTPS (allowed)" 203.0.113.5 443
try "CertifiO Server Edition (allowed)" 203.0.113.70 24260
try "CRL over LDAP (allowed)" 203.0.113.70 389
try "support site by name (allowed)" 203.0.113.80 443
try "SSH to a Notarius server (not in the table)" 203.0.113.5 22
try "HTTPS outside the ranges (not in the table)" 203.0.113.200 443
printf '  %-44s %-18s -> %s\n' "ping (no ICMP service)" 203.0.113.5 \
	"$(lab_in tgl-ws ping -c 1 -W 1 203.0.113.5 >/dev/null && echo reply || echo 'no reply')"

bold "A live reload while a transfer keeps running"
# The new policy drops the CRL row's LDAP port (the vendor says sites may)
# and adds SSH to the servers; the HTTPS transfer must not notice.
sed -e 's/ports 80, 389$/ports 80/' "$work/notarius-lab.policy" >"$work/notarius-lab-2.policy"
cat >>"$work/notarius-lab-2.policy" <<'P'

service lab-ssh {
    description "Lab only: SSH to the Notarius stand-ins."
    direction out
    protocol tcp
    ports 22
    peers @notarius_ranges
    action allow
}
P
lab_bg tgl-ws "$LABNET" stream 203.0.113.5 443 --seconds 4 >"$work/stream"
stream=$LAB_LAST_PID
lab_wait_for 5 lab_in tgl-ws sh -c "ss -tn | grep -q '203.0.113.5:443'"
for nic in tgl-lan tgl-wan; do
	step "tollgate reload $nic notarius-lab-2.policy"
	lab_in tgl-edge "$TG" reload "${HOSTS[@]}" "$nic" "$work/notarius-lab-2.policy" || exit 1
done
try "SSH to a Notarius server (now allowed)" 203.0.113.5 22
try "CRL over LDAP (now closed)" 203.0.113.70 389
wait "$stream"
echo "  transfer during the reloads: $(cat "$work/stream")"

bold "Replies only inside flows"
# With replies tracked (the default), a packet shaped like a reply from
# :443 passes only inside a flow the workstation opened. The server side
# forges one: an ACK from 203.0.113.5:443 to a port the workstation never
# used (a listener on 8000 would answer it with an RST, if it got there).
no_flow() {
	lab_in tgl-edge "$TG" stats --json tgl-wan |
		sed -n 's/.*"no-flow": {"pass": {"packets": [0-9]*, "bytes": [0-9]*}, "drop": {"packets": \([0-9]*\),.*/\1/p'
}
lab_bg tgl-ws "$LABNET" serve tcp 8000 >/dev/null
lab_wait_for 5 lab_in tgl-ws sh -c "ss -ltn | grep -q ':8000 '"
before=$(no_flow)
step "labnet tcpflags 192.0.2.10 8000 --sport 443 --flags A   (forged on the server side)"
printf '  %-44s %-18s -> %s\n' "spoofed ACK from 203.0.113.5:443" 192.0.2.10:8000 \
	"$(lab_in tgl-srv "$LABNET" tcpflags 192.0.2.10 8000 --from 203.0.113.5 --sport 443 --flags A --wait 700 | tail -n 1)"
try "a real HTTPS connection (its replies pass)" 203.0.113.5 443
echo "  tgl-wan drops for want of a flow (no-flow): $before -> $(no_flow)"
step "tollgate stats --prometheus tgl-wan | grep flow"
lab_in tgl-edge "$TG" stats --prometheus tgl-wan | grep -E '^tollgate_(flow|packets_total.*drop.*no-flow)'

bold "Counters"
for nic in tgl-lan tgl-wan; do
	step "tollgate stats $nic"
	lab_in tgl-edge "$TG" stats "$nic"
done
step "tollgate status"
lab_in tgl-edge "$TG" status

bold "Cleaning up"
for nic in tgl-lan tgl-wan; do lab_in tgl-edge "$TG" detach "$nic"; done
echo "done: the lab is removed (namespaces tgl-ws, tgl-edge, tgl-srv)"
