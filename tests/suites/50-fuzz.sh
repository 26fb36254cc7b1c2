#!/usr/bin/env bash
# Bounded libFuzzer runs, each starting from the corpus kept in
# tests/fuzz/corpus (grown by make fuzz-soak): the policy parser and
# compiler, and frames through the real program against the reference model.
# Zero findings.
. "$(dirname "$0")/../lib.sh"
need_bpffs
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run_fuzzer() { # NAME SECONDS MAX_LEN [EXTRA_SEED...]
	local name=$1 seconds=$2 max_len=$3 fuzzer=$BUILD/fuzz/fuzz_$1 log=$work/$1.log runs rc
	shift 3
	if [ ! -x "$fuzzer" ]; then
		fail "fuzz/$name" "no $fuzzer (run make check)"
		return
	fi
	mkdir -p "$work/$name"
	cp "$TOP/tests/fuzz/corpus/$name"/* "$@" "$work/$name/" 2>/dev/null
	(cd "$work" && "$fuzzer" -max_total_time="$seconds" -max_len="$max_len" ${dict:+-dict="$dict"} \
		-artifact_prefix="$work/$name-" -print_final_stats=1 "$name") >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ $rc -eq 0 ] && ! ls "$work/$name"-crash-* "$work/$name"-leak-* "$work/$name"-timeout-* >/dev/null 2>&1; then
		ok "fuzz/$name ($runs runs in ${seconds}s from $(ls "$TOP/tests/fuzz/corpus/$name" | wc -l) kept inputs, 0 findings)"
	else
		fail "fuzz/$name" "exit $rc: $(grep -m5 -E 'ERROR|SUMMARY|runtime error|fuzz_packet:' "$log" | tr '\n' ' ')"
		ls "$work/$name"-crash-* 2>/dev/null | head -1 | xargs -r -I{} cp {} "$BUILD/"
	fi
}

dict=$TOP/tests/fuzz/policy.dict run_fuzzer policy "${TG_FUZZ_SECONDS:-60}" 4096 \
	"$TOP"/policies/*.policy "$TOP"/tests/policies/bad/*.policy "$TOP"/tests/golden/*.policy
dict='' run_fuzzer packet "${TG_FUZZ_PACKET_SECONDS:-30}" 1600
