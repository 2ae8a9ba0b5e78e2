#!/bin/bash
# The whole test suite: the default build with every test (including the
# ones that boot a VM and the one that builds the Debian packages, which only
# run here), then the sanitizer build with every test but those,
# then the ThreadSanitizer build with the integration suite and the short soak (where threads
# share queues and devices), then the clang build (warning-free like gcc's)
# with the quick unit tests.
# A failing test stage does not stop the next one; the exit status reports them all.
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

section "Tests (preset asan, without the VM tests and the package build)"
ctest --preset asan -LE 'vm|package' || failed+=("ctest --preset asan -LE 'vm|package'")

section "Build (preset tsan: ThreadSanitizer)"
./scripts/build.sh tsan

section "Tests (preset tsan, the integration suite and the short soak)"
ctest --preset tsan -L 'integration|soak' -LE vm || failed+=("ctest --preset tsan -L 'integration|soak' -LE vm")

section "Build (preset clang: clang 14, warnings are errors as with gcc)"
./scripts/build.sh clang

section "Tests (preset clang, unit tests only)"
ctest --preset clang -L unit || failed+=("ctest --preset clang -L unit")

if [ ${#failed[@]} -ne 0 ]; then
	section "FAILED: ${failed[*]}"
	exit 1
fi
section "all tests passed"
