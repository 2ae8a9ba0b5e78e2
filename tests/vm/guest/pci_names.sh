#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# Inside the guest, with the dsim function (ivshmem-doorbell) and an NVMe controller
# added: drvctl list names the functions from the pci.ids database the image ships,
# as on the host. edu is not in the database: its class still gets its name.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
drvctl=$1
[ -f /usr/share/misc/pci.ids ] || fail "the image has no /usr/share/misc/pci.ids"
run env ASAN_OPTIONS=detect_leaks=0 "$drvctl" list
expect_status 0

# expect_row ID TEXT: the row of the function with vendor:device ID contains TEXT.
expect_row() {
	row=$(printf '%s\n' "$out" | awk -v id="$1" '$2 == id')
	[ -n "$row" ] || fail "drvctl list shows no $1 function"
	case $row in
	*"$2"*) echo "ok: $1 is named: $2" ;;
	*) fail "$1: '$row' does not contain '$2'" ;;
	esac
}
expect_row 1af4:1110 "Red Hat, Inc. Inter-VM shared memory (RAM memory)"
expect_row 1b36:0010 "Red Hat, Inc. QEMU NVM Express Controller (Non-Volatile memory controller)"
expect_row 1234:11e8 "(Unclassified device"
