#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The Ansible role (packaging/ansible/roles/tollgate) against a target VM,
# driven from the controller (this host) over SSH:
#
#   tests/deploy/ansible/run.sh PORT KEY DEB IFACE
#
# PORT  the SSH port of the target on 127.0.0.1 (root logs in with KEY)
# KEY   the private key for root@127.0.0.1:PORT
# DEB   the tollgate .deb on this host; the role copies and installs it
# IFACE an interface that exists on the target (a veth); tollgate is
#       attached there in native mode (TOLLGATE_ANSIBLE_MODE=skb to change)
#
# The target needs python3, sshd, systemd and the package's dependencies;
# no network beyond the SSH forward. Prints one line per check,
# "ok deploy/ansible-NAME" or "FAIL deploy/ansible-NAME: reason", and
# exits 1 if any failed. Each play's output is kept in TOLLGATE_ANSIBLE_LOGS
# (default: a temporary directory, removed at the end); the tail of a
# failing play's output goes to stderr.
set -u
# Ansible refuses any locale but UTF-8 ones; C.UTF-8 is in every Debian.
export LC_ALL=C.UTF-8

if [ $# -ne 4 ]; then
	echo "usage: tests/deploy/ansible/run.sh PORT KEY DEB IFACE" >&2
	exit 2
fi
PORT=$1 IFACE=$4
KEY=$(realpath -e -- "$2") || exit 2
DEB=$(realpath -e -- "$3") || exit 2
MODE=${TOLLGATE_ANSIBLE_MODE:-native}
HERE=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)

command -v ansible-playbook >/dev/null || {
	echo "FAIL deploy/ansible-setup: ansible-playbook not found"
	exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-ansible.XXXXXX")
logs=${TOLLGATE_ANSIBLE_LOGS:-$work/logs}
mkdir -p "$logs" "$work/tmp"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

SSH_OPTS=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
	-o BatchMode=yes -o ConnectTimeout=20 -o IdentitiesOnly=yes)

cat >"$work/inventory.yml" <<EOF
all:
  hosts:
    target:
      ansible_host: 127.0.0.1
      ansible_port: $PORT
      ansible_user: root
      ansible_ssh_private_key_file: "$KEY"
      ansible_ssh_common_args: "${SSH_OPTS[*]}"
      ansible_python_interpreter: /usr/bin/python3
EOF

# Only this file: no ~/.ansible.cfg, ./ansible.cfg or /etc/ansible.
cat >"$work/ansible.cfg" <<EOF
[defaults]
roles_path = $ROOT/packaging/ansible/roles
inventory = $work/inventory.yml
host_key_checking = False
retry_files_enabled = False
stdout_callback = default
forks = 1
timeout = 30
local_tmp = $work/tmp
nocolor = True
deprecation_warnings = False

[ssh_connection]
pipelining = True
EOF
export ANSIBLE_CONFIG=$work/ansible.cfg ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
unset ANSIBLE_ROLES_PATH ANSIBLE_INVENTORY ANSIBLE_STDOUT_CALLBACK ANSIBLE_CALLBACKS_ENABLED ANSIBLE_VAULT_PASSWORD_FILE

failures=0
ok() { echo "ok deploy/ansible-$1"; }
fail() {
	echo "FAIL deploy/ansible-$1: $2"
	failures=$((failures + 1))
}

tssh() { timeout 120 ssh "${SSH_OPTS[@]}" -i "$KEY" -p "$PORT" root@127.0.0.1 "$@"; }

# play NAME POLICY [EXTRA-ARGS...]: runs the role with POLICY on IFACE; the
# output goes to $logs/NAME.log, the exit status is the play's.
play() {
	local name=$1 policy=$2
	shift 2
	local vars
	vars=$(printf '{"tollgate_deb": "%s", "tollgate_interfaces": [{"name": "%s", "policy": "%s", "mode": "%s"}]}' \
		"$DEB" "$IFACE" "$HERE/$policy" "$MODE")
	timeout 1200 ansible-playbook "$HERE/playbook.yml" -e "$vars" "$@" >"$logs/$name.log" 2>&1
}

# The tail of a play's output, for a failing check.
show() {
	echo "--- deploy/ansible-$1: the last lines of $logs/$1.log" >&2
	tail -n 40 "$logs/$1.log" | sed 's/^/    /' >&2
}

# changed=N of the PLAY RECAP, or "?" when there is no recap.
recap_changed() {
	sed -n 's/^target *: .*changed=\([0-9]*\).*/\1/p' "$logs/$1.log" | tail -n 1 | grep . || echo "?"
}

# What is in force on IFACE: "SHA256 pending|confirmed enforcing|not-enforcing",
# or "none" when tollgate is not attached there.
in_force() {
	tssh tollgate status --json "$IFACE" 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
    i = d["interfaces"][0]
except Exception:
    print("none")
    sys.exit(0)
print(i["policy"]["sha256"], "pending" if i["confirm"]["pending"] else "confirmed",
      "enforcing" if i["enforcing"] else "not-enforcing")'
}

# The SHA-256 of the policy file on the target, or "none".
file_sha() {
	tssh sha256sum "/etc/tollgate/$IFACE.policy" 2>/dev/null | cut -d' ' -f1 | grep . || echo "none"
}

sha() { sha256sum "$HERE/$1" | cut -d' ' -f1; }
A=$(sha policy-a.policy) B=$(sha policy-b.policy) C=$(sha policy-c.policy)
name_of() {
	case $1 in
	"$A") echo A ;;
	"$B") echo B ;;
	"$C") echo C ;;
	*) echo "$1" ;;
	esac
}

# expect_state CHECK POLICY-SHA: in force and on file is that policy,
# enforcing, with no confirmation pending.
expect_state() {
	local check=$1 want=$2 now file
	now=$(in_force)
	file=$(file_sha)
	if [ "$now" != "$want confirmed enforcing" ]; then
		fail "$check" "in force on $IFACE: $(name_of "${now%% *}") ${now#* } (want $(name_of "$want") confirmed enforcing)"
	elif [ "$file" != "$want" ]; then
		fail "$check" "/etc/tollgate/$IFACE.policy is $(name_of "$file"), want $(name_of "$want")"
	else
		ok "$check"
	fi
}

if ! tssh true; then
	echo "FAIL deploy/ansible-setup: cannot ssh to root@127.0.0.1:$PORT with $KEY"
	exit 1
fi

# a. The first run with policy A: installs the package, attaches, starts
#    the exporter.
if play first policy-a.policy; then
	ok first-run
else
	fail first-run "the play failed (exit $?)"
	show first
fi
if out=$(tssh tollgate status "$IFACE" 2>&1) && grep -q '^  enforcing   yes' <<<"$out"; then
	ok first-enforcing
else
	fail first-enforcing "tollgate status $IFACE: $(head -n 3 <<<"$out" | tr '\n' ' ')"
fi
expect_state first-policy-a "$A"
if [ "$(tssh systemctl is-active tollgate-exporter.service)" = active ]; then
	ok first-exporter-active
else
	fail first-exporter-active "tollgate-exporter.service is $(tssh systemctl is-active tollgate-exporter.service)"
fi
if [ "$(tssh systemctl is-enabled "tollgate@$IFACE.service")" = enabled ]; then
	ok first-unit-enabled
else
	fail first-unit-enabled "tollgate@$IFACE.service is $(tssh systemctl is-enabled "tollgate@$IFACE.service") (comes back after a reboot only when enabled)"
fi

# b. The same again: nothing changes.
if play second policy-a.policy; then
	n=$(recap_changed second)
	if [ "$n" = 0 ]; then
		ok idempotent
	else
		fail idempotent "changed=$n on a second identical run: $(grep -E '^changed:' "$logs/second.log" | head -n 5 | tr '\n' ' ')"
		show second
	fi
else
	fail idempotent "the second run failed (exit $?)"
	show second
fi

# c. --check --diff with policy B: shows the dry run, changes nothing.
if play check policy-b.policy --check --diff; then
	if grep -q "would change generation" "$logs/check.log" && grep -q "service web: added" "$logs/check.log"; then
		ok check-shows-dry-run
	else
		fail check-shows-dry-run "no 'would change generation ... service web: added' in the output"
		show check
	fi
else
	fail check-shows-dry-run "the --check --diff run failed (exit $?)"
	show check
fi
expect_state check-changes-nothing "$A"

# d. Apply B: reloaded, healthy, confirmed. Every task takes seconds under
#    TCG, and the reconnect, the status check and the confirmation must fit in
#    the confirmation time: give them three minutes.
if play apply-b policy-b.policy -e tollgate_confirm_seconds=180; then
	n=$(recap_changed apply-b)
	if [ "$n" != "?" ] && [ "$n" -gt 0 ]; then
		ok apply-b
	else
		fail apply-b "changed=$n, want a change"
		show apply-b
	fi
else
	fail apply-b "the play failed (exit $?)"
	show apply-b
fi
expect_state apply-b-in-force "$B"

# e. A broken policy: the play fails with tollgate's file:line:col message
#    and nothing changes.
if play broken policy-broken.policy; then
	fail broken-refused "the play succeeded"
	show broken
elif grep -qE ':[0-9]+:[0-9]+: error: ' "$logs/broken.log"; then
	ok broken-refused
else
	fail broken-refused "the play failed without a FILE:LINE:COL: error: message"
	show broken
fi
expect_state broken-changes-nothing "$B"

# f. Policy C with a failing health check and a short confirmation time:
#    not confirmed, tollgate rolls back to B, the file is B again.
if play unhealthy policy-c.policy -e tollgate_health_command=false -e tollgate_confirm_seconds=10; then
	fail unhealthy-refused "the play succeeded"
	show unhealthy
elif grep -q "was NOT confirmed" "$logs/unhealthy.log"; then
	ok unhealthy-refused
else
	fail unhealthy-refused "the play failed, but not with the role's 'was NOT confirmed' message"
	show unhealthy
fi
expect_state unhealthy-rolled-back "$B"

[ "$failures" -eq 0 ]
