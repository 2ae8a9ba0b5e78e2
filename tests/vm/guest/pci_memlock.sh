#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# Inside the guest: a process without CAP_IPC_LOCK (root ignores the limit) and
# with RLIMIT_MEMLOCK at 64 KiB cannot lock libdrv's DMA pool; uio (4 KiB pages,
# no hugepages reserved) and vfio (IOMMU pinning) both say to raise it.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
drvctl=$1 as_nobody=$2
addr=$(edu_addr)
dev=/sys/bus/pci/devices/$addr
group=$(basename "$(readlink "$dev/iommu_group")")

# shellcheck disable=SC3045 # busybox sh has ulimit -l
limited() { (ulimit -l 64 && "$as_nobody" "$@"); }

echo 0 >/proc/sys/vm/nr_hugepages
grep -q '^HugePages_Total: *0$' /proc/meminfo || fail "hugepages are still reserved"
run "$drvctl" bind "$addr" uio
expect_status 0
uio=$(ls "$dev/uio")
chmod 0666 "$dev/config" "/dev/$uio"
run limited "$drvctl" info "uio:$addr"
expect_stderr "no free 2 MiB hugepages" # why 4 KiB pages had to be locked
if grep -q __asan_init "$drvctl"; then
	# AddressSanitizer replaces mlock with a no-op, so the pages "lock" and the
	# open fails one step later, at the physical addresses.
	expect_failure "pagemap gave PFN 0"
	echo "pci_memlock: AddressSanitizer build: uio's RLIMIT_MEMLOCK message not reachable"
else
	expect_failure "locking 67108864 bytes of DMA memory in RAM" \
		"raise RLIMIT_MEMLOCK (\`ulimit -l\`)"
fi

run "$drvctl" bind "$addr" vfio
expect_status 0
chown 65534:65534 "/dev/vfio/$group"
run limited "$drvctl" info "vfio:$addr"
expect_failure "VFIO could not pin 67108864 bytes of DMA memory" \
	"raise RLIMIT_MEMLOCK (\`ulimit -l\`)"
echo "pci_memlock: all passed"
