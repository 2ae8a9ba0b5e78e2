#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# Inside the guest (NVMe controller unbound): the kernel's nvme driver takes the
# controller and shows /dev/nvme0n1; drvctl bind refuses to take it from under that
# block device and says so, --force takes it; libdrv writes a pattern at the end of
# the namespace; drvctl unbind gives the controller back to nvme, whose /dev/nvme0n1
# reappears and reads the pattern libdrv wrote.
# usage: nvme_handover.sh DRVCTL NVME_CHECK uio|vfio
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
drvctl=$1
check=$2
bus=$3
names="env ASAN_OPTIONS=detect_leaks=0 $drvctl"

addr=""
for dev in /sys/bus/pci/devices/*; do
	[ "$(cat "$dev/class")" = 0x010802 ] && addr=$(basename "$dev")
done
[ -n "$addr" ] || fail "no NVMe controller (class 010802) in the guest"

# wait_for PATH SECONDS
wait_for() {
	i=0
	while [ ! -e "$1" ] && [ $i -lt $(($2 * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -e "$1" ]
}

while read -r module; do
	insmod "$module" || fail "insmod $module"
done </lib/modules/on-demand
wait_for /dev/nvme0n1 30 || fail "the kernel's nvme driver shows no /dev/nvme0n1"
[ "$(driver_of "$addr")" = nvme ] || fail "$addr is bound to '$(driver_of "$addr")', not nvme"

run $names bind "$addr" "$bus"
expect_status 1
expect_stderr "nvme0n1" "--force"
[ "$(driver_of "$addr")" = nvme ] || fail "a refused bind moved $addr to '$(driver_of "$addr")'"

run $names bind "$addr" "$bus" --force
expect_status 0
[ ! -e /dev/nvme0n1 ] || fail "/dev/nvme0n1 is still there after bind --force"

seed=$(($(date +%s) % 1000000 + 1))
run "$check" "$bus" write "$seed"
expect_status 0

run $names unbind "$addr"
expect_status 0
wait_for /dev/nvme0n1 30 || fail "/dev/nvme0n1 did not come back after unbind"
[ "$(driver_of "$addr")" = nvme ] || fail "unbind gave $addr to '$(driver_of "$addr")', not nvme"
run "$check" kernel /dev/nvme0n1 verify "$seed"
expect_status 0
echo "nvme_handover: ok"
