#!/usr/bin/env python3
"""Differential testing of nnc on random models.

Each seed gives one model in the model language: a few layers of random
widths with random activations, normalizations, tied and transposed
weights, a random loss, optimizer and batch size; with --models image, a
few convolutions, poolings, batch normalizations and dropouts (of rate 0,
so that the masks are drawn and the runs stay comparable) over the images
as NHWC. nnc trains it for a few steps on a slice of MNIST in the
reference interpreter and in several JIT configurations (one to three
threads, without fusion, 256-bit vectors, -O1, --fast-updates, the generic
code generator alone, two ranks in one process where the batch divides and
nothing combines the examples of a batch), and the losses of the first two steps must agree: the
first is the forward pass at the initial weights, the second has one
update in it. Later steps are not compared: a badly conditioned model (a
normalization of nearly constant rows) amplifies float noise by orders of
magnitude per step. The evaluation step's loss and accuracy on 300 test
images after training must agree too (within the second step's tolerance,
and six examples) when the last step's loss agrees within the first's.

A finding is a crash, a run that fails where the interpreter succeeds (or
the other way round), an error from the interpreter other than divergence,
or a loss outside the tolerance. Models the interpreter itself sees diverge
are skipped. The models of findings are kept for reproduction.

  fuzz_models.py --nnc build/bin/nnc --mnist data/mnist --seeds 1-200
  fuzz_models.py --nnc build/bin/nnc --mnist data/mnist --models image --seeds 1-100
"""
import argparse
import json
import math
import os
import random
import re
import struct
import subprocess
import sys
import tempfile

# Relative tolerance on the loss of step 1 (forward only) and step 2 (one
# update), against the interpreter; losses below 1e-2 count as 1e-2. On
# correct code the largest differences seen over 240 models were 4.6e-6
# and 2.8e-5.
TOLERANCE = {1: 1e-4, 2: 1e-3}

CONFIGS = [
    ("interp", ["--interp"]),
    ("jit-1", ["--jit", "--threads=1"]),
    ("jit-2", ["--jit", "--threads=2"]),
    ("jit-3", ["--jit", "--threads=3"]),
    ("unfused", ["--jit", "--no-fusion", "--threads=2"]),
    ("256-bit", ["--jit", "--prefer-vector-width=256", "--threads=2"]),
    ("O1", ["--jit", "-O1", "--threads=2"]),
    ("fast-updates", ["--jit", "--fast-updates", "--threads=2"]),
    ("generic", ["--jit", "--no-specialize", "--threads=2"]),
    ("ranks-2", ["--jit", "--ranks=2", "--threads=1"]),
]


# What combines the examples of a batch: on two ranks each combines its
# own half (docs/distributed.md), which is not the interpreter's step.
MIXES_EXAMPLES = ("batch_norm", "axes=0", "batch /")


def applies(config, model_text):
    """Whether a configuration runs the model: two ranks need a batch they
    divide and a model that treats its examples one by one."""
    if config != "ranks-2":
        return True
    batch = re.search(r"^  batch (\d+)$", model_text, re.M)
    return (batch is not None and int(batch.group(1)) % 2 == 0
            and not any(m in model_text for m in MIXES_EXAMPLES))

WIDTHS = [1, 2, 3, 16, 17, 32, 64, 100, 128, 130, 256, 513]
BATCHES = [1, 2, 3, 7, 16, 32, 33, 64, 100, 128, 256]
ACTIVATIONS = {
    "relu": "relu({})",
    "tanh": "tanh({})",
    "sigmoid": "sigmoid({})",
    "leaky": "max({0}, 0.1 * {0})",
    "swish": "{0} * sigmoid({0})",
    "abs": "abs({})",
    "softplus": "log(1 + exp(min({}, 20)))",
    "square": "{0} * {0} * 0.1",
    "softmax": "softmax({})",
    "log_softmax": "log_softmax({})",
    "bump": "exp(neg(abs({})))",
    "pow": "pow(abs({}) + 0.5, 1.5)",
    "clip": "min(max({}, -1), 1)",
    "sqrt": "sqrt(abs({}) + 0.01)",
    "centre": "{0} - reduce_max({0}, axes=1, keepdims=true)",
    "none": "{}",
}
OPTIMIZERS = ["adam(lr=1e-3)", "adam(lr=0.003, beta1=0.8)", "sgd(lr=0.05)",
              "sgd(lr=0.01, momentum=0.9)"]


def mix(rng, lines, param, units):
    """One of a few less common constructs on h; returns the new width."""
    kind = rng.choice(["gate", "max", "permute", "fold", "softsign", "pow",
                       "batch", "softmax_weights", "cube", "middle", "rank4",
                       "swap3", "window"])
    if kind == "gate":
        w, b = param(f"[{units}, {units}]"), param(f"[{units}]", "zeros")
        lines.append(f"  h = h * sigmoid(h @ {w} + {b})")
    elif kind == "max":
        w = param(f"[{units}, {units}]")
        lines.append(f"  h = max(h, h @ {w})")
    elif kind == "permute" and units % 4 == 0:
        lines.append(f"  h = reshape(transpose(reshape(h, [batch, 4, "
                     f"{units // 4}]), [0, 2, 1]), [batch, {units}])")
    elif kind == "fold" and units % 2 == 0:
        lines.append(f"  h = reduce_sum(reshape(h, [batch, 2, {units // 2}]), "
                     f"axes=1)")
        return units // 2
    elif kind == "softsign":
        lines.append("  h = h / (abs(h) + 1)")
    elif kind == "pow":
        lines.append("  h = pow(abs(h) + 1, sigmoid(h))")
    elif kind == "batch":
        lines.append("  h = h * (batch / (batch + 1))")
    elif kind == "softmax_weights":
        lines.append(f"  h = h * softmax(h) * {units}")
    elif kind == "cube" and units % 4 == 0:
        # A 3-D intermediate: softmax along its last axis, then a sum over
        # its middle axis weighted by the original.
        q = units // 4
        lines += [f"  c3 = reshape(h, [batch, 4, {q}])",
                  f"  h = reshape(c3 * softmax(c3) * 4, [batch, {units}])"]
    elif kind == "middle" and units % 2 == 0:
        # A reduction over the middle axis of a rank-3 tensor, broadcast back.
        q = units // 2
        lines += [f"  m3 = reshape(h, [batch, 2, {q}])",
                  f"  h = reshape(m3 - reduce_mean(m3, axes=1, keepdims=true),"
                  f" [batch, {units}])"]
    elif kind == "rank4" and units % 4 == 0:
        # 4-D: a transpose of the two inner axes and a max over axis 2.
        q = units // 4
        lines += [f"  r4 = reshape(h, [batch, 2, 2, {q}])",
                  f"  t4 = transpose(r4, [0, 2, 1, 3])",
                  f"  h = reshape(t4 + reduce_max(r4, axes=2, keepdims=true),"
                  f" [batch, {units}])"]
    elif kind == "swap3" and units % 2 == 0:
        # A rank-3 transpose that moves the batch axis, and back.
        q = units // 2
        lines += [f"  w3 = transpose(reshape(h, [batch, 2, {q}]), [1, 2, 0])",
                  f"  h = reshape(transpose(tanh(w3), [2, 0, 1]), "
                  f"[batch, {units}])"]
    elif kind == "window" and units > 2:
        # pad then slice: the middle of a padded copy, shifted by one.
        lines.append(f"  h = slice(pad(h, [0, 2], [0, 1]), [0, 1], "
                     f"[batch, {units}]) + h")
    return units


def generate(seed):
    """The source of model `seed`."""
    rng = random.Random(seed)
    lines = ["  h = reshape(x, [batch, 784])"]
    params = 0

    def param(shape, init="glorot_uniform"):
        nonlocal params
        params += 1
        lines.append(f"  p{params} = param({shape}, init={init})")
        return f"p{params}"

    if rng.random() < 0.3:
        lines.append("  h = h * 2 - 1")
    width = 784
    saved = []  # (name, width) of earlier layers' outputs
    for layer in range(rng.choice([1, 1, 2, 3])):
        units = rng.choice(WIDTHS)
        if saved and rng.random() < 0.4:
            units = rng.choice(saved)[1]
        style = rng.choice(["dense", "plain", "plain", "transposed", "row_bias"])
        if style == "dense":
            act = rng.choice(["relu", "tanh", "sigmoid", "none"])
            lines.append(f"  h = dense(h, {units}, activation={act})")
        else:
            if style == "transposed":
                w = param(f"[{units}, {width}]")
                product = f"matmul(h, transpose({w}))"
            else:
                w = param(f"[{width}, {units}]")
                product = f"h @ {w}"
            bias = param(f"[1, {units}]" if style == "row_bias" else f"[{units}]",
                         "zeros")
            act = ACTIVATIONS[rng.choice(sorted(ACTIVATIONS))]
            lines.append("  h = " + act.format(f"({product} + {bias})"))
        if rng.random() < 0.2:
            lines += ["  mu = reduce_mean(h, axes=1, keepdims=true)",
                      "  c = h - mu",
                      "  h = c * rsqrt(reduce_mean(c * c, axes=1, keepdims=true)"
                      " + 0.001)"]
        if rng.random() < 0.15 and units > 1:
            w = param(f"[{units}, {units}]")
            lines.append(f"  h = h + relu(h @ {w})")
        if rng.random() < 0.15 and units > 1:
            w = param(f"[{units}, {units}]")  # used forward and transposed
            lines.append(f"  h = tanh(matmul(h, {w}) + "
                         f"matmul(h, transpose({w})) * 0.5)")
        if rng.random() < 0.1 and units % 2 == 0:
            lines.append(f"  h = reshape(reduce_max(reshape(h, [batch, "
                         f"{units // 2}, 2]), axes=2), [batch, {units // 2}])")
            units //= 2
        if rng.random() < 0.1:
            lines.append("  h = h - reduce_mean(h, axes=0, keepdims=true)")
        if rng.random() < 0.35:
            units = mix(rng, lines, param, units)
        # A skip connection from an earlier layer of the same width: the
        # graph becomes a DAG whose branches fusion must not tie in a cycle.
        earlier = [name for name, w in saved if w == units]
        if earlier and rng.random() < 0.5:
            lines.append(f"  h = h + {rng.choice(earlier)} * 0.5")
        lines.append(f"  s{layer} = h")
        saved.append((f"s{layer}", units))
        width = units
    bias = param("[10]", "zeros")
    if rng.random() < 0.3:
        w = param(f"[10, {width}]")
        lines.append(f"  logits = transpose(matmul({w}, transpose(h))) + {bias}")
    else:
        w = param(f"[{width}, 10]")
        lines.append(f"  logits = h @ {w} + {bias}")
    loss = rng.choice([
        "softmax_cross_entropy(logits, y)",
        "softmax_cross_entropy(logits, y)",
        "mean_squared_error(softmax(logits), one_hot(y, 10))",
        "mean_squared_error(logits, one_hot(y, 10))",
    ])
    return "\n".join(
        [f"# nnc model fuzzer, seed {seed}", "model fuzz {",
         "  input x: f32[batch, 28, 28]", "  label y: i32[batch]"] + lines +
        ["  output logits", f"  loss {loss}", "  metric accuracy(logits, y)",
         "}", "train {", "  data mnist", f"  optimizer {rng.choice(OPTIMIZERS)}",
         f"  batch {rng.choice(BATCHES)}", "  epochs 1", "}", ""])


IMAGE_BATCHES = [1, 2, 3, 4, 7, 8, 16, 32]
IMAGE_ACTIVATIONS = ["relu", "tanh", "sigmoid", "none"]


def pair(rng, choices):
    """A size or stride argument: one integer, or [height, width]."""
    if rng.random() < 0.7:
        v = rng.choice(choices)
        return v, (v, v)
    h, w = rng.choice(choices), rng.choice(choices)
    return f"[{h}, {w}]", (h, w)


def windowed(size, span, stride, same):
    """Output positions along one axis, or None if a valid window does not fit."""
    if same:
        return -(-size // stride)
    if span > size:
        return None
    return (size - span) // stride + 1


def generate_image(seed):
    """The source of image model `seed`: convolutions, pooling, batch
    normalization and dropout over NHWC images, kept small enough that a
    run takes a few seconds."""
    rng = random.Random(seed)
    lines = ["  h = reshape(x, [batch, 28, 28, 1])"]
    if rng.random() < 0.3:
        lines.append("  h = h * 2 - 1")
    if rng.random() < 0.3:
        # A smaller image first: fewer positions for every later layer.
        lines.append("  h = avg_pool2d(h, 2)")
        height = width = 14
    else:
        height = width = 28
    channels = 1
    for _ in range(rng.choice([1, 2, 3, 3, 4, 5])):
        kind = rng.choice(["conv", "conv", "conv", "conv", "max", "max",
                           "avg", "bn", "drop"])
        if kind == "conv":
            filters = rng.choice([1, 2, 3, 4, 8, 16])
            ktext, (kh, kw) = pair(rng, [1, 2, 3, 3, 5])
            args = [f"h, {filters}, {ktext}"]
            strides, dilation = (1, 1), (1, 1)
            if rng.random() < 0.4:
                stext, strides = pair(rng, [1, 2, 3])
                args.append(f"strides={stext}")
            if rng.random() < 0.25:
                dtext, dilation = pair(rng, [1, 2, 3])
                args.append(f"dilation={dtext}")
            same = rng.random() < 0.4
            if same:
                args.append("padding=same")
            act = rng.choice(IMAGE_ACTIVATIONS)
            if act != "none" or rng.random() < 0.5:
                args.append(f"activation={act}")
            if rng.random() < 0.25:
                args.append("use_bias=false")
            spans = ((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1)
        elif kind in ("max", "avg"):
            ptext, (kh, kw) = pair(rng, [1, 2, 2, 3])
            args = [f"h, {ptext}"]
            strides = (kh, kw)
            if rng.random() < 0.4:
                stext, strides = pair(rng, [1, 2, 3])
                args.append(f"strides={stext}")
            same = rng.random() < 0.4
            if same:
                args.append("padding=same")
            spans = (kh, kw)
        if kind in ("conv", "max", "avg"):
            oh = windowed(height, spans[0], strides[0], same)
            ow = windowed(width, spans[1], strides[1], same)
            if oh is None or ow is None:
                continue  # the window does not fit: skip the layer
            layer = {"conv": "conv2d", "max": "max_pool2d",
                     "avg": "avg_pool2d"}[kind]
            lines.append(f"  h = {layer}({', '.join(args)})")
            height, width = oh, ow
            if kind == "conv":
                channels = filters
        elif kind == "bn":
            lines.append("  h = batch_norm(h)" if rng.random() < 0.5 else
                         "  h = batch_norm(h, momentum=0.9, epsilon=0.01)")
        else:
            # Rate 0 keeps every element, so the runs stay comparable step
            # by step while random_uniform and the mask still run.
            lines.append("  h = dropout(h, 0)")
    if rng.random() < 0.3:
        lines.append("  h = global_avg_pool2d(h)")
        features = channels
    else:
        lines.append("  h = flatten(h)")
        features = height * width * channels
    if rng.random() < 0.3:
        lines.append("  h = dropout(h, 0)")
    if rng.random() < 0.4:
        act = rng.choice(["relu", "tanh", "sigmoid"])
        lines.append(f"  h = dense(h, {rng.choice([16, 32, 64])}, "
                     f"activation={act})")
        if rng.random() < 0.3:
            lines.append("  h = batch_norm(h)")
    lines.append("  logits = dense(h, 10)")
    loss = rng.choice([
        "softmax_cross_entropy(logits, y)",
        "softmax_cross_entropy(logits, y)",
        "mean_squared_error(softmax(logits), one_hot(y, 10))",
    ])
    return "\n".join(
        [f"# nnc model fuzzer, image model {seed} ({features} features)",
         "model fuzz {", "  input x: f32[batch, 28, 28]",
         "  label y: i32[batch]"] + lines +
        ["  output logits", f"  loss {loss}", "  metric accuracy(logits, y)",
         "}", "train {", "  data mnist", f"  optimizer {rng.choice(OPTIMIZERS)}",
         f"  batch {rng.choice(IMAGE_BATCHES)}", "  epochs 1", "}", ""])


def write_slice(mnist, out, train=1000, test=300):
    """The first images and labels of each IDX file, as IDX files."""
    for name, count in [("train-images-idx3-ubyte", train),
                        ("train-labels-idx1-ubyte", train),
                        ("t10k-images-idx3-ubyte", test),
                        ("t10k-labels-idx1-ubyte", test)]:
        with open(os.path.join(mnist, name), "rb") as f:
            magic, _ = struct.unpack(">II", f.read(8))
            dims = struct.unpack(">" + "I" * ((magic & 0xFF) - 1),
                                 f.read(4 * ((magic & 0xFF) - 1)))
            item = 1
            for d in dims:
                item *= d
            body = f.read(count * item)
        with open(os.path.join(out, name), "wb") as f:
            f.write(struct.pack(">II", magic, count))
            f.write(struct.pack(">" + "I" * len(dims), *dims))
            f.write(body)


def run(nnc, model, data, flags, trace, steps):
    """(exit code, message, step losses, the test set's loss and accuracy)."""
    metrics = trace + ".json"
    r = subprocess.run(
        [nnc, model, "--train", f"--data={data}", f"--steps={steps}",
         "--no-shuffle", f"--loss-trace={trace}", f"--metrics={metrics}"] +
        flags, capture_output=True, text=True, timeout=900)
    lines = [l for l in r.stderr.strip().splitlines() if "warning:" not in l]
    # A crash's first line says what failed (an assertion), the rest is
    # the stack; an error's diagnostic is the last line.
    message = (lines[0] if r.returncode < 0 else lines[-1]) if lines else ""
    if r.returncode != 0:
        return r.returncode, message, None, None
    with open(trace) as f:
        losses = [float(v) for v in f.read().split()]
    with open(metrics) as f:
        m = json.load(f)
    return 0, message, losses, (m["test_loss"], m["test_accuracy"])


def check(nnc, seed, data, work, steps, models="dense"):
    """The findings for model `seed`, or None if the model is skipped."""
    prefix = "fuzz" if models == "dense" else f"fuzz-{models}"
    model = os.path.join(work, f"{prefix}-{seed}.nn")
    text = GENERATORS[models](seed)
    with open(model, "w") as f:
        f.write(text)
    results = {}
    for name, flags in CONFIGS:
        if not applies(name, text):
            continue
        results[name] = run(nnc, model, data, flags,
                            os.path.join(work, f"{prefix}-{seed}.{name}.trace"),
                            steps)
    findings = []
    for name, (code, message, _, _) in results.items():
        if code < 0:
            findings.append(f"{name}: killed by signal {-code}: {message}")
    ref_code, ref_message, ref, ref_test = results["interp"]
    if ref_code != 0 and "diverged" in ref_message:
        return findings or None
    if ref_code > 0:
        findings.append(f"interp: exit {ref_code}: {ref_message}")
    if ref_code != 0:
        return findings
    for name, (code, message, losses, test) in results.items():
        if name == "interp" or code < 0:
            continue
        if code != 0:
            findings.append(f"{name}: exit {code} where the interpreter "
                            f"trained: {message}")
            continue
        for step, tolerance in TOLERANCE.items():
            if step > len(ref):
                break
            got, want = losses[step - 1], ref[step - 1]
            error = abs(got - want) / max(abs(want), 1e-2)
            if not error <= tolerance:  # NaN fails too
                findings.append(f"{name}: step {step} loss {got!r}, the "
                                f"interpreter's {want!r} (relative "
                                f"difference {error:.1e})")
        # The evaluation step, after the same training steps: the weights
        # differ by float noise, so a tolerance, and a few of the 300
        # examples may flip between near-equal logits. Not compared when
        # the model amplifies the noise: its last step's loss is already
        # off by more than the first step's tolerance, or training is
        # blowing up (the loss grew tenfold; seed 707 went from 38 to 4e9
        # in three steps, and one more update took the test losses 2%
        # apart), or its test loss overflowed (null in the metrics).
        last = len(ref) - 1
        if (last >= len(losses) or not abs(losses[last] - ref[last]) <=
                TOLERANCE[1] * max(abs(ref[last]), 1e-2) or
                not abs(ref[last]) <= 10 * abs(ref[0])):
            continue
        if ref_test[0] is None or not math.isfinite(ref_test[0]):
            continue
        if test[0] is None:
            findings.append(f"{name}: test loss not finite, the "
                            f"interpreter's {ref_test[0]!r}")
            continue
        error = abs(test[0] - ref_test[0]) / max(abs(ref_test[0]), 1e-2)
        if not error <= TOLERANCE[2]:
            findings.append(f"{name}: test loss {test[0]!r}, the "
                            f"interpreter's {ref_test[0]!r}")
        if not abs(test[1] - ref_test[1]) <= 0.02:
            findings.append(f"{name}: test accuracy {test[1]!r}, the "
                            f"interpreter's {ref_test[1]!r}")
    return findings


GENERATORS = {"dense": generate, "image": generate_image}


def parse_seeds(text):
    seeds = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        seeds += range(int(first), int(last or first) + 1)
    return seeds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nnc", required=True, help="the nnc binary")
    parser.add_argument("--mnist", required=True,
                        help="the directory of MNIST's IDX files")
    parser.add_argument("--seeds", default="1-20", help="e.g. 1-20,40")
    parser.add_argument("--models", choices=sorted(GENERATORS),
                        default="dense", help="dense layers and hand-written "
                        "constructs on flat rows (the default), or "
                        "convolutions and pooling on images")
    parser.add_argument("--steps", type=int, default=3,
                        help="training steps per run")
    parser.add_argument("--work", help="where models and traces go "
                        "(default: a temporary directory)")
    args = parser.parse_args()

    work = args.work or tempfile.mkdtemp(prefix="nnc-fuzz-")
    os.makedirs(work, exist_ok=True)
    data = os.path.join(work, "mnist")
    os.makedirs(data, exist_ok=True)
    write_slice(args.mnist, data)

    seeds = parse_seeds(args.seeds)
    failed, skipped = [], 0
    for seed in seeds:
        findings = check(args.nnc, seed, data, work, args.steps, args.models)
        if findings is None:
            skipped += 1
            print(f"seed {seed}: skipped, the interpreter diverges", flush=True)
        elif findings:
            failed.append(seed)
            prefix = "fuzz" if args.models == "dense" else f"fuzz-{args.models}"
            print(f"seed {seed}: {len(findings)} findings "
                  f"({os.path.join(work, f'{prefix}-{seed}.nn')})", flush=True)
            for f in findings:
                print(f"  {f}", flush=True)
        else:
            print(f"seed {seed}: ok", flush=True)
    print(f"{len(seeds)} models, {skipped} skipped, {len(failed)} with "
          f"findings" + (f": seeds {', '.join(map(str, failed))}" if failed
                         else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
