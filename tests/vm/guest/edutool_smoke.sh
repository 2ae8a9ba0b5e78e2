#!/bin/sh
# Inside the guest: edutool's commands against the bound edu device, each must succeed
# and print what it promises; bad arguments must exit 2 without touching the device.
tool=$1
fail() { echo "edutool_smoke: $*" >&2; exit 1; }
out=$("$tool" info) || fail "info failed"
echo "$out"
echo "$out" | grep -q "identity:     0x010000ed" || fail "info: wrong identity"
out=$("$tool" fact 5 10 13) || fail "fact failed"
echo "$out"
echo "$out" | grep -q "^13! = 1932053504 " || fail "fact: wrong 13!"
out=$("$tool" dma --count 3 --size 2000 --offset 95) || fail "dma failed"
echo "$out"
echo "$out" | grep -q "data matches" || fail "dma: data differs"
out=$("$tool" raise 0x4000) || fail "raise failed"
echo "$out"
echo "$out" | grep -q "received 0x4000" || fail "raise: wrong value"
"$tool" dma --size 4096 2>/dev/null
[ $? = 2 ] || fail "dma --size 4096 must be refused with exit status 2"
"$tool" bogus 2>/dev/null
[ $? = 2 ] || fail "an unknown command must exit 2"
echo "edutool_smoke: all passed"
