#!/bin/sh
# Inside the guest: QEMU's edu device (1234:11e8) is on the PCI bus, unbound.
found=""
for dev in /sys/bus/pci/devices/*; do
	if [ "$(cat "$dev/vendor") $(cat "$dev/device")" = "0x1234 0x11e8" ]; then
		found=$dev
	fi
done
[ -n "$found" ] || { echo "no 1234:11e8 device in /sys/bus/pci/devices" >&2; exit 1; }
echo "edu at $(basename "$found")"
[ ! -e "$found/driver" ] || { echo "edu is bound to $(readlink "$found/driver")" >&2; exit 1; }
[ -e "$found/resource0" ] || { echo "edu has no BAR0 ($found/resource0)" >&2; exit 1; }
