#!/bin/bash
# Host-side checks of vm/run: the command's stdout and stderr come back separately and
# unchanged, its exit status is vm/run's, a hung command times out with 124, and no
# QEMU process or guest RAM file outlives a run, even one that is killed.
# usage: check_run.sh VM_RUN [vm/run options for every run...]
set -u
vm_run=$1
shift
vm_options=("$@")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

check() { # description, then a test expression
	local what=$1
	shift
	if "$@"; then
		echo "ok:   $what"
	else
		echo "FAIL: $what (vm/run exit status $status; its stdout and stderr follow)"
		cat "$work/out" "$work/err"
		failures=$((failures + 1))
	fi
}

# Runs vm/run in the background so its PID, which names its /dev/shm file, is known.
# Sets: status, pid; output in $work/out and $work/err.
run_vm() {
	"$vm_run" "${vm_options[@]}" "$@" >"$work/out" 2>"$work/err" &
	pid=$!
	wait "$pid"
	status=$?
}
nothing_left() { # no QEMU of run $pid still alive, no guest RAM file on disk
	! ls /dev/shm/drv-vm-"$pid"-* >/dev/null 2>&1 && ! pgrep -f "/dev/shm/drv-vm-$pid-" >/dev/null
}

run_vm -- sh -c 'echo "line one"; echo "to stderr" >&2; printf "a\tb\n\nlast"'
check "status 0 is passed on" [ "$status" = 0 ]
printf 'line one\na\tb\n\nlast' >"$work/want"
check "stdout arrives unchanged" cmp -s "$work/out" "$work/want"
check "stderr arrives separately" grep -qx "to stderr" "$work/err"
check "nothing left behind after a normal run" nothing_left

run_vm -- sh -c 'exit 42'
check "a failing command's status (42) is passed on" [ "$status" = 42 ]

run_vm -- /no/such/program
check "a missing program gives 127" [ "$status" = 127 ]

run_vm --timeout 12 -- sleep 600
check "a command that runs too long gives 124" [ "$status" = 124 ]
check "and says so" grep -q "did not finish" "$work/err"
check "nothing left behind after a timeout" nothing_left

run_vm --bind uio --devices 1234:0000 -- true
check "a device that cannot be bound fails the run with 125" [ "$status" = 125 ]
check "and names the device" grep -q "no PCI device matches '1234:0000'" "$work/err"

"$vm_run" "${vm_options[@]}" -- sleep 600 >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 600); do # until QEMU has started: the guest RAM file exists
	ls /dev/shm/drv-vm-"$pid"-* >/dev/null 2>&1 && break
	sleep 0.1
done
sleep 1
kill -TERM "$pid"
wait "$pid"
status=$?
check "a terminated run exits 143" [ "$status" = 143 ]
check "nothing left behind after SIGTERM" nothing_left

[ $failures = 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "all checks passed"
