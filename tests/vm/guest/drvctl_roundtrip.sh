#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# Inside the guest (edu unbound): drvctl list shows edu with no kernel driver and
# libdrv's edu driver, --json is well formed, bind uio -> bind vfio -> unbind moves
# the device between drivers with their device nodes, and bad input fails with a
# message (exit 1) or a usage error (exit 2).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
drvctl=$1
addr=$(edu_addr)
dev=/sys/bus/pci/devices/$addr
group=$(basename "$(readlink "$dev/iommu_group")")
# libpci's name lookup without pci.ids leaks a few udev objects (list, and unbind,
# which reads the device back): keep sanitizer builds from failing on that.
names="env ASAN_OPTIONS=detect_leaks=0 $drvctl"
list="$names list"

# list_row FIELD: the field of edu's row in `drvctl list` (2 id, 3 group, 4 driver, 5 libdrv).
list_row() {
	printf '%s\n' "$out" | awk -v a="$addr" -v f="$1" '$1 == a { print $f }'
}

[ -z "$(driver_of "$addr")" ] || fail "edu starts bound to $(driver_of "$addr")"
run $list
expect_status 0
expect_stdout "ADDRESS" "LIBDRV"
[ "$(list_row 2)" = 1234:11e8 ] || fail "list: edu's id is '$(list_row 2)'"
[ "$(list_row 3)" = "$group" ] || fail "list: edu's group is '$(list_row 3)', sysfs says $group"
[ "$(list_row 4)" = - ] || fail "list: edu's driver is '$(list_row 4)', expected -"
[ "$(list_row 5)" = edu ] || fail "list: edu's libdrv driver is '$(list_row 5)', expected edu"

run $list --json
expect_status 0
printf '%s\n' "$out" | json_wellformed '[' || fail "list --json is not well-formed JSON"
entry=$(printf '%s\n' "$out" | grep -F "\"address\": \"$addr\"")
[ -n "$entry" ] || fail "list --json has no object for $addr"
for field in '"vendor": "1234"' '"device": "11e8"' '"driver": ""' \
	"\"iommu_group\": $group" '"libdrv_driver": "edu"' '"class": "00ff00"'; do
	printf '%s\n' "$entry" | grep -qF "$field" || fail "list --json: edu lacks $field"
done
entries=$(printf '%s\n' "$out" | grep -c '"address": ')
[ "$entries" = "$(ls /sys/bus/pci/devices | wc -l)" ] ||
	fail "list --json has $entries objects for $(ls /sys/bus/pci/devices | wc -l) functions"

run "$drvctl" bind "$addr" uio
expect_status 0
expect_stdout "bound to uio_pci_generic" "open it as uio:$addr"
[ "$(driver_of "$addr")" = uio_pci_generic ] || fail "after bind uio: driver '$(driver_of "$addr")'"
uio=$(ls "$dev/uio")
[ -c "/dev/$uio" ] || fail "after bind uio: no /dev/$uio"
run $list
[ "$(list_row 4)" = uio_pci_generic ] || fail "list after bind uio: driver '$(list_row 4)'"
run "$drvctl" info "uio:$addr"
expect_status 0
expect_stdout "driver          edu" "bus             uio" "address         $addr" "irq mode        INTx"

run "$drvctl" bind "$addr" vfio
expect_status 0
expect_stdout "bound to vfio-pci" "open it as vfio:$addr"
[ "$(driver_of "$addr")" = vfio-pci ] || fail "after bind vfio: driver '$(driver_of "$addr")'"
[ -c "/dev/vfio/$group" ] || fail "after bind vfio: no /dev/vfio/$group"
[ ! -e "$dev/uio" ] || fail "after bind vfio: $dev/uio is still there"
run "$drvctl" info "vfio:$addr"
expect_status 0
expect_stdout "driver          edu" "bus             vfio" "irq mode        MSI"
run "$drvctl" bind "$addr" vfio
expect_status 0 # already there: nothing to do

run $names unbind "$addr"
expect_status 0
expect_stdout "$addr: now unbound (no previous driver was recorded)"
[ -z "$(driver_of "$addr")" ] || fail "after unbind: still bound to $(driver_of "$addr")"
case $(cat "$dev/driver_override") in
"" | "(null)") ;;
*) fail "after unbind: driver_override is '$(cat "$dev/driver_override")'" ;;
esac
[ ! -e "/run/libdrv/$addr.prev-driver" ] || fail "unbind left /run/libdrv/$addr.prev-driver"
run $list
[ "$(list_row 4)" = - ] || fail "list after unbind: driver '$(list_row 4)'"
run "$drvctl" info "uio:$addr"
expect_failure "not bound to any driver" "drvctl bind $addr uio"

# Bad input: runtime errors exit 1 with a message, usage errors exit 2.
run "$drvctl" bind 0000:00:99.0 uio
expect_failure "is not a PCI address" "DDDD:BB:DD.F" "drvctl list"
run "$drvctl" bind 0000:00:1f.6 vfio
expect_failure "no PCI device 0000:00:1f.6" "drvctl list"
run "$drvctl" unbind nonsense
expect_failure "\"nonsense\" is not a PCI address"
run "$drvctl" info uio:0000:00:1f.6
expect_failure "cannot open uio:0000:00:1f.6" "no PCI device"
run "$drvctl" bind "$addr" bogus
expect_status 2
expect_stderr "bind to 'uio' or 'vfio', not 'bogus'" "--help"
run "$drvctl" bind "$addr"
expect_status 2
expect_stderr "expected ADDR and uio or vfio"
run "$drvctl" unbind
expect_status 2
[ -z "$(driver_of "$addr")" ] || fail "a failed command bound edu to $(driver_of "$addr")"
echo "drvctl_roundtrip: all passed"
