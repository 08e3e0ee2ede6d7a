#!/usr/bin/env python3
"""Measures the learning rate nnc's compiled update used at every step, and
compares it with the schedule's closed form.

    lr_schedule.py NNC WORKDIR STEPS 'SCHEDULE' [--optimizer SPEC]

The model is one weight w, from 0, trained with the mean absolute error of
w * x against a target far below it: the gradient is exactly 1 at every
step, so SGD (momentum 0) moves w by -lr_s at step s. A checkpoint after
every step gives w, and lr_s = w_s - w_(s+1). Prints each step's measured
and expected rate, then the largest difference relative to the base rate.
"""
import json
import math
import os
import struct
import subprocess
import sys


def expected(schedule, lr, s):
    """The closed forms of docs/language.md, in double."""
    name, _, rest = schedule.partition("(")
    args = {}
    positional = []
    for part in rest.rstrip(")").split(","):
        part = part.strip()
        if not part:
            continue
        if "=" in part:
            k, v = part.split("=")
            args[k.strip()] = float(v)
        else:
            positional.append(float(part))
    f, t = 1.0, float(s)
    warmup = positional[0] if name == "warmup" else args.get("warmup", 0)
    if warmup:
        f = min(1.0, (s + 1) / warmup)
        t = max(0.0, t - warmup)
    if name == "step":
        f *= args["factor"] ** math.floor(t / args["every"])
    elif name == "cosine":
        n, a = args["decay_steps"], args.get("alpha", 0.0)
        f *= (1 - a) * 0.5 * (1 + math.cos(math.pi * min(t, n) / n)) + a
    return lr * f


def weight(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        begin, _ = header["w"]["data_offsets"]
        f.seek(8 + length + begin)
        return struct.unpack("<f", f.read(4))[0]


def main():
    nnc, work, steps, schedule = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    optimizer = sys.argv[6] if len(sys.argv) > 6 else "sgd(lr=0.01)"
    lr = float(optimizer.split("lr=")[1].split(",")[0].rstrip(")"))
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(work, "d.csv"), "w") as f:
        f.write("x,y\n" + "1,-1000\n" * 4)
    model = os.path.join(work, "m.nn")
    with open(model, "w") as f:
        f.write(f"""model one_weight {{
  input x: f32[batch, 1]
  label y: f32[batch, 1]
  w = param([1, 1], init=zeros)
  pred = x @ w
  output pred
  loss mean_absolute_error(pred, y)
}}
train {{
  data csv("{work}/d.csv", test="{work}/d.csv", target="y")
  optimizer {optimizer}
  lr_schedule {schedule}
  batch 4
  epochs {steps}
}}
""")
    save = os.path.join(work, "w.safetensors")
    subprocess.run([nnc, model, "--train", "--threads", "1", "--save", save,
                    "--checkpoint-every", "1", "--keep-checkpoints", str(steps)],
                   check=True, stderr=subprocess.DEVNULL)
    ws = [0.0] + [weight(os.path.join(work, f"w.step-{s:06d}.safetensors"))
                  for s in range(1, steps + 1)]
    worst = 0.0
    for s in range(steps):
        got = ws[s] - ws[s + 1]
        want = expected(schedule, lr, s)
        worst = max(worst, abs(got - want) / lr)
        print(f"step {s}: lr {got:.6g} expected {want:.6g}")
    print(f"largest difference relative to lr {worst:.1e}: "
          + ("ok" if worst < 1e-4 else "TOO LARGE"))


if __name__ == "__main__":
    main()
