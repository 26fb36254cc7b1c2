#!/usr/bin/env bash
# `tollgate compile` output is stable: each tests/golden/NAME.policy compiles
# (facing from its "# facing:" line, hosts from "# host:" lines) to exactly
# tests/golden/NAME.FACING.image. UPDATE_GOLDEN=1 rewrites them.
. "$(dirname "$0")/../lib.sh"
cd "$TOP"
for p in tests/golden/*.policy policies/*.policy; do
	facings=$(sed -n 's/^# facing: //p' "$p")
	[ -n "$facings" ] || facings="outside inside"
	hosts=()
	while read -r h; do [ -n "$h" ] && hosts+=(--host "$h"); done < <(sed -n 's/^# host: //p' "$p")
	for facing in $facings; do
		base=tests/golden/$(basename "$p" .policy).$facing.image
		name=golden/$(basename "$p" .policy).$facing
		out=$("$TG" compile --facing "$facing" "${hosts[@]}" "$p" 2>&1)
		rc=$?
		if [ "${UPDATE_GOLDEN:-0}" = 1 ] && [ $rc -eq 0 ]; then
			printf '%s\n' "$out" >"$base"
		fi
		if [ $rc -ne 0 ]; then
			fail "$name" "exit $rc: $(head -c 300 <<<"$out")"
		elif [ ! -f "$base" ]; then
			fail "$name" "no $base (UPDATE_GOLDEN=1 creates it; review it before committing)"
		elif ! diff -u "$base" <(printf '%s\n' "$out") >/dev/null; then
			fail "$name" "differs from $base: $(diff -u "$base" <(printf '%s\n' "$out") | sed -n '3,12p' | tr '\n' ' ')"
		else
			ok "$name"
		fi
	done
done
