#!/bin/bash
# notify parks requests, gets SIGINT, cancels them all and exits 0.
#   notify_sigint.sh NOTIFY_BINARY
set -u

notify=$1
tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

"$notify" --parked 3 >"$tmp/out" 2>"$tmp/err" </dev/null &
pid=$!
for _ in $(seq 1200); do
	grep -q '^parked' "$tmp/out" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
kill -INT "$pid"
wait "$pid"
rc=$?
pid=
echo "--- stdout:"
cat "$tmp/out"
echo "--- stderr:"
cat "$tmp/err"

fail=0
[ "$rc" -eq 0 ] || { echo "FAIL: exit status $rc, expected 0"; fail=1; }
grep -q '^parked 3 ' "$tmp/out" || { echo "FAIL: no 'parked 3' line"; fail=1; }
grep -q '^cancelled 3 parked requests' "$tmp/out" || {
	echo "FAIL: no 'cancelled 3 parked requests' line"
	fail=1
}
exit $fail
