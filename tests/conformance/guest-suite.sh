#!/bin/sh
# Runs inside the guest (started by run-matrix through vm/run): each integration program
# against the device the run gave the guest and bound to BUS: dsim (the ivshmem function,
# 1af4:1110) or QEMU's NVMe controller (1b36:0010). The name host_event instead runs
# notify, which must receive an event raised on the host: dsim's carries EVENT_TEXT,
# NVMe's is a SMART/health asynchronous event.
# usage: guest-suite.sh uio|vfio BUILD_DIR EVENT_TEXT PROGRAM|host_event...
bus=$1
build=$2
text=$3
shift 3
addr=""
for dev in /sys/bus/pci/devices/*; do
	case "$(cat "$dev/vendor"):$(cat "$dev/device")" in
	0x1af4:0x1110) addr=$(basename "$dev") expect="\"$text\"" ;;
	0x1b36:0x0010) addr=$(basename "$dev") expect="NVMe SMART/health event" ;;
	esac
done
[ -n "$addr" ] || { echo "guest-suite: neither dsim (1af4:1110) nor NVMe (1b36:0010) in the guest"; exit 1; }
uri=$bus:$addr
echo "guest-suite: DRV_TEST_URI=$uri"
# A TCG guest is many times slower than the host: stretch the "should be done" deadlines.
export DRV_TEST_URI=$uri DRV_TEST_TIMEOUT_SCALE=6
for t in "$@"; do
	echo "==== $t"
	if [ "$t" = host_event ]; then
		# notify parks WAIT_EVENTs; the host raises events (raise-events.sh, qmp.py).
		out=$("$build/apps/notify" --device "$uri" --count 1 --timeout 60 2>&1)
		st=$?
		echo "$out"
		echo "$out" | grep -q "$expect" || st=1
	else
		"$build/tests/$t" 2>&1
		st=$?
	fi
	echo "conformance-result $t $st"
done
