#!/usr/bin/env bash
# make fuzz-soak SECONDS=N: each fuzzer on every core for half of N seconds,
# starting from the corpus kept in tests/fuzz/corpus (and the policies in the
# tree). Findings go to build/fuzz/findings/NAME/, the grown corpus to
# build/fuzz/corpus/NAME/, and a minimised merge of both to
# build/fuzz/minimized/NAME/: copy that over tests/fuzz/corpus/NAME to keep
# the coverage for CI's short runs. Needs root for the packet fuzzer.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$TOP/build
total=${1:-600}
cores=$(nproc)
half=$((total / 2))
status=0

soak() { # NAME MAX_LEN [SEED_FILE...]
	local name=$1 max_len=$2 corpus=$BUILD/fuzz/corpus/$1 findings=$BUILD/fuzz/findings/$1
	local minimized=$BUILD/fuzz/minimized/$1 log=$BUILD/fuzz/$1-soak.log
	shift 2
	mkdir -p "$corpus" "$findings" "$minimized"
	cp -n "$TOP/tests/fuzz/corpus/$name"/* "$@" "$corpus/" 2>/dev/null
	echo "== $name: $cores cores for ${half}s (log: $log)"
	"$BUILD/fuzz/fuzz_$name" -fork="$cores" -max_total_time="$half" -max_len="$max_len" \
		-artifact_prefix="$findings/" -print_final_stats=1 \
		${dict:+-dict="$dict"} "$corpus" >"$log" 2>&1
	if ls "$findings"/crash-* "$findings"/leak-* "$findings"/timeout-* >/dev/null 2>&1; then
		echo "   FINDINGS in $findings:"
		ls "$findings" | sed 's/^/     /'
		status=1
	else
		echo "   no findings; $(grep -c '' <(ls "$corpus")) inputs in the corpus"
	fi
	rm -rf "$minimized" && mkdir -p "$minimized"
	"$BUILD/fuzz/fuzz_$name" -merge=1 -max_len="$max_len" "$minimized" "$corpus" >/dev/null 2>&1
	echo "   minimised: $(ls "$minimized" | wc -l) inputs in $minimized"
}

dict=$TOP/tests/fuzz/policy.dict soak policy 4096 \
	"$TOP"/policies/*.policy "$TOP"/tests/policies/bad/*.policy "$TOP"/tests/golden/*.policy
dict='' soak packet 1600
echo "soaked $((cores * half * 2)) CPU-seconds ($(awk -v s=$((cores * half * 2)) 'BEGIN { printf "%.2f", s / 3600 }') CPU-hours)"
exit $status
