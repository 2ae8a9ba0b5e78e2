#!/bin/sh
# Inside the guest: edutool's commands against the bound edu device, each must succeed
# and print what it promises; bad arguments must exit 2 without touching the device.
tool=$1
fail() { echo "edutool_smoke: $*" >&2; exit 1; }
addr=""
for dev in /sys/bus/pci/devices/*; do
	[ "$(cat "$dev/vendor") $(cat "$dev/device")" = "0x1234 0x11e8" ] && addr=$(basename "$dev")
done
[ -n "$addr" ] || fail "no edu device"
# The default device comes from libpci's listing, whose fallback without pci.ids leaks
# a few udev objects: keep a sanitizer build from failing on that.
out=$(ASAN_OPTIONS=detect_leaks=0 "$tool" info) || fail "info (default device) failed"
echo "$out"
echo "$out" | grep -q "identity:     0x010000ed" || fail "info: wrong identity"
echo "$out" | grep -q "$addr" || fail "info: not the edu device at $addr"
device="pci:$addr"
out=$("$tool" --device "$device" fact 5 10 13) || fail "fact failed"
echo "$out"
echo "$out" | grep -q "^13! = 1932053504 " || fail "fact: wrong 13!"
out=$("$tool" --device "$device" dma --count 3 --size 2000 --offset 95) || fail "dma failed"
echo "$out"
echo "$out" | grep -q "data matches" || fail "dma: data differs"
out=$("$tool" --device "$device" raise 0x4000) || fail "raise failed"
echo "$out"
echo "$out" | grep -q "received 0x4000" || fail "raise: wrong value"
"$tool" dma --size 4096 2>/dev/null
[ $? = 2 ] || fail "dma --size 4096 must be refused with exit status 2"
"$tool" bogus 2>/dev/null
[ $? = 2 ] || fail "an unknown command must exit 2"
echo "edutool_smoke: all passed"
