#!/usr/bin/env bash
# tests/vm/suites-in-guest.sh SUITE...: runs inside a VM of another kernel
# (tests/suites/99-kernels.sh starts it):
# the suites that exercise loading, attaching and the verifier, sized for a
# machine under emulation. Prints the suites' own "ok"/"FAIL" lines.
set -u
cd "$(dirname "$0")/../.." || exit 1
# libxdp's dispatcher must work on Debian's kernels: a silent fallback to a
# plain attach fails the sharing test instead of passing it.
export TOLLGATE_EXPECT_DISPATCHER=1
# Emulation is ~5x slower: fewer random policies and reloads, slower streams,
# and a --confirm deadline the checks can meet.
export TG_DIFF_POLICIES=${TG_DIFF_POLICIES:-10}
export TG_RELOADS=${TG_RELOADS:-20}
export TG_STREAM_RATE=${TG_STREAM_RATE:-500}
export TG_CONFIRM_SECONDS=${TG_CONFIRM_SECONDS:-10}
# How long a traced drop may take to show (84-trace): a second natively.
export TG_TRACE_SECONDS=${TG_TRACE_SECONDS:-5}
# The release build: the sanitizers run on the host, and cost ~3x more here.
export TG=${TG:-$PWD/build/tollgate}
echo "kernel $(uname -r)"
for suite in "$@"; do
	start=$(date +%s)
	bash "tests/suites/$suite.sh"
	echo "== $suite ($(($(date +%s) - start))s)"
done
