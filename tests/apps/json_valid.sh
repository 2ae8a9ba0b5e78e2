#!/bin/bash
# Checks that a command exits 0 and prints one valid JSON document.
#   json_valid.sh COMMAND [ARGS...]
set -u

if ! command -v python3 >/dev/null; then
	echo "python3 is not installed: cannot check JSON"
	exit 77
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$@" >"$tmp" </dev/null || {
	echo "FAIL: $* exited $?"
	exit 1
}
cat "$tmp"
python3 -m json.tool "$tmp" >/dev/null || {
	echo "FAIL: output is not valid JSON"
	exit 1
}
