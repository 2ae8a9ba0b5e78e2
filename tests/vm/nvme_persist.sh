#!/bin/bash
# Data written and flushed through libdrv's NVMe driver in one boot is read back in the
# next, from a namespace file both guests share; the second boot uses the other bus.
# Usage: nvme_persist.sh VM_RUN NVME_CHECK [vm/run options...]
set -euo pipefail
run=$1 check=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
seed=$((RANDOM * 32768 + RANDOM))
"$run" "$@" --nvme-img "$tmp/nvme.img" --nvme-size 32M --bind vfio -- "$check" vfio write "$seed"
"$run" "$@" --nvme-img "$tmp/nvme.img" --bind uio -- "$check" uio verify "$seed"
