#!/usr/bin/env python3
"""nnc's training benchmark: nnc against the OpenBLAS reference and PyTorch.

Runs every system on the same workload from the same initial weights in the
same batch order, interleaved (each repetition runs every system once, in a
rotating order, so machine noise hits all alike), and prints per system and
thread count the median seconds per epoch, nnc's compile time, the GFLOP/s
achieved, the final test accuracy and nnc's time over the references'.
Raw results go to bench/results/ as JSON. A system that is missing or fails
is reported and skipped; the others go on.

  bench/run.sh                           both MLPs, 1 and all cores, 3 reps
  bench/run.sh --workload seed --epochs 1 --reps 1        a quick look
  bench/run.sh --workload cnn --epochs 1 --reps 3         the convnet
  bench/run.sh --workload cnn --steps 100 --reps 1        a quick look at it
"""

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mlp_common as common  # noqa: E402
import systems as sysdefs  # noqa: E402

# OpenBLAS's kernel families differ by 2x on some x86 machines, and its own
# choice is not always the fastest: on a Zen 4 machine it picked Cooperlake
# where Haswell was a few percent faster; on a Zen 5 machine whose
# environment sets OPENBLAS_CORETYPE=Haswell, SkylakeX and Cooperlake run
# sgemm twice as fast (docs/benchmarks.md). So by default the harness times
# sgemm at the benchmark's shapes (sgemm_probe) under each family and gives
# the fastest to every system: the OpenBLAS reference, and PyTorch, which
# calls the same libopenblas for its matrix products.
DEFAULT_CORETYPE = "fastest"
CORETYPE_CANDIDATES = ["", "Haswell", "Zen", "SkylakeX", "Cooperlake",
                       "SapphireRapids"]


def fastest_coretype(probe):
    """The OPENBLAS_CORETYPE whose single-threaded sgemm is fastest at the
    benchmark's shapes ('' for OpenBLAS's own choice), and the rates seen,
    {name: (core OpenBLAS reported, GFLOP/s)}; None when there is no probe."""
    if not probe.is_file():
        return None, {}
    rates = {}
    for name in CORETYPE_CANDIDATES:
        env = dict(os.environ)
        if name:
            env["OPENBLAS_CORETYPE"] = name
        else:
            env.pop("OPENBLAS_CORETYPE", None)
        done = subprocess.run([str(probe)], env=env, capture_output=True,
                              text=True)
        core = re.search(r"^openblas: core (\S+)", done.stdout, re.M)
        rate = re.search(r"all, one call each\s+([0-9.]+)", done.stdout)
        if done.returncode == 0 and core and rate:
            rates[name] = (core.group(1), float(rate.group(1)))
    if not rates:
        return None, {}
    return max(rates, key=lambda n: rates[n][1]), rates


def parse_args():
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--workload", choices=["seed", "wide", "cnn", "both", "all"],
                   default="both",
                   help="both: seed and wide (the MLPs); all: the three")
    p.add_argument("--threads", default=f"1,{os.cpu_count()}",
                   help="comma-separated thread counts (default 1 and all cores)")
    p.add_argument("--reps", type=int, default=3,
                   help="repetitions; figures are medians (default 3)")
    p.add_argument("--epochs", type=int,
                   help="epochs per run (default: the workload's, 5 for the "
                   "MLPs, 2 for the convnet)")
    p.add_argument("--steps", type=int,
                   help="stop each run after N steps (a quick look; s/epoch "
                   "is then the steps' time scaled to a whole epoch)")
    p.add_argument("--systems",
                   help="comma-separated, from: " + ", ".join(sysdefs.SYSTEMS)
                   + " (default: " + ", ".join(sysdefs.DEFAULT_SYSTEMS)
                   + ", those that train the workload)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the initial weights and the shuffle")
    p.add_argument("--build-dir", default=str(common.REPO / "build"))
    p.add_argument("--nnc", help="nnc binary (default BUILD/bin/nnc)")
    p.add_argument("--nnc-baseline",
                   help="another nnc binary (the build before a change) run "
                   "beside --nnc, interleaved, as the system nnc-baseline")
    p.add_argument("--openblas", help="openblas_mlp binary (default BUILD/bin/openblas_mlp)")
    p.add_argument("--data-dir", help="directory holding mnist/ "
                   "(default $NNC_DATA_DIR, else data/)")
    p.add_argument("--openblas-coretype", default=DEFAULT_CORETYPE,
                   help="OPENBLAS_CORETYPE for every system: a name, '' for "
                   "OpenBLAS's own choice, or 'fastest' (the default): the "
                   "family whose sgemm is fastest here, timed by sgemm_probe")
    p.add_argument("--torch-intra-op-threads", type=int,
                   help="torch.set_num_threads for the PyTorch systems "
                   "(default: the thread count of the row; their OpenBLAS "
                   "always gets the row's thread count)")
    p.add_argument("--results", default=str(common.REPO / "bench" / "results"),
                   help="where the raw results JSON goes")
    p.add_argument("--timeout", type=float, default=3600,
                   help="seconds before a run counts as failed")
    p.add_argument("--no-build", action="store_true",
                   help="do not build openblas_mlp when it is missing")
    args = p.parse_args()
    try:
        args.threads = sorted({int(t) for t in args.threads.split(",")})
    except ValueError:
        p.error("--threads takes comma-separated integers")
    if not args.threads or min(args.threads) < 1:
        p.error("--threads needs counts >= 1")
    args.explicit_systems = args.systems is not None
    args.systems = [s.strip() for s in (
        args.systems or ",".join(sysdefs.DEFAULT_SYSTEMS)).split(",") if s.strip()]
    if args.nnc_baseline and "nnc-baseline" not in args.systems:
        args.systems.append("nnc-baseline")
    for s in args.systems:
        if s not in sysdefs.SYSTEMS:
            p.error(f"unknown system '{s}' (known: {', '.join(sysdefs.SYSTEMS)})")
    if args.reps < 1 or (args.epochs is not None and args.epochs < 1):
        p.error("--reps and --epochs need to be >= 1")
    if args.steps is not None and args.steps < 1:
        p.error("--steps needs to be >= 1")
    return args


def say(*parts):
    print(*parts, flush=True)


def tail(text, lines=8):
    return "\n".join(text.strip().splitlines()[-lines:])


def machine_info():
    info = {"platform": platform.platform(), "cpus": os.cpu_count()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("Model name", "CPU(s)", "Thread(s) per core",
                               "L1d cache", "L2 cache", "L3 cache",
                               "Hypervisor vendor"):
                info[key.strip()] = value.strip()
    except OSError:
        pass
    try:
        out = subprocess.run(
            [sysdefs.TORCH_PYTHON, "-c", "import torch; print(torch.__version__)"],
            capture_output=True, text=True, timeout=120)
        info["torch"] = out.stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        info["torch"] = None
    return info


def git_commit():
    out = subprocess.run(["git", "-C", str(common.REPO), "rev-parse", "HEAD"],
                         capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(common.REPO), "status",
                            "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return out.stdout.strip() + ("-dirty" if dirty else "")


def load_average():
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return None


def cross_core_round_trip(probe):
    """A cache line's round trip between the first two CPUs, in ns, or None
    (one CPU, or no probe). On a virtual machine it moves from run to run:
    tens of ns with the two CPUs on neighbouring cores, hundreds when the
    hypervisor has put them far apart, and then every barrier and every
    line one thread writes and another reads costs that much more."""
    if not probe.is_file():
        return None
    try:
        done = subprocess.run([str(probe)], capture_output=True, text=True,
                              timeout=10)
        return float(done.stdout) if done.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def summarise_round_trips(results):
    values = [r["cross_core_round_trip_ns"] for r in results
              if r.get("cross_core_round_trip_ns")]
    if not values:
        return None
    return {"min": min(values), "median": statistics.median(values),
            "max": max(values)}


def print_round_trips(summary):
    if not summary:
        return
    low, high = f"{summary['min']:.0f}", f"{summary['max']:.0f}"
    spread = (f"{low} ns" if low == high else
              f"{low}-{high} ns, median {summary['median']:.0f}")
    say(f"  cores apart (a cache line's round trip, before each run): {spread}")


FAR_APART_NS = 150


def print_far_apart(results, workloads, args):
    """How many of each system's repetitions on several threads ran with
    the cores far apart: a median follows them once they are half. Then
    the median of the others, which is what the code does when the
    hypervisor does not stand in the way (the ratios above stay those of
    all repetitions)."""
    for w in workloads:
        for t in args.threads:
            if t < 2:
                continue
            counts, close_medians = [], []
            for key in args.systems_of[w.key]:
                if not sysdefs.SYSTEMS[key].runs_at(t):
                    continue
                runs = [r for r in results if r["workload"] == w.key and
                        r["system"] == key and r["threads"] == t and r["ok"]]
                far = [r for r in runs
                       if (r.get("cross_core_round_trip_ns") or 0) > FAR_APART_NS]
                if not runs:
                    continue
                label = sysdefs.SYSTEMS[key].label
                counts.append(f"{label} {len(far)}/{len(runs)}")
                close = [r["s_per_epoch"] for r in runs if r not in far]
                if far and close:
                    close_medians.append(
                        f"{label} {statistics.median(close):.3f} "
                        f"({len(close)} of {len(runs)})")
            if counts:
                say(f"  {w.key}, {t} threads, repetitions with the cores over "
                    f"{FAR_APART_NS} ns apart: " + ", ".join(counts))
            if close_medians:
                say(f"  {w.key}, {t} threads, s/epoch, median of the "
                    f"repetitions with the cores close: "
                    + ", ".join(close_medians))


def run_command(run, env, timeout):
    """(returncode or None on timeout, stdout, stderr, wall seconds)."""
    start = time.perf_counter()
    try:
        done = subprocess.run(run.argv, env={**env, **run.env},
                              capture_output=True, text=True, timeout=timeout)
        return done.returncode, done.stdout, done.stderr, time.perf_counter() - start
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        return None, out, err, time.perf_counter() - start
    except OSError as e:
        return -1, "", str(e), time.perf_counter() - start


def read_metrics(path):
    """The metrics JSON, or raises ValueError saying what is wrong."""
    try:
        metrics = json.loads(Path(path).read_text())
    except OSError:
        raise ValueError("wrote no metrics file")
    except json.JSONDecodeError as e:
        raise ValueError(f"metrics file is not JSON: {e}")
    for key in ("steps", "train_seconds", "test_accuracy", "epochs"):
        if key not in metrics:
            raise ValueError(f"metrics file lacks '{key}'")
    if not metrics["epochs"] or any("seconds" not in e for e in metrics["epochs"]):
        raise ValueError("metrics file has no per-epoch seconds")
    return metrics


def seconds_per_epoch(metrics, workload, steps):
    """The mean of the epochs' seconds; with --steps, the steps' seconds
    scaled to a whole epoch."""
    epochs = metrics["epochs"]
    if not steps:
        return sum(e["seconds"] for e in epochs) / len(epochs)
    if not metrics["steps"]:
        raise ValueError("metrics file counts no steps")
    return (metrics["train_seconds"] / metrics["steps"]
            * (common.TRAIN_ITEMS // workload.batch))


def initial_weights(workload, args, paths, env, tmp):
    """Writes the workload's initial weights with nnc; without nnc, with
    mlp_common's glorot_uniform. Returns (path, how it was made)."""
    out = Path(tmp) / f"{workload.key}-init.safetensors"
    nnc = sysdefs.SYSTEMS["nnc"]
    why = nnc.available(paths, workload)
    if why is None:
        run = nnc.init_command(paths, workload, args.seed, out)
        code, stdout, stderr, _ = run_command(run, env, args.timeout)
        if code == 0 and out.is_file():
            try:
                workload.check_weights(common.read_safetensors(out), out)
                return out, "nnc --steps 0 --save"
            except SystemExit as e:
                why = f"its weights do not fit the model: {e}"
        else:
            status = "timed out" if code is None else f"exit {code}"
            why = f"`{' '.join(run.argv)}` failed ({status}):\n{tail(stderr or stdout)}"
    say(f"  initial weights: nnc unavailable ({why});\n"
        f"  using bench/'s glorot_uniform (seed {args.seed}) instead")
    common.write_safetensors(out, workload.glorot_init(args.seed))
    return out, f"{'cnn' if workload.kind == 'cnn' else 'mlp'}_common.glorot_init"


def fmt(value, spec, missing="-"):
    return missing if value is None else format(value, spec)


def summarise(results, workloads, args):
    rows = []
    for w in workloads:
        flops_epoch = w.flops_per_epoch()
        for t in args.threads:
            for key in args.systems_of[w.key]:
                if not sysdefs.SYSTEMS[key].runs_at(t):
                    continue
                runs = [r for r in results if r["workload"] == w.key
                        and r["threads"] == t and r["system"] == key]
                ok = [r for r in runs if r["ok"]]
                row = {"workload": w.key, "model": w.name, "system": key,
                       "label": sysdefs.SYSTEMS[key].label, "threads": t,
                       "runs": len(ok), "s_per_epoch": None,
                       "compile_seconds": None, "gflops": None,
                       "test_accuracy": None, "error": None}
                if ok:
                    s = statistics.median(r["s_per_epoch"] for r in ok)
                    row["s_per_epoch"] = s
                    row["s_per_epoch_min"] = min(r["s_per_epoch"] for r in ok)
                    row["s_per_epoch_max"] = max(r["s_per_epoch"] for r in ok)
                    row["gflops"] = flops_epoch / s / 1e9
                    row["test_accuracy"] = statistics.median(
                        r["metrics"]["test_accuracy"] for r in ok)
                    if key in ("nnc", "nnc-ranks", "nnc-baseline",
                               "torch-script"):
                        row["compile_seconds"] = statistics.median(
                            r["metrics"].get("compile_seconds", 0.0) for r in ok)
                elif runs:
                    row["error"] = runs[-1]["error"]
                rows.append(row)
    return rows


def print_table(rows, workloads, args):
    for w in workloads:
        steps = common.TRAIN_ITEMS // w.batch
        say("")
        say(f"{w.name}: {w.describe()}, {steps} steps/epoch, "
            f"{w.flops_per_step() / 1e6:.1f} MFLOP/step, "
            f"{w.flops_per_epoch() / 1e9:.2f} GFLOP/epoch")
        say(f"  {'system':<22}{'threads':>8}{'s/epoch':>10}{'compile s':>11}"
            f"{'GFLOP/s':>9}{'test acc':>10}{'runs':>6}")
        for t in args.threads:
            mine = [r for r in rows if r["workload"] == w.key and r["threads"] == t]
            for r in mine:
                line = (f"  {r['label']:<22}{t:>8}{fmt(r['s_per_epoch'], '.3f'):>10}"
                        f"{fmt(r['compile_seconds'], '.3f'):>11}"
                        f"{fmt(r['gflops'], '.1f'):>9}"
                        f"{fmt(r['test_accuracy'] and 100 * r['test_accuracy'], '.2f'):>9}"
                        f"{'%' if r['test_accuracy'] is not None else ' '}{r['runs']:>6}")
                if r["runs"] == 0:
                    line += "  " + (r["error"] or "did not run").splitlines()[0][:72]
                say(line)
            nnc = next((r["s_per_epoch"] for r in mine if r["system"] == "nnc"), None)
            blas = best_reference(rows, w.key, t, ("openblas",))
            torch = best_reference(rows, w.key, t, sysdefs.TORCH_SYSTEMS)
            against = [f"nnc/PyTorch {ratio(nnc, torch)}"]
            if "openblas" in args.systems_of[w.key]:
                against.insert(0, f"nnc/OpenBLAS {ratio(nnc, blas)}")
            say(f"  {t} thread{'s' if t > 1 else ''}: " + ", ".join(against)
                + ("" if nnc else "  (nnc did not run)"))
            ranks = next((r["s_per_epoch"] for r in mine
                          if r["system"] == "nnc-ranks"), None)
            if ranks:
                say(f"  {t} threads as ranks: nnc --ranks/PyTorch "
                    f"{ratio(ranks, torch)}")
            base = next((r for r in mine if r["system"] == "nnc-baseline"
                         and r["s_per_epoch"] is not None), None)
            if base:
                say(f"  {t} thread{'s' if t > 1 else ''}: nnc/baseline "
                    f"{ratio(nnc, base)}")
    say("\n  ratios: nnc's s/epoch over the reference's best with at most as many "
        "threads (< 1: nnc is faster)")


def best_reference(rows, workload, threads, systems):
    """The fastest row of `systems` using at most `threads` threads: a user
    with T cores would run a reference at fewer threads if that is faster,
    as PyTorch's OpenMP pool can be on a small shared machine."""
    candidates = [r for r in rows if r["workload"] == workload
                  and r["system"] in systems and r["threads"] <= threads
                  and r["s_per_epoch"] is not None]
    return min(candidates, key=lambda r: r["s_per_epoch"], default=None)


def ratio(nnc, best):
    if nnc is None or best is None:
        return "n/a"
    return (f"{nnc / best['s_per_epoch']:.2f} (vs {best['label']}, "
            f"{best['threads']} thread{'s' if best['threads'] > 1 else ''})")


def main():
    args = parse_args()
    keys = {"both": ["seed", "wide"], "all": ["seed", "wide", "cnn"]}.get(
        args.workload, [args.workload])
    workloads = [common.WORKLOADS[k] for k in keys]
    # Without --systems, each workload runs the default systems that train
    # it; with it, those given (the others are reported as skipped).
    args.systems_of = {
        w.key: [k for k in args.systems if args.explicit_systems
                or k == "nnc-baseline" or sysdefs.SYSTEMS[k].applies(w)]
        for w in workloads}
    paths = sysdefs.default_paths(args.build_dir, args.nnc, args.openblas,
                                  args.data_dir, args.nnc_baseline)
    mnist = paths.data_root / "mnist"
    if not (mnist / "train-images-idx3-ubyte").is_file():
        sys.exit(f"bench: no MNIST in {mnist} (run scripts/fetch-data.sh, or "
                 "set NNC_DATA_DIR / --data-dir to a directory holding mnist/)")

    env = dict(os.environ)
    env["NNC_DATA_DIR"] = str(paths.data_root)
    coretype = args.openblas_coretype
    uses_openblas = any(k == "openblas" or k in sysdefs.TORCH_SYSTEMS
                        for w in workloads for k in args.systems_of[w.key])
    if coretype == "fastest" and not uses_openblas:
        coretype = os.environ.get("OPENBLAS_CORETYPE", "")
    elif coretype == "fastest":
        probe = Path(args.build_dir) / "bin" / "sgemm_probe"
        if not probe.is_file() and not args.no_build:
            err = sysdefs.build_target(args.build_dir, "sgemm_probe")
            if err:
                say(f"bench: {err}")
        say("bench: timing sgemm under each OPENBLAS_CORETYPE")
        coretype, rates = fastest_coretype(probe)
        if coretype is None:
            say(f"bench: no {probe} to choose OPENBLAS_CORETYPE with: "
                "OpenBLAS's own choice")
            coretype = ""
        else:
            say("bench: sgemm at the benchmark's shapes, one thread: " +
                ", ".join(f"{n or 'its own choice'} ({core}) {rate:.1f}"
                          for n, (core, rate) in rates.items()) + " GFLOP/s")
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    else:
        env.pop("OPENBLAS_CORETYPE", None)

    if (any("openblas" in args.systems_of[w.key] for w in workloads)
            and not paths.openblas.is_file()
            and not args.no_build and not args.openblas):
        say(f"bench: building openblas_mlp in {args.build_dir}")
        err = sysdefs.build_target(args.build_dir, "openblas_mlp")
        if err:
            say(f"bench: {err}")
    if not paths.probe.is_file() and not args.no_build:
        err = sysdefs.build_target(args.build_dir, "cross_core_probe")
        if err:
            say(f"bench: {err}")

    started = datetime.datetime.now(datetime.timezone.utc)
    info = machine_info()
    info["OPENBLAS_CORETYPE"] = coretype or None
    info["load_average_start"] = load_average()
    say(f"bench: {info.get('Model name', platform.processor())}, "
        f"{info['cpus']} cpus, torch {info.get('torch')}, "
        f"OPENBLAS_CORETYPE={coretype or '(unset)'}")
    busy = info["load_average_start"]
    if busy and busy[0] > 0.5:
        say(f"bench: warning: load average {busy[0]:.2f} before starting: "
            "other processes compete for the cores, and figures with as many "
            "threads as cores suffer most")
    epochs_of = {w.key: args.epochs or w.epochs for w in workloads}

    results, inits, skipped = [], {}, {}
    with tempfile.TemporaryDirectory(prefix="nnc-bench-") as tmp:
        for w in workloads:
            say(f"bench: {w.name} ({w.describe()}), {epochs_of[w.key]} epochs")
            inits[w.key] = initial_weights(w, args, paths, env, tmp)
            for key in args.systems_of[w.key]:
                why = sysdefs.SYSTEMS[key].available(paths, w)
                if why:
                    skipped[(key, w.key)] = why
                    say(f"  skip {sysdefs.SYSTEMS[key].label}: {why}")

        plan = []
        for rep in range(args.reps):
            for w in workloads:
                for t in args.threads:
                    mine = args.systems_of[w.key]
                    order = mine[rep % len(mine):] + mine[:rep % len(mine)]
                    plan += [(rep, w, t, key) for key in order
                             if sysdefs.SYSTEMS[key].runs_at(t)]
        failed = {}
        for n, (rep, w, t, key) in enumerate(plan, start=1):
            system = sysdefs.SYSTEMS[key]
            if (key, w.key) in skipped or (key, w.key, t) in failed:
                continue
            metrics_path = Path(tmp) / f"metrics-{n}.json"
            extra = []
            if key.startswith("torch-") and args.torch_intra_op_threads:
                extra = ["--intra-op-threads", str(args.torch_intra_op_threads)]
            if args.steps:
                extra += ["--steps", str(args.steps)]
            run = system.command(paths, w, t, epochs_of[w.key], args.seed,
                                 inits[w.key][0], metrics_path, extra)
            head = f"[{n}/{len(plan)}] {w.key} {system.label}, {t} thread(s), rep {rep + 1}"
            apart = cross_core_round_trip(paths.probe)
            busy = load_average()
            code, stdout, stderr, wall = run_command(run, env, args.timeout)
            record = {"workload": w.key, "model": w.name, "system": key,
                      "threads": t, "rep": rep + 1, "argv": run.argv,
                      "wall_seconds": wall, "ok": False, "error": None,
                      "cross_core_round_trip_ns": apart,
                      "load_average_before": busy}
            if code != 0:
                status = "timed out" if code is None else f"exit status {code}"
                record["error"] = f"{status}: {tail(stderr or stdout)}"
            else:
                try:
                    m = read_metrics(metrics_path)
                    record.update(ok=True, metrics=m,
                                  s_per_epoch=seconds_per_epoch(m, w, args.steps))
                except ValueError as e:
                    record["error"] = str(e)
            for line in stdout.splitlines():
                if line.startswith("openblas: core"):
                    info.setdefault("openblas_core", line.split("core", 1)[1].strip())
            results.append(record)
            if record["ok"]:
                say(f"{head}: {record['s_per_epoch']:.3f} s/epoch, test accuracy "
                    f"{100 * record['metrics']['test_accuracy']:.2f}%"
                    + (f", cores {apart:.0f} ns apart" if apart else "")
                    + (f", load {busy[0]:.2f}" if busy else ""))
            else:
                failed[(key, w.key, t)] = record["error"]
                say(f"{head}: FAILED, skipping it from now on\n    "
                    + record["error"].replace("\n", "\n    "))

    info["load_average_end"] = load_average()
    rows = summarise(results, workloads, args)
    say(f"\nbench: load average {info['load_average_start']} before, "
        f"{info['load_average_end']} after (1, 5, 15 minutes)")
    info["cross_core_round_trip_ns"] = summarise_round_trips(results)
    for (key, wkey), why in skipped.items():
        for r in rows:
            if r["system"] == key and r["workload"] == wkey:
                r["error"] = f"skipped: {why}"
    print_table(rows, workloads, args)
    print_round_trips(info["cross_core_round_trip_ns"])
    if info["cross_core_round_trip_ns"]:
        print_far_apart(results, workloads, args)

    out_dir = Path(args.results)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    out = out_dir / f"{stamp}-{args.workload}.json"
    report = {
        "format": 1,
        "started": started.isoformat(),
        "git_commit": git_commit(),
        "machine": info,
        "config": {"workloads": [w.key for w in workloads], "threads": args.threads,
                   "reps": args.reps, "epochs": epochs_of, "seed": args.seed,
                   "systems": args.systems_of, "steps": args.steps,
                   "torch_intra_op_threads": args.torch_intra_op_threads},
        "initial_weights": {k: v[1] for k, v in inits.items()},
        "flops": {w.key: {"per_step": w.flops_per_step(),
                          "per_epoch": w.flops_per_epoch(),
                          "steps_per_epoch": common.TRAIN_ITEMS // w.batch}
                  for w in workloads},
        "summary": rows,
        "runs": results,
    }
    out.write_text(json.dumps(report, indent=2) + "\n")
    say(f"\nbench: raw results in {out}")


if __name__ == "__main__":
    main()
