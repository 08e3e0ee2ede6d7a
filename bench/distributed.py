#!/usr/bin/env python3
"""Data-parallel training against one process, side by side.

Runs the same model, global batch and seed as N ranks of one thread each
(mpirun -np N nnc ... --threads 1), as N ranks in one process (nnc ...
--ranks N --threads 1) and as one process of N threads (nnc ... --threads
N), interleaved: each repetition runs all three, in a rotating order, so that the machine's noise hits both alike. Prints the
median seconds per epoch of each, their ratio, and, from a run of each
with --profile, the share of the step the exchanges took on rank 0
(their rows of the profile: thread 0's time starting, polling and waiting
for them). Raw results go to bench/results/ as JSON.

  bench/distributed.py --workload wide --epochs 1 --reps 7
  bench/distributed.py --workload seed --ranks 2 --reps 5
  bench/distributed.py --model examples/some_model.nn --epochs 1

Any model file with a train block runs (--model); the convnet workload is
examples/mnist_cnn.nn. The profile's share of the
exchanges is split into the time thread 0 spent starting and polling them
and the time it waited for the other ranks (the part not hidden).

The load average before and after each run is recorded: on a machine
others use, it says how noisy the figures are.
"""

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORKLOADS = {
    "seed": "examples/mnist_mlp.nn",
    "wide": "examples/mnist_mlp_wide.nn",
    "convnet": "examples/mnist_cnn.nn",
}


def parse_args():
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--workload", choices=list(WORKLOADS), default="wide")
    p.add_argument("--model", help="a model file instead of the workload's")
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--bucket-bytes", type=int,
                   help="the exchange's bucket size (nnc --bucket-bytes)")
    p.add_argument("--mpirun", default="mpirun")
    p.add_argument("--mpirun-args", default="",
                   help="more arguments for mpirun, e.g. '--bind-to none'")
    p.add_argument("--build-dir", default=str(REPO / "build"))
    p.add_argument("--no-profile", action="store_true",
                   help="skip the --profile runs")
    return p.parse_args()


def load_average():
    return os.getloadavg()[0]


def run(command, env):
    """Runs `command`; returns (seconds, output, status)."""
    start = time.monotonic()
    done = subprocess.run(command, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, env=env)
    return time.monotonic() - start, done.stdout, done.returncode


def exchange_share(profile_text):
    """From nnc's --profile of @train: the share of the exchange rows and
    of the barrier waits, and the microseconds per step."""
    section = profile_text.split("profile of @train:", 1)
    if len(section) < 2:
        return None
    head, _, rest = section[1].partition("\n")
    rest = rest.split("profile of @", 1)[0]
    per_step = re.search(r"([0-9.]+) us per step", head)
    exchange = waiting = barrier = 0.0
    rows = []
    for line in rest.splitlines():
        m = re.match(r"\s+(\S.*?)\s+([0-9.]+)\s+([0-9.]+)%", line)
        if not m:
            continue
        name, ms, share = m.group(1), float(m.group(2)), float(m.group(3))
        if name.endswith(".allreduce"):
            exchange += share
            rows.append({"kernel": name, "total_ms": ms, "share": share})
        elif name.startswith("of which waiting") and rows:
            # The row under an exchange's: thread 0 blocked until the
            # other ranks' sums arrived.
            waiting += share
            rows[-1]["waiting_ms"] = ms
            rows[-1]["waiting_share"] = share
        elif name.startswith("barrier waits"):
            barrier += share
    return {"us_per_step": float(per_step.group(1)) if per_step else None,
            "exchange_share": exchange, "waiting_share": waiting,
            "barrier_share": barrier, "exchanges": rows}


def main():
    args = parse_args()
    build = Path(args.build_dir)
    nnc = build / "bin" / "nnc"
    model = args.model or str(REPO / WORKLOADS[args.workload])
    if not Path(model).exists():
        if not args.model and args.workload == "convnet":
            sys.exit(f"distributed: the convnet workload ({model}) is "
                     "missing; --model FILE runs any model file")
        sys.exit(f"distributed: {model} does not exist")
    env = dict(os.environ)
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    common = [model, "--train", "--epochs", str(args.epochs),
              "--seed", str(args.seed)]
    if args.bucket_bytes:
        common += ["--bucket-bytes", str(args.bucket_bytes)]
    mpirun = [args.mpirun, "-np", str(args.ranks)] + args.mpirun_args.split()
    systems = {
        f"1 process x {args.ranks} threads":
            [str(nnc)] + common + ["--threads", str(args.ranks)],
        f"{args.ranks} ranks x 1 thread":
            mpirun + [str(nnc)] + common + ["--threads", "1"],
        f"{args.ranks} ranks in 1 process":
            [str(nnc)] + common + ["--ranks", str(args.ranks), "--threads",
                                   "1"],
    }
    names = list(systems)
    results = {"started": datetime.datetime.now(datetime.timezone.utc)
               .isoformat(timespec="seconds"),
               "git_commit": subprocess.run(
                   ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                   capture_output=True, text=True).stdout.strip(),
               "model": model, "config": vars(args), "runs": [],
               "profiles": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps):
            order = names[rep % len(names):] + names[:rep % len(names)]
            for name in order:
                metrics = Path(tmp) / "m.json"
                metrics.unlink(missing_ok=True)
                before = load_average()
                seconds, output, status = run(
                    systems[name] + ["--metrics", str(metrics)], env)
                after = load_average()
                row = {"system": name, "rep": rep, "status": status,
                       "wall_seconds": seconds, "load_before": before,
                       "load_after": after}
                if status == 0 and metrics.exists():
                    m = json.loads(metrics.read_text())
                    row["s_per_epoch"] = m["train_seconds"] / max(
                        1, len(m["epochs"]))
                    row["test_accuracy"] = m.get("test_accuracy")
                else:
                    row["error"] = output[-2000:]
                results["runs"].append(row)
                print(f"  rep {rep} {name:<26} "
                      + (f"{row['s_per_epoch']:.3f} s/epoch"
                         if "s_per_epoch" in row else "failed")
                      + f"  (load {before:.1f} -> {after:.1f})", flush=True)
        if not args.no_profile:
            for name in names:
                _, output, status = run(systems[name] + ["--profile"], env)
                if status == 0:
                    results["profiles"][name] = exchange_share(output)
                    results["profiles"][name]["text"] = output

    print(f"\n{Path(model).name}: {args.epochs} epoch(s) a run, "
          f"{args.reps} interleaved repetitions; medians (min - max)")
    summary = {}
    for name in names:
        times = [r["s_per_epoch"] for r in results["runs"]
                 if r["system"] == name and "s_per_epoch" in r]
        if not times:
            print(f"  {name:<26} no successful run")
            continue
        summary[name] = statistics.median(times)
        line = (f"  {name:<26} {statistics.median(times):.3f} s/epoch "
                f"({min(times):.3f} - {max(times):.3f})")
        prof = results["profiles"].get(name)
        if prof and prof.get("us_per_step"):
            line += (f"; profile: {prof['us_per_step']:.1f} us/step, "
                     f"exchanges {prof['exchange_share']:.1f}% "
                     f"(waiting {prof['waiting_share']:.1f}%), "
                     f"barrier waits {prof['barrier_share']:.1f}%")
        print(line)
    results["ratios"] = {}
    for name in names[1:]:
        if name in summary and names[0] in summary:
            ratio = summary[name] / summary[names[0]]
            print(f"  {name} / {names[0]}: {ratio:.2f}")
            results["ratios"][name] = ratio
    loads = [r["load_before"] for r in results["runs"]]
    print(f"  load average during the runs: {min(loads):.1f} - "
          f"{max(loads):.1f} (2 means both cores busy)")
    results["summary"] = summary
    out = REPO / "bench" / "results" / (
        datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        + f"-distributed-{Path(model).stem}.json")
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"  raw results: {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
