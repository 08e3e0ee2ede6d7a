#!/usr/bin/env python3
"""Runs a command, waits until a line of its standard error matches a
pattern, then (optionally) runs a second command while the first is still
running, and sends the first the signals given; prints each command's exit
status and standard error.

    signal_run.py [--wait REGEX] [--while CMD] [--signal INT|TERM]...
                  [--gap SECONDS] [--between REGEX] -- CMD...

--while runs CMD (a shell command line) once the pattern has matched;
--signal may be repeated: the signals are sent --gap seconds apart (0 by
default: at once), each after the first once a line of standard error
matches --between (signals of one kind sent at once may merge into one). Exit statuses are printed as the shell gives them
(128 + N for a signal the process did not handle).
"""
import argparse
import re
import signal
import subprocess
import sys
import threading
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--wait", default=None)
    parser.add_argument("--while", dest="during", default=None)
    parser.add_argument("--signal", action="append", default=[])
    parser.add_argument("--gap", type=float, default=0.0)
    parser.add_argument("--between", default=None)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command

    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    lines = []
    matched = threading.Event()
    between = threading.Event()
    pattern = re.compile(args.wait) if args.wait else None
    between_pattern = re.compile(args.between) if args.between else None

    def read():
        for line in proc.stderr:
            lines.append(line)
            if pattern and pattern.search(line):
                matched.set()
            if between_pattern and between_pattern.search(line):
                between.set()
        matched.set()  # ended without matching: go on
        between.set()

    reader = threading.Thread(target=read)
    reader.start()
    if pattern:
        matched.wait(args.timeout)
    if args.during:
        second = subprocess.run(args.during, shell=True, stderr=subprocess.PIPE,
                                text=True)
        print(f"second: exit {second.returncode}")
        sys.stdout.write(second.stderr)
    for i, name in enumerate(args.signal):
        if i and between_pattern:
            between.wait(args.timeout)
        if i and args.gap:
            time.sleep(args.gap)
        if proc.poll() is None:
            proc.send_signal(getattr(signal, "SIG" + name))
    try:
        status = proc.wait(args.timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        status = "timeout"
    reader.join()
    status = 128 - status if isinstance(status, int) and status < 0 else status
    print(f"first: exit {status}")
    sys.stdout.write("".join(lines))


if __name__ == "__main__":
    main()
