#!/bin/bash
# Instructions per request of a drvbench workload, which reproduce exactly where wall-clock
# figures do not: runs `drvbench --quiet --count N ARGS...` under callgrind for N and 2N
# requests and prints, per thread, (instructions at 2N - instructions at N) / N, so start-up
# and teardown cancel out. Thread 1 is drvbench's main thread (setup), the device thread of
# sim:inproc comes next, then the I/O threads. Totals include waiting (spinning, empty
# reaps), which varies with scheduling; the request path (the self cost of the functions
# matching --functions, by default submission, completion, the driver's post and commit,
# and delivery) does not.
#   scripts/callgrind.sh [--count N] [--build DIR] [--functions REGEX] -- DRVBENCH_ARGS...
set -euo pipefail
source "$(dirname "$0")/lib.sh"

count=16000
build=build/default
functions='^(drv_submit|drv_queue_complete|[a-z]+_post|[a-z]+_commit|drvi_req_deliver_head|drvi_req_deliver)$'
while [ $# -gt 0 ]; do
	case $1 in
	--count) count=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--functions) functions=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "callgrind.sh: unknown option $1 (put drvbench's options after --)" >&2; exit 2 ;;
	esac
done
[[ $count =~ ^[0-9]+$ && $count -gt 0 ]] || { echo "callgrind.sh: --count takes a number above 0" >&2; exit 2; }
bench=$build/apps/drvbench/drvbench
[ -x "$bench" ] || { echo "callgrind.sh: no $bench: build first (scripts/build.sh default)" >&2; exit 2; }
command -v valgrind > /dev/null || { echo "callgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for n in "$count" $((2 * count)); do
	valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$dir/cg.$n.%p" \
		"$bench" --quiet --count "$n" "$@" > /dev/null 2> "$dir/log.$n" ||
		{ cat "$dir/log.$n" >&2; exit 1; }
done
# Total instructions of each thread's profile ("summary:" line), by thread number.
totals() {
	for f in "$dir"/cg."$1".*-*; do
		printf '%s %s\n' "${f##*-}" "$(sed -n 's/^summary: //p' "$f")"
	done | sort -n
}
# Self cost of the functions matching $functions, by thread (inlined pieces included).
path() {
	for f in "$dir"/cg."$1".*-*; do
		printf '%s %s\n' "${f##*-}" "$(callgrind_annotate --inclusive=no --threshold=100 "$f" |
			awk -v re="$functions" '/^ *[0-9,]+ / && !/PROGRAM TOTALS/ {
				n = $1; gsub(",", "", n); fn = $0; sub(/ \[.*$/, "", fn); sub(/.*:/, "", fn)
				if (fn ~ re) sum += n } END { print sum + 0 }')"
	done | sort -n
}
join <(totals "$count") <(totals $((2 * count))) > "$dir/totals"
join <(path "$count") <(path $((2 * count))) > "$dir/path"
join "$dir/totals" "$dir/path" |
	awk -v n="$count" '{ printf "thread %d: %.0f instructions per request, request path %.0f\n",
		$1, ($3 - $2) / n, ($5 - $4) / n }'
