#!/bin/bash
# The main job: installs dependencies, builds, and runs the sample apps
# against the simulated device.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

section "Debian packages"
./scripts/deps.sh

section "Build (preset default)"
./scripts/build.sh default

bin=build/default/apps
devsim=build/default/devsim/devsim

section "asyncread: three overlapped reads pending together (1 s device latency)"
"$bin/asyncread"

section "asyncread --serial: one request at a time, one completion per second"
"$bin/asyncread" --serial

section "asyncread --direct: reads into a DMA buffer (direct I/O)"
"$bin/asyncread" --direct --latency fixed:200ms

section "notify: parked WAIT_EVENT requests completed by raised events"
"$bin/notify" --raise "door opened" --raise "button pressed" --count 2 --timeout 30

section "notify against a separate devsim process, events from 'devsim event'"
tmp=$(mktemp -d)
"$devsim" serve --socket "$tmp/dsim.sock" 2> >(tee "$tmp/devsim.log" >&2) &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do
	grep -q '^devsim: serving' "$tmp/devsim.log" 2>/dev/null && break
	sleep 0.1
done
"$bin/notify" --device "sim:$tmp/dsim.sock" --count 1 --timeout 30 &
client=$!
sleep 1
"$devsim" event --socket "$tmp/dsim.sock" "hello from another process"
wait "$client"
kill "$server"
wait "$server" || true

section "drvctl info"
"$bin/drvctl" info

section "demo finished"
