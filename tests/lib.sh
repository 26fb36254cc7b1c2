# Shared by the test suites. A suite prints one line per test case:
#   ok NAME            or            FAIL NAME: why
# and tests/run.sh counts them. Sourced, not run.
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${BUILD:-$TOP/build}
# The suites drive the sanitizer build: any ASan/UBSan report fails the case.
TG=${TG:-$BUILD/asan/tollgate}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}

ok() { printf 'ok %s\n' "$1"; }
fail() { printf 'FAIL %s: %s\n' "$1" "$2"; }

# check NAME COMMAND...: ok when COMMAND exits 0.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$name"
	else
		fail "$name" "$(printf '%s' "$out" | tail -n 5 | tr '\n' ' ')"
	fi
}

sanitizer_clean() {
	! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$1"
}

# The end-to-end suites' checks. Each leaves the command's output in $out.
# expect_ok NAME CMD...: CMD exits 0. expect_fail NAME CMD...: it does not.
expect_ok() { local n=$1; shift; if out=$("$@" 2>&1); then ok "$n"; else fail "$n" "$(tail -c 300 <<<"$out")"; fi; }
expect_fail() { local n=$1; shift; if out=$("$@" 2>&1); then fail "$n" "succeeded: $(tail -c 300 <<<"$out")"; else ok "$n"; fi; }
# expect_exit NAME STATUS PATTERN CMD...: exit status and message, no sanitizer report.
expect_exit() {
	local n=$1 want=$2 pattern=$3 rc
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq "$want" ] && grep -qE -- "$pattern" <<<"$out" && sanitizer_clean <(printf '%s' "$out"); then
		ok "$n"
	else
		fail "$n" "exit $rc (want $want): $(tail -c 300 <<<"$out")"
	fi
}

# run_cmocka_binaries BIN...: one result line per cmocka case of each binary.
run_cmocka_binaries() {
	local bin base log rc
	if [ $# -eq 0 ] || [ ! -x "$1" ]; then
		fail cmocka "no test binaries ($*): run make check"
		return 0
	fi
	for bin in "$@"; do
		base=$(basename "$bin")
		log=$(mktemp)
		( cd "$TOP" && "$bin" ) >"$log" 2>&1
		rc=$?
		# cmocka prints "[       OK ] name" and "[  FAILED  ] name" per case.
		sed -n 's/^\[       OK \] \(.*\)$/ok '"$base"':\1/p' "$log"
		sed -n 's/^\[  FAILED  \] \([^ ]*\)$/FAIL '"$base"':\1: see below/p' "$log" | sort -u
		if grep -q '^\[  FAILED  \]' "$log"; then
			grep -B2 -A8 -E '^\[  ERROR   \]|Failure!|error:' "$log" | head -40 | sed 's/^/    /'
		fi
		if ! sanitizer_clean "$log" || { [ $rc -ne 0 ] && ! grep -q '^\[  FAILED  \]' "$log"; }; then
			fail "$base" "exit $rc: $(grep -m5 -E 'ERROR|runtime error|error|Sanitizer' "$log" | tr '\n' ' ')"
		fi
		rm -f "$log"
	done
}

# The data plane needs root and bpffs; CI is root, so missing either fails.
need_bpffs() {
	if ! mountpoint -q /sys/fs/bpf; then
		mount -t bpf bpf /sys/fs/bpf 2>/dev/null || { fail bpffs "bpffs is not mounted at /sys/fs/bpf and cannot be"; exit 0; }
	fi
}
