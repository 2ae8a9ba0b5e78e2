#!/bin/bash
# The whole test suite: the default build with every test (including the
# ones that boot a VM), then the sanitizer build with every test that does not.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

section "Debian packages"
./scripts/deps.sh

section "Build (preset default)"
./scripts/build.sh default

section "Tests (preset default, all labels)"
ctest --preset default

section "Build (preset asan: AddressSanitizer + UndefinedBehaviorSanitizer)"
./scripts/build.sh asan

section "Tests (preset asan, without the VM tests)"
ctest --preset asan -LE vm

section "all tests passed"
