#!/usr/bin/env bash
# A bounded libFuzzer run of the policy parser and compiler: zero findings.
. "$(dirname "$0")/../lib.sh"
fuzzer=$BUILD/fuzz/fuzz_policy
seconds=${TG_FUZZ_SECONDS:-60}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ ! -x "$fuzzer" ]; then
	fail fuzz/policy "no $fuzzer (run make check)"
	exit 0
fi
mkdir -p "$work/corpus"
cp "$TOP"/policies/*.policy "$TOP"/tests/policies/bad/*.policy "$TOP"/tests/golden/*.policy "$work/corpus/" 2>/dev/null
log=$work/log
( cd "$work" && "$fuzzer" -max_total_time="$seconds" -max_len=4096 -dict="$TOP/tests/fuzz/policy.dict" \
	-print_final_stats=1 corpus ) >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
if [ $rc -eq 0 ] && ! ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* >/dev/null 2>&1; then
	ok "fuzz/policy ($runs runs in ${seconds}s, 0 findings)"
else
	fail fuzz/policy "exit $rc: $(grep -m5 -E 'ERROR|SUMMARY|runtime error' "$log" | tr '\n' ' ')"
	ls "$work"/crash-* 2>/dev/null | head -1 | xargs -r -I{} cp {} "$TOP/build/" 
fi
