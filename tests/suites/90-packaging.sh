#!/usr/bin/env bash
# make install and make uninstall into a staging root: the exact layout and
# modes, a binary that runs, systemd units that systemd-analyze accepts
# without a warning, a bash completion that completes, man pages that render
# without a groff warning, and an uninstall that removes what was installed
# and nothing of the administrator's.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/lab/lab.sh"
root=$(mktemp -d) # DESTDIR
work=$(mktemp -d)
trap 'lab_cleanup; rm -rf "$root" "$work"' EXIT

# SYSCONFDIR and SYSTEMDUNITDIR from the caller's environment would move files.
mk() { env -u SYSCONFDIR -u SYSTEMDUNITDIR make -C "$TOP" --no-print-directory "$@" DESTDIR="$root" PREFIX=/usr; }

# The administrator's own policy, named like a shipped example: never touched.
mkdir -p "$root/etc/tollgate"
printf '# mine\ndefault deny\n' >"$root/etc/tollgate/notarius.policy"
chmod 0600 "$root/etc/tollgate/notarius.policy"

# ---------------------------------------------------------------- install
if out=$(mk install 2>&1); then
	ok packaging/install
else
	fail packaging/install "$(tail -n 5 <<<"$out" | tr '\n' ' ')"
	exit 0
fi

# Every file, with its mode; every directory is 0755.
{
	echo "755 usr/sbin/tollgate"
	echo "644 usr/share/man/man8/tollgate.8.gz"
	echo "644 usr/share/man/man5/tollgate.policy.5.gz"
	echo "644 usr/share/bash-completion/completions/tollgate"
	echo "644 usr/lib/systemd/system/tollgate@.service"
	echo "644 usr/lib/systemd/system/tollgate-exporter.service"
	echo "644 usr/lib/systemd/system/tollgate-dns.service"
	echo "644 usr/share/tollgate/installed-files"
	for d in README.md docs/policy.md docs/design.md docs/metrics.md; do
		echo "644 usr/share/doc/tollgate/$(basename "$d")"
	done
	for m in "$TOP"/packaging/monitoring/*; do
		case $m in *.test.yml) continue ;; esac
		echo "644 usr/share/tollgate/monitoring/$(basename "$m")"
	done
	for p in "$TOP"/policies/*.policy; do
		echo "644 etc/tollgate/examples/$(basename "$p")"
	done
	echo "644 etc/tollgate/exporter.env"
	echo "644 etc/tollgate/dns.env"
	echo "600 etc/tollgate/notarius.policy" # the administrator's, from above
} | sort -k2 >"$work/expected"
layout() { (cd "$root" && find . -mindepth 1 ! -type d -printf '%m %P\n' | sort -k2); }
layout >"$work/actual"
if diff -u "$work/expected" "$work/actual" >"$work/diff"; then
	ok packaging/layout
else
	fail packaging/layout "$(grep '^[-+][0-9]' "$work/diff" | tr '\n' ' ')"
fi
dirs=$(cd "$root" && find . -mindepth 1 -type d ! -perm 0755 -printf '%m %P\n')
if [ -z "$dirs" ]; then ok packaging/dir-modes; else fail packaging/dir-modes "$(tr '\n' ' ' <<<"$dirs")"; fi

if [ "$(cat "$root/etc/tollgate/notarius.policy")" = "$(printf '# mine\ndefault deny')" ]; then
	ok packaging/admin-policy-untouched
else
	fail packaging/admin-policy-untouched "an existing /etc/tollgate/notarius.policy was overwritten"
fi

units=("$root"/usr/lib/systemd/system/tollgate@.service "$root"/usr/lib/systemd/system/tollgate-exporter.service
	"$root"/usr/lib/systemd/system/tollgate-dns.service)
if ! grep -q '@[A-Z]*@' "${units[@]}" &&
	grep -q '^ExecStart=/usr/sbin/tollgate attach ' "${units[0]}" &&
	grep -q '^ExecStart=/usr/sbin/tollgate serve ' "${units[1]}"; then
	ok packaging/units-point-at-sbin
else
	fail packaging/units-point-at-sbin "$(grep -h -e '@[A-Z]*@' -e '^ExecStart=' "${units[@]}" | tr '\n' ' ')"
fi

# Every document the man page names by file is installed beside it.
cited=$(grep -o 'docs/[a-z]*\.md' "$TOP/docs/tollgate.8" "$TOP/docs/tollgate.policy.5" | sed 's|.*docs/||' | sort -u)
missing=
for d in $cited; do [ -f "$root/usr/share/doc/tollgate/$d" ] || missing="$missing $d"; done
if [ -n "$cited" ] && [ -z "$missing" ]; then ok packaging/cited-docs-installed; else fail packaging/cited-docs-installed "not installed:$missing"; fi

# The units name the policies under SYSCONFDIR, whatever it is.
root2=$(mktemp -d)
if env SYSCONFDIR=/srv/conf make -C "$TOP" --no-print-directory install DESTDIR="$root2" PREFIX=/usr >/dev/null 2>&1 &&
	grep -q '^ExecStart=.* %I /srv/conf/tollgate/%I.policy$' "$root2/usr/lib/systemd/system/tollgate@.service" &&
	grep -q '^EnvironmentFile=-/srv/conf/tollgate/%I.env$' "$root2/usr/lib/systemd/system/tollgate@.service" &&
	grep -q '^EnvironmentFile=-/srv/conf/tollgate/exporter.env$' "$root2/usr/lib/systemd/system/tollgate-exporter.service" &&
	grep -q '^EnvironmentFile=-/srv/conf/tollgate/dns.env$' "$root2/usr/lib/systemd/system/tollgate-dns.service" &&
	[ -f "$root2/srv/conf/tollgate/exporter.env" ] &&
	! grep -q '/etc/tollgate' "$root2"/usr/lib/systemd/system/*.service; then
	ok packaging/units-follow-sysconfdir
else
	fail packaging/units-follow-sysconfdir "$(grep -h -e tollgate/ "$root2"/usr/lib/systemd/system/*.service 2>&1 | head -3 | tr '\n' ' ')"
fi
rm -rf "$root2"

# make deb's install: examples with the docs, no manifest (dpkg keeps its own).
root3=$(mktemp -d)
if env -u SYSCONFDIR -u SYSTEMDUNITDIR make -C "$TOP" --no-print-directory install DESTDIR="$root3" PREFIX=/usr \
	MANIFEST=no EXAMPLEDIR=/usr/share/doc/tollgate/examples >/dev/null 2>&1 &&
	[ -f "$root3/usr/share/doc/tollgate/examples/notarius.policy" ] && [ ! -e "$root3/etc/tollgate/examples" ] &&
	[ ! -e "$root3/usr/share/tollgate/installed-files" ] && [ -f "$root3/etc/tollgate/exporter.env" ]; then
	ok packaging/install-for-a-package
else
	fail packaging/install-for-a-package "$(cd "$root3" && find . -type f | sort | tr '\n' ' ')"
fi
rm -rf "$root3"

# gzip -9n: no name, no time stamp, so the same bytes on every install.
if cmp -s <(gzip -9n <"$TOP/docs/tollgate.8") "$root/usr/share/man/man8/tollgate.8.gz" &&
	cmp -s <(gzip -9n <"$TOP/docs/tollgate.policy.5") "$root/usr/share/man/man5/tollgate.policy.5.gz"; then
	ok packaging/man-gzip-9n
else
	fail packaging/man-gzip-9n "the installed pages are not gzip -9n of docs/"
fi

if out=$("$root/usr/sbin/tollgate" --help 2>&1) && grep -q '^usage: tollgate .*COMMAND' <<<"$out"; then
	ok packaging/binary-runs
else
	fail packaging/binary-runs "$(head -c 300 <<<"$out")"
fi

# ------------------------------------------------------- systemd-analyze
# verify fails on an ExecStart= binary that does not exist, and the units
# name /usr/sbin/tollgate, which is in $root. --root=$root would find it,
# but verify then loads every unit from $root too, where there is no
# sysinit.target and the rest of systemd. So: copies of the installed units
# that point at the staged binary, checked against the host's systemd, with
# MANPATH so that Documentation=man:... is checked against the staged pages.
# verify exits 0 on warnings (unknown keys, bad values): its output must be
# empty.
if ! command -v systemd-analyze >/dev/null; then
	fail packaging/systemd-verify "no systemd-analyze: run scripts/install-deps.sh"
else
	mkdir "$work/units"
	for u in "${units[@]}"; do
		sed "s|/usr/sbin/tollgate|$root/usr/sbin/tollgate|g" "$u" >"$work/units/$(basename "$u")"
	done
	out=$(cd "$work/units" && MANPATH="$root/usr/share/man" systemd-analyze verify \
		"$work/units/tollgate@.service" "$work/units/tollgate-exporter.service" "$work/units/tollgate-dns.service" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && [ -z "$out" ]; then
		ok packaging/systemd-verify
	else
		fail packaging/systemd-verify "exit $rc: $(head -n 8 <<<"$out" | tr '\n' ' ')"
	fi
fi

# enable: at boot and whenever the NIC appears; the exporter at boot.
if command -v systemctl >/dev/null; then
	mkdir -p "$work/eroot/usr/lib/systemd/system"
	cp "${units[@]}" "$work/eroot/usr/lib/systemd/system/"
	out=$(systemctl --root="$work/eroot" enable tollgate@eth1.service tollgate-exporter.service 2>&1)
	w=$work/eroot/etc/systemd/system
	if [ -L "$w/multi-user.target.wants/tollgate@eth1.service" ] &&
		[ -L "$w/sys-subsystem-net-devices-eth1.device.wants/tollgate@eth1.service" ] &&
		[ -L "$w/multi-user.target.wants/tollgate-exporter.service" ]; then
		ok packaging/systemd-enable
	else
		fail packaging/systemd-enable "$(head -n 4 <<<"$out" | tr '\n' ' ')"
	fi
else
	fail packaging/systemd-enable "no systemctl: run scripts/install-deps.sh"
fi

# -------------------------------------------------------------- man pages
if ! command -v man >/dev/null; then
	fail packaging/man "no man: run scripts/install-deps.sh"
else
	for page in man8/tollgate.8.gz man5/tollgate.policy.5.gz; do
		MANWIDTH=80 man --warnings -l "$root/usr/share/man/$page" >"$work/man.out" 2>"$work/man.err"
		rc=$?
		if [ $rc -eq 0 ] && [ ! -s "$work/man.err" ] && [ "$(wc -l <"$work/man.out")" -gt 20 ]; then
			ok "packaging/man/${page#*/}"
		else
			fail "packaging/man/${page#*/}" "exit $rc: $(head -n 5 "$work/man.err" | tr '\n' ' ')"
		fi
	done
fi

# ------------------------------------------------------------- completion
# complete WORD...: what the installed completion offers for the last word
# (bash splits "--mode=x" into "--mode" "=" "x"; the callers do the same).
complete_words() {
	bash --norc --noprofile -c '
		. "$1" || exit 1
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="${COMP_WORDS[*]}"
		COMP_POINT=${#COMP_LINE}
		_tollgate tollgate "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort | tr "\n" " "' \
		complete "$work/completion" "$@"
}
# expect_completion NAME "WANTED" WORD...: the offers, sorted, space-separated.
expect_completion() {
	local name=$1 want=$2 got
	shift 2
	got=$(complete_words "$@" 2>&1)
	if [ "$got" = "$want" ]; then ok "$name"; else fail "$name" "offered '$got', want '$want'"; fi
}

# A copy: the tests at the end run after the uninstall.
cp "$root/usr/share/bash-completion/completions/tollgate" "$work/completion"
reg=$(bash --norc --noprofile -c '. "$1" && complete -p tollgate' complete "$work/completion" 2>&1)
if [ "$reg" = "complete -F _tollgate tollgate" ]; then ok completion/loads; else fail completion/loads "$reg"; fi
expect_completion completion/commands "stats status " tollgate st
expect_completion completion/options "--dns-server --facing --force --help --host --mode --quiet --ttl-max --ttl-min --verbose " tollgate attach --
expect_completion completion/mode-values "native skb " tollgate attach --mode ''
expect_completion completion/mode-equals "native skb " tollgate attach --mode =
expect_completion completion/facing-equals-prefix "inside " tollgate check --facing = i
expect_completion completion/stats-options "--help --json --prometheus --quiet --textfile --verbose --watch " tollgate stats --
expect_completion completion/after-verbose "native skb " tollgate -v attach --mode ''
mkdir -p "$work/files/sub"
touch "$work/files/a.policy" "$work/files/b.pcap" "$work/files/c.pcapng" "$work/files/notes.txt"
expect_completion completion/policy-files "$work/files/a.policy $work/files/sub " \
	tollgate check --host x=192.0.2.1 "$work/files/"
expect_completion completion/pcap-files "$work/files/b.pcap $work/files/c.pcapng $work/files/sub " \
	tollgate replay "$work/files/a.policy" "$work/files/"
got=$(complete_words tollgate attach --facing inside '')
if grep -qw lo <<<"$got"; then ok completion/attach-interfaces; else fail completion/attach-interfaces "offered '$got'"; fi

# -------------------------------------------------------------- uninstall
# Installing again over an install changes nothing, and uninstall still
# removes the directories that the first one created.
if out=$(mk install 2>&1) && layout | diff -q "$work/expected" - >/dev/null; then
	ok packaging/reinstall
else
	fail packaging/reinstall "$(tail -n 3 <<<"$out" | tr '\n' ' ')"
fi
printf 'default deny\n' >"$root/etc/tollgate/my.policy"
# Settings are the administrator's once installed: an install keeps an
# edited one, and uninstall removes only the unedited ones.
echo 'TOLLGATE_EXPORTER_LISTEN=0.0.0.0:9731' >>"$root/etc/tollgate/exporter.env"
if mk install >/dev/null 2>&1 && grep -q '^TOLLGATE_EXPORTER_LISTEN=0.0.0.0:9731$' "$root/etc/tollgate/exporter.env"; then
	ok packaging/install-keeps-edited-settings
else
	fail packaging/install-keeps-edited-settings "exporter.env: $(tail -n 2 "$root/etc/tollgate/exporter.env" | tr '\n' ' ')"
fi
if out=$(mk uninstall 2>&1); then
	left=$(cd "$root" && find . -mindepth 1 -printf '%P\n' | sort | tr '\n' ' ')
	want="etc etc/tollgate etc/tollgate/exporter.env etc/tollgate/my.policy etc/tollgate/notarius.policy "
	if [ "$left" = "$want" ]; then
		ok packaging/uninstall
	else
		fail packaging/uninstall "left '$left', want '$want'"
	fi
else
	fail packaging/uninstall "$(tail -n 3 <<<"$out" | tr '\n' ' ')"
fi
if out=$(mk uninstall 2>&1); then
	fail packaging/uninstall-twice "succeeded with nothing installed: $out"
elif grep -q 'nothing to uninstall' <<<"$out"; then
	ok packaging/uninstall-twice
else
	fail packaging/uninstall-twice "$(tail -n 3 <<<"$out" | tr '\n' ' ')"
fi

# ------------------------------------------------- completion, attached
# Commands on an attached interface offer the attached ones, which need not
# be in /sys/class/net: this one lives in its own namespace.
need_bpffs
NS=tgpkg$$ IF=tgpk$$
printf 'default allow\n' >"$work/allow.policy"
lab_ns "$NS"
ip -n "$NS" link add "$IF" type veth peer name "${IF}p" && ip -n "$NS" link set "$IF" up
lab_tollgate_iface "$IF"
if out=$(lab_in "$NS" "$TG" attach --mode skb "$IF" "$work/allow.policy" 2>&1); then
	got=$(complete_words tollgate detach '')
	bad=
	for w in $got; do
		[ -d "/sys/fs/bpf/tollgate/$w" ] || bad+=" $w"
	done
	if grep -qw "$IF" <<<"$got" && [ -z "$bad" ]; then
		ok completion/detach-offers-attached
	else
		fail completion/detach-offers-attached "offered '$got' (not attached:${bad:- none})"
	fi
	lab_in "$NS" "$TG" detach "$IF" >/dev/null 2>&1
else
	fail completion/detach-offers-attached "attach failed: $(tail -c 300 <<<"$out")"
fi
