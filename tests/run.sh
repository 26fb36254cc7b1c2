#!/usr/bin/env bash
# Runs every suite under tests/suites and ends with "N passed, N failed".
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
export TOP
cd "$TOP"
results=$(mktemp)
trap 'rm -f "$results"' EXIT

# TG_SUITES narrows the run to a glob of suite names (e.g. "[0-8]*"); CI runs all.
for suite in tests/suites/${TG_SUITES:-*}.sh; do
	name=$(basename "$suite" .sh)
	echo "== $name"
	start=$(date +%s)
	if ! bash "$suite" | tee -a "$results" | grep -v '^ok '; then :; fi
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
