#!/bin/bash
# The long soak: drvsoak for SECONDS against devsim in process, then for SECONDS against a
# devsim process killed and restarted every RESTART seconds, each with its fault mix
# (tests/soak/faults.cmake). Prints both reports; exits non-zero when either found corrupt
# or lost data, a hang or a leak. CI runs 8-second versions (ctest -L soak).
#   scripts/soak.sh SECONDS [BUILD_DIR] [RESTART]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

seconds=${1:?usage: scripts/soak.sh SECONDS [BUILD_DIR] [RESTART]}
build=${2:-build/default}
restart=${3:-10}
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || { echo "soak.sh: SECONDS must be a whole number above 0" >&2; exit 2; }
soak=$build/tests/soak/drvsoak
devsim=$build/devsim/devsim
[ -x "$soak" ] && [ -x "$devsim" ] || { echo "soak.sh: no $soak or $devsim: build first (scripts/build.sh default)" >&2; exit 2; }

# The quoted rules of one set(...) in faults.cmake, as --fault arguments.
faults() {
	sed -n "/^set($1\$/,/)/p" tests/soak/faults.cmake | grep -o '"[^"]*"' | tr -d '"' |
		while read -r rule; do printf -- '--fault\n%s\n' "$rule"; done
}
mapfile -t inproc < <(faults SOAK_FAULTS_INPROC)
mapfile -t spawn < <(faults SOAK_FAULTS_SPAWN)

rc=0
section "drvsoak: devsim in process, $seconds s"
"$soak" --seconds "$seconds" --threads 4 --timeout-ms 300 "${inproc[@]}" || rc=1
section "drvsoak: devsim process killed every $restart s, $seconds s"
"$soak" --seconds "$seconds" --threads 3 --timeout-ms 300 --spawn "$devsim" \
	--restart-every "$restart" "${spawn[@]}" || rc=1
exit $rc
