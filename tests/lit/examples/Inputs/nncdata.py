"""What the tabular tests share: nnc's held-out split, its checkpoints.

Written from docs/data.md, independently of nnc's code: the permutation
that chooses the held-out examples, and the safetensors layout.
"""
import json
import struct

import numpy as np

M64 = (1 << 64) - 1


def epoch_order(n, seed, epoch):
    """docs/data.md's epoch order (SplitMix64, Fisher-Yates)."""
    s = (seed ^ (0xD1B54A32D192ED03 * (epoch + 1))) & M64
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        s = (s + 0x9E3779B97F4A7C15) & M64
        z = s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        z ^= z >> 31
        j = z % (i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return perm


def validation_split(n, fraction, seed=0):
    """The training and held-out rows of validation_split, in file order."""
    keep = int(np.floor(n * (1 - fraction)))
    perm = epoch_order(n, seed, M64)
    return sorted(perm[:keep]), sorted(perm[keep:])


def load_checkpoint(path):
    """The tensors of a safetensors file, by name."""
    data = open(path, "rb").read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    base = 8 + length
    dtypes = {"F32": np.float32, "F64": np.float64, "I32": np.int32,
              "U8": np.uint8}
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(
            data[base + begin:base + end],
            dtype=dtypes[entry["dtype"]]).reshape(entry["shape"])
    return tensors
