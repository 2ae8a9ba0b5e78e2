#!/usr/bin/env bash
# The manual as `cmake --install` lays it out, in a scratch prefix: every
# program installed in bin/ has a section-1 page and every section-1 page a
# program; every page of every section renders without a groff warning; and
# each option that a tool's --help names (with its commands' --help when it
# has them) appears in the tool's page.
#   tools.sh BUILD_DIR CMAKE
set -euo pipefail

build=$1 cmake=$2
command -v groff >/dev/null || { echo "groff is not installed (Debian: groff-base)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || {
	cat "$tmp/install.log"
	exit 1
}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
man=$prefix/share/man
fail=0

tools=()
for program in "$prefix"/bin/*; do
	tools+=("${program##*/}")
done
[ ${#tools[@]} -gt 0 ] || { echo "nothing installed in $prefix/bin"; exit 1; }
for tool in "${tools[@]}"; do
	[ -f "$man/man1/$tool.1" ] || { echo "$tool is installed without a man page"; fail=1; }
done
for page in "$man"/man1/*.1; do
	name=${page##*/}
	[ -x "$prefix/bin/${name%.1}" ] || { echo "man1/$name has no installed program"; fail=1; }
done

# .so links name pages from the manual's root.
cd "$man"
pages=(man*/*)
for page in "${pages[@]}"; do
	warnings=$(groff -ww -man -Tutf8 "$page" 2>&1 >/dev/null)
	if [ -n "$warnings" ]; then
		printf '%s:\n%s\n' "$page" "$warnings"
		fail=1
	fi
done

# help TOOL [COMMAND]: the options that this --help names.
help_options() {
	"$prefix/bin/$1" "${@:2}" --help | grep -oE -- '--[a-z][a-z-]*' || true
}
for tool in "${tools[@]}"; do
	[ -f "man1/$tool.1" ] || continue
	options=$(help_options "$tool")
	if "$prefix/bin/$tool" --help | grep -c 'COMMAND --help' >/dev/null; then
		for cmd in $("$prefix/bin/$tool" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\).*/\1/p'); do
			options+=$'\n'$(help_options "$tool" "$cmd")
		done
	fi
	text=$(groff -man -Tascii -P-cbou "man1/$tool.1" 2>/dev/null)
	while read -r opt; do
		[ -z "$opt" ] || grep -qF -- "$opt" <<<"$text" ||
			{ echo "man1/$tool.1 does not mention $opt"; fail=1; }
	done < <(sort -u <<<"$options")
done

[ "$fail" = 0 ] && echo "${#tools[@]} tools with pages; ${#pages[@]} installed pages render cleanly"
exit "$fail"
