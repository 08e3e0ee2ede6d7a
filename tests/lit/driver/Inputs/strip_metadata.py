#!/usr/bin/env python3
"""Copies a safetensors checkpoint without its __metadata__, as a file of
weights alone written by another tool would be.

    strip_metadata.py IN OUT
"""
import json
import struct
import sys


def main():
    with open(sys.argv[1], "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    header.pop("__metadata__", None)
    text = json.dumps(header).encode()
    text += b" " * (-(8 + len(text)) % 8)
    with open(sys.argv[2], "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


if __name__ == "__main__":
    main()
