#!/usr/bin/env bash
# Every malformed policy gives the expected diagnostics and exit status 1,
# without a crash or a sanitizer report. Each case names its expectations in
# comment lines of its own:   # expect: FILE:LINE:COL: error: MESSAGE
. "$(dirname "$0")/../lib.sh"
dir=$TOP/tests/policies/bad
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run_case() { # name file-dir file expectations...
	local name=$1 cdir=$2 file=$3 out rc missing=""
	shift 3
	out=$(cd "$cdir" && "$TG" check "$file" 2>&1)
	rc=$?
	for want in "$@"; do
		grep -qxF -- "$want" <<<"$out" || missing="$missing [$want]"
	done
	if [ $rc -ne 1 ]; then
		fail "$name" "exit status $rc, expected 1: $(head -c 300 <<<"$out")"
	elif ! sanitizer_clean <(printf '%s' "$out"); then
		fail "$name" "sanitizer report"
	elif [ -n "$missing" ]; then
		fail "$name" "missing$missing; got: $(grep -m3 ': error: ' <<<"$out" | tr '\n' ' ')"
	else
		ok "$name"
	fi
}

for f in "$dir"/*.policy; do
	mapfile -t expects < <(sed -n 's/^# expect: //p' "$f")
	if [ ${#expects[@]} -eq 0 ]; then
		fail "bad/$(basename "$f")" "no '# expect:' line"
		continue
	fi
	run_case "bad/$(basename "$f" .policy)" "$dir" "$(basename "$f")" "${expects[@]}"
done

# Cases too large or too binary to keep in git are made here.
printf 'default deny\nset x {\n' >"$work/longline.policy"
head -c 10485760 /dev/zero | tr '\0' 'a' >>"$work/longline.policy"
printf '\n}\n' >>"$work/longline.policy"
run_case generated/10mb-line "$work" longline.policy \
	"longline.policy:3:4097: error: line is 10485760 bytes long; the limit is 4096"

# One host name more than an attached interface follows: refused by check as by attach.
{
	printf 'default deny\nset names {\n'
	for i in $(seq 1 65); do printf '    h%d.example.com\n' "$i"; done
	printf '}\nservice web { direction out; protocol tcp; ports 443; peers @names; action allow }\n'
} >"$work/hosts65.policy"
run_case generated/65-host-names "$work" hosts65.policy \
	"hosts65.policy:67:5: error: 'h65.example.com' is host name number 65; tollgate follows at most 64 per interface"

# Control characters are ASCII, and are named as such.
printf 'default deny\x0b\nservice\x0c a {}\n' >"$work/control.policy"
run_case generated/vertical-tab-and-form-feed "$work" control.policy \
	"control.policy:1:13: error: unexpected control character 0x0b, a vertical tab (use spaces or tabs between words)" \
	"control.policy:2:8: error: unexpected control character 0x0c, a form feed (use spaces or tabs between words)"

# CRLF line ends: the CR belongs to the line end, so the limit is the same.
crlf_policy() { # LINE_BYTES: a valid policy whose second line has exactly that many bytes
	printf 'default deny\r\n# %s\r\n' "$(head -c $(($1 - 2)) /dev/zero | tr '\0' 'c')"
	printf 'service web { direction in; protocol tcp; ports 443; peers any; action allow }\r\n'
}
crlf_policy 4096 >"$work/crlf.policy"
out=$("$TG" check "$work/crlf.policy" 2>&1)
if [ $? -eq 0 ] && grep -q ': ok: 1 service' <<<"$out"; then
	ok generated/crlf-4096-byte-line
else
	fail generated/crlf-4096-byte-line "$(head -c 300 <<<"$out")"
fi
crlf_policy 4097 >"$work/crlf-long.policy"
run_case generated/crlf-4097-byte-line "$work" crlf-long.policy \
	"crlf-long.policy:2:4097: error: line is 4097 bytes long; the limit is 4096"

# A file that never ends is read to the limit and no further.
out=$(timeout 60 "$TG" check /dev/zero 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -qx "tollgate: cannot read policy '/dev/zero': file is too large (the limit is 128 MiB)" <<<"$out"; then
	ok generated/dev-zero
else
	fail generated/dev-zero "exit $rc: $(head -c 300 <<<"$out")"
fi

head -c 4096 /dev/urandom >"$work/garbage.policy"
printf 'default deny\nservice a {\x00\x01\x02\n' >"$work/nul.policy"
run_case generated/nul-byte "$work" nul.policy \
	"nul.policy:2:12: error: unexpected NUL byte (is this a binary file?)"
out=$(cd "$work" && "$TG" check garbage.policy 2>&1); rc=$?
if [ $rc -eq 1 ] && sanitizer_clean <(printf '%s' "$out") && grep -q '^garbage.policy:[0-9]*:[0-9]*: error: ' <<<"$out"; then
	ok generated/random-garbage
else
	fail generated/random-garbage "exit $rc: $(head -c 300 <<<"$out")"
fi
run_case generated/missing-file "$work" does-not-exist.policy \
	"tollgate: cannot read policy 'does-not-exist.policy': no such file or directory"

# --host: the same limits and spelling rules offline as at attach.
printf 'default deny\nservice web { direction out; protocol tcp; ports 443; peers support.example.com; action allow }\n' \
	>"$work/host.policy"
many=$(seq -s, -f '192.0.2.%g' 1 17)
for cmd in check compile replay; do
	operands=("$work/host.policy")
	[ "$cmd" = replay ] && operands+=("$work/none.pcap")
	out=$("$TG" "$cmd" --host "support.example.com=$many" "${operands[@]}" 2>&1)
	rc=$?
	if [ $rc -eq 2 ] && grep -q "^tollgate: --host gives a name at most 16 addresses" <<<"$out"; then
		ok "host/17-addresses-refused-by-$cmd"
	else
		fail "host/17-addresses-refused-by-$cmd" "exit $rc: $(head -c 300 <<<"$out")"
	fi
done
# A trailing dot and case do not matter, as in the policy: the name is resolved.
out=$("$TG" check --host SUPPORT.Example.com.=192.0.2.7 "$work/host.policy" 2>&1)
if [ $? -eq 0 ] && ! grep -q 'resolved at attach time' <<<"$out" && ! grep -q 'warning:' <<<"$out"; then
	ok host/trailing-dot-and-case
else
	fail host/trailing-dot-and-case "$(head -c 300 <<<"$out")"
fi
out=$("$TG" check --host suport.example.com=192.0.2.7 "$work/host.policy" 2>&1)
if [ $? -eq 0 ] && grep -qx "tollgate: warning: --host suport.example.com: the policy does not use this host name" <<<"$out"; then
	ok host/unused-name-warns
else
	fail host/unused-name-warns "$(head -c 300 <<<"$out")"
fi
