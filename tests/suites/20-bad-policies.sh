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
