#!/bin/bash
# Drives the bash completions in completion/ the way readline calls them, in
# this non-interactive shell: COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT
# as bash sets them for a line with the cursor at its end, then the function
# that `complete -p TOOL` names, and COMPREPLY compared with what is expected.
# PCI addresses come from a fake sysfs tree (LIBDRV_SYSFS_ROOT).
#   completion.sh COMPLETION_DIR [TOOL=BINARY]...
# With the tools' binaries, also checks that the options completed are those
# that each tool's --help lists.
set -u
dir=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

# PCI functions laid out as in sysfs: device links into
# /sys/devices, and a driver link from each bound function to its driver.
sys=$tmp/sys
mkdir -p "$sys/bus/pci/devices" "$sys/devices/pci0000:00"
for drv in uio_pci_generic vfio-pci virtio-pci; do
	mkdir -p "$sys/bus/pci/drivers/$drv"
done
for fn in 0000:00:02.0=virtio-pci 0000:00:03.0=uio_pci_generic 0000:00:04.0=vfio-pci \
	0000:00:05.0= 0000:01:00.0=vfio-pci; do
	addr=${fn%=*} drv=${fn#*=}
	mkdir "$sys/devices/pci0000:00/$addr"
	ln -s "../../../devices/pci0000:00/$addr" "$sys/bus/pci/devices/$addr"
	[ -n "$drv" ] && ln -s "../../../bus/pci/drivers/$drv" "$sys/devices/pci0000:00/$addr/driver"
done
export LIBDRV_SYSFS_ROOT=$sys

# A directory with a devsim socket, a subdirectory and a plain file.
run=$tmp/run
mkdir -p "$run/sub"
: >"$run/notes.txt"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
	"$run/dsim.sock" || exit 1

# compopt works only while readline runs a completion: record its options.
# shellcheck disable=SC2317 # called by the completion functions
compopt() { compopts+=" $*"; }

for tool in drvctl drvbench devsim edutool; do
	# shellcheck source=/dev/null
	source "$dir/$tool" || exit 1
done

# As bash's default; a case below takes ':' out, as some users do.
default_breaks=$' \t\n"\'@><=;|&(:'
COMP_WORDBREAKS=$default_breaks

# complete LINE: runs the completion of LINE (cursor at the end) and leaves the
# replies, sorted, in `got` and the compopt options in `compopts`.
complete_line() {
	local line=$1 tok spec fn="" cur
	local breaks=${COMP_WORDBREAKS//[^:=]/}
	local break_re="^([$breaks]+)(.*)$" word_re="^([^$breaks]+)(.*)$"
	local -a toks
	COMP_LINE=$line
	COMP_POINT=${#line}
	# Blanks separate words, and every run of the ':' and '=' that are in
	# COMP_WORDBREAKS is a word of its own.
	COMP_WORDS=()
	read -ra toks <<<"$line"
	for tok in "${toks[@]}"; do
		while [[ $tok =~ $break_re || $tok =~ $word_re ]]; do
			COMP_WORDS+=("${BASH_REMATCH[1]}")
			tok=${BASH_REMATCH[2]}
		done
	done
	[[ $line == *' ' ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	# Bash passes the text after the last break as the word being completed.
	cur=${COMP_WORDS[COMP_CWORD]}
	[[ $cur =~ $break_re ]] && cur=""
	spec=$(complete -p "${COMP_WORDS[0]}")
	[[ $spec =~ -F\ ([^ ]+) ]] && fn=${BASH_REMATCH[1]}
	COMPREPLY=()
	compopts=""
	got=()
	if [[ -z $fn ]]; then
		printf 'FAIL: no completion function for %s\n' "${COMP_WORDS[0]}"
		failed=1
		return
	fi
	"$fn" "${COMP_WORDS[0]}" "$cur" "${COMP_WORDS[COMP_CWORD - 1]}"
	if ((${#COMPREPLY[@]})); then
		mapfile -t got < <(printf '%s\n' "${COMPREPLY[@]}" | sort)
	fi
}

# check LINE [EXPECTED...]: the completion of LINE offers exactly EXPECTED.
check() {
	local line=$1 want have
	shift
	complete_line "$line"
	want=$(printf '%s\n' "$@" | sort)
	have=$(printf '%s\n' "${got[@]}")
	if [[ $want != "$have" || ${#got[@]} != "$#" ]]; then
		printf 'FAIL: "%s"\n  expected: %s\n  got:      %s\n' "$line" "$*" "${got[*]}"
		failed=1
	fi
}

# check_compopt OPTION: the last completion called `compopt -o OPTION`.
check_compopt() {
	if [[ $compopts != *"-o $1"* ]]; then
		printf 'FAIL: "%s": no compopt -o %s (got "%s")\n' "$COMP_LINE" "$1" "$compopts"
		failed=1
	fi
}

# check_help LINE... -- TOOL ARGS: the options offered for the LINEs (each
# ending in "--") are those that `TOOL ARGS` prints, give or take --help.
check_help() {
	local line want have
	local -a lines=() offered=()
	while [[ $1 != -- ]]; do
		lines+=("$1")
		shift
	done
	shift
	want=$("$@" | grep -oE -- '--[a-z][a-z-]*' | grep -vx -- --help | sort -u)
	for line in "${lines[@]}"; do
		complete_line "$line"
		offered+=("${got[@]}")
	done
	have=$(printf '%s\n' "${offered[@]}" | grep -vx -- --help | sort -u)
	if [[ -z $want || $want != "$have" ]]; then
		printf 'FAIL: options of "%s"\n  help:      %s\n  completed: %s\n' "$*" \
			"${want//$'\n'/ }" "${have//$'\n'/ }"
		failed=1
	fi
}

all_uris=(sim:inproc uio:0000:00:03.0 vfio:0000:00:04.0 vfio:0000:01:00.0 pci:0000:00:03.0
	pci:0000:00:04.0 pci:0000:01:00.0)

# drvctl: commands, options, URIs, addresses for bind/unbind, bind's drivers.
check 'drvctl ' info list bind unbind
check 'drvctl un' unbind
check 'drvctl -' --help
check 'drvctl info -' --device --json --help
check 'drvctl info --j' --json
check 'drvctl info ' "${all_uris[@]}"
check 'drvctl info --json ' "${all_uris[@]}"
check 'drvctl info sim:inproc '
check 'drvctl info uio:' 0000:00:03.0
check 'drvctl info pci:0000:0' 00:03.0 00:04.0 01:00.0
check 'drvctl info --device v' vfio:0000:00:04.0 vfio:0000:01:00.0
check 'drvctl info --device=vfio:0000:01' 01:00.0
check 'drvctl info --device sim:inproc '
# Socket paths, relative to the working directory or not; a directory may
# lead to one.
cd "$run" || exit 1
check 'drvctl info sim:' inproc dsim.sock sub/
cd - >/dev/null || exit 1
check "drvctl info sim:$run/d" "$run/dsim.sock"
check "drvctl info sim:$run/su" "$run/sub/"
check_compopt nospace
check 'drvctl list -' --json --help
check 'drvctl list '
check 'drvctl bind ' 0000:00:02.0 0000:00:03.0 0000:00:04.0 0000:00:05.0 0000:01:00.0
check 'drvctl bind 0000:00:0' 02.0 03.0 04.0 05.0
check 'drvctl bind -' --force --help
check 'drvctl bind 0000:00:05.0 ' uio vfio
check 'drvctl bind --force 0000:00:05.0 v' vfio
check 'drvctl bind 0000:00:05.0 uio '
check 'drvctl unbind ' 0000:00:03.0 0000:00:04.0 0000:01:00.0
check 'drvctl unbind 0000:00:03.0 '

# drvbench: options, enumerated values, latency SPECs, URIs, a file prefix.
check 'drvbench --mo' --mode
check 'drvbench --c' --count --count-allocs
check 'drvbench --mode ' irq poll hybrid
check 'drvbench --mode=h' hybrid
check 'drvbench --op ' read write nop mix
check 'drvbench --sweep q' qd queues
check 'drvbench --qd '
check 'drvbench --latency ' fixed: uniform: exp: nop= read= write= flush= control= \
	wait_event= abort=
check 'drvbench --latency read=u' uniform:
check_compopt nospace
check 'drvbench --latency=w' write= wait_event=
check 'drvbench --latency fixed:1ms,w' 1ms,write= 1ms,wait_event=
check 'drvbench --latency fixed:1'
check 'drvbench --device ' "${all_uris[@]}"
check 'drvbench --device uio:' 0000:00:03.0
check "drvbench --plot $run/n" "$run/notes.txt"
check_compopt filenames

# devsim: commands, each command's options, paths, sockets, latency SPECs.
check 'devsim ' serve event stats fault ivshmem
check 'devsim -' --help
check 'devsim serve -' --socket --capacity --backing --queues --latency --bandwidth --units \
	--poll --fault --seed --help
check 'devsim ivshmem --g' --guest-ram
check 'devsim ivshmem --vectors '
check 'devsim event -' --socket --help
check 'devsim stats -' --socket --json --help
check 'devsim fault -' --socket --seed --clear --help
check "devsim fault --socket $run/" "$run/dsim.sock" "$run/sub"
check 'devsim serve --fault '
check "devsim serve --backing $run/n" "$run/notes.txt"
check_compopt filenames
check "devsim serve --backing=$run/n" "$run/notes.txt"
check "devsim ivshmem --guest-ram $run/" "$run/dsim.sock" "$run/notes.txt" "$run/sub"
# event and stats connect to a running devsim: sockets (and directories) only.
check "devsim stats --socket $run/" "$run/dsim.sock" "$run/sub"
check "devsim event --socket=$run/" "$run/dsim.sock" "$run/sub"
check 'devsim serve --latency read=e' exp:
check 'devsim ivshmem --latency=fixed:1ms,a' 1ms,abort=
check 'devsim serve --queues '

# edutool: global options, commands, URIs (no sim: the edu device is QEMU's), dma's options.
check 'edutool ' info fact dma raise
check 'edutool -' --device --poll --help
check 'edutool --device ' uio:0000:00:03.0 vfio:0000:00:04.0 vfio:0000:01:00.0 \
	pci:0000:00:03.0 pci:0000:00:04.0 pci:0000:01:00.0
check 'edutool --device=pci:0000:00:0' 03.0 04.0
check 'edutool --device vfio:0000:00:04.0 --poll ' info fact dma raise
check 'edutool --poll dma -' --size --offset --count --help
check 'edutool dma --size '
check 'edutool fact '

# Without ':' in COMP_WORDBREAKS, bash replaces all that follows the last '='.
COMP_WORDBREAKS=${default_breaks//:/}
check 'drvctl info uio:' uio:0000:00:03.0
check 'drvbench --latency read=fixed:1ms,r' fixed:1ms,read=
COMP_WORDBREAKS=$default_breaks

# No PCI functions at all: no addresses, not the unmatched pattern.
LIBDRV_SYSFS_ROOT=$tmp/empty
check 'drvctl bind '
check 'drvctl info ' sim:inproc
LIBDRV_SYSFS_ROOT=$sys

for arg; do
	tool=${arg%%=*} bin=${arg#*=}
	case $tool in
	drvctl)
		check_help 'drvctl info --' -- "$bin" info --help
		check_help 'drvctl list --' -- "$bin" list --help
		check_help 'drvctl bind --' -- "$bin" bind --help
		;;
	drvbench) check_help 'drvbench --' -- "$bin" --help ;;
	devsim)
		check_help 'devsim serve --' -- "$bin" serve --help
		check_help 'devsim ivshmem --' -- "$bin" ivshmem --help
		check_help 'devsim event --' -- "$bin" event --help
		check_help 'devsim stats --' -- "$bin" stats --help
		check_help 'devsim fault --' -- "$bin" fault --help
		;;
	# edutool's --help lists the global options and dma's.
	edutool) check_help 'edutool --' 'edutool dma --' -- "$bin" --help ;;
	*)
		echo "unknown tool $tool" >&2
		failed=1
		;;
	esac
done

if ((failed)); then
	echo "completion: FAILED"
else
	echo "completion: all cases passed"
fi
exit $failed
