#!/usr/bin/python3
"""Draws training curves from nnc's --metrics and --loss-trace files.

    scripts/plot-metrics.py [-o curves.png|.svg] [--title TEXT] [--smooth N] RUN...

Each RUN is a metrics file (`nnc model.nn --train --metrics run.json`) or a
loss trace (`--loss-trace run.txt`, one loss a line), optionally named as
LABEL=PATH (the default label is the file's name). Metrics give the loss
and the accuracy per epoch, train (solid) and test (dashed); loss traces
give the loss of every step, smoothed over N steps (--smooth, default 50)
over the raw values drawn faintly. Several runs go on the same axes, one
colour each, for comparison.

Needs matplotlib (Debian's python3-matplotlib, hence /usr/bin/python3); it
draws with the Agg backend, so no display is needed.
"""
import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Text in SVG files stays text: smaller, searchable, and sharp at any size.
matplotlib.rcParams["svg.fonttype"] = "none"


def fail(message):
    sys.exit(f"plot-metrics.py: error: {message}")


def read_run(spec):
    label, _, path = spec.rpartition("=") if "=" in spec else ("", "", spec)
    label = label or os.path.splitext(os.path.basename(path))[0]
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        fail(f"{path}: {e.strerror}")
    if text.lstrip().startswith("{"):
        try:
            metrics = json.loads(text)
        except json.JSONDecodeError as e:
            fail(f"{path}: not valid JSON: {e}")
        epochs = metrics.get("epochs")
        if not isinstance(epochs, list) or not epochs:
            fail(f"{path}: no \"epochs\" list: is it nnc's --metrics file?")
        return {"label": label, "kind": "metrics", "epochs": epochs}
    losses = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            losses.append(float(line))
        except ValueError:
            fail(f"{path}:{number}: not a loss: {line.strip()[:40]!r} "
                 "(expected nnc's --metrics JSON or --loss-trace)")
    if not losses:
        fail(f"{path}: empty")
    return {"label": label, "kind": "trace", "losses": losses}


def moving_average(values, n):
    n = max(1, min(n, len(values)))
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= n:
            total -= values[i - n]
        out.append(total / min(i + 1, n))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("runs", nargs="+", metavar="RUN")
    parser.add_argument("-o", "--output", default="curves.png",
                        help="PNG or SVG file (default curves.png)")
    parser.add_argument("--title", default="")
    parser.add_argument("--smooth", type=int, default=50,
                        help="steps in the moving average of loss traces")
    args = parser.parse_args()
    if os.path.splitext(args.output)[1].lower() not in (".png", ".svg"):
        fail(f"{args.output}: the picture is written as .png or .svg")

    runs = [read_run(spec) for spec in args.runs]
    metrics = [r for r in runs if r["kind"] == "metrics"]
    traces = [r for r in runs if r["kind"] == "trace"]
    panels = (2 if metrics else 0) + (1 if traces else 0)
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.4),
                             squeeze=False)
    axes = list(axes[0])
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    color = {r["label"]: colors[i % len(colors)] for i, r in enumerate(runs)}

    if metrics:
        loss_ax, acc_ax = axes.pop(0), axes.pop(0)
        for r in metrics:
            epochs = [e["epoch"] for e in r["epochs"]]
            c = color[r["label"]]
            for key, ax, scale in (("loss", loss_ax, 1), ("accuracy", acc_ax, 100)):
                train = [e.get("train_" + key) for e in r["epochs"]]
                test = [e.get("test_" + key) for e in r["epochs"]]
                ax.plot(epochs, [v * scale for v in train], "-o", color=c,
                        markersize=3, label=f"{r['label']} train")
                if all(v is not None for v in test):
                    ax.plot(epochs, [v * scale for v in test], "--s", color=c,
                            markersize=3, label=f"{r['label']} test")
        loss_ax.set(xlabel="epoch", ylabel="loss", title="loss per epoch")
        acc_ax.set(xlabel="epoch", ylabel="accuracy (%)",
                   title="accuracy per epoch")
        for ax in (loss_ax, acc_ax):
            ax.xaxis.get_major_locator().set_params(integer=True)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    if traces:
        ax = axes.pop(0)
        for r in traces:
            steps = range(1, len(r["losses"]) + 1)
            c = color[r["label"]]
            ax.plot(steps, r["losses"], color=c, alpha=0.12, linewidth=0.4)
            ax.plot(steps, moving_average(r["losses"], args.smooth), color=c,
                    label=f"{r['label']} (mean of {args.smooth})")
        ax.set(xlabel="step", ylabel="training loss", yscale="log",
               title="loss per step")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    if args.title:
        fig.suptitle(args.title)
    fig.tight_layout()
    fig.savefig(args.output, dpi=110)
    print(f"wrote {args.output}: {len(metrics)} metrics file(s), "
          f"{len(traces)} loss trace(s)")


if __name__ == "__main__":
    main()
