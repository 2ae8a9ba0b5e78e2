#!/bin/bash
# The exported ABI is exactly what the headers declare: the DRV_API functions of
# the installed headers, the version script's list, and what libdrv.so exports
# (each with a symbol version) are the same set; libdrv-sim.so exports only the
# symbol its link options name; libdrv.a, whose symbols a static consumer
# sees, defines no other drv_ symbol (internal ones are drvi_).
# Usage: exports.sh INCLUDE_DIR LIBDRV_MAP LIBDRV_SO LIBDRV_SIM_SO LIBDRV_A
set -euo pipefail
include=$1 map=$2 so=$3 sim_so=$4 archive=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

grep -h '^DRV_API ' "$include"/drv/*.h | grep -o '^[^(]*(' | sed -E 's/.*[ *]([a-z_0-9]+)\($/\1/' |
	sort >"$tmp/headers"
# A function whose ABI changed is listed in its old node too (its old version lives on).
sed -n 's/^[[:space:]]*\(drv_[a-z_0-9]*\);.*$/\1/p' "$map" | sort -u >"$tmp/map"
nm -D --defined-only "$so" | awk '$3 !~ /^LIBDRV/ { print $3 }' | sort >"$tmp/all-exported"
# Old versions (NAME@NODE, one @) must have a current default (NAME@@NEWER).
grep -v '@@' "$tmp/all-exported" >"$tmp/compat" || true
grep '@@' "$tmp/all-exported" >"$tmp/exported" || true

status=0
compare() { # compare NAME_A FILE_A NAME_B FILE_B
	if ! diff -q "$2" "$4" >/dev/null; then
		echo "FAIL: $1 and $3 differ (< only in $1, > only in $3):"
		diff "$2" "$4" | grep '^[<>]' || true
		status=1
	fi
}
compare "DRV_API in the headers" "$tmp/headers" "the version script" "$tmp/map"
sed 's/@.*//' "$tmp/exported" >"$tmp/exported-names"
while IFS=@ read -r name node; do
	if [ -z "$node" ]; then
		echo "FAIL: $name is exported without a symbol version"
		status=1
	elif ! grep -qx "$name" "$tmp/exported-names"; then
		echo "FAIL: $name@$node is an old version of a function with no current one"
		status=1
	fi
done <"$tmp/compat"
compare "the version script" "$tmp/map" "libdrv.so's exports" "$tmp/exported-names"
sim=$(nm -D --defined-only "$sim_so" | awk '$3 !~ /^LIBDRV/ { print $3 }')
if [ "$sim" != "drv_sim_plugin@@LIBDRV_SIM_0.1" ]; then
	echo "FAIL: libdrv-sim.so exports '$sim', expected only drv_sim_plugin@@LIBDRV_SIM_0.1"
	status=1
fi
nm --defined-only "$archive" 2>/dev/null | awk '$2 ~ /^[TDBRC]$/ && $3 ~ /^drv_/ { print $3 }' |
	sort -u >"$tmp/archive"
if comm -23 "$tmp/archive" "$tmp/map" | grep . >"$tmp/internal"; then
	echo "FAIL: libdrv.a defines drv_ symbols that are not the public ABI (give them the drvi_ prefix):"
	cat "$tmp/internal"
	status=1
fi
[ $status = 0 ] && echo "ok: $(wc -l <"$tmp/headers") functions, declared = listed = exported; $(wc -l <"$tmp/compat") old versions kept"
exit $status
