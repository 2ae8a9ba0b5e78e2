#!/bin/bash
# The whole test suite: the default build with every test (including the
# ones that boot a VM), then the sanitizer build with every test that does not.
# A failing test stage does not stop the next one; the exit status reports both.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

failed=()

section "Debian packages"
./scripts/deps.sh

section "Build (preset default)"
./scripts/build.sh default

section "Tests (preset default, all labels)"
ctest --preset default || failed+=("ctest --preset default")

section "Build (preset asan: AddressSanitizer + UndefinedBehaviorSanitizer)"
./scripts/build.sh asan

section "Tests (preset asan, without the VM tests)"
ctest --preset asan -LE vm || failed+=("ctest --preset asan -LE vm")

if [ ${#failed[@]} -ne 0 ]; then
	section "FAILED: ${failed[*]}"
	exit 1
fi
section "all tests passed"
