#!/usr/bin/env python3
"""Prints the __metadata__ of a safetensors checkpoint, one `key: value` a
line in key order, and the names of its tensors.

    checkpoint_metadata.py FILE
"""
import json
import struct
import sys


def main():
    with open(sys.argv[1], "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    for key, value in sorted(header.pop("__metadata__", {}).items()):
        print(f"{key}: {value}")
    print("tensors: " + " ".join(sorted(header)))


if __name__ == "__main__":
    main()
