#!/bin/sh
# Runs inside the guest (started by run-matrix through vm/run --dsim): each integration
# program against the dsim ivshmem function on the bus it was bound to. The name
# host_event instead runs notify, which must receive an event raised on the host.
# usage: guest-suite.sh uio|vfio BUILD_DIR EVENT_TEXT PROGRAM|host_event...
bus=$1
build=$2
text=$3
shift 3
addr=""
for dev in /sys/bus/pci/devices/*; do
	[ "$(cat "$dev/vendor"):$(cat "$dev/device")" = 0x1af4:0x1110 ] && addr=$(basename "$dev")
done
[ -n "$addr" ] || { echo "guest-suite: no dsim (1af4:1110) in the guest"; exit 1; }
uri=$bus:$addr
echo "guest-suite: DRV_TEST_URI=$uri"
# A TCG guest is many times slower than the host: stretch the "should be done" deadlines.
export DRV_TEST_URI=$uri DRV_TEST_TIMEOUT_SCALE=6
for t in "$@"; do
	echo "==== $t"
	if [ "$t" = host_event ]; then
		# notify parks WAIT_EVENTs; raise-events.sh on the host raises them.
		out=$("$build/apps/notify" --device "$uri" --count 1 --timeout 60 2>&1)
		st=$?
		echo "$out"
		echo "$out" | grep -q "\"$text\"" || st=1
	else
		"$build/tests/$t" 2>&1
		st=$?
	fi
	echo "conformance-result $t $st"
done
