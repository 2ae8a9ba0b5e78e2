#!/bin/bash
# A separate `devsim serve` process: notify receives the events that
# `devsim event` raises, also many finishing within one wake-up of its
# queue fd, and asyncread reads through the same socket.
#   notify_devsim.sh DEVSIM_BINARY NOTIFY_BINARY ASYNCREAD_BINARY
set -u

devsim=$1
notify=$2
asyncread=$3
tmp=$(mktemp -d)
sock=$tmp/dsim.sock
server=
client=
cleanup() {
	[ -n "$client" ] && kill -KILL "$client" 2>/dev/null
	if [ -n "$server" ]; then
		kill -TERM "$server" 2>/dev/null
		wait "$server" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
show() {
	for f in "$@"; do
		echo "--- $f:"
		cat "$tmp/$f"
	done
}
die() {
	echo "FAIL: $*"
	show devsim.log notify.out notify.err
	exit 1
}
# wait_for REGEX FILE PID WHAT: until a line of FILE matches, while PID lives.
wait_for() {
	for _ in $(seq 600); do
		grep -q "$1" "$2" && return
		kill -0 "$3" 2>/dev/null || die "$4"
		sleep 0.1
	done
}

# start_notify ARGS...: notify on the device in the background, until it has parked.
start_notify() {
	"$notify" --device "sim:$sock" "$@" >"$tmp/notify.out" 2>"$tmp/notify.err" </dev/null &
	client=$!
	wait_for '^parked' "$tmp/notify.out" "$client" "notify exited before parking"
}
# notify_ok AFTER: waits for notify, which must exit 0.
notify_ok() {
	wait "$client"
	local rc=$?
	client=
	[ "$rc" -eq 0 ] || die "notify exited $rc $1"
}

"$devsim" serve --socket "$sock" --latency fixed:100ms >"$tmp/devsim.log" 2>&1 </dev/null &
server=$!
# The socket file appears at bind(), before listen(): wait for the
# message devsim prints once it accepts connections.
wait_for '^devsim: serving' "$tmp/devsim.log" "$server" "devsim serve exited"
grep -q '^devsim: serving' "$tmp/devsim.log" || die "devsim serve did not start"

start_notify --count 2 --timeout 120
"$devsim" event --socket "$sock" "first event" || die "devsim event failed"
"$devsim" event --socket "$sock" "second event" || die "devsim event failed"
notify_ok "after two events"
grep -q '^event 1: "first event"' "$tmp/notify.out" || die "first event missing"
grep -q '^event 2: "second event"' "$tmp/notify.out" || die "second event missing"

# A burst: notify is stopped while 12 of its 16 parked requests finish, so
# it wakes once with all of them ready; reaping only one batch (8) per
# wake-up would leave 4 that never make the fd readable again.
start_notify --parked 16 --count 12 --timeout 20
kill -STOP "$client"
for i in $(seq 12); do
	"$devsim" event --socket "$sock" "burst $i" || die "devsim event failed"
done
kill -CONT "$client"
notify_ok "after a burst of 12 events"
for i in $(seq 12); do
	grep -q "^event $i: \"burst $i\"" "$tmp/notify.out" || die "burst event $i missing"
done

# The device fails: the next parked request is fetched into a fatal error, every
# parked request ends -EIO, notify parks them again, recovery resets the device on
# the way, and notify reports its health and keeps receiving events.
start_notify --count 2 --timeout 60
"$devsim" fault --socket "$sock" "fatal,op=wait_event,nth=1" >/dev/null || die "devsim fault failed"
"$devsim" event --socket "$sock" "before the failure" || die "devsim event failed"
wait_for '^device health: ok (back after a recovery reset)' "$tmp/notify.out" "$client" \
	"notify exited instead of recovering"
"$devsim" fault --socket "$sock" --clear >/dev/null || die "devsim fault --clear failed"
"$devsim" event --socket "$sock" "after the reset" || die "devsim event failed"
notify_ok "after the device failed and was reset"
grep -q '^event 1: "before the failure"' "$tmp/notify.out" || die "event before the failure missing"
grep -q 'fatal error; parking again' "$tmp/notify.out" || die "the fatal error was not reported"
grep -q '^event 2: "after the reset"' "$tmp/notify.out" || die "event after the reset missing"
show notify.out

"$asyncread" --device "sim:$sock" >"$tmp/asyncread.out" 2>&1 </dev/null ||
	{ show asyncread.out; die "asyncread over the socket failed"; }
grep -q '^buffer C: "C: hello from dsim"' "$tmp/asyncread.out" ||
	{ show asyncread.out; die "asyncread printed no buffer C"; }
show notify.out asyncread.out
