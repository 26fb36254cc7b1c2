#!/usr/bin/env bash
# cmocka unit tests (built with ASan/UBSan): one line per cmocka case.
. "$(dirname "$0")/../lib.sh"
shopt -s nullglob
bins=("$BUILD"/tests/test_*)
if [ ${#bins[@]} -eq 0 ]; then
	fail unit-tests "no unit test binaries under $BUILD/tests (run make check)"
	exit 0
fi
for bin in "${bins[@]}"; do
	base=$(basename "$bin")
	log=$(mktemp)
	( cd "$TOP" && "$bin" ) >"$log" 2>&1
	rc=$?
	# cmocka prints "[       OK ] name" and "[  FAILED  ] name" per case.
	sed -n 's/^\[       OK \] \(.*\)$/ok '"$base"':\1/p' "$log"
	sed -n 's/^\[  FAILED  \] \([^ ]*\)$/FAIL '"$base"':\1: see the test output/p' "$log" | sort -u
	if ! sanitizer_clean "$log" || { [ $rc -ne 0 ] && ! grep -q '^\[  FAILED  \]' "$log"; }; then
		fail "$base" "exit $rc: $(grep -m3 -E 'ERROR|runtime error|error' "$log" | tr '\n' ' ')"
	fi
	rm -f "$log"
done
