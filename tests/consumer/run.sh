#!/bin/bash
# Installs the build tree into a scratch prefix, moves the installed tree
# elsewhere (it must not depend on where it was installed, nor on the prefix
# chosen at configure time), then builds and runs the outside project
# against it twice: with find_package(libdrv) and with pkg-config, both the
# way the README tells users. The outside driver project (its own driver
# for the dsim device, registered from outside the tree) is built and run
# the same two ways. Settings come from the environment (see
# CMakeLists.txt).
set -euo pipefail

: "${BUILD_DIR:?}" "${PROJECT_DIR:?}" "${DRIVER_DIR:?}" "${CMAKE:?}" "${CC:?}" "${LIBDIR:?}"
CONSUMER_CFLAGS=${CONSUMER_CFLAGS:-}
CONSUMER_LDFLAGS=${CONSUMER_LDFLAGS:-}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/moved/prefix

step() {
	echo "=== $*"
}
fail() {
	echo "FAIL: $*"
	exit 1
}
quiet() {
	"$@" >"$tmp/log" 2>&1 || {
		cat "$tmp/log"
		fail "$*"
	}
}
check_ok() {
	"$@" | tee "$tmp/out"
	grep -q '^OK' "$tmp/out" || fail "$* did not print OK"
}

step "install into $tmp/installed, then move it to $prefix"
quiet "$CMAKE" --install "$BUILD_DIR" --prefix "$tmp/installed"
mkdir -p "$tmp/moved"
mv "$tmp/installed" "$prefix"
export LD_LIBRARY_PATH=$prefix/$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

# cmake_build SOURCE_DIR BUILD_DIR: a find_package(libdrv) build against $prefix.
cmake_build() {
	quiet "$CMAKE" -S "$1" -B "$2" -DCMAKE_PREFIX_PATH="$prefix" \
		-DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$CONSUMER_CFLAGS" \
		-DCMAKE_EXE_LINKER_FLAGS="$CONSUMER_LDFLAGS"
	grep -qx "libdrv_DIR:PATH=$prefix/$LIBDIR/cmake/libdrv" "$2/CMakeCache.txt" ||
		fail "find_package did not take libdrv from $prefix for $1"
	quiet "$CMAKE" --build "$2"
}

step "find_package(libdrv) with CMAKE_PREFIX_PATH=$prefix"
cmake_build "$PROJECT_DIR" "$tmp/cmake-build"
check_ok "$tmp/cmake-build/consumer"
check_ok "$tmp/cmake-build/consumer_static"
step "without libdrv-sim, sim:inproc is refused with a message saying what to link"
if "$tmp/cmake-build/consumer_nosim" >"$tmp/out" 2>&1; then
	fail "consumer_nosim opened sim:inproc without libdrv-sim"
fi
cat "$tmp/out"
grep -q "link libdrv-sim" "$tmp/out" || fail "consumer_nosim's error does not say to link libdrv-sim"
# grep -c reads all of nm's output: with pipefail, grep -q's early exit fails the pipeline.
if nm -D "$tmp/cmake-build/consumer_nosim" | grep -c devsim >/dev/null; then
	fail "consumer_nosim carries devsim symbols"
fi

step "pkg-config libdrv with PKG_CONFIG_PATH=$prefix/$LIBDIR/pkgconfig"
export PKG_CONFIG_PATH=$prefix/$LIBDIR/pkgconfig
flags=$(pkg-config --cflags --libs libdrv libdrv-sim)
echo "pkg-config --cflags --libs libdrv libdrv-sim: $flags"
real_prefix=$(realpath "$prefix")
for flag in $flags; do
	case $flag in
	-I* | -L*)
		case $(realpath -m "${flag:2}")/ in
		"$real_prefix"/*) ;;
		*) fail "$flag is outside the installed tree $prefix" ;;
		esac
		;;
	esac
done
# shellcheck disable=SC2086 # the flags are words, as in the README's command
quiet "$CC" -std=c11 -Wall -Wextra -Werror $CONSUMER_CFLAGS -o "$tmp/consumer-pc" \
	"$PROJECT_DIR/main.c" $flags $CONSUMER_LDFLAGS
check_ok "$tmp/consumer-pc"

step "an outside driver: find_package(libdrv) build of $DRIVER_DIR"
cmake_build "$DRIVER_DIR" "$tmp/driver-build"
check_ok "$tmp/driver-build/consumer_driver"

step "an outside driver: pkg-config build of $DRIVER_DIR"
# shellcheck disable=SC2086 # the flags are words, as in the README's command
quiet "$CC" -std=c11 -Wall -Wextra -Werror $CONSUMER_CFLAGS -o "$tmp/driver-pc" \
	"$DRIVER_DIR/main.c" "$DRIVER_DIR/mydsim.c" $flags $CONSUMER_LDFLAGS
check_ok "$tmp/driver-pc"
