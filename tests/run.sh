#!/usr/bin/env bash
# Runs every suite under tests/suites and ends with "N passed, N failed".
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
export TOP
cd "$TOP" || exit 1
results=$(mktemp)
trap 'rm -f "$results"' EXIT

# tollgate's pins in the host's bpffs, as one line: a suite must leave them
# as it found them (a failed run's leftovers would decide the next attach's
# table sizes, on a user's host too).
pins() { ls -d /sys/fs/bpf/tollgate/* /sys/fs/bpf/tollgate-host/* 2>/dev/null | tr '\n' ' '; }

# TG_SUITES narrows the run to a glob of suite names (e.g. "[0-8]*"); CI runs all.
for suite in tests/suites/${TG_SUITES:-*}.sh; do
	name=$(basename "$suite" .sh)
	echo "== $name"
	start=$(date +%s)
	pins_before=$(pins)
	lines_before=$(wc -l <"$results")
	if ! bash "$suite" | tee -a "$results" | grep -v '^ok '; then :; fi
	# A suite that dies before its first check, or a TG_SUITES glob that
	# names none, must not pass by saying nothing.
	if [ "$(wc -l <"$results")" -eq "$lines_before" ]; then
		echo "FAIL $name/ran: no results (the suite is missing or died before its first check)" | tee -a "$results"
	fi
	pins_after=$(pins)
	if [ "$pins_after" = "$pins_before" ]; then
		echo "ok $name/no-pins-left" >>"$results"
	else
		echo "FAIL $name/no-pins-left: before [$pins_before] after [$pins_after]" | tee -a "$results"
	fi
	n_ok=$(grep -c '^ok ' "$results" || true)
	echo "   ($(( $(date +%s) - start ))s, $n_ok ok so far)"
done

passed=$(grep -c '^ok ' "$results" || true)
failed=$(grep -c '^FAIL ' "$results" || true)
if [ "$failed" -gt 0 ]; then
	echo
	echo "Failures:"
	grep '^FAIL ' "$results"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
