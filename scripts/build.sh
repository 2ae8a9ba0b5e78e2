#!/bin/bash
# Configures and builds one CMake preset (default: "default").
#   scripts/build.sh [PRESET]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

preset=${1:-default}
cmake --preset "$preset"
cmake --build --preset "$preset" -j "$JOBS"
