#!/usr/bin/env bash
# cmocka unit tests (built with ASan/UBSan): one line per cmocka case.
. "$(dirname "$0")/../lib.sh"
run_cmocka_binaries "$BUILD"/tests/test_*
