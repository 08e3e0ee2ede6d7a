#!/usr/bin/python3
"""Checks that systems compute the same training step: runs each for N steps
from the same initial weights in the same batch order, with a per-step loss
dump (--loss-trace FILE, one loss a line), and reports the largest relative
difference of each system's losses from the first system's.

  bench/compare_trajectories.py                        OpenBLAS vs PyTorch script,
                                                       100 steps, file order
  bench/compare_trajectories.py --systems openblas,nnc --steps 300 --shuffle
  bench/compare_trajectories.py --workload cnn         nnc vs PyTorch's three
                                                       modes, the convnet
                                                       without dropout
  bench/compare_trajectories.py --workload cnn --systems nnc,nnc-interp --steps 3

A model with dropout is compared without it (Workload.no_dropout_model):
each system draws its own masks. The PyTorch systems all use Keras's Adam
(--adam keras), as nnc does.

Exits 1 when a difference exceeds --tolerance, 2 when a system fails. A
system joins the check by accepting `--steps N --loss-trace FILE
--no-shuffle` besides the benchmark's options.
"""

import argparse
import dataclasses
import math
import struct
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mlp_common as common  # noqa: E402
import systems as sysdefs  # noqa: E402
from bench import run_command, tail  # noqa: E402


# The convnet's reference is PyTorch in float64: how far each float32
# system's losses stray from it is that system's rounding, amplified by the
# training (see main).
CNN_SYSTEMS = "torch-float64,nnc,torch-sequential,torch-channels-last,torch-script"


def parse_args():
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--workload", choices=list(common.WORKLOADS), default="seed")
    p.add_argument("--systems",
                   help="comma-separated; the first is the reference "
                   "(default: openblas,torch-script; for the convnet "
                   f"{CNN_SYSTEMS})")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int,
                   help="batch size (default: the workload's); a small one "
                   "lets nnc-interp run a few steps of the convnet")
    p.add_argument("--items", type=int,
                   help="train on the first N training images and test on "
                   "the first N test images only (the test pass runs after "
                   "the steps: a slow system, nnc-interp, takes long over "
                   "all 10,000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--shuffle", action="store_true",
                   help="nnc's shuffled order instead of file order")
    p.add_argument("--init", help="initial weights (default: nnc's, else "
                   "mlp_common's glorot_uniform)")
    p.add_argument("--tolerance", type=float,
                   help="largest relative loss difference accepted (default "
                   "1e-4; 5e-3 for the convnet, whose float32 systems all "
                   "stray that far from float64 within 100 steps)")
    p.add_argument("--first-step-tolerance", type=float, default=1e-6,
                   help="largest relative difference of the first step's "
                   "loss, computed from the initial weights before any "
                   "update (default 1e-6)")
    p.add_argument("--show", type=int, default=5,
                   help="print the losses of the first N steps")
    p.add_argument("--build-dir", default=str(common.REPO / "build"))
    p.add_argument("--nnc")
    p.add_argument("--openblas")
    p.add_argument("--data-dir", help="directory holding mnist/")
    args = p.parse_args()
    if args.systems is None:
        args.systems = (CNN_SYSTEMS
                        if common.WORKLOADS[args.workload].kind == "cnn"
                        else "openblas,torch-script")
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    if len(args.systems) < 2:
        p.error("--systems needs at least two systems")
    for s in args.systems:
        if s not in sysdefs.SYSTEMS:
            p.error(f"unknown system '{s}'")
    if args.steps < 1:
        p.error("--steps must be >= 1")
    if args.tolerance is None:
        args.tolerance = (5e-3 if common.WORKLOADS[args.workload].kind == "cnn"
                          else 1e-4)
    if args.batch is not None and args.batch < 1:
        p.error("--batch must be >= 1")
    if args.items is not None and args.items < (args.batch or 1):
        p.error("--items must hold at least one batch")
    return args


def write_mnist_subset(source, target, items):
    """The first `items` images and labels of each MNIST split, as IDX."""
    target.mkdir(parents=True)
    for name, rank in (("train-images-idx3-ubyte", 3),
                       ("train-labels-idx1-ubyte", 1),
                       ("t10k-images-idx3-ubyte", 3),
                       ("t10k-labels-idx1-ubyte", 1)):
        raw = (source / name).read_bytes()
        header = 4 + 4 * rank
        dims = list(struct.unpack(">" + "I" * rank, raw[4:header]))
        per_item = math.prod(dims[1:])
        dims[0] = min(items, dims[0])
        (target / name).write_bytes(
            raw[:4] + struct.pack(">" + "I" * rank, *dims)
            + raw[header:header + dims[0] * per_item])


def main():
    args = parse_args()
    workload = common.WORKLOADS[args.workload]
    if workload.no_dropout_model:
        workload = dataclasses.replace(
            workload, model_file=workload.no_dropout_model,
            name=Path(workload.no_dropout_model).stem, dropout=0.0)
        print(f"{args.workload}: without dropout, {workload.model_file}")
    paths = sysdefs.default_paths(args.build_dir, args.nnc, args.openblas,
                                  args.data_dir)
    env = dict(__import__("os").environ, NNC_DATA_DIR=str(paths.data_root))
    if args.batch:
        workload = dataclasses.replace(workload, batch=args.batch)
    steps_per_epoch = (args.items or common.TRAIN_ITEMS) // workload.batch
    epochs = math.ceil(args.steps / steps_per_epoch)

    traces = {}
    with tempfile.TemporaryDirectory(prefix="nnc-trajectories-") as tmp:
        if args.items:
            subset = Path(tmp) / "data"
            write_mnist_subset(paths.data_root / "mnist", subset / "mnist",
                               args.items)
            paths.data_root = subset
            env["NNC_DATA_DIR"] = str(subset)
        init = args.init
        if not init:
            init = Path(tmp) / "init.safetensors"
            nnc = sysdefs.SYSTEMS["nnc"]
            made = False
            if nnc.available(paths, workload) is None:
                code, _, _, _ = run_command(
                    nnc.init_command(paths, workload, args.seed, init), env, 600)
                made = code == 0 and init.is_file()
            if not made:
                common.write_safetensors(init, workload.glorot_init(args.seed))
            print(f"initial weights: {'nnc' if made else 'glorot_init'}"
                  f" (seed {args.seed})")
        for key in args.systems:
            system = sysdefs.SYSTEMS[key]
            why = system.available(paths, workload)
            if why:
                sys.exit(f"compare: {system.label}: {why}")
            trace = Path(tmp) / f"{key}.trace"
            extra = ["--steps", str(args.steps), "--loss-trace", str(trace)]
            if key.startswith("torch-"):
                extra += ["--adam", "keras"]
            if not args.shuffle:
                extra.append("--no-shuffle")
            run = system.command(paths, workload, args.threads, epochs, args.seed,
                                 init, Path(tmp) / f"{key}.json", extra)
            code, stdout, stderr, _ = run_command(run, env, 3600)
            if code != 0 or not trace.is_file():
                print(f"compare: {system.label} failed: `{' '.join(run.argv)}`\n"
                      f"{tail(stderr or stdout)}", file=sys.stderr)
                sys.exit(2)
            losses = [float(x) for x in trace.read_text().split()]
            if len(losses) != args.steps:
                print(f"compare: {system.label} wrote {len(losses)} losses, not "
                      f"{args.steps}", file=sys.stderr)
                sys.exit(2)
            traces[key] = losses

    ref_key = args.systems[0]
    ref = traces[ref_key]
    order = "shuffled" if args.shuffle else "file order"
    print(f"{workload.name}, {args.steps} steps, {order}, batch {workload.batch}, "
          f"{args.threads} thread(s)"
          + (f", the first {args.items} images" if args.items else ""))
    print("step " + "".join(f"{k:>21}" for k in args.systems))
    for s in range(min(args.show, args.steps)):
        print(f"{s + 1:>4} " + "".join(f"{traces[k][s]:>21.9g}" for k in args.systems))
    worst, worst_first = 0.0, 0.0
    for key in args.systems[1:]:
        rel = [abs(a - b) / max(abs(a), abs(b), 1e-30) for a, b in zip(ref, traces[key])]
        at = max(range(len(rel)), key=rel.__getitem__)
        first10 = max(rel[:10])
        # Float noise stays near 1e-7; a jump to 1e-5 or more at one step is a
        # pre-activation crossing zero in one system and not the other (a
        # ReLU kink), after which the runs drift apart. Rare in the seed
        # model's 100 steps; the wide model has 8x the activations.
        jump = next((i + 1 for i, r in enumerate(rel) if r > 1e-5), None)
        print(f"{key} vs {ref_key}: max relative difference {rel[at]:.3g} at step "
              f"{at + 1} (first 10 steps: {first10:.3g}, mean {sum(rel) / len(rel):.3g}"
              f", first above 1e-5: {jump or 'none'})")
        worst = max(worst, rel[at])
        worst_first = max(worst_first, rel[0])
    # With three systems or more, the others against each other too: the
    # spread among float32 implementations is the scale of float noise.
    others = args.systems[1:]
    for i, a in enumerate(others):
        for b in others[i + 1:]:
            rel = [abs(x - y) / max(abs(x), abs(y), 1e-30)
                   for x, y in zip(traces[a], traces[b])]
            at = max(range(len(rel)), key=rel.__getitem__)
            print(f"{b} vs {a}: max relative difference {rel[at]:.3g} at step "
                  f"{at + 1} (mean {sum(rel) / len(rel):.3g})")
    if worst_first > args.first_step_tolerance:
        print(f"compare: FAIL, the first step's losses differ by {worst_first:.3g}, "
              f"more than {args.first_step_tolerance:g}: the systems compute "
              "different models or start from different weights")
        sys.exit(1)
    if worst > args.tolerance:
        print(f"compare: FAIL, {worst:.3g} exceeds the tolerance {args.tolerance:g}")
        sys.exit(1)
    print(f"compare: OK, within {args.tolerance:g} (first step: "
          f"{worst_first:.3g}, within {args.first_step_tolerance:g})")


if __name__ == "__main__":
    main()
