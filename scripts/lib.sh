# Shared by the scripts in this directory: repository root and section headers.
# shellcheck shell=bash
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit
JOBS=${JOBS:-$(nproc)}

section() {
	printf '\n==== %s ====\n' "$*"
}
