#!/usr/bin/python3
"""PyTorch reference trainer for nnc's convnet benchmark.

Keras's "Simple MNIST convnet", as examples/mnist_cnn.nn: conv 3x3x32 +
ReLU, max pool 2, conv 3x3x64 + ReLU, max pool 2, flatten, dropout 0.5,
dense 10, softmax cross-entropy. Same hyper-parameters, initial weights
(--load, nnc's safetensors, converted to PyTorch's layout by
bench/cnn_common.py) and batch order (nnc's shuffle) as nnc; writes the
same metrics JSON (--metrics). Three modes:

  sequential     what a PyTorch user writes: nn.Sequential on NCHW images,
                 autograd, torch.optim.Adam(eps=1e-7) (or --adam keras)
  channels-last  the same, with the model and every batch in channels_last
                 memory format (NHWC, as nnc's images are)
  script         the nn.Sequential compiled with torch.jit.script, in
                 channels_last (--layout nchw for NCHW), autograd for the
                 backward, Keras's Adam as one scripted function over all
                 parameters

--float64 trains in double precision: the reference that
compare_trajectories.py measures the float32 systems' rounding against.

Run with Debian's interpreter, /usr/bin/python3 (python3-torch 1.13).
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cnn_common  # noqa: E402
import mlp_common as common  # noqa: E402

BETA1, BETA2, EPSILON = 0.9, 0.999, 1e-7
EVAL_CHUNK = 1000  # test images a forward pass takes at once


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mode", choices=["sequential", "channels-last", "script"],
                   default="channels-last")
    p.add_argument("--layout", choices=["nchw", "channels-last"],
                   help="memory format of script mode (default channels-last)")
    p.add_argument("--name", default="mnist_cnn", help="model name in the metrics")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--steps", type=int, default=-1, help="stop after N steps")
    p.add_argument("--dropout", type=float, default=0.5,
                   help="dropout rate before the dense layer (0: none)")
    p.add_argument("--float64", action="store_true",
                   help="train in double precision (a reference for the "
                   "float32 systems' rounding, not a benchmark)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-shuffle", action="store_true")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--adam", choices=["torch", "keras"],
                   help="the update: torch.optim.Adam, or Keras's formula "
                   "(default: torch, keras in script mode)")
    p.add_argument("--blas-threads", type=int,
                   help="threads of the OpenBLAS torch calls (default: --threads)")
    p.add_argument("--intra-op-threads", type=int,
                   help="torch.set_num_threads, torch's own pool (default: --threads)")
    p.add_argument("--load", help="initial weights (safetensors, nnc's names)")
    p.add_argument("--metrics", help="write the metrics JSON here")
    p.add_argument("--loss-trace", help="write each step's loss, one a line")
    p.add_argument("--data-dir", help="MNIST IDX files (default $NNC_DATA_DIR/mnist)")
    args = p.parse_args()
    if args.batch < 1 or args.threads < 1 or args.epochs < 0:
        p.error("need --batch >= 1, --threads >= 1, --epochs >= 0")
    if not 0 <= args.dropout < 1:
        p.error("--dropout needs 0 <= rate < 1")
    if args.mode == "script":
        args.adam = args.adam or "keras"
        args.channels_last = (args.layout or "channels-last") == "channels-last"
    else:
        if args.layout:
            p.error("--layout is for script mode; the eager modes name their layout")
        args.adam = args.adam or "torch"
        args.channels_last = args.mode == "channels-last"
    return args


args = parse_args()
# Torch's OpenMP pool and the OpenBLAS it calls size their thread pools when
# loaded; torch.set_num_threads() does not reach OpenBLAS's.
os.environ["OMP_NUM_THREADS"] = str(args.intra_op_threads or args.threads)
os.environ["OPENBLAS_NUM_THREADS"] = str(args.blas_threads or args.threads)

import torch  # noqa: E402
from torch import Tensor  # noqa: E402
from typing import List  # noqa: E402


def keras_alpha(lr, step):
    return lr * (1 - BETA2**step) ** 0.5 / (1 - BETA1**step)


@torch.jit.script
def keras_adam(params: List[Tensor], grads: List[Tensor], m: List[Tensor],
               v: List[Tensor], alpha: float, beta1: float, beta2: float,
               eps: float):
    for i in range(len(params)):
        m[i].mul_(beta1).add_(grads[i], alpha=1.0 - beta1)
        v[i].mul_(beta2).addcmul_(grads[i], grads[i], value=1.0 - beta2)
        params[i].addcdiv_(m[i], v[i].sqrt().add_(eps), value=-alpha)


def build_model(init, dropout):
    """nn.Sequential with nnc's initial weights in PyTorch's layout."""
    (f1, k1), (f2, k2) = cnn_common.CONVS
    layers = [
        torch.nn.Conv2d(cnn_common.IMAGE[2], f1, k1), torch.nn.ReLU(),
        torch.nn.MaxPool2d(cnn_common.POOL),
        torch.nn.Conv2d(f1, f2, k2), torch.nn.ReLU(),
        torch.nn.MaxPool2d(cnn_common.POOL),
        torch.nn.Flatten(),  # c, h, w: torch_weights permuted the dense rows
    ]
    if dropout > 0:
        layers.append(torch.nn.Dropout(dropout))
    layers.append(torch.nn.Linear(cnn_common.flattened(), cnn_common.CLASSES))
    model = torch.nn.Sequential(*layers)
    weights = cnn_common.torch_weights(init)
    targets = {"conv2d_1": model[0], "conv2d_2": model[3], "dense_1": model[-1]}
    with torch.no_grad():
        for name, module in targets.items():
            module.weight.copy_(torch.from_numpy(weights[f"{name}.weight"]))
            module.bias.copy_(torch.from_numpy(weights[f"{name}.bias"]))
    return model


class Trainer:
    def __init__(self, init):
        self.model = build_model(init, args.dropout)
        self.format = (torch.channels_last if args.channels_last
                       else torch.contiguous_format)
        self.dtype = torch.float64 if args.float64 else torch.float32
        self.model = self.model.to(dtype=self.dtype, memory_format=self.format)
        self.model.train()
        self.forward = (torch.jit.script(self.model) if args.mode == "script"
                        else self.model)
        self.params = list(self.forward.parameters())
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.keras = args.adam == "keras"
        if self.keras:
            self.m = [torch.zeros_like(p) for p in self.params]
            self.v = [torch.zeros_like(p) for p in self.params]
            self.step_count = 0
        else:
            # torch's Adam adds eps to sqrt(v)/sqrt(1-beta2^t), Keras's to
            # sqrt(v): torch's eps is Keras's times sqrt(1-beta2^t).
            self.optimizer = torch.optim.Adam(
                self.params, lr=args.lr, betas=(BETA1, BETA2), eps=EPSILON)

    def images(self, x):
        """[N, 784] rows as [N, 1, 28, 28] in the model's memory format."""
        h, w, c = cnn_common.IMAGE
        return x.view(-1, c, h, w).to(self.dtype).contiguous(
            memory_format=self.format)

    def step(self, x, y):
        logits = self.forward(self.images(x))
        loss = self.loss_fn(logits, y)
        for p in self.params:
            p.grad = None
        loss.backward()
        if self.keras:
            self.step_count += 1
            with torch.no_grad():
                keras_adam(self.params, [p.grad for p in self.params], self.m,
                           self.v, keras_alpha(args.lr, self.step_count),
                           BETA1, BETA2, EPSILON)
        else:
            self.optimizer.step()
        correct = (logits.detach().argmax(1) == y).sum()
        return loss.detach(), correct

    def evaluate(self, x, y):
        self.forward.eval()
        loss, correct = 0.0, 0
        with torch.no_grad():
            for begin in range(0, len(y), EVAL_CHUNK):
                xs, ys = x[begin:begin + EVAL_CHUNK], y[begin:begin + EVAL_CHUNK]
                logits = self.forward(self.images(xs))
                loss += torch.nn.functional.cross_entropy(
                    logits, ys, reduction="sum").item()
                correct += (logits.argmax(1) == ys).sum().item()
        self.forward.train()
        return loss / len(y), correct / len(y)


def main():
    torch.set_num_threads(args.intra_op_threads or args.threads)
    # Like nnc's code: denormals flushed to zero (on the calling thread;
    # torch has no API for its OpenMP workers).
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)

    x_train, y_train, x_test, y_test = common.load_mnist(common.data_dir(args.data_dir))
    if args.load:
        init, source = common.read_safetensors(args.load), args.load
    else:
        init, source = cnn_common.glorot_init(args.seed), "weights"
    cnn_common.check_weights(init, source)

    x_train, y_train = torch.from_numpy(x_train), torch.from_numpy(y_train)
    x_test, y_test = torch.from_numpy(x_test), torch.from_numpy(y_test)

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
    trainer = Trainer(init)
    compile_seconds = time.perf_counter() - start if args.mode == "script" else 0.0

    metrics = common.Metrics(args.name, steps=total, compile_seconds=compile_seconds)
    trace = [] if args.loss_trace else None
    step = 0
    for e in range(epochs_run):
        steps = min(steps_per_epoch, total - step)
        batches = order[e]
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
        test_loss, test_accuracy = trainer.evaluate(x_test, y_test)
        metrics.add_epoch(
            torch.stack(losses).double().sum().item() / steps,
            torch.stack(hits).sum().item() / (steps * args.batch),
            test_loss,
            test_accuracy,
            seconds,
            steps,
        )
        ep = metrics.epochs[-1]
        print(
            f"epoch {e + 1}: {steps} steps, train loss {ep['train_loss']:.4f} "
            f"accuracy {ep['train_accuracy']:.4f}, test loss {test_loss:.4f} "
            f"accuracy {test_accuracy:.4f}, {seconds:.3f} s",
            flush=True,
        )
    if not metrics.epochs:
        metrics.test_loss, metrics.test_accuracy = trainer.evaluate(x_test, y_test)

    if args.metrics:
        metrics.write(args.metrics)
    if trace is not None:
        with open(args.loss_trace, "w") as f:
            f.writelines(f"{loss:.9g}\n" for loss in trace)
    per_step = metrics.train_seconds / total if total else 0.0
    layout = "channels_last" if args.channels_last else "NCHW"
    if args.float64:
        layout += ", float64"
    print(
        f"pytorch_cnn[{args.mode}, {layout}]: {args.name} batch {args.batch} "
        f"threads {args.threads}: {total} steps, "
        f"{per_step * steps_per_epoch:.3f} s/epoch, test accuracy "
        f"{100 * metrics.test_accuracy:.2f}%, compile {compile_seconds:.3f} s, "
        f"torch {torch.__version__}"
    )


if __name__ == "__main__":
    main()
