#!/usr/bin/env python3
"""Reads and compares prediction files for the tests (standard library only).

    predictions.py summary P.csv
        "N examples, accuracy A%": the share of rows whose class is their
        label, as --eval prints it.
    predictions.py compare A B [RTOL]
        "N examples, K classes differ, max relative difference D": the
        output columns (every column named like logits_3) of two CSV files,
        or of a CSV file and a .npy file of the outputs; the class of a
        .npy row is its argmax. A difference is relative to the largest
        magnitude in its row (a logit near zero is the sum of terms of the
        row's size, and differs by their rounding, not its own); with RTOL,
        exits 1 when one exceeds it.
"""
import ast
import csv
import struct
import sys
from array import array


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    outputs = [i for i, name in enumerate(header)
               if "_" in name and name.rsplit("_", 1)[1].isdigit()]
    values = [[float(r[i]) for i in outputs] for r in rows]
    classes = ([int(r[header.index("class")]) for r in rows]
               if "class" in header else [argmax(v) for v in values])
    labels = ([int(r[header.index("label")]) for r in rows]
              if "label" in header else None)
    return values, classes, labels


def read_npy(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY", f"{path}: not a .npy file"
    length = struct.unpack("<H", data[8:10])[0]
    header = ast.literal_eval(data[10:10 + length].decode("latin1"))
    assert header["descr"] == "<f4" and not header["fortran_order"], header
    shape = header["shape"]
    flat = array("f")
    flat.frombytes(data[10 + length:])
    columns = 1
    for d in shape[1:]:
        columns *= d
    assert len(flat) == shape[0] * columns, f"{path}: {len(flat)} values for {shape}"
    values = [list(flat[i * columns:(i + 1) * columns]) for i in range(shape[0])]
    return values, [argmax(v) for v in values], None


def read(path):
    return read_npy(path) if path.endswith(".npy") else read_csv(path)


def argmax(row):
    return max(range(len(row)), key=lambda j: (row[j], -j))


def main():
    command, paths = sys.argv[1], sys.argv[2:]
    if command == "summary":
        values, classes, labels = read(paths[0])
        right = sum(c == l for c, l in zip(classes, labels))
        print(f"{len(values)} examples, accuracy {100 * right / len(values):.2f}%")
    elif command == "compare":
        (a, ca, _), (b, cb, _) = read(paths[0]), read(paths[1])
        assert len(a) == len(b), f"{len(a)} rows against {len(b)}"
        worst = 0.0
        for ra, rb in zip(a, b):
            assert len(ra) == len(rb), f"{len(ra)} columns against {len(rb)}"
            scale = max([abs(v) for v in ra + rb] + [1e-30])
            for x, y in zip(ra, rb):
                worst = max(worst, abs(x - y) / scale)
        differ = sum(x != y for x, y in zip(ca, cb))
        print(f"{len(a)} examples, {differ} classes differ, "
              f"max relative difference {worst:.3g}")
        if len(paths) > 2 and worst > float(paths[2]):
            sys.exit(f"error: outputs differ by {worst:.3g}, more than {paths[2]}")
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
