#!/usr/bin/env bash
# The real XDP program through BPF_PROG_TEST_RUN: cmocka binaries dp_*.
. "$(dirname "$0")/../lib.sh"
need_bpffs
run_cmocka_binaries "$BUILD"/tests/dp_*
