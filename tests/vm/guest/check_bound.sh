#!/bin/sh
# Inside the guest: every device vm/run bound (DRV_VM_DEVICES) is driven by $1 and its
# user-space access node exists (/dev/uioN for uio_pci_generic, /dev/vfio/GROUP for
# vfio-pci).
want=$1
fail() {
	echo "$*" >&2
	exit 1
}
[ -n "$DRV_VM_DEVICES" ] || fail "DRV_VM_DEVICES is empty: nothing was bound"
for addr in $DRV_VM_DEVICES; do
	dev=/sys/bus/pci/devices/$addr
	[ "$(cat "$dev/vendor") $(cat "$dev/device")" = "0x1234 0x11e8" ] || fail "$addr is not the edu device"
	driver=$(basename "$(readlink "$dev/driver")")
	[ "$driver" = "$want" ] || fail "$addr is bound to '$driver', expected '$want'"
	case $want in
	uio_pci_generic)
		uio=$(ls "$dev/uio")
		[ -c "/dev/$uio" ] || fail "$addr: /dev/$uio is missing"
		[ "$(cat "/sys/class/uio/$uio/name")" = uio_pci_generic ] || fail "/sys/class/uio/$uio is not uio_pci_generic"
		echo "$addr -> $driver, /dev/$uio" ;;
	vfio-pci)
		group=$(basename "$(readlink "$dev/iommu_group")")
		[ -c "/dev/vfio/$group" ] || fail "$addr: /dev/vfio/$group is missing"
		[ -c /dev/vfio/vfio ] || fail "/dev/vfio/vfio is missing"
		echo "$addr -> $driver, /dev/vfio/$group" ;;
	*) fail "unknown driver '$want'" ;;
	esac
done
