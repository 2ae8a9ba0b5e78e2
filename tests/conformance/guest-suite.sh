#!/bin/sh
# Runs inside the guest (started by run-matrix through vm/run --dsim): each integration
# program against the dsim ivshmem function on the bus it was bound to, then host_event.
# usage: guest-suite.sh uio|vfio BUILD_DIR EVENT_TEXT PROGRAM...
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
	"$build/tests/$t" 2>&1
	echo "conformance-result $t $?"
done
echo "==== host_event"
if "$build/apps/drvctl" info "$uri" | grep -q "irq mode.*none"; then
	# notify sleeps on interrupts, which ivshmem cannot deliver under uio.
	echo "conformance-result host_event n/a"
else
	out=$("$build/apps/notify" --device "$uri" --count 1 --timeout 60 2>&1)
	st=$?
	echo "$out"
	echo "$out" | grep -q "\"$text\"" || st=1
	echo "conformance-result host_event $st"
fi
