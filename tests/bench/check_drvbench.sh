#!/bin/bash
# Usage: check_drvbench.sh path/to/drvbench
# Runs drvbench briefly in several configurations and checks what it writes:
# well-formed JSON with the documented keys, non-empty SVG charts, exit 2 on
# bad arguments. Numbers are never compared with expectations.
set -u
bench=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
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

# run NAME ARGS... : drvbench must exit 0; stdout goes to $tmp/NAME.out.
run() {
	local name=$1
	shift
	if ! "$bench" --quiet "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"; then
		fail "drvbench $* exited $? ($(cat "$tmp/$name.err"))"
		return 1
	fi
}

result_keys="config.op config.qd config.mode device.driver result.iops result.mb_per_s
	result.latency_ns.p50 result.latency_ns.p90 result.latency_ns.p99 result.latency_ns.p99_9
	result.latency_ns.max result.cpu_ns_per_op.threads result.cpu_ns_per_op.process
	result.ops_per_kick result.ops_per_sleep result.allocs runs.0.iops"

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

[ $failures -eq 0 ] && echo "drvbench checks passed"
exit $((failures > 0))
