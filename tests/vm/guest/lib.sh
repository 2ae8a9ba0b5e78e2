#!/bin/sh
# Sourced by the guest check scripts: finding edu, running a command and
# asserting its exit status and what it printed.
# shellcheck disable=SC2034 # status, out, err are read by the sourcing script

fail() {
	echo "${0##*/}: FAIL: $*" >&2
	exit 1
}

# Address of QEMU's edu device (1234:11e8).
edu_addr() {
	for dev in /sys/bus/pci/devices/*; do
		if [ "$(cat "$dev/vendor") $(cat "$dev/device")" = "0x1234 0x11e8" ]; then
			basename "$dev"
			return 0
		fi
	done
	fail "no edu device (1234:11e8) in /sys/bus/pci/devices"
}

# Name of the driver bound to PCI function $1, empty when none.
driver_of() {
	link=/sys/bus/pci/devices/$1/driver
	if [ -e "$link" ]; then basename "$(readlink "$link")"; fi
}

# run CMD [ARGS...]: runs CMD; its status goes to $status, its stdout to
# $out, its stderr to $err; all three are logged.
run() {
	out=$("$@" 2>/tmp/.run-stderr)
	status=$?
	err=$(cat /tmp/.run-stderr)
	printf '$ %s\n' "$*"
	[ -z "$out" ] || printf '%s\n' "$out"
	[ -z "$err" ] || printf '[stderr] %s\n' "$err"
	printf '[exit %s]\n' "$status"
}

expect_status() {
	[ "$status" = "$1" ] || fail "expected exit status $1, got $status"
}

# expect_stdout TEXT...: each TEXT (a fixed string) is in the last run's stdout.
expect_stdout() {
	for text; do
		printf '%s\n' "$out" | grep -qF -- "$text" || fail "stdout lacks '$text'"
	done
}

# expect_stderr TEXT...: each TEXT is in the last run's stderr.
expect_stderr() {
	for text; do
		printf '%s\n' "$err" | grep -qF -- "$text" || fail "stderr lacks '$text'"
	done
}

# A failure: exit status 1 (a runtime error) and a message with every TEXT.
expect_failure() {
	expect_status 1
	expect_stderr "$@"
}

# Reads JSON on stdin and checks its structure: strings closed, every
# bracket and brace matched in order, nothing left open. Exits non-zero
# otherwise. The first character that is not blank must be $1 ([ or {).
json_wellformed() {
	awk -v first="$1" '
	{ text = text $0 "\n" }
	END {
		n = length(text); depth = 0; instr = 0; seen = 0
		for (i = 1; i <= n; i++) {
			c = substr(text, i, 1)
			if (instr) {
				if (c == "\\") i++
				else if (c == "\"") instr = 0
				continue
			}
			if (!seen && c !~ /[ \t\n]/) {
				if (c != first) exit 1
				seen = 1
			}
			if (c == "\"") instr = 1
			else if (c == "{" || c == "[") stack[++depth] = c
			else if (c == "}" || c == "]") {
				if (depth == 0 || (c == "}") != (stack[depth] == "{")) exit 1
				depth--
			}
		}
		exit (depth != 0 || instr || !seen)
	}'
}
