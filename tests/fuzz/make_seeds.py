"""Writes valid seed files for the readers' fuzz targets (reader_fuzzer.cpp).

    make_seeds.py DIR

DIR/safetensors, DIR/npy, DIR/image, DIR/idx and DIR/cifar each get a few
small valid inputs, as the programs read them.
"""
import io
import json
import os
import struct
import sys

import numpy as np
from PIL import Image

out = sys.argv[1]


def put(reader, name, data):
    os.makedirs(os.path.join(out, reader), exist_ok=True)
    with open(os.path.join(out, reader, name), "wb") as f:
        f.write(data)


def safetensors(tensors, metadata=None):
    header, blob = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, array) in tensors.items():
        raw = array.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + blob


rng = np.random.default_rng(0)
put("safetensors", "weights", safetensors(
    {"c1.weight": ("F32", rng.standard_normal((2, 1, 3, 3), np.float32)),
     "c1.bias": ("F32", np.zeros(2, np.float32))}))
put("safetensors", "torch", safetensors(
    {"bn.num_batches_tracked": ("I64", np.array(7, np.int64)),
     "w16": ("F16", np.ones(3, np.float16)),
     "w64": ("F64", np.ones(2, np.float64))}, {"format": "pt"}))
put("safetensors", "checkpoint", safetensors(
    {"w": ("F32", np.ones(4, np.float32))},
    {"format": "pt", "netc.model": "m", "netc.epoch": "1", "netc.step": "8"}))

for name, array in (("vector", np.arange(6, dtype=np.float32)),
                    ("images", rng.random((2, 1, 4, 4), np.float32)),
                    ("scalar", np.array(1.5, np.float32))):
    buffer = io.BytesIO()
    np.save(buffer, array)
    put("npy", name, buffer.getvalue())

picture = Image.fromarray((rng.random((6, 5, 3)) * 255).astype(np.uint8))
for fmt in ("PNG", "JPEG", "PPM", "BMP"):
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt)
    put("image", fmt.lower(), buffer.getvalue())
buffer = io.BytesIO()
picture.convert("L").save(buffer, format="PPM")  # a PGM
put("image", "pgm", buffer.getvalue())

for count in (1, 3):
    images = struct.pack(">IIII", 0x803, count, 28, 28) + bytes(784 * count)
    labels = struct.pack(">II", 0x801, count) + bytes(range(count))
    # reader_fuzzer reads the image file's length from the first 4 bytes.
    put("idx", "mnist%d" % count, struct.pack("<I", len(images)) + images + labels)

put("cifar", "batch", bytes([3]) + bytes(3072) + bytes([7]) + bytes(range(256)) * 12)
