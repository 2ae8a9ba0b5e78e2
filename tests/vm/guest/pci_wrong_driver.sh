#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# Inside the guest (edu bound to uio_pci_generic): opening edu through the bus it
# is not bound to fails with exit 1 and a message naming the driver it has and the
# drvctl bind command that fixes it; the same for an unbound device.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
drvctl=$1 edutool=$2
addr=$(edu_addr)
[ "$(driver_of "$addr")" = uio_pci_generic ] || fail "edu is not on uio_pci_generic"

run "$drvctl" info "vfio:$addr"
expect_failure "cannot open vfio:$addr" "device $addr is bound to uio_pci_generic" \
	"run \`drvctl bind $addr vfio\` or open uio:$addr"
run "$drvctl" info "uio:$addr"
expect_status 0

run "$drvctl" bind "$addr" vfio
expect_status 0
run "$drvctl" info "uio:$addr"
expect_failure "cannot open uio:$addr" "device $addr is bound to vfio-pci" \
	"run \`drvctl bind $addr uio\` or open vfio:$addr"
if [ -n "$edutool" ]; then
	run "$edutool" --device "uio:$addr" info
	expect_failure "is bound to vfio-pci" "drvctl bind $addr uio"
fi
run "$drvctl" info "pci:$addr" # pci: takes whichever of the two it is bound to
expect_status 0
expect_stdout "bus             vfio"

# unbind reads the device back through libpci, whose name lookup without pci.ids
# leaks a few udev objects: keep sanitizer builds from failing on that.
run env ASAN_OPTIONS=detect_leaks=0 "$drvctl" unbind "$addr"
expect_status 0
run "$drvctl" info "uio:$addr"
expect_failure "device $addr is not bound to any driver" "run \`drvctl bind $addr uio\`"
run "$drvctl" info "vfio:$addr"
expect_failure "device $addr is not bound to any driver" "run \`drvctl bind $addr vfio\`"
echo "pci_wrong_driver: all passed"
