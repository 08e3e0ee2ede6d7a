"""The systems the benchmark runs, as command lines.

Every system trains the same workload from the same initial weights
(safetensors, --load) in nnc's batch order and writes nnc's metrics JSON;
bench.py times them and compare_trajectories.py checks their per-step losses.
"""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from mlp_common import REPO

TORCH_PYTHON = "/usr/bin/python3"  # Debian's python3-torch lives here


@dataclass
class Paths:
    nnc: Path
    openblas: Path
    data_root: Path  # holds mnist/
    probe: Path  # cross_core_probe
    nnc_baseline: Path = None  # another nnc build, run beside this one


@dataclass
class Run:
    argv: list
    env: dict


class System:
    key = ""
    label = ""
    kinds = ("mlp", "cnn")  # the workloads (Workload.kind) it trains

    def applies(self, workload):
        return workload.kind in self.kinds

    def available(self, paths, workload):
        """None when the system can run the workload, else why it cannot."""
        return None

    def runs_at(self, threads):
        """Whether a run at `threads` threads measures anything of its own."""
        return True

    def command(self, paths, workload, threads, epochs, seed, init, metrics,
                extra=()):
        raise NotImplementedError


class Nnc(System):
    """nnc, or with `baseline` the build given by --nnc-baseline: the same
    workload before and after a change, interleaved in one run; with
    `interp`, nnc's reference interpreter (--interp) instead of its JIT,
    for compare_trajectories.py."""

    def __init__(self, baseline=False, interp=False):
        self.baseline = baseline
        self.interp = interp
        self.key = ("nnc-baseline" if baseline else
                    "nnc-interp" if interp else "nnc")
        self.label = ("nnc (baseline)" if baseline else
                      "nnc --interp" if interp else "nnc")

    def binary(self, paths):
        return paths.nnc_baseline if self.baseline else paths.nnc

    def available(self, paths, workload):
        if self.binary(paths) is None:
            return "no --nnc-baseline given"
        if not self.binary(paths).is_file():
            return f"{self.binary(paths)} not found (build nnc: ninja -C build nnc)"
        if not (REPO / workload.model_file).is_file():
            return f"{workload.model_file} not found"
        return None

    def command(self, paths, workload, threads, epochs, seed, init, metrics,
                extra=()):
        argv = [str(self.binary(paths)), str(REPO / workload.model_file),
                "--interp" if self.interp else "--jit", "--train", "--epochs", str(epochs), "--batch",
                str(workload.batch), "--threads", str(threads), "--seed",
                str(seed), "--metrics", str(metrics)]
        if init:
            argv += ["--load", str(init)]
        return Run(argv + list(extra), {})

    def init_command(self, paths, workload, seed, out):
        """nnc writes its initial weights: no step, then --save."""
        return Run([str(paths.nnc), str(REPO / workload.model_file), "--jit",
                    "--train", "--steps", "0", "--batch", str(workload.batch),
                    "--seed", str(seed), "--save", str(out)], {})


class NncRanks(Nnc):
    """nnc with the threads as ranks of one process (--ranks T --threads 1):
    each rank a share of every batch, its own arena; the convnet's fastest
    form on a few cores (docs/distributed.md). With one thread it is nnc."""

    kinds = ("cnn",)

    def __init__(self):
        super().__init__()
        self.key, self.label = "nnc-ranks", "nnc --ranks"

    def runs_at(self, threads):
        return threads > 1

    def command(self, paths, workload, threads, epochs, seed, init, metrics,
                extra=()):
        run = super().command(paths, workload, 1, epochs, seed, init, metrics,
                              extra)
        return Run(run.argv + ["--ranks", str(threads)], run.env)


class OpenBlas(System):
    key, label = "openblas", "OpenBLAS (C++)"
    kinds = ("mlp",)

    def available(self, paths, workload):
        if not self.applies(workload):
            return "the OpenBLAS reference trains MLPs only"
        if not paths.openblas.is_file():
            return (f"{paths.openblas} not found (needs libopenblas-dev: "
                    "scripts/bootstrap.sh --bench, then cmake --build build "
                    "--target openblas_mlp)")
        return None

    def command(self, paths, workload, threads, epochs, seed, init, metrics,
                extra=()):
        argv = [str(paths.openblas), "--data-dir",
                str(paths.data_root / "mnist"), "--hidden",
                ",".join(map(str, workload.hidden)), "--name", workload.name,
                "--batch", str(workload.batch), "--epochs", str(epochs),
                "--threads", str(threads), "--seed", str(seed), "--metrics",
                str(metrics)]
        if init:
            argv += ["--load", str(init)]
        return Run(argv + list(extra), {})


class Torch(System):
    """bench/pytorch_mlp.py for the MLPs, bench/pytorch_cnn.py for the
    convnet (sequential: NCHW; channels-last: the convnet only)."""

    def __init__(self, mode, kinds=("mlp", "cnn"), name=None, args=()):
        self.mode = mode
        self.kinds = kinds
        self.args = list(args)
        self.key = f"torch-{name or mode}"
        self.label = f"PyTorch {name or mode}"

    def available(self, paths, workload):
        if not self.applies(workload):
            return f"{self.label} is for {', '.join(self.kinds)} workloads only"
        if not Path(TORCH_PYTHON).is_file():
            return f"{TORCH_PYTHON} not found"
        return None

    def command(self, paths, workload, threads, epochs, seed, init, metrics,
                extra=()):
        if workload.kind == "cnn":
            script = "pytorch_cnn.py"
            shape = ["--dropout", str(workload.dropout)]
        else:
            script = "pytorch_mlp.py"
            shape = ["--hidden", ",".join(map(str, workload.hidden))]
        argv = [TORCH_PYTHON, str(REPO / "bench" / script), "--mode",
                self.mode, "--data-dir", str(paths.data_root / "mnist")] + \
            shape + ["--name", workload.name, "--batch", str(workload.batch),
                     "--epochs", str(epochs), "--threads", str(threads),
                     "--seed", str(seed), "--metrics", str(metrics)] + self.args
        if init:
            argv += ["--load", str(init)]
        return Run(argv + list(extra), {})


SYSTEMS = {s.key: s for s in (Nnc(), NncRanks(), OpenBlas(), Torch("script"),
                              Torch("sequential"),
                              Torch("channels-last", kinds=("cnn",)),
                              # compare_trajectories.py's reference for
                              # the convnet's rounding; not a benchmark
                              Torch("sequential", kinds=("cnn",),
                                    name="float64", args=["--float64"]),
                              Nnc(baseline=True), Nnc(interp=True))}
# What runs when --systems is not given, of those that train the workload
# (the baseline runs when it is set).
DEFAULT_SYSTEMS = ["nnc", "nnc-ranks", "openblas", "torch-script", "torch-sequential",
                   "torch-channels-last"]
# The PyTorch systems, of which the fastest is nnc's PyTorch ratio.
TORCH_SYSTEMS = ("torch-script", "torch-sequential", "torch-channels-last")


def default_paths(build_dir, nnc=None, openblas=None, data_root=None,
                  nnc_baseline=None):
    build = Path(build_dir)
    root = data_root or os.environ.get("NNC_DATA_DIR") or REPO / "data"
    return Paths(
        nnc=Path(nnc) if nnc else build / "bin" / "nnc",
        openblas=Path(openblas) if openblas else build / "bin" / "openblas_mlp",
        data_root=Path(root),
        probe=build / "bin" / "cross_core_probe",
        nnc_baseline=Path(nnc_baseline) if nnc_baseline else None,
    )


def build_target(build_dir, target):
    """Builds one of bench/'s targets (openblas_mlp, cross_core_probe) in an
    existing build directory; returns an error message or None."""
    if not (Path(build_dir) / "build.ninja").is_file() and not (
            Path(build_dir) / "Makefile").is_file():
        return f"{build_dir} is not a configured build directory"
    cmake = shutil.which("cmake")
    if not cmake:
        return "cmake not found"
    import subprocess
    done = subprocess.run([cmake, "--build", str(build_dir), "--target",
                           target, "-j", "2"], capture_output=True,
                          text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-10:])
        return f"building {target} failed:\n{tail}"
    return None
