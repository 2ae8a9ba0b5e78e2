#!/bin/bash
# Usage: check_drvbench.sh path/to/drvbench
# Runs drvbench briefly in several configurations and checks what it writes:
# well-formed JSON with the documented keys, non-empty SVG charts, exit 2 on
# bad arguments. Numbers are never compared with expectations.
# uring:FILE needs a file system with O_DIRECT: the file goes into
# $DRVBENCH_SCRATCH (ctest: the build tree), else into $TMPDIR.
set -u
bench=$1
tmp=$(mktemp -d)
scratch=$(mktemp -d "${DRVBENCH_SCRATCH:-${TMPDIR:-/tmp}}/drvbench.XXXXXX")
trap 'rm -rf "$tmp" "$scratch"' EXIT
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# check_json FILE KEY... : valid JSON, and every dotted KEY path exists.
check_json() {
	local file=$1
	shift
	python3 -m json.tool "$file" >/dev/null || {
		fail "$file is not valid JSON"
		return
	}
	python3 - "$file" "$@" <<'PY' || fail "$file lacks expected keys"
import json, sys
doc = json.load(open(sys.argv[1]))
missing = []
for path in sys.argv[2:]:
    node = doc
    for part in path.split("."):
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            missing.append(path)
            break
if missing:
    print("missing keys:", ", ".join(missing), file=sys.stderr)
    sys.exit(1)
allocs = doc["result"]["allocs"]
if allocs is not None and allocs["loop"] != 0:
    print("the measured loop allocated", allocs["loop"], "times", file=sys.stderr)
    sys.exit(1)
PY
}

# check_result FILE PYTHON-EXPRESSION : the expression holds for the JSON
# document `doc` and its result `r` (the medians).
check_result() {
	python3 - "$1" "$2" <<'PY' || fail "$1: $2 does not hold"
import json, sys
doc = json.load(open(sys.argv[1]))
r = doc["result"]
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)
PY
}

# refused MESSAGE-PATTERN ARGS... : drvbench must exit 2 and say why.
refused() {
	local pattern=$1
	shift
	"$bench" "$@" >/dev/null 2>"$tmp/refused.err"
	local rc=$?
	[ $rc -eq 2 ] || fail "drvbench $* exited $rc, expected 2"
	grep -q -- "$pattern" "$tmp/refused.err" ||
		fail "drvbench $* did not say '$pattern' ($(cat "$tmp/refused.err"))"
}

# run NAME ARGS... : drvbench must exit 0; stdout goes to $tmp/NAME.out.
run() {
	local name=$1
	shift
	if ! "$bench" --quiet "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"; then
		fail "drvbench $* exited $? ($(cat "$tmp/$name.err"))"
		return 1
	fi
}

result_keys="config.op config.qd config.mode config.offsets device.driver result.iops
	result.mb_per_s result.latency_ns.p50 result.latency_ns.p90 result.latency_ns.p99
	result.latency_ns.p99_9 result.latency_ns.max result.cpu_ns_per_op.threads
	result.cpu_ns_per_op.process result.system_cpu_ns_per_op result.ops_per_kick
	result.ops_per_sleep result.allocs runs.0.iops"

run json --count 2000 --json && check_json "$tmp/json.out" $result_keys
run baselines --count 1000 --json --baselines --runs 2 &&
	check_json "$tmp/baselines.out" $result_keys runs.1.iops baselines.io_uring_nop.ops_per_s \
		baselines.eventfd_round_trip_ns.p50 baselines.epoll_round_trip_ns.p50 \
		baselines.memcpy_gb_per_s ratios
run nop_poll --op nop --mode poll --device-poll --qd 32 --batch 8 --count 3000 --json &&
	check_json "$tmp/nop_poll.out" $result_keys
run hybrid --mode hybrid --spin-us 50 --qd 4 --count 1000 --json --latency fixed:20us &&
	check_json "$tmp/hybrid.out" $result_keys
run multi --queues 3 --threads 2 --op mix --mix-read 50 --bs 8k --qd 4 --count 1500 --json \
	--buffered && check_json "$tmp/multi.out" $result_keys
run warm --op write --bs 64k --qd 2 --duration 0.3 --warmup 0.2 --json &&
	check_json "$tmp/warm.out" $result_keys
run sweepq --op nop --sweep queues --queues 4 --threads 2 --count 400 --json &&
	check_json "$tmp/sweepq.out" $result_keys sweep.over sweep.points.2.result.iops
run text --count 500 && grep -q "latency (us)" "$tmp/text.out" ||
	fail "text report lacks the latency line"
grep -q "whole system" "$tmp/text.out" || fail "text report lacks the system CPU figure"

# --seq on a libdrv device: every queue walks its own stripe.
run seq --seq --op mix --qd 8 --queues 2 --count 2000 --json &&
	check_json "$tmp/seq.out" $result_keys &&
	check_result "$tmp/seq.out" 'doc["config"]["offsets"] == "sequential" and r["ops"] == 2000'
run random --count 200 --json &&
	check_result "$tmp/random.out" 'doc["config"]["offsets"] == "random"'
"$bench" --quiet --device 'sim:inproc?capacity=16K' --seq --queues 8 --count 10 \
	>/dev/null 2>"$tmp/stripes.err"
[ $? -eq 1 ] && grep -q stripes "$tmp/stripes.err" ||
	fail "--seq with fewer blocks than queues should exit 1 with a message"

if run plot --count 300 --qd 2 --plot "$tmp/chart"; then
	for svg in "$tmp/chart-latency.svg" "$tmp/chart-qd-sweep.svg"; do
		[ -s "$svg" ] || fail "$svg missing or empty"
		grep -q "</svg>" "$svg" || fail "$svg is not a complete SVG document"
	done
fi

for bad in "--qd 0" "--op fly" "--bogus" "--latency nonsense" "--threads 2 --queues 1" \
	"--bs 4X" "--duration -1" "--mode irq --spin-us 5" "--sweep sideways" "stray"; do
	# shellcheck disable=SC2086 # word splitting is the point
	"$bench" $bad >/dev/null 2>"$tmp/bad.err"
	rc=$?
	[ $rc -eq 2 ] || fail "drvbench $bad exited $rc, expected 2"
	[ -s "$tmp/bad.err" ] || fail "drvbench $bad printed no error"
done

"$bench" --device sim:/nonexistent/socket --count 10 >/dev/null 2>"$tmp/open.err"
[ $? -eq 1 ] || fail "an unreachable device should exit 1"

# uring:FILE: the kernel's I/O path on a regular file, O_DIRECT.
disk=$scratch/disk
dd if=/dev/zero of="$disk" bs=1M count=8 status=none || fail "cannot create $disk"
refused "needs a path" --device uring: --count 10
refused "hybrid" --device "uring:$disk" --mode hybrid --count 10
refused "nop" --device "uring:$disk" --op nop --count 10
refused "device-poll" --device "uring:$disk" --device-poll --count 10
refused "latency" --device "uring:$disk" --latency fixed:1us --count 10
refused "O_DIRECT" --device "uring:$disk" --buffered --count 10
"$bench" --quiet --device "uring:$scratch/missing" --count 10 >/dev/null 2>"$tmp/missing.err"
[ $? -eq 1 ] && grep -q "No such file" "$tmp/missing.err" ||
	fail "uring: on a missing file should exit 1 naming the error"

if "$bench" --quiet --device "uring:$disk" --count 1 >/dev/null 2>"$tmp/direct.err"; then
	for op in read write; do
		for qd in 1 8; do
			for pattern in random seq; do
				name=uring_${op}_${qd}_$pattern
				args=(--device "uring:$disk" --op "$op" --qd "$qd" --count 2000 --json)
				[ $pattern = seq ] && args+=(--seq)
				[ "$qd" = 8 ] && args+=(--batch 4 --queues 2)
				run "$name" "${args[@]}" &&
					check_json "$tmp/$name.out" $result_keys &&
					check_result "$tmp/$name.out" 'r["ops"] > 0 and
						r["interrupts"] is None and doc["device"]["driver"] == "kernel"'
			done
		done
	done
	run uring_text --device "uring:$disk" --count 200 &&
		grep -q "the kernel's driver through io_uring" "$tmp/uring_text.out" ||
		fail "the text report does not name the kernel's driver"
	# One sequential pass of 64 KiB writes covers the file (drvbench writes
	# non-zero bytes); reading it back through io_uring then moves 8 MiB.
	run uring_fill --device "uring:$disk" --op write --seq --bs 64k --qd 4 --count 128 &&
		python3 -c 'import sys; sys.exit(0 in open(sys.argv[1], "rb").read())' "$disk" ||
		fail "a sequential pass of uring: writes left zero bytes in $disk"
	run uring_readback --device "uring:$disk" --op read --seq --bs 64k --qd 4 --count 128 \
		--json && check_result "$tmp/uring_readback.out" 'r["bytes"] == 8 << 20'
	# --seq stripes: with 2 queues, 32 writes of 64 KiB each cover the first
	# half of each queue's 4 MiB stripe and nothing else.
	dd if=/dev/zero of="$disk" bs=1M count=8 conv=notrunc status=none
	run uring_stripes --device "uring:$disk" --op write --seq --bs 64k --qd 4 --queues 2 \
		--threads 2 --count 64 &&
		python3 - "$disk" <<'PY' || fail "uring: --seq with 2 queues wrote outside the stripes' heads"
import sys
d = open(sys.argv[1], "rb").read()
M = 1 << 20
sys.exit([any(d[i * M:(i + 1) * M]) for i in range(8)] != [True, True, False, False] * 2)
PY
	# Polling needs poll queues: it runs, or stops saying so.
	"$bench" --quiet --device "uring:$disk" --mode poll --count 100 >/dev/null \
		2>"$tmp/poll.err"
	rc=$?
	[ $rc -eq 0 ] || { [ $rc -eq 1 ] && grep -q "poll" "$tmp/poll.err"; } ||
		fail "uring: --mode poll exited $rc without naming polling ($(cat "$tmp/poll.err"))"
else
	rc=$?
	# O_DIRECT refused here: that must be a runtime failure with a message.
	[ $rc -eq 1 ] && grep -q "O_DIRECT\|Invalid argument" "$tmp/direct.err" ||
		fail "uring: without O_DIRECT exited $rc ($(cat "$tmp/direct.err"))"
	echo "note: O_DIRECT is not available in $scratch; uring: runs skipped" >&2
fi

[ $failures -eq 0 ] && echo "drvbench checks passed"
exit $((failures > 0))
