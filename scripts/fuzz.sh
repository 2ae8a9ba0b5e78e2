#!/bin/bash
# libFuzzer campaigns on the harnesses of tests/fuzz (docs/reliability.md, "Fuzzing").
# Builds the fuzz preset (clang, ASan + UBSan), then fuzzes each harness in turn for up
# to SECONDS (default 60) or RUNS executions (default: no limit), whichever comes first.
# The working corpus is build/fuzz/corpus/NAME, seeded from tests/fuzz/corpus/NAME;
# crash inputs are saved under build/fuzz/crashes/NAME/. Prints executions, exec/s,
# coverage (cov, ft), corpus size (libFuzzer's units/bytes, and the files of the corpus
# directory, which keeps every unit ever added) and crashes per harness; exits 1 if any crashed.
# NAME stress_loop runs the stress harness instead (tests/fuzz/stress_loop.c: the device's
# own event loop on its thread against the devsim_driver corpus) for SECONDS; RUNS is
# ignored there, and `all` does not include it.
#   scripts/fuzz.sh [NAME|all|stress_loop] [SECONDS] [RUNS]
# Inputs are kept to 1024 bytes (a hundred actions or so), which keeps the harnesses fast;
# FUZZ_FLAGS adds or overrides libFuzzer flags (e.g. FUZZ_FLAGS=-max_len=4096).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

which=${1:-all}
seconds=${2:-60}
runs=${3:--1}
[[ $seconds =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a whole number" >&2; exit 2; }
[[ $runs =~ ^-?[0-9]+$ ]] || { echo "fuzz.sh: RUNS must be a whole number" >&2; exit 2; }

mapfile -t all < <(find tests/fuzz -maxdepth 1 -name 'fuzz_*.c' -printf '%f\n' | sed 's/^fuzz_//; s/\.c$//' | sort)
if [ "$which" = all ]; then
	names=("${all[@]}")
elif [ "$which" = stress_loop ]; then
	names=()
else
	[ -f "tests/fuzz/fuzz_$which.c" ] || { echo "fuzz.sh: no harness $which (one of: ${all[*]})" >&2; exit 2; }
	names=("$which")
fi

section "Build (preset fuzz)"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$JOBS"

out=build/fuzz
failed=()
report=()
for name in "${names[@]}"; do
	section "fuzz $name: ${seconds} s, runs ${runs}"
	corpus=$out/corpus/$name
	crashes=$out/crashes/$name
	log=$out/fuzz-$name.log
	mkdir -p "$corpus" "$crashes"
	cp -n tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
	rc=0
	# shellcheck disable=SC2086 # FUZZ_FLAGS holds several flags
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
		"$out/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -runs="$runs" \
		-artifact_prefix="$crashes/" -print_final_stats=1 -max_len=1024 ${FUZZ_FLAGS:-} "$corpus" \
		>"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
	cov=$(grep -o 'cov: [0-9]*' <<<"$last" | cut -d' ' -f2 || true)
	ft=$(grep -o 'ft: [0-9]*' <<<"$last" | cut -d' ' -f2 || true)
	corp=$(grep -o 'corp: [0-9]*/[0-9A-Za-z]*' <<<"$last" | cut -d' ' -f2 || true)
	ncrash=$(find "$crashes" -type f | wc -l)
	ncorpus=$(find "$corpus" -type f | wc -l)
	line="$name: executions ${execs:-?}, exec/s ${speed:-?}, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?} (files: $ncorpus), crashes $ncrash"
	echo "$line"
	report+=("$line")
	if [ "$rc" -ne 0 ] || [ "$ncrash" -ne 0 ]; then
		tail -n 40 "$log"
		failed+=("$name")
	fi
done

if [ "$which" = stress_loop ]; then
	section "stress_loop: ${seconds} s"
	log=$out/stress_loop.log
	mkdir -p "$out/corpus/devsim_driver"
	rc=0
	"$out/tests/fuzz/stress_loop" --seconds "$seconds" --seed "$RANDOM" "$out/corpus/devsim_driver" \
		tests/fuzz/corpus/devsim_driver >"$log" 2>&1 || rc=$?
	tail -n 20 "$log"
	report+=("$(tail -n 1 "$log")")
	[ "$rc" -eq 0 ] || failed+=(stress_loop)
fi

section "Summary"
printf '%s\n' "${report[@]}"
if [ ${#failed[@]} -ne 0 ]; then
	echo "crashes in: ${failed[*]} (inputs under $out/crashes/; logs $out/fuzz-NAME.log)"
	exit 1
fi
