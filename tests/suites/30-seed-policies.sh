#!/usr/bin/env bash
# The shipped policies are valid and clean: no errors, no warnings.
. "$(dirname "$0")/../lib.sh"
for p in "$TOP"/policies/*.policy; do
	name=seed/$(basename "$p" .policy)
	out=$("$TG" check "$p" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && grep -q ': ok: .* 0 warnings$' <<<"$out" && sanitizer_clean <(printf '%s' "$out"); then
		ok "$name"
	else
		fail "$name" "exit $rc: $(head -c 400 <<<"$out")"
	fi
done
