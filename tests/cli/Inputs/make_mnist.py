"""Writes a tiny MNIST-format dataset (IDX files) for the hostile-input tests.

    make_mnist.py DIR TRAIN_COUNT TEST_COUNT [TEST_LABEL]

Images are random bytes; training labels are 0-9; every test label is
TEST_LABEL when given (e.g. 255, beyond any model's classes), else 0-9.
"""
import os
import random
import struct
import sys

folder, train, test = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
test_label = int(sys.argv[4]) if len(sys.argv) > 4 else None
os.makedirs(folder, exist_ok=True)
rng = random.Random(0)
for prefix, count, label in (("train", train, None), ("t10k", test, test_label)):
    with open(os.path.join(folder, prefix + "-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, count, 28, 28))
        f.write(bytes(rng.randrange(256) for _ in range(count * 784)))
    with open(os.path.join(folder, prefix + "-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, count))
        f.write(bytes(label if label is not None else i % 10 for i in range(count)))
