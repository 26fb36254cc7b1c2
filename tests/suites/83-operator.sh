#!/usr/bin/env bash
# What an operator asks of the CLI around enforcement (issue 14): which build
# this is, help on stdout for every command, one output format at a time,
# status as JSON with the same fields as the text, and no lock files for
# interfaces that have no tollgate. Two namespaces joined by a veth, as in
# 80-attach; everything is removed on exit, pass or fail.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/lab/lab.sh"
need_bpffs
A=tgoa$$ B=tgob$$ IA=toa$$ IB=tob$$
work=$(mktemp -d)
trap 'lab_cleanup; rm -rf "$work"' EXIT
tgB() { lab_in "$B" "$TG" "$@"; }

# -------------------------------------------------------------- version
read -r want_version want_commit < <("$TOP/scripts/version.sh")
out=$("$TG" --version 2>"$work/err"); rc=$?
if [ $rc -eq 0 ] && [ ! -s "$work/err" ] &&
	[ "$(head -1 <<<"$out")" = "tollgate $want_version (commit $want_commit)" ] &&
	grep -qx 'libbpf [0-9]*\.[0-9]*, libxdp [0-9.]*' <<<"$(sed -n 2p <<<"$out")"; then
	ok version/stdout
else
	fail version/stdout "exit $rc: $out $(cat "$work/err")"
fi
expect_exit version/short-option 0 "^tollgate $want_version " "$TG" -V
# In this checkout, a version that says where it comes from.
grep -qE '^[0-9]+\.[0-9]+\.[0-9]+(-[0-9]+-g[0-9a-f]+)?(-dirty)?$' <<<"$want_version" && grep -qE '^[0-9a-f]{12}$' <<<"$want_commit" &&
	ok version/from-git || fail version/from-git "'$want_version' '$want_commit'"

# ------------------------------------------------------------------ help
# Every command the top-level help lists answers --help on stdout, exit 0.
cmds=$("$TG" --help | awk '/^commands:/ {on = 1; next} on && /^  tollgate / {print $2}')
bad=
for c in $cmds; do
	out=$("$TG" "$c" --help 2>"$work/err"); rc=$?
	[ $rc -eq 0 ] && [ ! -s "$work/err" ] && grep -q "^usage: tollgate $c" <<<"$out" || bad="$bad $c($rc)"
done
[ -n "$cmds" ] && [ -z "$bad" ] && ok help/every-command-stdout-exit-0 || fail help/every-command-stdout-exit-0 "bad:$bad; commands: $cmds"

# ---------------------------------------------------------------- formats
expect_exit formats/json-and-prometheus 2 "--json and --prometheus are two formats" "$TG" stats --json --prometheus
expect_exit formats/prometheus-and-json 2 "--json and --prometheus are two formats" "$TG" stats --prometheus --json

# ------------------------------------------------------ lock files
# A command on a name that has no tollgate leaves nothing in /run/tollgate.
GHOST=tgghost$$
lab_tollgate_iface "$GHOST"
printf 'default deny\n' >"$work/deny.policy"
expect_exit locks/attach-missing-nic 1 "no network interface named '$GHOST'" "$TG" attach "$GHOST" "$work/deny.policy"
expect_exit locks/detach-missing 1 "has no tollgate attached" "$TG" detach "$GHOST"
expect_exit locks/reload-missing 1 "" "$TG" reload "$GHOST" "$work/deny.policy"
expect_exit locks/status-missing 1 "" "$TG" status "$GHOST"
[ ! -e "/run/tollgate/$GHOST.lock" ] && ok locks/none-left-for-missing || fail locks/none-left-for-missing "$(ls /run/tollgate)"

# --------------------------------------------------------- status --json
lab_pair "$A" "$IA" 198.18.40.1/24 "$B" "$IB" 198.18.40.2/24
cat >"$work/sets.policy" <<'P'
set lab { 198.18.40.0/24, 2001:db8:40::/64 }
P
cat >"$work/base.policy" <<'P'
default deny
include "sets.policy"
service dns-lab { direction in; protocol udp; ports 5353; peers 198.18.40.0/24; action allow }
service ssh-lab { direction in; protocol tcp; ports 2222, 2200-2210; peers @lab, h.example.test; action allow }
P
cat >"$work/next.policy" <<'P'
default deny
service dns-lab { direction in; protocol udp; ports 5353; peers 198.18.40.0/24; action allow }
P
attach_out=$(tgB attach --host h.example.test=198.18.40.9 "$IB" "$work/base.policy" 2>"$work/attach.err") || { fail status/attach "$(cat "$work/attach.err")"; exit 0; }
# Whatever attach had to say beyond its one result line went to stderr.
[ "$(wc -l <<<"$attach_out")" -eq 1 ] && ! grep -q "note:" <<<"$attach_out" && ok attach/note-on-stderr ||
	fail attach/note-on-stderr "stdout: $attach_out"
[ -e "/run/tollgate/$IB.lock" ] && ok locks/kept-while-attached || fail locks/kept-while-attached "no lock file for $IB"

tgB status "$IB" >"$work/status.txt"
tgB status --json "$IB" >"$work/status.json"; rc=$?
# The same fields, read from both forms and compared: the text's local time
# against the JSON's UTC, the rest verbatim.
if [ $rc -eq 0 ] && python3 - "$work/status.txt" "$work/status.json" "$IB" "$work/base.policy" >"$work/cmp" 2>&1 <<'PY'; then
import json, sys, datetime
text = {}
for line in open(sys.argv[1]):
    if line.startswith("  "):
        k, _, v = line.strip().partition(" ")
        text.setdefault(k, v.strip())
doc = json.load(open(sys.argv[2]))
assert len(doc["interfaces"]) == 1, doc
s = doc["interfaces"][0]
want = {"interface": sys.argv[3], "enforcing": True, "not_enforcing_because": None, "generation": 1}
for k, v in want.items():
    assert s[k] == v, (k, s[k])
assert text["enforcing"] == "yes"
assert s["mode"] == text["mode"] and s["facing"] == text["facing"], (s, text)
assert s["egress"] == text["egress"], (s["egress"], text["egress"])
assert s["policy"]["path"] == text["policy"] == sys.argv[4], (s["policy"], text["policy"])
assert s["policy"]["sha256"] == text["sha256"] and len(text["sha256"]) == 64
assert s["policy"]["services"] == int(text["services"]) == 2
assert str(s["generation"]) == text["generation"]
loaded = datetime.datetime.strptime(s["policy"]["loaded"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
local = datetime.datetime.strptime(text["loaded"], "%Y-%m-%d %H:%M:%S").astimezone()
assert loaded == local, (loaded, local)
assert text["attached"].startswith("through libxdp" if s["attached"] == "dispatcher" else "directly"), (s["attached"], text["attached"])
assert s["confirm"] == {"pending": False}, s["confirm"]
assert len(s["hosts"]) == 1, s["hosts"]
h = s["hosts"][0]
assert h["name"] == "h.example.test" and h["addresses"] == ["198.18.40.9"] and h["fixed"] is True, h
assert h["resolving"] is True and h["error"] is None and h["failures"] == 0, h
assert text["host"].startswith("h.example.test: 198.18.40.9 (fixed with --host)"), text["host"]
flows = doc["flows"]
assert set(flows) == {"opened_here", "opened_remote"}, flows
for o in flows.values():
    assert all(isinstance(o[k], int) and o[k] >= 0 for k in ("live", "size", "created", "evicted")), o
print("same")
PY
	ok status/json-matches-text
else
	fail status/json-matches-text "exit $rc: $(tail -c 400 "$work/cmp")"
fi

expect_exit status/reload-confirm 0 "rolls back" tgB reload --confirm 120 "$IB" "$work/next.policy"
tgB status --json "$IB" >"$work/pending.json"
if python3 - "$work/pending.json" "$work/base.policy" "$work/next.policy" >"$work/cmp" 2>&1 <<'PY'; then
import json, sys, datetime
s = json.load(open(sys.argv[1]))["interfaces"][0]
c = s["confirm"]
assert c["pending"] is True, c
deadline = datetime.datetime.strptime(c["deadline"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
now = datetime.datetime.now(datetime.timezone.utc)
assert now < deadline <= now + datetime.timedelta(seconds=121), (now, deadline)
assert c["rolls_back_to"]["path"] == sys.argv[2], c
assert s["policy"]["path"] == sys.argv[3] and s["generation"] == 2 and s["policy"]["services"] == 1, s
PY
	ok status/json-confirm-pending
else
	fail status/json-confirm-pending "$(tail -c 400 "$work/cmp")"
fi
expect_exit status/confirmed 0 "confirmed" tgB confirm "$IB"
tgB status --json "$IB" | python3 -c 'import json,sys; c=json.load(sys.stdin)["interfaces"][0]["confirm"]; sys.exit(c != {"pending": False})' &&
	ok status/json-confirm-done || fail status/json-confirm-done "$(tgB status --json "$IB")"

# ------------------------------------------------------------------ show
# What is enforced, from the pinned state: the file on disk changes after
# the reload above, and show does not follow it.
cp "$work/next.policy" "$work/next.policy.orig"
printf 'service late { direction in; protocol udp; ports 9; peers any; action allow }\n' >>"$work/next.policy"
expect_exit show/text 0 "^  1\. dns-lab: in udp ports 5353, allow; peers 1 IPv4, 0 IPv6 prefixes$" tgB show "$IB"
! grep -q late <<<"$out" && ok show/not-the-file-on-disk || fail show/not-the-file-on-disk "$out"
cp "$work/next.policy.orig" "$work/next.policy"
expect_exit reload/base-again 0 "generation 3" tgB reload --host h.example.test=198.18.40.9 "$IB" "$work/base.policy"
tgB show --json --prefixes "$IB" >"$work/show.json"; rc=$?
if [ $rc -eq 0 ] && python3 - "$work/show.json" "$IB" >"$work/cmp" 2>&1 <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1]))
assert d["interface"] == sys.argv[2] and d["generation"] == 3 and d["facing"] == "outside", d
assert d["settings"]["default"] == "deny" and d["settings"]["replies"] == "tracked", d["settings"]
assert isinstance(d["settings"]["flow-table"], int), d["settings"]
names = [s["name"] for s in d["services"]]
assert names == ["dns-lab", "ssh-lab"], names
dns, ssh = d["services"]
assert dns == {"name": "dns-lab", "direction": "in", "role": "request", "protocols": "udp", "ports": [[5353, 5353]],
               "action": "allow", "peers": {"ipv4": 1, "ipv6": 0}, "hosts": [], "prefixes": ["198.18.40.0/24"]}, dns
assert ssh["ports"] == [[2222, 2222], [2200, 2210]], ssh
assert ssh["peers"] == {"ipv4": 2, "ipv6": 1}, ssh
assert ssh["hosts"] == [{"name": "h.example.test", "addresses": ["198.18.40.9"]}], ssh
assert ssh["prefixes"] == ["198.18.40.0/24", "198.18.40.9/32", "2001:db8:40::/64"], ssh
print("as compiled")
PY
	ok show/json-matches-the-policy
else
	fail show/json-matches-the-policy "exit $rc: $(tail -c 400 "$work/cmp")"
fi
expect_exit show/missing-interface 1 "has no tollgate attached" "$TG" show "$GHOST"

# ------------------------------------------------------------ dry run
gen_of() { tgB status --json "$IB" | python3 -c 'import json,sys; print(json.load(sys.stdin)["interfaces"][0]["generation"])'; }
tgB show --prefixes "$IB" >"$work/show-before"
cat >"$work/changed.policy" <<'P'
default deny
replies stateless
set lab { 198.18.40.0/24, 198.18.41.0/24 }
service ssh-lab { direction in; protocol tcp; ports 2222; peers @lab; action allow }
service web-lab { direction in; protocol tcp; ports 8080; peers @lab; action allow }
P
expect_exit dry-run/changes 0 "dry run, nothing changed" tgB reload --dry-run "$IB" "$work/changed.policy"
for want in "setting replies: tracked -> stateless" "service dns-lab: removed \(was number 1\)" \
	"service web-lab: added \(number 2\)" "service ssh-lab: ports/types 2222, 2200-2210 -> 2222" \
	"service ssh-lab: peers 1 added, 2 removed" "      \+ 198.18.41.0/24" "      - 2001:db8:40::/64" "      - 198.18.40.9/32"; do
	grep -qE -- "^  ?$want\$|^$want\$" <<<"$out" || { fail "dry-run/names: $want" "$out"; continue; }
	ok "dry-run/names: ${want//\\/}"
done
[ "$(gen_of)" = 3 ] && tgB show --prefixes "$IB" | cmp -s - "$work/show-before" && ok dry-run/changes-nothing ||
	fail dry-run/changes-nothing "generation $(gen_of)"
expect_exit dry-run/same-policy 0 "  nothing: the same settings, services, order and peers" \
	tgB reload --dry-run --host h.example.test=198.18.40.9 "$IB" "$work/base.policy"
printf 'default deny\nservice x { direction in; protocol tcp; ports 70000; peers any; action allow }\n' >"$work/bad.policy"
expect_exit dry-run/bad-policy 1 "bad.policy:2:" tgB reload --dry-run "$IB" "$work/bad.policy"
expect_exit dry-run/with-confirm 2 "nothing to --confirm" tgB reload --dry-run --confirm 30 "$IB" "$work/changed.policy"
[ "$(gen_of)" = 3 ] && ok dry-run/generation-unchanged || fail dry-run/generation-unchanged "generation $(gen_of)"
expect_exit reload/after-dry-run 0 "generation 4" tgB reload "$IB" "$work/changed.policy"

# Not enforcing: the same exit status as the text, and the reason.
ip -n "$B" link set dev "$IB" xdp off 2>/dev/null || ip -n "$B" link set dev "$IB" xdpgeneric off 2>/dev/null
out=$(tgB status --json "$IB"); rc=$?
[ $rc -eq 3 ] && python3 -c 'import json,sys; s=json.loads(sys.argv[1])["interfaces"][0]; sys.exit(not (s["enforcing"] is False and s["not_enforcing_because"]))' "$out" &&
	ok status/json-not-enforcing || fail status/json-not-enforcing "exit $rc: $out"
# A named interface without tollgate: exit 1, and still one JSON document.
out=$("$TG" status --json "$GHOST" 2>/dev/null); rc=$?
[ $rc -eq 1 ] && python3 -c 'import json,sys; sys.exit(json.loads(sys.argv[1])["interfaces"] != [])' "$out" &&
	ok status/json-missing-interface || fail status/json-missing-interface "exit $rc: $out"

expect_exit detach/force 0 "detached|removed" tgB detach --force "$IB"
[ ! -e "/run/tollgate/$IB.lock" ] && ok locks/removed-with-detach || fail locks/removed-with-detach "still $(ls /run/tollgate)"
