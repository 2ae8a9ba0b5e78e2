#!/bin/bash
# Runs a command and checks its exit status and output.
#   expect.sh STATUS [--stdout REGEX | --stderr REGEX]... -- COMMAND [ARGS...]
# Each REGEX (grep -E) must match at least one line of that stream.
set -u

want=$1
shift
checks=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	checks+=("$1" "$2")
	shift 2
done
shift

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$@" >"$tmp/stdout" 2>"$tmp/stderr" </dev/null
got=$?

echo "--- command: $*"
echo "--- stdout:"
cat "$tmp/stdout"
echo "--- stderr:"
cat "$tmp/stderr"
echo "---"

fail=0
if [ "$got" -ne "$want" ]; then
	echo "FAIL: exit status $got, expected $want"
	fail=1
fi
for ((i = 0; i < ${#checks[@]}; i += 2)); do
	stream=${checks[i]#--}
	if ! grep -Eq -- "${checks[i + 1]}" "$tmp/$stream"; then
		echo "FAIL: $stream does not match: ${checks[i + 1]}"
		fail=1
	fi
done
exit $fail
