#!/usr/bin/env python3
"""Starts a data-parallel job, signals one of its ranks mid-run, and times
how long the job takes to end.

  signal-rank.py --rank R --signal KILL|STOP [--limit S] -- mpirun ... nnc ...

Waits until rank 0 has compiled and trained for a second, sends the signal
to rank R, then waits for mpirun. Prints mpirun's output, its exit status and
the time from the signal to its exit. Exits 1 if the job does not end
within --limit seconds (it is then killed: a hang) or ends with status 0.
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
p.add_argument("--rank", type=int, default=1)
p.add_argument("--signal", choices=["KILL", "STOP"], default="KILL")
p.add_argument("--limit", type=float, default=10.0)
p.add_argument("--start-limit", type=float, default=120.0)
p.add_argument("command", nargs=argparse.REMAINDER)
args = p.parse_args()
command = args.command[1:] if args.command[:1] == ["--"] else args.command


def parent_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


def rank_of(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            for entry in f.read().split(b"\0"):
                if entry.startswith(b"OMPI_COMM_WORLD_RANK="):
                    return int(entry.split(b"=", 1)[1])
    except (OSError, ValueError):
        pass
    return None


def find_rank(job, rank):
    """The pid of rank `rank` among the descendants of `job`."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid, ancestor = int(name), int(name)
        while ancestor > 1 and ancestor != job:
            ancestor = parent_of(ancestor)
        if ancestor == job and rank_of(pid) == rank:
            return pid
    return None


log = tempfile.TemporaryFile(mode="w+")
job = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                       start_new_session=True)
deadline = time.monotonic() + args.start_limit
while True:
    log.seek(0)
    if "compiled" in log.read():
        break
    if job.poll() is not None or time.monotonic() > deadline:
        log.seek(0)
        print(log.read())
        print("the job did not start training")
        os.killpg(job.pid, signal.SIGKILL)
        sys.exit(1)
    time.sleep(0.05)
time.sleep(1.0)
victim = find_rank(job.pid, args.rank)
if victim is None:
    print(f"rank {args.rank} not found among the job's processes")
    os.killpg(job.pid, signal.SIGKILL)
    sys.exit(1)
os.kill(victim, getattr(signal, "SIG" + args.signal))
sent = time.monotonic()
try:
    status = job.wait(timeout=args.limit)
    hung = False
except subprocess.TimeoutExpired:
    os.killpg(job.pid, signal.SIGKILL)
    status = job.wait()
    hung = True
elapsed = time.monotonic() - sent
log.seek(0)
print(log.read())
print(f"SIG{args.signal} to rank {args.rank}: mpirun exited with status "
      f"{status} after {elapsed:.1f} s")
if hung:
    print(f"the job still ran {args.limit:.0f} s after the signal: a hang")
    sys.exit(1)
sys.exit(0 if status != 0 else 1)
