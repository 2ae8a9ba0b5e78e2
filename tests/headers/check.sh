#!/bin/bash
# Checks that C and C++ projects, -Werror included, can use every installed
# header:
# - each one compiles alone (the only include of a translation unit) as C11
#   with gcc and clang and as C++17 and C++20 with g++ and clang++, all at
#   -Wall -Wextra -pedantic -Werror;
# - HELPERS, which calls every inline helper (checked here), compiles in each
#   C++ mode with all the headers included before it, at -O2 so that the
#   warnings of the optimiser's passes over the helpers count too;
# - every DRV_API function has C linkage in C++.
# Any compiler output fails the test and is printed. The headers are those
# `cmake --install` puts in a scratch prefix, the only include directory: that
# is the set a consumer gets, so a header needing one that is not installed
# fails too. A compiler that is not installed is skipped with a message.
# Settings come from the environment (see CMakeLists.txt).
set -euo pipefail

: "${BUILD_DIR:?}" "${CMAKE:?}" "${INCLUDEDIR:?}" "${HELPERS:?}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! "$CMAKE" --install "$BUILD_DIR" --prefix "$tmp/prefix" >"$tmp/log" 2>&1; then
	cat "$tmp/log"
	echo "FAIL: cmake --install $BUILD_DIR"
	exit 1
fi
inc=$tmp/prefix/$INCLUDEDIR
mapfile -t headers < <(cd "$inc" && find . -name '*.h' -printf '%P\n' | sort)
if [ ${#headers[@]} -eq 0 ]; then
	echo "FAIL: no headers installed under $inc"
	exit 1
fi
all=()
for h in "${headers[@]}"; do
	all+=(-include "$inc/$h")
done

warnings=(-Wall -Wextra -pedantic -Werror)
# compiler language standard
modes=("gcc c c11" "clang c c11" "g++ c++ c++17" "g++ c++ c++20" "clang++ c++ c++17"
	"clang++ c++ c++20")

failed=0
# compile WHAT COMMAND...
compile() {
	local what=$1
	shift
	if ! "$@" >"$tmp/out" 2>&1 || [ -s "$tmp/out" ]; then
		echo "FAIL: $what: $*"
		cat "$tmp/out"
		failed=1
	fi
}

for mode in "${modes[@]}"; do
	read -r cc lang std <<<"$mode"
	if ! command -v "$cc" >/dev/null; then
		echo "SKIP: $cc is not installed: -std=$std not checked"
		continue
	fi
	for h in "${headers[@]}"; do
		printf '#include <%s>\n' "$h" >"$tmp/tu"
		compile "$h alone" "$cc" -x "$lang" -std="$std" "${warnings[@]}" -I"$inc" -fsyntax-only \
			"$tmp/tu"
	done
	echo "$cc -std=$std: ${#headers[@]} headers, each alone"
	if [ "$lang" = c++ ]; then
		compile "all headers and $(basename "$HELPERS")" "$cc" -std="$std" "${warnings[@]}" -O2 \
			-I"$inc" "${all[@]}" -c -o "$tmp/helpers.o" "$HELPERS"
		echo "$cc -std=$std: all headers and $(basename "$HELPERS")"
	fi
done

# Functions the headers declare with DRV_API, from lines such as
# "DRV_API int drv_open(const char *uri, ...": C++ must see them with C
# linkage, or a C++ program refers to mangled names that libdrv lacks.
mapfile -t api < <(cd "$inc" && cat "${headers[@]}" |
	sed -nE 's/^DRV_API [^(]*[ *]([A-Za-z_][A-Za-z0-9_]*)\(.*/\1/p' | sort -u)
cxx=$(command -v g++ clang++ | head -n 1 || true)
if [ -n "$cxx" ] && [ ${#api[@]} -gt 0 ]; then
	{
		echo 'void (*api[])() = {'
		printf '\treinterpret_cast<void (*)()>(&%s),\n' "${api[@]}"
		echo '};'
	} >"$tmp/api.cpp"
	compile "the address of each DRV_API function" "$cxx" -std=c++17 "${warnings[@]}" -I"$inc" \
		"${all[@]}" -c -o "$tmp/api.o" "$tmp/api.cpp"
	if [ -f "$tmp/api.o" ] && nm -u "$tmp/api.o" | grep -c ' _Z' >/dev/null; then
		echo "FAIL: declared for C++ without extern \"C\":"
		nm -u "$tmp/api.o" | grep ' _Z' | c++filt
		failed=1
	fi
	echo "${#api[@]} DRV_API functions checked for C linkage in C++"
fi

# Function names of the headers' inline helpers, from lines such as
# "static inline void drv_prep_nop(struct drv_req *r)".
mapfile -t helpers < <(cd "$inc" && cat "${headers[@]}" |
	sed -nE 's/^static inline [^(]*[ *]([A-Za-z_][A-Za-z0-9_]*)\(.*/\1/p' | sort -u)
for f in "${helpers[@]}"; do
	if ! grep -qE "(^|[^A-Za-z0-9_])$f\(" "$HELPERS"; then
		echo "FAIL: $(basename "$HELPERS") does not call the inline helper $f"
		failed=1
	fi
done
echo "${#helpers[@]} inline helpers looked for in $(basename "$HELPERS")"
exit $failed
