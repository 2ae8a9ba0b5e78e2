#!/bin/bash
# Builds the Debian packages (debian/) from a copy of the source tree, checks
# them with lintian, installs them into a scratch root with `dpkg --root` and
# uses them from there as a user of the packages would: the manual, pkg-config,
# an outside project built with pkg-config and with find_package(libdrv), the
# tools and the bash completion. See docs/packaging.md.
#   run.sh SOURCE_DIR
# Environment: JOBS (parallel build jobs, default 2), CC (default cc),
# KEEP=1 (keep the scratch directory and say where it is).
set -euo pipefail

src=$(realpath "$1")
jobs=${JOBS:-2}
cc=${CC:-cc}

step() {
	echo "=== $*"
}
fail() {
	echo "FAIL: $*"
	exit 1
}
# quiet LOG COMMAND...: runs COMMAND with its output in LOG, shown when it fails.
quiet() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 || {
		tail -n 60 "$log"
		fail "$*"
	}
}

missing=()
for tool in dpkg-buildpackage dh lintian pkg-config cmake "$cc" man groff; do
	command -v "$tool" >/dev/null || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] || fail "not installed: ${missing[*]} (scripts/deps.sh installs them)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/libdrv-package.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
	trap 'echo "kept $tmp"' EXIT
else
	trap 'rm -rf "$tmp"' EXIT
fi
# lintian and the build leave their own temporary files in here too.
mkdir "$tmp/tmp"
export TMPDIR=$tmp/tmp
root=$tmp/root
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
lib=$root/usr/lib/$triplet
start=$SECONDS

step "copy of the source tree into $tmp/libdrv"
mkdir "$tmp/libdrv"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# The files of the working tree, tracked or new; what .gitignore names
	# (build directories) stays out. A tracked file deleted in the tree is
	# left out too.
	git -C "$src" ls-files -z --cached --others --exclude-standard |
		tar -C "$src" --null -T - --ignore-failed-read -cf - 2>/dev/null |
		tar -x -C "$tmp/libdrv"
else
	tar -C "$src" --exclude=./build --exclude='./obj-*' --exclude=./debian/tmp -cf - . |
		tar -x -C "$tmp/libdrv"
fi
[ -f "$tmp/libdrv/debian/control" ] || fail "no debian/control in the copy of $src"

step "dpkg-buildpackage -us -uc -b (parallel=$jobs, no tests, no debug symbol packages)"
(cd "$tmp/libdrv" && DEB_BUILD_OPTIONS="parallel=$jobs nocheck noddebs" \
	quiet "$tmp/build.log" nice -n 10 dpkg-buildpackage -us -uc -b)
debs=("$tmp"/*.deb)
printf '  %s\n' "${debs[@]##*/}"
echo "  built in $((SECONDS - start)) s"
for pkg in libdrv0 libdrv-sim0 libdrv-dev libdrv-tools; do
	compgen -G "$tmp/${pkg}_*.deb" >/dev/null || fail "no $pkg package was built"
done

step "lintian (fails on errors)"
lintian --fail-on error --display-info "$tmp"/*.changes >"$tmp/lintian.log" 2>&1 || {
	cat "$tmp/lintian.log"
	fail "lintian reports errors"
}
grep -v 'running with root privileges' "$tmp/lintian.log" || true
echo "  lintian: $(grep -c '^E:' "$tmp/lintian.log") errors," \
	"$(grep -c '^W:' "$tmp/lintian.log") warnings, $(grep -c '^[IP]:' "$tmp/lintian.log") notes"

step "dpkg --root $root -i (dependencies outside these packages are the host's)"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
: >"$root/var/lib/dpkg/status"
dpkg_root=(dpkg --root="$root" --log="$tmp/dpkg.log")
[ "$(id -u)" -eq 0 ] || dpkg_root+=(--force-not-root)
# --path-include=* undoes any path-exclude of the host's dpkg configuration
# (minimal container images leave out /usr/share/man): the root gets every file.
quiet "$tmp/install.log" "${dpkg_root[@]}" --path-include='*' --force-depends -i "${debs[@]}"
# What --force-depends let through must be packages of the host, where the
# programs below find those libraries.
while read -r dep; do
	case $dep in
	libdrv*) fail "dependency on $dep is not met by the packages themselves" ;;
	esac
	dpkg-query -W -f='${Status}' "$dep" 2>/dev/null | grep -q 'install ok installed' ||
		fail "the packages depend on $dep, which this host does not have"
	echo "  left to the host: $dep"
done < <(sed -n 's/^  Package \([^ ]*\) is not installed\.$/\1/p' "$tmp/install.log" | sort -u)
"${dpkg_root[@]}" -l >"$tmp/dpkg-l" && grep -q '^ii  libdrv-tools' "$tmp/dpkg-l" ||
	fail "libdrv-tools is not installed in $root"

step "what each package holds"
# has PACKAGE PATH...: each PATH (relative to the root, glob allowed) is PACKAGE's.
has() {
	local pkg=$1 files path f
	shift
	files=$("${dpkg_root[@]}" -L "$pkg")
	for path; do
		while read -r f; do
			# shellcheck disable=SC2053 # PATH may be a pattern
			[[ $f == /$path ]] && continue 2
		done <<<"$files"
		fail "$pkg does not contain /$path"
	done
}
has libdrv0 "usr/lib/$triplet/libdrv.so.0" "usr/lib/$triplet/libdrv.so.0.*"
has libdrv-sim0 "usr/lib/$triplet/libdrv-sim.so.0" "usr/lib/$triplet/libdrv-sim.so.0.*"
has libdrv-dev usr/include/drv/drv.h usr/include/drv/driver.h usr/include/devsim/dsim_hw.h \
	"usr/lib/$triplet/libdrv.so" "usr/lib/$triplet/libdrv.a" \
	"usr/lib/$triplet/libdrv-sim.so" "usr/lib/$triplet/libdrv-sim.a" \
	"usr/lib/$triplet/pkgconfig/libdrv.pc" "usr/lib/$triplet/pkgconfig/libdrv-sim.pc" \
	"usr/lib/$triplet/cmake/libdrv/libdrvConfig.cmake" \
	usr/share/man/man3/drv_submit.3.gz usr/share/man/man7/libdrv.7.gz
for tool in drvctl drvbench edutool devsim asyncread notify; do
	has libdrv-tools "usr/bin/$tool" "usr/share/man/man1/$tool.1.gz"
done
for tool in drvctl drvbench edutool devsim; do
	has libdrv-tools "usr/share/bash-completion/completions/$tool"
done
# The symbols files give users of the libraries versioned dependencies.
for pkg in libdrv-tools libdrv-sim0; do
	depends=$(dpkg-deb -f "$tmp/${pkg}_"*.deb Depends)
	echo "  $pkg Depends: $depends"
	grep -qE '(^|, )libdrv0 \(>= [0-9]' <<<"$depends" || fail "$pkg does not depend on libdrv0 (>= version)"
done

step "man -M $root/usr/share/man"
export MANPAGER=cat MANWIDTH=80 LC_ALL=C.UTF-8
for page in "3 drv_submit" "3 drv_control" "7 libdrv" "1 drvctl" "1 devsim"; do
	# shellcheck disable=SC2086 # SECTION NAME
	man --warnings=w -M "$root/usr/share/man" $page >"$tmp/man.out" 2>"$tmp/man.err" ||
		fail "man $page: $(cat "$tmp/man.err")"
	[ ! -s "$tmp/man.err" ] || fail "man $page warns: $(cat "$tmp/man.err")"
	grep -q "${page#* }" "$tmp/man.out" || fail "man $page printed no page"
	echo "  man $page: $(sed -n '/^NAME/{n;p;q}' "$tmp/man.out" | sed 's/^ *//')"
done

step "pkg-config with PKG_CONFIG_SYSROOT_DIR=$root"
pc() {
	PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_LIBDIR=$lib/pkgconfig:$root/usr/share/pkgconfig \
		pkg-config "$@"
}
echo "  pkg-config --modversion libdrv: $(pc --modversion libdrv)"
flags=$(pc --cflags --libs libdrv libdrv-sim)
echo "  pkg-config --cflags --libs libdrv libdrv-sim: $flags"
grep -qw -- -ldrv <<<"$(pc --libs libdrv)" || fail "pkg-config --libs libdrv has no -ldrv"
real_root=$(realpath "$root")
for flag in $flags; do
	case $flag in
	-I* | -L*)
		case $(realpath -m "${flag:2}")/ in
		"$real_root"/*) ;;
		*) fail "$flag is outside $root" ;;
		esac
		;;
	esac
done
export LD_LIBRARY_PATH=$lib

# Whether PROGRAM loads libdrv from the root. ldd's output goes through a file:
# under pipefail, `ldd | grep -q` fails whenever grep stops reading before ldd ends.
loads_root_libdrv() {
	ldd "$1" >"$tmp/ldd" && grep -q "libdrv.so.0 => $lib/" "$tmp/ldd"
}

# check_ok PROGRAM [static]: runs it, wants "OK", and unless it carries libdrv
# itself, libdrv loaded from the root.
check_ok() {
	"$1" | tee "$tmp/out"
	grep -q '^OK' "$tmp/out" || fail "$1 did not print OK"
	[ "${2:-}" = static ] || loads_root_libdrv "$1" ||
		fail "$1 does not load libdrv from $lib"
}

step "tests/consumer/project built with pkg-config, run with LD_LIBRARY_PATH=$lib"
# shellcheck disable=SC2086 # the flags are words
quiet "$tmp/cc.log" "$cc" -std=c11 -Wall -Wextra -Werror -o "$tmp/consumer-pc" \
	"$src/tests/consumer/project/main.c" $flags
check_ok "$tmp/consumer-pc"

step "tests/consumer/project built with find_package(libdrv), CMAKE_PREFIX_PATH=$root/usr"
quiet "$tmp/cmake.log" cmake -S "$src/tests/consumer/project" -B "$tmp/consumer" \
	-DCMAKE_PREFIX_PATH="$root/usr" -DCMAKE_C_COMPILER="$cc"
grep -qx "libdrv_DIR:PATH=$root/usr/lib/$triplet/cmake/libdrv" "$tmp/consumer/CMakeCache.txt" ||
	fail "find_package did not take libdrv from $root"
quiet "$tmp/cmake-build.log" cmake --build "$tmp/consumer"
check_ok "$tmp/consumer/consumer"
check_ok "$tmp/consumer/consumer_static" static

step "the installed tools"
"$root/usr/bin/drvctl" info | tee "$tmp/out"
grep -q '^driver *dsim' "$tmp/out" || fail "drvctl info did not describe the dsim device"
loads_root_libdrv "$root/usr/bin/drvctl" || fail "drvctl does not load libdrv from $lib"
"$root/usr/bin/asyncread" --latency fixed:10ms | tail -n 3
"$root/usr/bin/devsim" --help >/dev/null

step "bash completion of drvctl from $root"
# The completion function, asked as readline asks it (COMP_* set for the
# line with the cursor at its end); `complete -p` shows it is registered.
completion=$root/usr/share/bash-completion/completions/drvctl
# shellcheck disable=SC2016 # expanded by the inner bash
complete_line='source "$1"
complete -p drvctl >/dev/null || exit 1
read -ra COMP_WORDS <<<"$2"
[[ $2 == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) COMP_LINE=$2 COMP_POINT=${#2}
_drvctl
printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "'
for want in "drvctl |bind info list unbind " "drvctl info --|--device --help --json " \
	"drvctl bind 0000:00:00.0 |uio vfio "; do
	got=$(bash --norc --noprofile -c "$complete_line" bash "$completion" "${want%|*}")
	echo "  '${want%|*}' -> $got"
	[ "$got" = "${want#*|}" ] || fail "completion of '${want%|*}': '$got', not '${want#*|}'"
done

echo "package test passed in $((SECONDS - start)) s"
