#!/usr/bin/env python3
"""Writes MNIST test images as PNG or PGM files for the --predict tests.

    mnist_image.py IDX INDEX OUT.png|OUT.pgm [--rgb] [--size WxH] [--invert]

Image INDEX of the IDX file IDX (t10k-images-idx3-ubyte), as 8-bit gray
(or RGB with --rgb, every channel the gray value). --size pads or crops to
another size, for the tests of images the model does not take. The PNG is
written with the standard library (zlib, one IDAT chunk, filter 0), so
that the tests need nothing but Python.
"""
import argparse
import struct
import zlib


def read_image(path, index):
    with open(path, "rb") as f:
        data = f.read()
    count, rows, cols = struct.unpack(">III", data[4:16])
    assert index < count, f"{path} has {count} images"
    start = 16 + index * rows * cols
    pixels = data[start:start + rows * cols]
    return rows, cols, [list(pixels[r * cols:(r + 1) * cols]) for r in range(rows)]


def png_chunk(kind, body):
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def write_png(path, rows, rgb):
    height, width = len(rows), len(rows[0])
    color_type = 2 if rgb else 0
    raw = b"".join(
        b"\x00" + bytes(v for p in row for v in ((p, p, p) if rgb else (p,)))
        for row in rows)
    png = b"\x89PNG\r\n\x1a\n"
    png += png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0))
    png += png_chunk(b"IDAT", zlib.compress(raw))
    png += png_chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def write_pgm(path, rows):
    with open(path, "wb") as f:
        f.write(b"P5\n# MNIST test image\n%d %d\n255\n" % (len(rows[0]), len(rows)))
        f.write(bytes(p for row in rows for p in row))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("idx")
    parser.add_argument("index", type=int)
    parser.add_argument("out")
    parser.add_argument("--rgb", action="store_true")
    parser.add_argument("--size")
    args = parser.parse_args()
    _, _, rows = read_image(args.idx, args.index)
    if args.size:
        width, height = map(int, args.size.split("x"))
        rows = [(row + [0] * width)[:width] for row in rows]
        rows = (rows + [[0] * width] * height)[:height]
    if args.out.endswith(".png"):
        write_png(args.out, rows, args.rgb)
    else:
        write_pgm(args.out, rows)


if __name__ == "__main__":
    main()
