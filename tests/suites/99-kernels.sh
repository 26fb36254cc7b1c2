#!/usr/bin/env bash
# The kernels users run: Debian 12's 6.1 and 6.12, booted from Debian's own
# packages under QEMU (tests/vm/), one after another. Inside each, the
# data-plane tests, replay, attach (beside a foreign XDP program, through
# libxdp's dispatcher), reload under load, --confirm rollback, kill -9
# during reload, outside removal and detach (tests/vm/suites-in-guest.sh).
# Every result line is prefixed with the kernel. A kernel that cannot be had
# or a VM that does not finish is a failure with its reason, never a skip.
. "$(dirname "$0")/../lib.sh"
KERNELS=${TOLLGATE_VM_KERNELS:-6.1 6.12}
SUITES=${TOLLGATE_VM_SUITES:-60-dataplane 70-replay 80-attach 82-flows 84-trace 85-reload-under-load}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The timeout guards against a hung guest, not a slow one: 6.1's six suites
# took about 25 minutes under TCG in CI (60-dataplane alone 998 s: 6.1's
# verifier is slow on the program there), which leaves about 5 minutes of
# the guard. Split the suites over two VM runs before adding to them.
for k in $KERNELS; do
	start=$(date +%s)
	bash "$TOP/tests/vm/run.sh" --kernel "$k" --timeout "${TOLLGATE_VM_TIMEOUT:-1800}" -- tests/vm/suites-in-guest.sh $SUITES >"$log" 2>&1
	rc=$?
	release=$(sed -n 's/^kernel //p' "$log" | head -n 1)
	sed -n "s/^ok /ok vm-$k\\//p; s/^FAIL /FAIL vm-$k\\//p" "$log"
	n=$(grep -cE '^(ok|FAIL) ' "$log")
	suites=$(grep -c '^== ' "$log")
	# Each suite inside prints "== NAME (Ns)" when it finished.
	if [ "$rc" -ne 0 ] || [ "$suites" -ne "$(wc -w <<<"$SUITES")" ]; then
		fail "vm-$k/ran" "exit $rc after $n results (release ${release:-unknown}): $(grep -vE '^(ok|FAIL) ' "$log" | tail -n 8 | tr '\n' ' ')"
	else
		ok "vm-$k/ran ($release, $n results, $(($(date +%s) - start))s: $(sed -n 's/^== //p' "$log" | tr '\n' ' '))"
	fi
	grep -E '^FAIL ' -A6 "$log" | grep -vE '^(ok|FAIL) ' | head -n 30 | sed 's/^/    /'
done
