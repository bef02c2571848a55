"""Rewrites a safetensors file's metadata, as a hostile or careless user might.

    edit_metadata.py IN OUT KEY=VALUE… [-KEY…]

KEY=VALUE sets a metadata entry; -KEY removes it. The tensors are kept.
"""
import json
import struct
import sys

source, target, edits = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(source, "rb") as f:
    size = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(size))
    data = f.read()
meta = header.setdefault("__metadata__", {})
for edit in edits:
    if edit.startswith("-"):
        meta.pop(edit[1:], None)
    else:
        key, value = edit.split("=", 1)
        meta[key] = value
text = json.dumps(header).encode()
with open(target, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + data)
