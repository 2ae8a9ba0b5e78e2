#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# Inside the guest (edu on uio_pci_generic) with no hugepages: uio falls back to
# locked 4 KiB pages, opens and runs DMA anyway, and says once on stderr how to
# reserve hugepages; LIBDRV_QUIET=1 silences that note.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
drvctl=$1 edutool=$2
addr=$(edu_addr)

echo 0 >/proc/sys/vm/nr_hugepages
grep -q '^HugePages_Total: *0$' /proc/meminfo || fail "hugepages are still reserved"

run "$drvctl" info "uio:$addr"
expect_status 0
expect_stdout "driver          edu" "DMA pool        67108864 bytes"
expect_stderr "libdrv: no free 2 MiB hugepages: DMA memory uses locked 4 KiB pages" \
	"echo 34 > /proc/sys/vm/nr_hugepages"
[ "$(printf '%s\n' "$err" | grep -c hugepages)" = 1 ] || fail "the note is printed more than once"

run env LIBDRV_QUIET=1 "$drvctl" info "uio:$addr"
expect_status 0
[ -z "$err" ] || fail "LIBDRV_QUIET=1 left stderr output: $err"

if [ -n "$edutool" ]; then
	run env LIBDRV_QUIET=1 "$edutool" --device "uio:$addr" dma --count 2 --size 4000 --offset 50
	expect_status 0
	expect_stdout "data matches"
fi
echo "uio_no_hugepages: all passed"
