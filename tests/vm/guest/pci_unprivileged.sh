#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# Inside the guest, as user nobody (as_nobody drops root and every capability):
# uio and vfio say that they need root, binding says the same, uio DMA with
# readable device files gets the pagemap PFN 0 message, and vfio works for the
# owner of /dev/vfio/N as documented.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
drvctl=$1 as_nobody=$2
addr=$(edu_addr)
dev=/sys/bus/pci/devices/$addr
group=$(basename "$(readlink "$dev/iommu_group")")

run "$as_nobody" id -u
[ "$out" = 65534 ] || fail "as_nobody runs as uid '$out'"

run "$drvctl" bind "$addr" uio
expect_status 0
run "$as_nobody" "$drvctl" info "uio:$addr"
expect_failure "opening $dev/config needs root"
run "$as_nobody" "$drvctl" bind "$addr" vfio
expect_failure "driver_override needs root"
[ "$(driver_of "$addr")" = uio_pci_generic ] || fail "an unprivileged bind changed the driver"

# With the device files opened up, the process reaches DMA allocation, where the
# kernel hides physical addresses from it.
uio=$(ls "$dev/uio")
chmod 0666 "$dev/config" "/dev/$uio"
run "$as_nobody" "$drvctl" info "uio:$addr"
expect_failure "pagemap gave PFN 0" "run as root (CAP_SYS_ADMIN) or use vfio"
chmod 0644 "$dev/config"
chmod 0600 "/dev/$uio"

run "$drvctl" bind "$addr" vfio
expect_status 0
run "$as_nobody" "$drvctl" info "vfio:$addr"
expect_failure "opening /dev/vfio/$group needs root (or ownership of the node)"
chown 65534:65534 "/dev/vfio/$group"
run "$as_nobody" "$drvctl" info "vfio:$addr"
expect_status 0
expect_stdout "driver          edu" "bus             vfio"
echo "pci_unprivileged: all passed"
