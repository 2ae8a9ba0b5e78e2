#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# Inside the guest: the sample apps against sim:inproc, which needs no PCI device
# and must behave in the guest exactly as on the host.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
asyncread=$1 notify=$2 drvctl=$3

run "$asyncread"
expect_status 0
expect_stdout "submitted 3 reads; all pending" \
	'buffer A: "A: hello from dsim"  (32 bytes' \
	'buffer B: "B: hello from dsim"  (32 bytes' \
	'buffer C: "C: hello from dsim"  (32 bytes' \
	"all 3 reads finished"
[ "$(printf '%s\n' "$out" | grep -c '^buffer ')" = 3 ] || fail "asyncread printed other than 3 buffers"

run "$asyncread" --direct --count 5 --size 4K --latency fixed:10ms
expect_status 0
expect_stdout "wrote 5 buffers of 4096 bytes (direct I/O)" 'buffer E: "E: hello from dsim"' \
	"all 5 reads finished"

run "$notify" --raise a --raise b --count 2 --timeout 60
expect_status 0
expect_stdout 'event 1: "a" (1 bytes)' 'event 2: "b" (1 bytes)'
[ "$(printf '%s\n' "$out" | grep -c '^event ')" = 2 ] || fail "notify reported other than 2 events"

run "$drvctl" info sim:inproc
expect_status 0
expect_stdout "device          sim:inproc" "driver          dsim" "bus             sim" \
	"features        " "events"
run "$drvctl" info sim:inproc --json
expect_status 0
printf '%s\n' "$out" | json_wellformed '{' || fail "info --json is not well-formed JSON"
expect_stdout '"driver": "dsim"' '"bus": "sim"' '"features": ['

run "$asyncread" --count 27
expect_status 2
expect_stderr "--count"
echo "sim_samples: all passed"
