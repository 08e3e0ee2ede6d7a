"""What the benchmark's Python tools share: the workloads, MNIST loading,
nnc's batch order, safetensors weights, FLOP counts and the metrics JSON.

Needs numpy only (no torch), so the harness can use it too.
"""

import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import cnn_common

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Workload:
    key: str  # as given to --workload
    name: str  # the model's name, as in the metrics JSON
    model_file: str  # relative to the repository
    hidden: tuple
    batch: int
    epochs: int
    classes: int = 10
    inputs: int = 784
    kind: str = "mlp"  # or "cnn": bench/cnn_common.py's convnet
    # The model without dropout, whose steps every system computes alike
    # (compare_trajectories.py); None when the model has no dropout.
    no_dropout_model: str = None
    dropout: float = 0.0  # the model's dropout rate (PyTorch's convnet takes it)

    @property
    def widths(self):
        return (self.inputs,) + tuple(self.hidden) + (self.classes,)

    def describe(self):
        if self.kind == "cnn":
            return cnn_common.describe(self.batch)
        return "-".join(str(w) for w in self.widths) + f" batch {self.batch}"

    def flops_per_step(self):
        if self.kind == "cnn":
            return cnn_common.flops_per_step(self.batch)
        return flops_per_step(self.widths, self.batch)

    def flops_per_epoch(self, items=None):
        return self.flops_per_step() * ((items or TRAIN_ITEMS) // self.batch)

    def check_weights(self, tensors, path="weights"):
        """Raises SystemExit unless the weights fit the model."""
        if self.kind == "cnn":
            cnn_common.check_weights(tensors, path)
        else:
            layer_weights(tensors, self.widths, path)

    def glorot_init(self, seed):
        if self.kind == "cnn":
            return cnn_common.glorot_init(seed)
        return glorot_init(self.widths, seed)


WORKLOADS = {
    "seed": Workload("seed", "mnist_mlp", "examples/mnist_mlp.nn", (128,), 32, 5),
    "wide": Workload(
        "wide", "mnist_mlp_wide", "examples/mnist_mlp_wide.nn", (512, 512), 128, 5
    ),
    # The model trains 12 epochs; the benchmark times 2 (--epochs changes it).
    "cnn": Workload(
        "cnn", "mnist_cnn", "examples/mnist_cnn.nn", (), 128, 2, kind="cnn",
        no_dropout_model="bench/models/mnist_cnn_nodropout.nn", dropout=0.5,
    ),
}

TRAIN_ITEMS = 60000


def parameter_count(widths):
    return sum(i * o + o for i, o in zip(widths[:-1], widths[1:]))


def flops_per_step(widths, batch):
    """Floating-point operations of one training step, counting the matrix
    products (2 per multiply-add) and Adam (~12 per parameter): forward
    X W for every layer; backward X^T dY for every layer and dY W^T for all
    but the first (no gradient for the input). Bias, ReLU and softmax are
    O(batch * width) and left out."""
    pairs = list(zip(widths[:-1], widths[1:]))
    forward = sum(2 * batch * i * o for i, o in pairs)
    weight_grads = forward
    input_grads = sum(2 * batch * i * o for i, o in pairs[1:])
    adam = 12 * parameter_count(widths)
    return forward + weight_grads + input_grads + adam


def flops_per_epoch(widths, batch, items=TRAIN_ITEMS):
    return flops_per_step(widths, batch) * (items // batch)


def data_dir(explicit=None):
    """The directory holding the MNIST IDX files: --data-dir, else
    $NNC_DATA_DIR/mnist, else data/mnist in the repository."""
    if explicit:
        return Path(explicit)
    if os.environ.get("NNC_DATA_DIR"):
        return Path(os.environ["NNC_DATA_DIR"]) / "mnist"
    return REPO / "data" / "mnist"


def _read_idx(path, rank):
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise SystemExit(f"{path}: cannot read: {e.strerror}")
    header = 4 + 4 * rank
    if len(raw) < header:
        raise SystemExit(f"{path}: truncated IDX header")
    magic = struct.unpack(">I", raw[:4])[0]
    if magic != 0x0800 | rank:
        raise SystemExit(
            f"{path}: not an uncompressed IDX file of unsigned bytes and "
            f"rank {rank} (magic 0x{magic:08x})"
        )
    dims = struct.unpack(">" + "I" * rank, raw[4:header])
    count = int(np.prod(dims))
    if len(raw) != header + count:
        raise SystemExit(
            f"{path}: header promises {count} bytes of data but the file "
            f"holds {len(raw) - header}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def load_mnist(directory):
    """(train images, train labels, test images, test labels): images as
    float32 [N, 784] scaled by 1/255, labels as int64."""
    out = []
    for prefix in ("train", "t10k"):
        images = _read_idx(Path(directory) / f"{prefix}-images-idx3-ubyte", 3)
        labels = _read_idx(Path(directory) / f"{prefix}-labels-idx1-ubyte", 1)
        if len(images) != len(labels):
            raise SystemExit(f"{directory}: {prefix} images and labels differ in count")
        x = images.reshape(len(images), -1).astype(np.float32) / np.float32(255)
        out += [x, labels.astype(np.int64)]
    return tuple(out)


_MASK = (1 << 64) - 1


def epoch_permutation(seed, epoch, count, shuffle=True):
    """nnc's order of the training items in `epoch` (from 0): SplitMix64
    seeded with seed ^ (0xD1B54A32D192ED03 * (epoch + 1)) drives a
    Fisher-Yates shuffle from the back."""
    if not shuffle:
        return np.arange(count, dtype=np.int64)
    state = (seed ^ (0xD1B54A32D192ED03 * (epoch + 1))) & _MASK
    # The k-th draw (from 1) mixes state + k * gamma; numpy's uint64 wraps
    # like the C++ does, so all draws are computed at once.
    k = np.arange(1, count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(state) + k * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    i = np.arange(count - 1, 0, -1, dtype=np.uint64)  # draw k serves i = count - k
    j = (z % (i + np.uint64(1))).tolist()
    perm = list(range(count))
    for pos, target in zip(range(count - 1, 0, -1), j):
        perm[pos], perm[target] = perm[target], perm[pos]
    return np.array(perm, dtype=np.int64)


def read_safetensors(path):
    """F32 tensors by name, as numpy arrays."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise SystemExit(f"{path}: cannot read: {e.strerror}")
    if len(raw) < 8:
        raise SystemExit(f"{path}: too short for a safetensors header")
    (size,) = struct.unpack("<Q", raw[:8])
    if size > len(raw) - 8:
        raise SystemExit(f"{path}: header length {size} runs past the end of the file")
    try:
        header = json.loads(raw[8 : 8 + size])
    except ValueError as e:
        raise SystemExit(f"{path}: header is not JSON: {e}")
    data = raw[8 + size :]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__" or entry.get("dtype") != "F32":
            continue
        begin, end = entry["data_offsets"]
        shape = tuple(entry["shape"])
        if not 0 <= begin <= end <= len(data) or end - begin != 4 * int(np.prod(shape)):
            raise SystemExit(f"{path}: entry '{name}' has data_offsets that do not fit")
        tensors[name] = (
            np.frombuffer(data, dtype="<f4", count=(end - begin) // 4, offset=begin)
            .reshape(shape)
            .copy()
        )
    return tensors


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name], dtype="<f4")
        blob = array.tobytes()
        header[name] = {
            "dtype": "F32",
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(blob)],
        }
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def glorot_init(widths, seed):
    """glorot_uniform weights and zero biases under nnc's names; used when
    nnc cannot write the initial weights itself."""
    rng = np.random.default_rng(seed)
    tensors = {}
    for layer, (i, o) in enumerate(zip(widths[:-1], widths[1:]), start=1):
        limit = np.sqrt(6.0 / (i + o))
        tensors[f"dense_{layer}.weight"] = rng.uniform(-limit, limit, (i, o)).astype(
            np.float32
        )
        tensors[f"dense_{layer}.bias"] = np.zeros(o, dtype=np.float32)
    return tensors


def layer_weights(tensors, widths, path="weights"):
    """[(W [in, out], b [out]), ...] from nnc's names, checking the shapes."""
    layers = []
    for layer, (i, o) in enumerate(zip(widths[:-1], widths[1:]), start=1):
        w = tensors.get(f"dense_{layer}.weight")
        b = tensors.get(f"dense_{layer}.bias")
        if w is None or b is None:
            raise SystemExit(f"{path}: no F32 tensors dense_{layer}.weight/.bias")
        if w.shape != (i, o) or b.shape != (o,):
            raise SystemExit(
                f"{path}: dense_{layer} has shapes {w.shape} and {b.shape}, "
                f"not ({i}, {o}) and ({o},) for this model"
            )
        layers.append((w, b))
    return layers


@dataclass
class Metrics:
    """The metrics JSON of `nnc --metrics`."""

    model: str
    steps: int = 0
    compile_seconds: float = 0.0
    train_seconds: float = 0.0
    test_loss: float = 0.0
    test_accuracy: float = 0.0
    epochs: list = field(default_factory=list)

    def add_epoch(
        self, train_loss, train_accuracy, test_loss, test_accuracy, seconds, steps=None
    ):
        self.epochs.append(
            {
                "epoch": len(self.epochs) + 1,
                **({} if steps is None else {"steps": steps}),
                "train_loss": train_loss,
                "train_accuracy": train_accuracy,
                "test_loss": test_loss,
                "test_accuracy": test_accuracy,
                "seconds": seconds,
            }
        )
        self.train_seconds += seconds
        self.test_loss, self.test_accuracy = test_loss, test_accuracy

    def write(self, path):
        with open(path, "w") as f:
            json.dump(self.__dict__, f, indent=2)
            f.write("\n")
