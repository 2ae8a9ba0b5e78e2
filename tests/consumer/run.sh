#!/bin/bash
# Installs the build tree into a temporary prefix, then builds and runs the
# outside project against it twice: with find_package(libdrv) and with
# pkg-config. Settings come from the environment (see CMakeLists.txt).
set -euo pipefail

: "${BUILD_DIR:?}" "${PROJECT_DIR:?}" "${CMAKE:?}" "${CC:?}" "${LIBDIR:?}"
CONSUMER_CFLAGS=${CONSUMER_CFLAGS:-}
CONSUMER_LDFLAGS=${CONSUMER_LDFLAGS:-}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

step() {
	echo "=== $*"
}
quiet() {
	"$@" >"$tmp/log" 2>&1 || {
		cat "$tmp/log"
		echo "FAIL: $*"
		exit 1
	}
}
check_ok() {
	"$@" | tee "$tmp/out"
	grep -q '^OK' "$tmp/out" || {
		echo "FAIL: $* did not print OK"
		exit 1
	}
}

step "install into $prefix"
quiet "$CMAKE" --install "$BUILD_DIR" --prefix "$prefix"
export LD_LIBRARY_PATH=$prefix/$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

step "find_package(libdrv)"
quiet "$CMAKE" -S "$PROJECT_DIR" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
	-DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$CONSUMER_CFLAGS" \
	-DCMAKE_EXE_LINKER_FLAGS="$CONSUMER_LDFLAGS"
quiet "$CMAKE" --build "$tmp/cmake-build"
check_ok "$tmp/cmake-build/consumer"

step "pkg-config libdrv"
# libdrv.pc names the prefix chosen at configure time; --define-prefix
# derives it from where the file was installed instead.
export PKG_CONFIG_PATH=$prefix/$LIBDIR/pkgconfig
pkg_config="pkg-config --define-prefix"
echo "$pkg_config --cflags --libs libdrv: $($pkg_config --cflags --libs libdrv)"
quiet make -C "$PROJECT_DIR" OUT="$tmp" CC="$CC" CFLAGS="$CONSUMER_CFLAGS" \
	LDFLAGS="$CONSUMER_LDFLAGS" PKG_CONFIG="$pkg_config"
check_ok "$tmp/consumer-pc"
