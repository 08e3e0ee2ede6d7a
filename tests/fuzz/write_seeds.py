#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs, one folder per target.

  write_seeds.py OUT [--models N]

OUT/seeds-model-text: every model file of examples/ and tests/lit/, one
file per `# -----` chunk, and N random models of fuzz_models.py (300 by
default). OUT/seeds-graph-text: the same for graph IR (`// -----`).
OUT/seeds-checkpoint, OUT/seeds-idx, OUT/seeds-csv and OUT/seeds-npy:
small well-formed safetensors checkpoints, IDX files (plain and gzip), CSV
tables and .npy/.npz arrays. OUT/seeds-image: small PGM and PNG images.
scripts/fuzz.sh starts its
corpora from them; tests/lit/tools/fuzz-seeds.test replays them through
the targets in every ctest.
"""
import argparse
import gzip
import io
import json
import pathlib
import re
import struct
import sys
import zipfile
import zlib

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # nothing written into the source tree
import fuzz_models  # noqa: E402


def png(width, height, depth, color, raw):
    """A PNG of one IDAT chunk holding `raw` (filter bytes included)."""
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body +
                struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def write_chunks(out, suffix, separator):
    out.mkdir(parents=True, exist_ok=True)
    paths = sorted((ROOT / "examples").glob(f"*{suffix}")) + \
        sorted((ROOT / "tests" / "lit").rglob(f"*{suffix}"))
    for path in paths:
        text = path.read_text()
        chunks = re.split(rf"^{re.escape(separator)} -----.*$", text,
                          flags=re.M)
        for i, chunk in enumerate(c for c in chunks if c.strip()):
            (out / ("-".join(path.parts[-2:]) + f".{i}")).write_text(chunk)


def safetensors(tensors, metadata=None):
    header, data = {}, b""
    for name, (dtype, shape, payload) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=pathlib.Path)
    parser.add_argument("--models", type=int, default=300,
                        help="random models among the model-text seeds")
    args = parser.parse_args()

    models = args.out / "seeds-model-text"
    write_chunks(models, ".nn", "#")
    for seed in range(1, args.models + 1):
        (models / f"fuzz-{seed}.nn").write_text(fuzz_models.generate(seed))
    write_chunks(args.out / "seeds-graph-text", ".nnir", "//")

    checkpoints = args.out / "seeds-checkpoint"
    checkpoints.mkdir(parents=True, exist_ok=True)
    (checkpoints / "two.safetensors").write_bytes(safetensors({
        "w": ("F32", [2, 3], struct.pack("<6f", *range(6))),
        "b": ("F32", [3], struct.pack("<3f", 1, 2, 3))}, {"step": "7"}))
    (checkpoints / "ints.safetensors").write_bytes(safetensors({
        "t": ("I64", [], struct.pack("<q", 5)),
        "m": ("U8", [4], bytes(4))}))

    idx = args.out / "seeds-idx"
    idx.mkdir(parents=True, exist_ok=True)
    images = bytes([0, 0, 8, 3]) + struct.pack(">3I", 2, 4, 4) + \
        bytes(range(32))
    labels = bytes([0, 0, 8, 1]) + struct.pack(">I", 2) + bytes([3, 7])
    (idx / "images.idx").write_bytes(images)
    (idx / "labels.idx").write_bytes(labels)
    (idx / "images.idx.gz").write_bytes(gzip.compress(images))

    # Images: PGM binary and plain, 16-bit, and PNG gray, RGB and 16-bit.
    image = args.out / "seeds-image"
    image.mkdir(parents=True, exist_ok=True)
    pixels = bytes(range(0, 256, 16))
    (image / "gray.pgm").write_bytes(b"P5\n# 4x4\n4 4\n255\n" + pixels)
    (image / "plain.pgm").write_bytes(
        b"P2 4 4 15 " + b" ".join(b"%d" % (p // 16) for p in pixels))
    (image / "wide.pgm").write_bytes(
        b"P5 2 2 65535\n" + b"".join(struct.pack(">H", p * 257) for p in pixels[:4]))
    for name, color, depth, row in (("gray.png", 0, 8, pixels[:4]),
                                    ("rgb.png", 2, 8, pixels[:12]),
                                    ("deep.png", 0, 16, pixels[:8])):
        raw = b"".join(b"\x00" + row for _ in range(4))
        (image / name).write_bytes(png(4, 4, depth, color, raw))
    floats = bytes([0, 0, 0x0D, 2]) + struct.pack(">2I", 2, 2) + \
        struct.pack(">4f", 1.5, -2, 0.25, 8)
    (idx / "floats.idx").write_bytes(floats)

    # CSV: the first byte chooses the reader's options (FuzzCsv.cpp).
    csv = args.out / "seeds-csv"
    csv.mkdir(parents=True, exist_ok=True)
    (csv / "header.csv").write_bytes(b"\x00a,b,\"c\"\n1,2.5,-3e2\n4,5,6\n")
    (csv / "sklearn.csv").write_bytes(
        b"\x08" + b"3,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n"
        b"4.9,3.0,1.4,0.2,1\n6.3,3.3,6.0,2.5,2\n")
    (csv / "spaces.csv").write_bytes(b"\x04" + b"59 2 32.1 101\n48 1 21.6 87\n")
    (csv / "quoted.csv.gz").write_bytes(
        b"\x01" + gzip.compress(b"\"x, y\";z\r\n\"1\";2\r\n"))

    npy = args.out / "seeds-npy"
    npy.mkdir(parents=True, exist_ok=True)

    def npy_file(descr, shape, payload, fortran=False, major=1):
        header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
            descr, "True" if fortran else "False",
            "(%s)" % "".join("%d, " % d for d in shape).rstrip(" ")
            if len(shape) != 1 else "(%d,)" % shape[0])
        prefix = 10 if major == 1 else 12
        header += " " * ((64 - (prefix + len(header) + 1) % 64) % 64) + "\n"
        length = struct.pack("<H" if major == 1 else "<I", len(header))
        return b"\x93NUMPY" + bytes([major, 0]) + length + \
            header.encode() + payload

    x = npy_file("<f4", [2, 3], struct.pack("<6f", *range(6)))
    y = npy_file("<i8", [2], struct.pack("<2q", 0, 1))
    (npy / "x.npy").write_bytes(x)
    (npy / "y.npy").write_bytes(y)
    (npy / "fortran.npy").write_bytes(
        npy_file(">f8", [2, 2], struct.pack(">4d", 1, 3, 2, 4), fortran=True,
                 major=2))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("x.npy", x)
        z.writestr("y.npy", y)
    (npy / "xy.npz").write_bytes(archive.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
