#!/usr/bin/env python3
"""Compares two loss traces (nnc --loss-trace: one loss a line) step by step.

  compare-traces.py A B [--rtol R]

Prints the number of steps and the largest relative difference, and exits 1
when the traces differ in length or any step differs by more than R
(relative to A's loss).
"""
import argparse
import sys

p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
p.add_argument("a")
p.add_argument("b")
p.add_argument("--rtol", type=float, default=1e-5)
args = p.parse_args()

a = [float(line) for line in open(args.a)]
b = [float(line) for line in open(args.b)]
if len(a) != len(b) or not a:
    print(f"{args.a} has {len(a)} steps, {args.b} has {len(b)}")
    sys.exit(1)
worst, at = max((abs(x - y) / abs(x), i) for i, (x, y) in enumerate(zip(a, b)))
print(f"{len(a)} steps: largest relative difference {worst:.3g} at step {at + 1}"
      f" ({a[at]!r} and {b[at]!r})")
sys.exit(0 if worst <= args.rtol else 1)
