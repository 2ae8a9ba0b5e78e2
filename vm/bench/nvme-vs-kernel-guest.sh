#!/bin/sh
# Inside the guest (started by vm/bench/nvme-vs-kernel): the same drvbench workloads on
# QEMU's NVMe controller, first through the kernel's nvme driver (io_uring, O_DIRECT on
# /dev/nvme0n1, one poll queue for IOPOLL, PRPs), then through libdrv's NVMe driver on vfio-pci.
# Each run prints one line "ROW <driver> <mode> <workload> <drvbench JSON>".
# usage: nvme-vs-kernel-guest.sh DRVBENCH DRVCTL SECONDS
bench=$1
drvctl=$2
secs=$3
addr=""
for dev in /sys/bus/pci/devices/*; do
	[ "$(cat "$dev/class")" = 0x010802 ] && addr=$(basename "$dev")
done
[ -n "$addr" ] || { echo "no NVMe controller in the guest" >&2; exit 1; }

# sgl_threshold=0: the kernel driver uses PRPs, as libdrv's does for these buffers; with
# its default (SGLs for large requests) QEMU 7.2 stops completing the merged 512 KiB
# requests of a sequential 128 KiB QD8 read (docs/performance.md).
while read -r module; do
	case $module in
	*/nvme.ko) insmod "$module" poll_queues=1 sgl_threshold=0 ;;
	*) insmod "$module" ;;
	esac || exit 1
done </lib/modules/on-demand
i=0
while [ ! -e /dev/nvme0n1 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -e /dev/nvme0n1 ] || { echo "no /dev/nvme0n1" >&2; exit 1; }

# row DRIVER MODE WORKLOAD DEVICE drvbench-options...
row() {
	name="$1 $2 $3"
	mode=$2
	dev=$4
	shift 4
	json=$("$bench" --device "$dev" --mode "$mode" --duration "$secs" --warmup 1 --json --quiet "$@" 2>/tmp/bench.err)
	if [ $? = 0 ]; then
		echo "ROW $name $(printf '%s' "$json" | tr -d '\n')"
	else
		echo "ROW-FAILED $name: $(cat /tmp/bench.err)"
	fi
}
workloads() { # DRIVER DEVICE MODES...
	drv=$1 dev=$2
	shift 2
	for mode; do
		row "$drv" "$mode" 4k-rand-qd1 "$dev" --op read --bs 4K --qd 1
		row "$drv" "$mode" 4k-rand-qd32 "$dev" --op read --bs 4K --qd 32 --batch 8
		row "$drv" "$mode" 128k-seq-qd8 "$dev" --op read --bs 128K --qd 8 --seq
	done
}
workloads kernel uring:/dev/nvme0n1 irq poll
"$drvctl" bind "$addr" vfio --force >/dev/null || exit 1
workloads libdrv "vfio:$addr" irq hybrid poll
