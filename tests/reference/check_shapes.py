"""Random convolution and pooling configurations: the output shape netc
computes must equal the shape PyTorch produces for the same layer.

All cases go into one generated model (one input and one output per case),
so a single `netc summary --json` answers them all.

    python3 tests/reference/check_shapes.py --netc build/bin/netc [--cases N]
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F


def conv_case(rng):
    groups = rng.choice([1, 1, 1, 2, 3])
    c = groups * rng.randint(1, 3)
    out = groups * rng.randint(1, 3)
    kh, kw = rng.randint(1, 7), rng.randint(1, 7)
    sh, sw = rng.randint(1, 4), rng.randint(1, 4)
    dh, dw = rng.randint(1, 3), rng.randint(1, 3)
    pad = [rng.randint(0, 3) for _ in range(4)]  # top, bottom, left, right
    h, w = rng.randint(1, 30), rng.randint(1, 30)
    if h + pad[0] + pad[1] < dh * (kh - 1) + 1 or w + pad[2] + pad[3] < dw * (kw - 1) + 1:
        return None
    text = (f"conv({out}, k=({kh}, {kw}), stride=({sh}, {sw}), "
            f"pad=({pad[0]}, {pad[1]}, {pad[2]}, {pad[3]}), "
            f"dilation=({dh}, {dw}), groups={groups})")

    def torch_shape():
        x = torch.zeros(1, c, h, w)
        x = F.pad(x, (pad[2], pad[3], pad[0], pad[1]))
        y = F.conv2d(x, torch.zeros(out, c // groups, kh, kw), stride=(sh, sw),
                     dilation=(dh, dw), groups=groups)
        return list(y.shape[1:])
    return (c, h, w), text, torch_shape


def pool_case(rng):
    kind = rng.choice(["maxpool", "avgpool"])
    k = rng.randint(1, 5)
    stride = rng.randint(1, 4)
    pad = rng.randint(0, k // 2)
    ceil = rng.choice([False, True])
    c, h, w = rng.randint(1, 4), rng.randint(1, 30), rng.randint(1, 30)
    if min(h, w) + 2 * pad < k:
        return None
    text = (f"{kind}(k={k}, stride={stride}, pad={pad}, "
            f"ceil={'true' if ceil else 'false'})")

    def torch_shape():
        x = torch.zeros(1, c, h, w)
        op = F.max_pool2d if kind == "maxpool" else F.avg_pool2d
        return list(op(x, k, stride, pad, ceil_mode=ceil).shape[1:])
    return (c, h, w), text, torch_shape


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--netc", required=True)
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    cases = []
    while len(cases) < args.cases:
        case = (conv_case if len(cases) % 2 == 0 else pool_case)(rng)
        if case:
            cases.append(case)

    lines = ["model shapes {"]
    for i, ((c, h, w), text, _) in enumerate(cases):
        lines.append(f"  input x{i}: f32[{c}, {h}, {w}]")
        lines.append(f"  output y{i} = x{i} -> {text}")
    lines.append("}")
    with tempfile.NamedTemporaryFile("w", suffix=".nn", delete=False) as f:
        f.write("\n".join(lines) + "\n")
        path = f.name
    try:
        result = subprocess.run([args.netc, "summary", path, "--json"],
                                capture_output=True, text=True)
    finally:
        os.unlink(path)
    if result.returncode != 0:
        print(result.stderr)
        print("0 passed, 1 failed")
        return 1
    outputs = {o["name"]: o["shape"] for o in json.loads(result.stdout)["outputs"]}

    passed = failed = 0
    for i, ((c, h, w), text, torch_shape) in enumerate(cases):
        expected = torch_shape()
        if outputs[f"y{i}"] == expected:
            passed += 1
        else:
            failed += 1
            print(f"FAIL: [{c}, {h}, {w}] -> {text}: netc {outputs[f'y{i}']}, "
                  f"PyTorch {expected}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
