#!/bin/bash
# Parses every shell script of the project with the shell its first line names
# (sh -n or bash -n), then runs shellcheck on them when it is installed.
#   shell.sh SOURCE_DIR
set -euo pipefail
shopt -s globstar nullglob
cd "$1"

scripts=(scripts/*.sh vm/run vm/build-image vm/init tests/**/*.sh tests/conformance/run-matrix
	.ci/run)
failed=0
checked=()
for f in "${scripts[@]}"; do
	[ -f "$f" ] || continue
	read -r shebang <"$f" || true
	case $shebang in
	*bash*) shell="bash" ;;
	*) shell="sh" ;;
	esac
	if ! "$shell" -n "$f"; then
		echo "$f: $shell -n found a syntax error" >&2
		failed=1
	fi
	checked+=("$f")
done
echo "${#checked[@]} scripts parsed"

if command -v shellcheck >/dev/null; then
	# -x follows `source` of the scripts' own helpers (scripts/lib.sh).
	shellcheck -x --severity=warning "${checked[@]}" || failed=1
else
	echo "shellcheck is not installed: syntax checks only"
fi
exit $failed
