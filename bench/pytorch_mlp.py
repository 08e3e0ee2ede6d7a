#!/usr/bin/python3
"""PyTorch reference trainer for nnc's MNIST benchmark.

Same model, hyper-parameters, initial weights (--load) and batch order (nnc's
shuffle) as nnc; writes the same metrics JSON (--metrics). Two modes:

  sequential  what a PyTorch user writes: nn.Sequential, autograd,
              torch.optim.Adam(eps=1e-7) (or --adam keras for Keras's
              update written out by hand)
  script      PyTorch at its fastest without autograd: a hand-written
              forward, backward and Keras Adam step compiled with
              torch.jit.script, parameters and gradients in one flat buffer
              so the update is four whole-buffer operations

Run with Debian's interpreter, /usr/bin/python3 (python3-torch 1.13).
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mlp_common as common  # noqa: E402

BETA1, BETA2, EPSILON = 0.9, 0.999, 1e-7


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mode", choices=["sequential", "script"], default="script")
    p.add_argument("--hidden", default="128", help="hidden widths, comma-separated")
    p.add_argument("--name", default="mnist_mlp", help="model name in the metrics")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--steps", type=int, default=-1, help="stop after N steps")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-shuffle", action="store_true")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument(
        "--adam",
        choices=["torch", "keras"],
        default="torch",
        help="sequential mode's update: torch.optim.Adam, or Keras's formula",
    )
    p.add_argument(
        "--blas-threads",
        type=int,
        help="threads of the OpenBLAS that torch calls for sgemm (default: --threads)",
    )
    p.add_argument(
        "--intra-op-threads",
        type=int,
        help="torch.set_num_threads, torch's own pool (default: --threads)",
    )
    p.add_argument("--load", help="initial weights (safetensors, nnc's names)")
    p.add_argument("--metrics", help="write the metrics JSON here")
    p.add_argument("--loss-trace", help="write each step's loss, one a line")
    p.add_argument("--data-dir", help="MNIST IDX files (default $NNC_DATA_DIR/mnist)")
    args = p.parse_args()
    if args.batch < 1 or args.threads < 1 or args.epochs < 0:
        p.error("need --batch >= 1, --threads >= 1, --epochs >= 0")
    args.widths = (784,) + tuple(int(w) for w in args.hidden.split(",")) + (10,)
    return args


args = parse_args()
# Torch's OpenMP pool and the OpenBLAS it calls for sgemm size their thread
# pools when loaded; torch.set_num_threads() does not reach OpenBLAS's.
os.environ["OMP_NUM_THREADS"] = str(args.intra_op_threads or args.threads)
os.environ["OPENBLAS_NUM_THREADS"] = str(args.blas_threads or args.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import Tensor  # noqa: E402
from typing import List, Tuple  # noqa: E402


def keras_alpha(lr, step):
    return lr * (1 - BETA2**step) ** 0.5 / (1 - BETA1**step)


def script_step(
    x: Tensor,
    y: Tensor,
    weights: List[Tensor],
    biases: List[Tensor],
    weight_grads: List[Tensor],
    bias_grads: List[Tensor],
    params: Tensor,
    grads: Tensor,
    m: Tensor,
    v: Tensor,
    alpha: float,
    beta1: float,
    beta2: float,
    eps: float,
) -> Tuple[Tensor, Tensor]:
    layers = len(weights)
    outputs: List[Tensor] = []
    h = x
    for l in range(layers):
        h = torch.addmm(biases[l], h, weights[l])
        if l + 1 < layers:
            h = torch.relu_(h)
        outputs.append(h)
    logp = torch.log_softmax(h, 1)
    label = y.unsqueeze(1)
    loss = -logp.gather(1, label).mean()
    correct = (h.argmax(1) == y).sum()
    # d(mean loss)/d(logits) = (softmax - onehot) / batch
    d = logp.exp_()
    d.scatter_add_(1, label, torch.full_like(label, -1, dtype=d.dtype))
    d.mul_(1.0 / x.size(0))
    for l in range(layers - 1, -1, -1):
        a = x if l == 0 else outputs[l - 1]
        torch.mm(a.t(), d, out=weight_grads[l])
        torch.sum(d, [0], out=bias_grads[l])
        if l > 0:
            d = torch.mm(d, weights[l].t()).masked_fill_(outputs[l - 1] <= 0, 0.0)
    # Keras's Adam on the flat buffers; params/grads alias the layer tensors.
    m.mul_(beta1).add_(grads, alpha=1.0 - beta1)
    v.mul_(beta2).addcmul_(grads, grads, value=1.0 - beta2)
    params.addcdiv_(m, v.sqrt().add_(eps), value=-alpha)
    return loss, correct


class ScriptTrainer:
    def __init__(self, layers, lr):
        self.lr = lr
        sizes = [w.size + b.size for w, b in layers]
        total = sum(sizes)
        self.params = torch.zeros(total)
        self.grads = torch.zeros(total)
        self.m = torch.zeros(total)
        self.v = torch.zeros(total)
        self.weights, self.biases, self.wgrads, self.bgrads = [], [], [], []
        offset = 0
        for w, b in layers:
            i, o = w.shape
            for dst, grad, src, shape in (
                (self.weights, self.wgrads, w, (i, o)),
                (self.biases, self.bgrads, b, (o,)),
            ):
                n = src.size
                view = self.params[offset : offset + n].view(shape)
                view.copy_(torch.from_numpy(src))
                dst.append(view)
                grad.append(self.grads[offset : offset + n].view(shape))
                offset += n
        self.step_count = 0
        # Compiling is what compile_seconds measures; TorchScript's profiling
        # executor then specialises the graph during the first steps, which
        # count as training, as they would for a user.
        self.compiled = torch.jit.script(script_step)

    def step(self, x, y):
        self.step_count += 1
        return self.compiled(
            x, y, self.weights, self.biases, self.wgrads, self.bgrads,
            self.params, self.grads, self.m, self.v,
            keras_alpha(self.lr, self.step_count), BETA1, BETA2, EPSILON,
        )

    def logits(self, x):
        h = x
        for l, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.addmm(b, h, w)
            if l + 1 < len(self.weights):
                h = torch.relu(h)
        return h


class SequentialTrainer:
    def __init__(self, layers, lr, adam):
        modules = [torch.nn.Flatten()]
        for l, (w, b) in enumerate(layers):
            linear = torch.nn.Linear(*w.shape)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(w.T.copy()))  # [out, in]
                linear.bias.copy_(torch.from_numpy(b))
            modules.append(linear)
            if l + 1 < len(layers):
                modules.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*modules)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.lr = lr
        self.keras = adam == "keras"
        if self.keras:
            self.state = [(torch.zeros_like(p), torch.zeros_like(p))
                          for p in self.model.parameters()]
            self.step_count = 0
        else:
            # torch's Adam adds eps to sqrt(v)/sqrt(1-beta2^t), Keras's to
            # sqrt(v): torch's eps is Keras's times sqrt(1-beta2^t).
            self.optimizer = torch.optim.Adam(
                self.model.parameters(), lr=lr, betas=(BETA1, BETA2), eps=EPSILON)

    def step(self, x, y):
        logits = self.model(x)
        loss = self.loss_fn(logits, y)
        if self.keras:
            for p in self.model.parameters():
                p.grad = None
        else:
            self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.keras:
            self.step_count += 1
            alpha = keras_alpha(self.lr, self.step_count)
            with torch.no_grad():
                for p, (m, v) in zip(self.model.parameters(), self.state):
                    m.mul_(BETA1).add_(p.grad, alpha=1 - BETA1)
                    v.mul_(BETA2).addcmul_(p.grad, p.grad, value=1 - BETA2)
                    p.addcdiv_(m, v.sqrt().add_(EPSILON), value=-alpha)
        else:
            self.optimizer.step()
        correct = (logits.detach().argmax(1) == y).sum()
        return loss.detach(), correct

    def logits(self, x):
        return self.model(x)


def evaluate(trainer, x, y):
    with torch.no_grad():
        logits = trainer.logits(x)
        loss = torch.nn.functional.cross_entropy(logits, y).item()
        accuracy = (logits.argmax(1) == y).double().mean().item()
    return loss, accuracy


def main():
    torch.set_num_threads(args.intra_op_threads or args.threads)
    # Like nnc's code and the OpenBLAS reference: denormals flushed to zero.
    # Torch sets it on the calling thread only; its OpenMP workers keep the
    # default (torch has no API for them).
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)

    x_train, y_train, x_test, y_test = common.load_mnist(common.data_dir(args.data_dir))
    widths = args.widths
    if args.load:
        init = common.read_safetensors(args.load)
        source = args.load
    else:
        init = common.glorot_init(widths, args.seed)
        source = "weights"
    layers = common.layer_weights(init, widths, source)

    x_train, y_train = torch.from_numpy(x_train), torch.from_numpy(y_train)
    x_test, y_test = torch.from_numpy(x_test), torch.from_numpy(y_test)
    if args.mode == "sequential":
        # nn.Flatten sees the images as the user's data loader gives them.
        x_train, x_test = x_train.view(-1, 28, 28), x_test.view(-1, 28, 28)

    steps_per_epoch = len(y_train) // args.batch
    total = steps_per_epoch * args.epochs
    if args.steps >= 0:
        total = min(total, args.steps)
    epochs_run = -(-total // steps_per_epoch)
    # The batch order of every epoch, made before anything is timed.
    order = [
        torch.from_numpy(
            common.epoch_permutation(args.seed, e, len(y_train), not args.no_shuffle)[
                : steps_per_epoch * args.batch
            ].reshape(steps_per_epoch, args.batch)
        )
        for e in range(epochs_run)
    ]

    start = time.perf_counter()
    if args.mode == "script":
        trainer = ScriptTrainer(layers, args.lr)
    else:
        trainer = SequentialTrainer(layers, args.lr, args.adam)
    compile_seconds = time.perf_counter() - start if args.mode == "script" else 0.0

    metrics = common.Metrics(args.name, steps=total, compile_seconds=compile_seconds)
    trace = [] if args.loss_trace else None
    step = 0
    for e in range(epochs_run):
        steps = min(steps_per_epoch, total - step)
        batches = order[e]
        # The step's loss and hit count stay tensors until the epoch ends:
        # adding them up as tensors costs more per step than the list.
        losses, hits = [], []
        start = time.perf_counter()
        for s in range(steps):
            idx = batches[s]
            loss, correct = trainer.step(
                x_train.index_select(0, idx), y_train.index_select(0, idx)
            )
            losses.append(loss)
            hits.append(correct)
        seconds = time.perf_counter() - start
        step += steps
        if trace is not None:
            trace += [loss.item() for loss in losses]
        test_loss, test_accuracy = evaluate(trainer, x_test, y_test)
        metrics.add_epoch(
            torch.stack(losses).double().sum().item() / steps,
            torch.stack(hits).sum().item() / (steps * args.batch),
            test_loss,
            test_accuracy,
            seconds,
        )
        ep = metrics.epochs[-1]
        print(
            f"epoch {e + 1}: train loss {ep['train_loss']:.4f} accuracy "
            f"{ep['train_accuracy']:.4f}, test loss {test_loss:.4f} accuracy "
            f"{test_accuracy:.4f}, {seconds:.3f} s",
            flush=True,
        )
    if not metrics.epochs:
        metrics.test_loss, metrics.test_accuracy = evaluate(trainer, x_test, y_test)

    if args.metrics:
        metrics.write(args.metrics)
    if trace is not None:
        with open(args.loss_trace, "w") as f:
            f.writelines(f"{loss:.9g}\n" for loss in trace)
    per_epoch = metrics.train_seconds / len(metrics.epochs) if metrics.epochs else 0.0
    shape = "-".join(map(str, widths))
    print(
        f"pytorch_mlp[{args.mode}]: {args.name} {shape} batch {args.batch} threads "
        f"{args.threads}: {total} steps, {per_epoch:.3f} s/epoch, test accuracy "
        f"{100 * metrics.test_accuracy:.2f}%, compile {compile_seconds:.3f} s, "
        f"torch {torch.__version__}"
    )


if __name__ == "__main__":
    main()
