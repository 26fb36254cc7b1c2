#!/usr/bin/env bash
# `make bench`: numbers, never pass/fail. Each figure is the median of
# several runs measured in this run; see docs/benchmarks.md.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$TOP/build
TG=$BUILD/tollgate
RUNS=${TG_BENCH_RUNS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$BUILD/bench"

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# compile_bench NAME V4 V6: median wall time and peak RSS of `tollgate compile`.
compile_bench() {
	local name=$1 v4=$2 v6=$3 policy=$work/$1.policy times=() rss=()
	"$BUILD/bench/gen_policy" --seed 42 "$v4" "$v6" >"$policy"
	for _ in $(seq "$RUNS"); do
		/usr/bin/time -f '%e %M' -o "$work/t" "$TG" compile "$policy" >/dev/null
		read -r t m <"$work/t"
		times+=("$t")
		rss+=("$m")
	done
	t=$(printf '%s\n' "${times[@]}" | median)
	m=$(printf '%s\n' "${rss[@]}" | median)
	printf '%-14s %9s %9s %10s %12s\n' "$name" "$v4" "$v6" "$t" "$((m / 1024))"
	printf '{"name":"%s","v4":%s,"v6":%s,"seconds":%s,"peak_rss_kib":%s}\n' "$name" "$v4" "$v6" "$t" "$m" >>"$BUILD/bench/compile.jsonl"
}

rm -f "$BUILD/bench/compile.jsonl"
echo "== policy compile (median of $RUNS runs)"
printf '%-14s %9s %9s %10s %12s\n' policy ipv4 ipv6 seconds peak-MiB
compile_bench seed-sized 2 0
compile_bench 10k 10000 1000
compile_bench 100k 100000 10000
compile_bench 1m+100k 1000000 100000
echo "results: $BUILD/bench/compile.jsonl"

echo
echo "== set walks at their worst (median of $RUNS runs)"
"$BUILD/bench/bench_sets" "$RUNS"

echo
echo "== data plane (BPF_PROG_TEST_RUN)"
if ! mountpoint -q /sys/fs/bpf; then mount -t bpf bpf /sys/fs/bpf; fi
cd "$TOP" && "$BUILD/bench/bench_dataplane" --runs "$RUNS"

echo
"$TOP/scripts/bench-pps.sh"
