#!/usr/bin/env bash
# Checks the generated man pages (see CMakeLists.txt). Environment: LIBDRV_SO,
# MAN_DIR (holds man3/), MAN7 (libdrv.7), HEADERS (the drv/ include directory).
set -euo pipefail

command -v groff >/dev/null || { echo "groff is not installed (Debian: groff-base)"; exit 1; }
cd "$MAN_DIR"   # .so links are relative to the manual's root
fail=0

exported=$(nm -D --defined-only "$LIBDRV_SO" | awk '$2 ~ /^[TtWi]$/ && $3 ~ /^drv_/ { sub(/@.*/, "", $3); print $3 }')
inline=$(sed -n 's/^static inline .*[ *]\(drv_[A-Za-z0-9_]*\)(.*/\1/p' "$HEADERS"/*.h)
[ -n "$exported" ] && [ -n "$inline" ] || { echo "found no functions to check"; exit 1; }
for name in $(printf '%s\n' $exported $inline | sort -u); do
	if [ ! -f "man3/$name.3" ]; then
		echo "no man page for $name"
		fail=1
	fi
done

for page in man3/*.3 "$MAN7"; do
	warnings=$(groff -ww -man -Tutf8 "$page" 2>&1 >/dev/null)
	if [ -n "$warnings" ]; then
		printf '%s:\n%s\n' "$page" "$warnings"
		fail=1
	fi
done

[ "$fail" = 0 ] && echo "$(ls man3 | wc -l) pages checked"
exit "$fail"
