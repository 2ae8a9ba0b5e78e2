#!/bin/bash
# debian/<package>.symbols names exactly the symbols that the linker version
# script exports, in its version node: dpkg-gensymbols fails the package
# build (package.debs) on any difference, and this says so at once, without
# building packages.
#   symbols.sh SYMBOLS_FILE VERSION_SCRIPT
set -euo pipefail

symbols=$1 map=$2
# The version script's nodes and global names, as NAME@NODE.
from_map=$(awk '
	/^[A-Z][A-Z0-9_.]* *\{/ { node = $1; global = 0; next }
	/global:/ { global = 1; next }
	/local:/ { global = 0; next }
	global && /^[ \t]*[A-Za-z_][A-Za-z0-9_]*;/ { sub(/;.*/, ""); gsub(/[ \t]/, ""); print $0 "@" node }
	node != "" && /^\}/ { print node "@" node; node = "" }
' "$map" | sort)
from_symbols=$(awk '/^ [^ ]/ { print $1 }' "$symbols" | sort)
[ -n "$from_map" ] || { echo "no exported symbols found in $map"; exit 1; }
if [ "$from_map" != "$from_symbols" ]; then
	echo "$symbols does not match $map:"
	diff <(echo "$from_map") <(echo "$from_symbols") | sed -n 's/^< /  exported, not in the symbols file: /p; s/^> /  in the symbols file, not exported: /p'
	echo "A new export goes into $symbols as ' NAME@NODE VERSION', VERSION being the"
	echo "first package version that has it (docs/packaging.md)."
	exit 1
fi
echo "$symbols: the $(wc -l <<<"$from_map") entries of $map"
