#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Sends QMP commands to a QEMU monitor socket and prints each answer.

usage: qmp.py SOCKET 'JSON' ['JSON' ...]
   or: qmp.py SOCKET --smart-toggle PERIOD   (NVMe controller nvme0: set and clear
        smart_critical_warning bit 4 every PERIOD seconds, for ever)
"""
import json
import socket
import sys
import time


def connect(path, wait_s=30.0):
    end = time.monotonic() + wait_s
    while True:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            f = s.makefile("rw")
            json.loads(f.readline())  # the greeting
            call(f, {"execute": "qmp_capabilities"})
            return f
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def call(f, cmd):
    f.write(json.dumps(cmd) + "\n")
    f.flush()
    while True:
        answer = json.loads(f.readline())
        if "event" not in answer:
            return answer


def smart(f, value):
    return call(f, {"execute": "qom-set", "arguments": {
        "path": "/machine/peripheral/nvme0", "property": "smart_critical_warning",
        "value": value}})


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    f = connect(sys.argv[1])
    if sys.argv[2] == "--smart-toggle":
        period = float(sys.argv[3])
        while True:
            for value in (16, 0):
                answer = smart(f, value)
                if "error" in answer:
                    sys.exit("qmp.py: %s" % answer["error"])
                time.sleep(period)
    for text in sys.argv[2:]:
        print(json.dumps(call(f, json.loads(text))))


if __name__ == "__main__":
    main()
