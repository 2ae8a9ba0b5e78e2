#!/bin/bash
# Installs the Debian 12 packages needed to build, demo and test libdrv.
# Does nothing when they are all present; otherwise needs root and apt access.
set -euo pipefail

# libclang-rt-14-dev holds libFuzzer's runtime (the fuzz preset), which clang-14 does not pull in.
packages=(build-essential cmake pkg-config libpci-dev liburing-dev libcmocka-dev clang
	libclang-rt-14-dev clang-format qemu-system-x86 busybox-static cpio xz-utils python3 pci.ids
	groff-base debhelper dpkg-dev lintian man-db)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "all required Debian packages are installed"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "missing Debian packages: ${missing[*]}" >&2
	echo "run this script as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y "${missing[@]}"
