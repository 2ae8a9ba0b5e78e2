#!/bin/sh
# Runs inside the guest (vm/run --dsim): the sample apps, unchanged, against dsim behind
# ivshmem-doorbell. With vfio they sleep on MSI-X; with uio the bus has no interrupts, so
# drvctl reports polling and libdrv wakes their queues on a timer instead: the same apps
# must work the same way. A --host-bg loop on the host raises "hello from the host"
# events for notify.
# usage: guest-apps.sh uio|vfio APPS_DIR
bus=$1
apps=$2
failures=0
check() { # description, then a command that must succeed
	what=$1
	shift
	if "$@"; then echo "ok:   $what"; else echo "FAIL: $what"; failures=$((failures + 1)); fi
}
addr=""
for dev in /sys/bus/pci/devices/*; do
	[ "$(cat "$dev/vendor"):$(cat "$dev/device")" = 0x1af4:0x1110 ] && addr=$(basename "$dev")
done
[ -n "$addr" ] || { echo "FAIL: no dsim (1af4:1110) in the guest"; exit 1; }
uri=$bus:$addr

"$apps/drvctl" list >/tmp/list 2>&1
check "drvctl list names dsim at $addr" grep -q "$addr.*dsim" /tmp/list
"$apps/drvctl" info "$uri" >/tmp/info 2>&1
cat /tmp/info
check "drvctl info opens dsim" grep -q "^driver *dsim" /tmp/info
if [ "$bus" = vfio ]; then
	check "interrupts are MSI-X" grep -q "^irq mode *MSI-X" /tmp/info
else
	check "drvctl says the bus is polled by a timer" grep -q "^irq mode *none (polled every 200 us)" /tmp/info
fi
"$apps/asyncread" --device "$uri" --count 4 >/tmp/ar 2>&1
cat /tmp/ar
check "asyncread (buffered) reads its lines back" grep -q 'buffer D: "D: hello from dsim"' /tmp/ar
"$apps/asyncread" --device "$uri" --count 4 --direct --size 4K >/tmp/ar 2>&1
check "asyncread --direct reads its lines back" grep -q 'buffer D: "D: hello from dsim"' /tmp/ar
"$apps/notify" --device "$uri" --count 2 --timeout 60 >/tmp/nt 2>&1
cat /tmp/nt
check "notify receives two events raised on the host" grep -q 'event 2: "hello from the host"' /tmp/nt
[ $failures = 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "all checks passed"
