#!/bin/bash
# Runs inside the deploy VM (tests/deploy/systemd.sh boots it: Debian 12 with
# systemd as PID 1), as root, from /root/tg, which holds the packages and
# this script. One phase per boot:
#
#   install   dpkg -i; the units driven for real: enable --now on a veth,
#             reload, a broken reload, the exporter, tollgate-dns following
#             dnsmasq, the security scores, an upgrade, stop and start.
#   reboot    after a reboot the filter is back; then dpkg -r and --purge.
#
# Prints "ok deploy/NAME" or "FAIL deploy/NAME: why" per check. The lab: a
# veth tgd0 in this system (the NIC tollgate filters), its peer tgd1 in the
# namespace tgd-peer; made at boot by tgd-lab.service, so that tgd0 appears
# the way a NIC does and tollgate@tgd0 starts with it.
# shellcheck disable=SC2317 # the checks call their helpers indirectly
set -u
TG_DIR=/root/tg
cd "$TG_DIR" || exit 1
PHASE=${1:?phase}

ok() { echo "ok deploy/$1"; }
fail() { echo "FAIL deploy/$1: $2"; }
check() { # NAME WHY CMD...: ok when CMD succeeds
	local name=$1 why=$2
	shift 2
	if "$@" >/dev/null 2>&1; then ok "$name"; else fail "$name" "$why"; fi
}
# wait_for SECONDS CMD...: polls CMD (4 times a second) until it succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.25
	done
}

peer() { ip netns exec tgd-peer "$@"; }
# The filter's verdict on a ping from the peer (198.51.100.2) to tgd0.
ping_passes() { peer ping -c 1 -W 2 198.51.100.1; }
ping_dropped() { ! peer ping -c 2 -i 0.3 -W 1 198.51.100.1; }
xdp_on_tgd0() { ip link show tgd0 | grep -q 'xdp'; }
no_xdp_on_tgd0() { ip link show tgd0 >/dev/null && ! xdp_on_tgd0; }
enforcing() { tollgate status tgd0 | grep -q '^  enforcing   yes$'; }
unit_active() { systemctl is-active --quiet "$1"; }
score() { # UNIT: systemd-analyze's overall exposure, e.g. 2.6
	systemd-analyze security "$1" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'
}
score_within() { # UNIT LIMIT
	local s
	s=$(score "$1")
	[ -n "$s" ] && awk -v s="$s" -v l="$2" 'BEGIN { exit !(s <= l) }'
}
prog_id() { ip -j link show tgd0 | python3 -c 'import json,sys; l=json.load(sys.stdin)[0]; x=l.get("xdp",{}); print(x.get("prog",{}).get("id") or [a["prog"]["id"] for a in x.get("attached",[])][0])'; }

policy_allow_ping() {
	cat <<'EOF'
# The deploy test's policy A: pings from the peer pass.
default deny
service ping-from-peer {
    direction in
    protocol icmp
    types echo-request
    peers 198.51.100.2/32
    action allow
}
EOF
}
policy_deny_ping() {
	cat <<'EOF'
# The deploy test's policy B: no pings; a host name the DNS test changes.
default deny
service peer-udp {
    direction in
    protocol udp
    ports 5353
    peers peer.example.test
    action allow
}
EOF
}

phase_install() {
	local out
	systemctl mask --now podman.service podman.socket podman-restart.service podman-auto-update.timer >/dev/null 2>&1

	# The DNS server tollgate asks: dnsmasq on 127.0.0.1, serving the
	# test's names with a short TTL. A host-name change is a SIGHUP away.
	printf '198.51.100.11 peer.example.test\n' >/root/tg/hosts
	dnsmasq --no-resolv --no-hosts --conf-file=/dev/null --user=root --listen-address=127.0.0.1 \
		--bind-interfaces --local=/example.test/ --addn-hosts=/root/tg/hosts --local-ttl=1 \
		--pid-file=/run/tgd-dnsmasq.pid
	echo 'nameserver 127.0.0.1' >/etc/resolv.conf

	if out=$(dpkg -i "$TG_DIR/tollgate.deb" 2>&1); then ok dpkg-install; else
		fail dpkg-install "$(tail -n 3 <<<"$out" | tr '\n' ' ')"
		return
	fi
	check exporter-enabled-and-started "tollgate-exporter is not active after the install" unit_active tollgate-exporter
	check dns-enabled-and-started "tollgate-dns is not active after the install" unit_active tollgate-dns
	check conffiles "the two env files are not conffiles" \
		grep -qx '/etc/tollgate/exporter.env' /var/lib/dpkg/info/tollgate.conffiles
	check examples-installed "no example policies under /usr/share/doc/tollgate/examples" \
		test -s /usr/share/doc/tollgate/examples/notarius.policy

	policy_allow_ping >/etc/tollgate/tgd0.policy
	printf 'TOLLGATE_FACING=outside\n' >/etc/tollgate/tgd0.env
	if out=$(systemctl enable --now tollgate@tgd0 2>&1); then ok enable-now; else
		fail enable-now "$out $(journalctl -u tollgate@tgd0 --no-pager | tail -n 5 | tr '\n' ' ')"
		return
	fi
	check attached-and-enforcing "tollgate status tgd0 does not say enforcing" enforcing
	check allowed-ping-passes "policy A allows the peer's ping, which did not pass" ping_passes

	policy_deny_ping >/etc/tollgate/tgd0.policy
	check systemctl-reload "systemctl reload tollgate@tgd0 failed" systemctl reload tollgate@tgd0
	check reload-enforced "after the reload to policy B the ping still passes" ping_dropped

	# A broken policy: the reload fails, the unit stays active, policy B
	# stays in force, and the journal says where the error is.
	cp /etc/tollgate/tgd0.policy /root/tg/b.policy
	printf 'default deny\nservice broken {\n    direction sideways\n}\n' >/etc/tollgate/tgd0.policy
	if systemctl reload tollgate@tgd0 >/dev/null 2>&1; then
		fail broken-reload-refused "systemctl reload succeeded with a broken policy"
	else
		ok broken-reload-refused
	fi
	check broken-reload-unit-active "tollgate@tgd0 is not active after a failed reload" unit_active tollgate@tgd0
	if tollgate show --json tgd0 | grep -q 'peer-udp' && ping_dropped >/dev/null 2>&1; then ok broken-reload-keeps-b; else
		fail broken-reload-keeps-b "$(tollgate show tgd0 | head -n 5 | tr '\n' ' ')"
	fi
	if journalctl -u tollgate@tgd0 --no-pager | grep -q 'tgd0.policy:3:[0-9]*: error'; then
		ok broken-reload-error-in-journal
	else
		fail broken-reload-error-in-journal "$(journalctl -u tollgate@tgd0 --no-pager | tail -n 4 | tr '\n' ' ')"
	fi
	cp /root/tg/b.policy /etc/tollgate/tgd0.policy

	# The exporter serves the interface attached after it started.
	metrics() { curl -sf "http://$1/metrics" | grep -q 'tollgate_.*interface="tgd0"'; }
	if wait_for 20 metrics 127.0.0.1:9731; then ok exporter-scrape; else
		fail exporter-scrape "$(curl -sS http://127.0.0.1:9731/metrics 2>&1 | head -n 3 | tr '\n' ' ')"
	fi

	# tollgate-dns follows a change of peer.example.test.
	host_is() { tollgate status tgd0 | grep -q "host .*peer.example.test: $1"; }
	check dns-resolved-at-attach "peer.example.test is not 198.51.100.11 in status" host_is 198.51.100.11
	printf '198.51.100.12 peer.example.test\n' >/root/tg/hosts
	kill -HUP "$(cat /run/tgd-dnsmasq.pid)"
	if wait_for 60 host_is 198.51.100.12; then ok dns-follows-change; else
		fail dns-follows-change "$(tollgate status tgd0 | grep host | tr '\n' ' '); $(journalctl -u tollgate-dns --no-pager | tail -n 3 | tr '\n' ' ')"
	fi

	# The hardening, as systemd itself rates it.
	local unit limit s
	for unit in tollgate@tgd0.service:3.5 tollgate-dns.service:3.0 tollgate-exporter.service:3.0; do
		limit=${unit#*:} unit=${unit%:*}
		s=$(score "$unit")
		echo "# systemd-analyze security $unit: ${s:-none}"
		if score_within "$unit" "$limit"; then ok "security-${unit%%[@.]*}"; else
			fail "security-${unit%%[@.]*}" "exposure ${s:-unknown} > $limit"
		fi
	done

	# An upgrade: the filter keeps running (same program), an edited conffile
	# is kept, an unedited one follows the package.
	local id_before id_after
	id_before=$(prog_id)
	sed -i 's/^TOLLGATE_EXPORTER_LISTEN=.*/TOLLGATE_EXPORTER_LISTEN=127.0.0.1:9732/' /etc/tollgate/exporter.env
	if out=$(dpkg -i --force-confdef --force-confold "$TG_DIR/tollgate-next.deb" 2>&1); then ok upgrade; else
		fail upgrade "$(tail -n 3 <<<"$out" | tr '\n' ' ')"
	fi
	id_after=$(prog_id)
	if [ -n "$id_before" ] && [ "$id_before" = "$id_after" ] && enforcing; then ok upgrade-keeps-filter; else
		fail upgrade-keeps-filter "XDP program $id_before before, $id_after after"
	fi
	check upgrade-keeps-edited-conffile "the edited exporter.env was replaced" \
		grep -qx 'TOLLGATE_EXPORTER_LISTEN=127.0.0.1:9732' /etc/tollgate/exporter.env
	check upgrade-replaces-unedited-conffile "dns.env is not the new package's" \
		grep -q 'next version' /etc/tollgate/dns.env
	check exporter-reads-env "the restarted exporter does not listen on exporter.env's 9732" \
		wait_for 20 metrics 127.0.0.1:9732

	check stop-detaches "XDP is still on tgd0 after systemctl stop" \
		sh -c 'systemctl stop tollgate@tgd0 && ! ip link show tgd0 | grep -q xdp'
	check start-attaches "no XDP on tgd0 after systemctl start" \
		sh -c 'systemctl start tollgate@tgd0 && ip link show tgd0 | grep -q xdp'
	check enabled-for-boot "tollgate@tgd0 is not enabled" systemctl is-enabled --quiet tollgate@tgd0
}

phase_reboot() {
	local out
	# tgd0 appears at boot (tgd-lab.service); its device unit starts the filter.
	check boot-unit-active "tollgate@tgd0 is not active after the reboot" wait_for 60 unit_active tollgate@tgd0
	check boot-enforcing "tollgate status tgd0 does not say enforcing after the reboot" enforcing
	check boot-policy-b "policy B is not in force after the reboot" ping_dropped
	check boot-exporter "tollgate-exporter is not active after the reboot" unit_active tollgate-exporter
	if out=$(dpkg -r tollgate 2>&1); then ok dpkg-remove; else fail dpkg-remove "$(tail -n 3 <<<"$out" | tr '\n' ' ')"; fi
	check remove-detaches "XDP is still on tgd0 after dpkg -r" no_xdp_on_tgd0
	check remove-unpins "/sys/fs/bpf/tollgate/tgd0 is still there after dpkg -r" test ! -e /sys/fs/bpf/tollgate/tgd0
	check remove-keeps-settings "dpkg -r removed the conffiles" test -e /etc/tollgate/exporter.env
	if out=$(dpkg -P tollgate 2>&1); then ok dpkg-purge; else fail dpkg-purge "$(tail -n 3 <<<"$out" | tr '\n' ' ')"; fi
	check purge-removes-settings "exporter.env is still there after the purge" test ! -e /etc/tollgate/exporter.env
	check purge-keeps-policies "the purge removed the administrator's tgd0.policy" test -e /etc/tollgate/tgd0.policy
}

case $PHASE in
install) phase_install ;;
reboot) phase_reboot ;;
*)
	echo "guest-systemd.sh: unknown phase $PHASE" >&2
	exit 2
	;;
esac
exit 0
