#!/usr/bin/env python3
"""Runs nnc under address-space limits (ulimit -v) from the smallest at which
the dynamic loader can start it up to one at which the run succeeds, and
checks that every run either succeeds or fails with exit status 1 and an
error that says it ran out of memory and how much -- never a signal (134 is
an abort, 139 a segmentation fault), never LLVM's crash report.

    oom_sweep.py [--limits N] -- nnc ARGS...

Prints one line per limit, then a summary line.
"""
import argparse
import re
import resource
import subprocess
import sys

MiB = 1 << 20


def run(argv, limit):
    def restrict():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    p = subprocess.run(argv, preexec_fn=restrict, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, errors="replace")
    return p.returncode, p.stderr


def smallest(argv, lo, hi, ok):
    """The smallest limit in (lo, hi], to 4 MiB, at which ok(run) holds;
    ok must hold at hi."""
    while hi - lo > 4 * MiB:
        mid = (lo + hi) // 2
        if ok(*run(argv, mid)):
            hi = mid
        else:
            lo = mid
    return hi


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--limits", type=int, default=20)
    ap.add_argument("nnc", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    argv = args.nnc[1:] if args.nnc[:1] == ["--"] else args.nnc
    top = 4 << 30
    code, err = run(argv, top)
    if code != 0:
        sys.exit(f"the run fails under a {top // MiB} MiB limit (exit "
                 f"{code}):\n{err}")
    # The loader's minimum: below it the dynamic loader cannot map the
    # shared libraries and exits 127 before nnc runs at all.
    lo = smallest([argv[0], "--version"], 0, 1 << 30, lambda c, e: c == 0)
    hi = smallest(argv, lo, top, lambda c, e: c == 0)
    print(f"loader minimum {lo // MiB} MiB, the run succeeds from "
          f"{hi // MiB} MiB")
    bad = 0
    codes = {}
    for i in range(args.limits):
        limit = lo + (hi - lo) * i // (args.limits - 1)
        code, err = run(argv, limit)
        codes[code] = codes.get(code, 0) + 1
        first = next((l for l in err.splitlines() if "error" in l), "")
        problem = ""
        if code not in (0, 1):
            problem = f"exit {code}"
        elif code == 1:
            if not first.startswith("nnc: error:"):
                problem = "no nnc error message"
            elif not re.search(r"memory|address space", first):
                problem = "the error does not say memory ran out"
            elif not re.search(r"\d+ (bytes|KiB|MiB|GiB)", first):
                problem = "the error does not say how much"
        if re.search(r"PLEASE submit|Stack dump|LLVM ERROR", err):
            problem = "LLVM's crash report"
        bad += bool(problem)
        print(f"{limit // MiB:6d} MiB: exit {code}  {first[:160]}"
              + (f"  <-- {problem}" if problem else ""))
    summary = ", ".join(f"{n} exit {c}" for c, n in sorted(codes.items()))
    print(f"{args.limits} limits: {summary}; {bad} bad")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
