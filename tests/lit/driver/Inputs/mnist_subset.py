#!/usr/bin/env python3
"""Writes the first N training and M test examples of MNIST as a data-set
directory of plain IDX files, for tests that need real images but little
memory or time.

    mnist_subset.py MNIST_DIR OUT_DIR [N [M]]
"""
import os
import struct
import sys


def subset(src, dst, count):
    with open(src, "rb") as f:
        head = f.read(4)
        rank = head[3]
        dims = list(struct.unpack(">" + "I" * rank, f.read(4 * rank)))
        per = 1
        for d in dims[1:]:
            per *= d
        data = f.read(count * per)
    dims[0] = count
    with open(dst, "wb") as f:
        f.write(head + struct.pack(">" + "I" * rank, *dims) + data)


def main():
    src, out = sys.argv[1], sys.argv[2]
    train = int(sys.argv[3]) if len(sys.argv) > 3 else 1024
    test = int(sys.argv[4]) if len(sys.argv) > 4 else 256
    os.makedirs(out, exist_ok=True)
    for name, count in (("train-images-idx3-ubyte", train),
                        ("train-labels-idx1-ubyte", train),
                        ("t10k-images-idx3-ubyte", test),
                        ("t10k-labels-idx1-ubyte", test)):
        subset(os.path.join(src, name), os.path.join(out, name), count)


if __name__ == "__main__":
    main()
