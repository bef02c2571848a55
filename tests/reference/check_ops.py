"""Checks every inference op's output against a reference computed in
float64 by PyTorch's functional ops, over random configurations: odd sizes,
rows wider and narrower than a vector, strides, dilations, groups,
asymmetric padding, and channel counts on both sides of the thresholds
where the compiler switches schedules (packed weights from 16 channels,
input-channel blocking from 64).

Each model has one input and several outputs, one per case; a few fixed
models make sure the schedules' special paths are taken:

    python3 tests/reference/check_ops.py --netc build/bin/netc [--models N]

Passes when, for every output, max |netc - reference| / max |reference|
is at most 1e-5 (float32 sums of up to a few thousand products).
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_programs import write_safetensors  # noqa: E402
from tally import Tally  # noqa: E402

TOLERANCE = 1e-5


class Case:
    """One output: its layer text, its parameters' shapes and how PyTorch
    computes it from the input and the parameters (a dict by name)."""

    def __init__(self, title, text, params, reference):
        self.title, self.text = title, text
        self.params, self.reference = params, reference


def conv_case(r, name, c, h, w):
    while True:
        groups = r.choice([g for g in (1, 1, 2, 3, 4, c) if c % g == 0])
        out = groups * r.choice([1, 2, 3, 5, 8, 16, 32]) if groups < c else \
            c * r.choice([1, 1, 2])
        kh, kw = r.choice([(1, 1), (1, 1), (3, 3), (3, 3), (5, 5), (2, 3), (1, 7)])
        sh, sw = r.choice([(1, 1), (1, 1), (2, 2), (3, 3), (1, 2)])
        dh, dw = r.choice([(1, 1), (1, 1), (1, 1), (2, 2), (2, 1)])
        pad = [r.randint(0, 2) for _ in range(4)]  # top, bottom, left, right
        if r.random() < 0.3:
            pad = [0, 0, 0, 0]
        if (h + pad[0] + pad[1] >= dh * (kh - 1) + 1 and
                w + pad[2] + pad[3] >= dw * (kw - 1) + 1):
            break
    return make_conv(name, c, out, (kh, kw), (sh, sw), (dh, dw), pad, groups,
                     bias=r.random() < 0.7, relu=r.random() < 0.5)


def make_conv(name, c, out, k, stride, dilation, pad, groups=1, bias=True,
              relu=False):
    (kh, kw), (sh, sw), (dh, dw) = k, stride, dilation
    text = (f"{name}: conv({out}, k=({kh}, {kw}), stride=({sh}, {sw}), "
            f"pad=({pad[0]}, {pad[1]}, {pad[2]}, {pad[3]}), "
            f"dilation=({dh}, {dw}), groups={groups}, "
            f"bias={'true' if bias else 'false'})" + (" -> relu" if relu else ""))
    params = [(f"{name}.weight", [out, c // groups, kh, kw])]
    if bias:
        params.append((f"{name}.bias", [out]))

    def reference(x, p):
        x = F.pad(x, (pad[2], pad[3], pad[0], pad[1]))
        y = F.conv2d(x, p[f"{name}.weight"], p.get(f"{name}.bias"),
                     stride=(sh, sw), dilation=(dh, dw), groups=groups)
        return F.relu(y) if relu else y
    return Case(text, text, params, reference)


def make_maxpool(k, s, p, ceil):
    text = f"maxpool(k={k}, stride={s}, pad={p}, ceil={'true' if ceil else 'false'})"
    return Case(text, text, [],
                lambda x, _: F.max_pool2d(x, k, s, p, ceil_mode=ceil))


def pool_case(r, name, c, h, w):
    kind = r.choice(["maxpool", "avgpool"])
    while True:
        k = r.choice([2, 3, 5])
        s = r.choice([1, 2, 3, k])
        p = r.randint(0, k // 2)
        if min(h, w) + 2 * p >= k:
            break
    ceil = r.random() < 0.5
    count_pad = r.random() < 0.5
    if kind == "maxpool":
        return make_maxpool(k, s, p, ceil)
    text = (f"avgpool(k={k}, stride={s}, pad={p}, "
            f"ceil={'true' if ceil else 'false'}, "
            f"count_pad={'true' if count_pad else 'false'})")

    def reference(x, _):
        return F.avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=count_pad)
    return Case(text, text, [], reference)


def batchnorm_case(r, name, c, h, w):
    text = f"{name}: batchnorm(eps=1e-3)" + r.choice(["", " -> relu"])
    relu = text.endswith("relu")
    params = [(f"{name}.{k}", [c]) for k in ("weight", "bias", "running_mean",
                                            "running_var")]

    def reference(x, p):
        y = F.batch_norm(x, p[f"{name}.running_mean"], p[f"{name}.running_var"],
                         p[f"{name}.weight"], p[f"{name}.bias"], False, 0.0, 1e-3)
        return F.relu(y) if relu else y
    return Case(text, text, params, reference)


def lrn_case(r, name, c, h, w):
    size = r.choice([2, 3, 5])
    # 0.75 and 0.5 take square roots, 0.6 the general power.
    beta = r.choice([0.75, 0.5, 0.6])
    text = f"lrn(size={size}, alpha=1e-2, beta={beta}, k=2)"
    return Case(text, text, [],
                lambda x, _: F.local_response_norm(x, size, 1e-2, beta, 2.0))


def activation_case(r, name, c, h, w):
    kind = r.choice(["tanh", "sigmoid", "global_avgpool"])
    reference = {"tanh": lambda x, _: torch.tanh(x),
                 "sigmoid": lambda x, _: torch.sigmoid(x),
                 "global_avgpool": lambda x, _: x.mean((2, 3), keepdim=True)}[kind]
    return Case(kind, kind, [], reference)


def dense_case(r, name, c, h, w):
    out = r.choice([1, 7, 10, 16, 33, 100])
    softmax = r.random() < 0.5
    text = f"flatten -> {name}: dense({out})" + (" -> softmax" if softmax else "")
    params = [(f"{name}.weight", [out, c * h * w]), (f"{name}.bias", [out])]

    def reference(x, p):
        y = F.linear(x.flatten(1), p[f"{name}.weight"], p[f"{name}.bias"])
        return torch.softmax(y, 1) if softmax else y
    return Case(text, text, params, reference)


def structure_case(r, name, c, h, w):
    before, after = r.randint(0, 3), r.randint(0, 3)
    text = (f"(concat(x, x -> tanh) + (x -> {name}: conv({2 * c}, k=3, pad=1))) "
            f"-> channel_pad(before={before}, after={after})")
    params = [(f"{name}.weight", [2 * c, c, 3, 3]), (f"{name}.bias", [2 * c])]

    def reference(x, p):
        y = torch.cat([x, torch.tanh(x)], 1) + F.conv2d(
            x, p[f"{name}.weight"], p[f"{name}.bias"], padding=1)
        return F.pad(y, (0, 0, 0, 0, before, after))
    return Case("concat, add, channel_pad", text, params, reference)


OTHERS = [pool_case, pool_case, batchnorm_case, lrn_case, activation_case,
          dense_case, structure_case]


# The schedules' special paths, whatever the random draws: blocks of 32
# input channels over bands of rows (1x1, 64 channels or more), of 16 (3x3),
# a strided 1x1, a 7x7 image, 1x1 convolutions over few channels that
# vectorize along rows of 20 columns (the last vector shifted inwards), and
# 1x1 convolutions on flattened planes of 323 pixels (the last tile shifted
# inwards) to 20 and 7 channels (register tiles of 4 and 1 channels), and
# depthwise convolutions on tiles of two channels by two rows (14 rows) or
# one row (7 rows, stride 2); max pools large enough to spread over threads,
# whose windows read the -inf border one row at a time.
FIXED = [
    (64, 14, 28, [("k1", 32, (1, 1), (1, 1), [0, 0, 0, 0]),
                  ("k3", 48, (3, 3), (1, 1), [1, 1, 1, 1]),
                  ("s2", 32, (1, 1), (2, 2), [0, 0, 0, 0]),
                  ("dw", 64, (3, 3), (1, 1), [1, 1, 1, 1]),
                  ("dw2", 64, (3, 3), (2, 2), [1, 1, 1, 1])]),
    (128, 7, 7, [("k1", 64, (1, 1), (1, 1), [0, 0, 0, 0]),
                 ("k3", 32, (3, 3), (1, 1), [1, 1, 1, 1])]),
    (32, 5, 20, [("k1", 64, (1, 1), (1, 1), [0, 0, 0, 0]),
                 ("s2", 16, (1, 1), (2, 2), [0, 0, 0, 0]),
                 ("dw", 32, (3, 3), (1, 1), [0, 0, 0, 0])]),
    (24, 17, 19, [("k1", 20, (1, 1), (1, 1), [0, 0, 0, 0]),
                  ("k1b", 7, (1, 1), (1, 1), [0, 0, 0, 0])]),
    (16, 112, 90, [("mp", 3, 2, 1, False), ("mp5", 5, 2, 2, True),
                   ("mp1", 3, 1, 1, False)]),
]


def fixed_model(index):
    c, h, w, layers = FIXED[index]
    if layers[0][0].startswith("mp"):
        return c, h, w, [make_maxpool(*pool[1:]) for pool in layers]
    return c, h, w, [make_conv(name, c, out, k, s, (1, 1), pad,
                               groups=c if name.startswith("dw") else 1,
                               relu=True)
                     for name, out, k, s, pad in layers]


def random_model(r, index):
    """An input shape and the cases on it: convolutions, or the other ops."""
    convs = index % 2 == 0
    c = r.choice([1, 3, 4, 6, 16, 24, 32, 64, 96, 128] if convs else [1, 3, 5, 8, 17])
    h, w = r.randint(3, 24), r.choice([r.randint(3, 15), r.randint(16, 40)])
    families = [conv_case] * 5 if convs else r.sample(OTHERS, 5)
    return c, h, w, [f(r, f"l{i}", c, h, w) for i, f in enumerate(families)]


def check(netc, workdir, index, seed):
    if index < len(FIXED):
        c, h, w, cases = fixed_model(index)
    else:
        c, h, w, cases = random_model(random.Random(seed), index)
    lines = [f"model m{index} {{", f"  input x: f32[{c}, {h}, {w}]"]
    for i, case in enumerate(cases):
        expression = case.text if case.text.startswith("(") else f"x -> {case.text}"
        lines.append(f"  output o{i} = {expression}")
    source = "\n".join(lines) + "\n}\n"
    model = os.path.join(workdir, f"m{index}.nn")
    with open(model, "w") as f:
        f.write(source)
    program = os.path.join(workdir, f"m{index}")
    build = subprocess.run([netc, "build", model, "-o", program],
                           capture_output=True, text=True)
    if build.returncode != 0:
        return f"[{c}, {h}, {w}]", [f"netc build failed:\n{build.stderr}\n{source}"]
    info = json.loads(subprocess.run([program, "info", "--json"], check=True,
                                     capture_output=True, text=True).stdout)
    rng = np.random.default_rng(seed)
    tensors, params = [], {}
    shapes = dict(p for case in cases for p in case.params)
    for p in info["params"]:
        if list(shapes.get(p["name"], [])) != p["shape"]:
            return f"[{c}, {h}, {w}]", [f"unexpected parameter {p['name']} {p['shape']}"]
        if p["name"].endswith("running_var"):
            value = rng.uniform(0.5, 1.5, p["shape"])
        else:
            fan_in = max(1, int(np.prod(p["shape"][1:])))
            value = rng.normal(0, 1 / np.sqrt(fan_in), p["shape"])
        value = value.astype(np.float32)
        tensors.append((p["name"], value))
        params[p["name"]] = torch.from_numpy(value).double()
    weights = os.path.join(workdir, "w.safetensors")
    write_safetensors(weights, tensors)
    x = rng.normal(0, 1, [3, c, h, w]).astype(np.float32)
    np.save(os.path.join(workdir, "x.npy"), x)
    args = [program, "infer", "--weights", weights, "--input",
            os.path.join(workdir, "x.npy")]
    for i in range(len(cases)):
        args += ["--output", f"o{i}={os.path.join(workdir, f'o{i}.npy')}"]
    run = subprocess.run(args, capture_output=True, text=True)
    if run.returncode != 0:
        return f"[{c}, {h}, {w}]", [f"infer failed: {run.stderr}\n{source}"]
    problems, worst = [], 0.0
    with torch.no_grad():
        for i, case in enumerate(cases):
            ref = case.reference(torch.from_numpy(x).double(), params).numpy()
            got = np.load(os.path.join(workdir, f"o{i}.npy"))
            if got.shape != ref.shape:
                problems.append(f"{case.title}: shape {got.shape} != {ref.shape}")
                continue
            error = np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-12)
            worst = max(worst, error)
            if not error <= TOLERANCE:
                problems.append(f"{case.title}: max relative difference "
                                f"{error:.2e} > {TOLERANCE}")
    return (f"[{c}, {h}, {w}] (max relative difference {worst:.1e}): " +
            "; ".join(case.title for case in cases), problems)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--netc", required=True)
    parser.add_argument("--models", type=int, default=12,
                        help="random models (after the fixed ones), alternately "
                             "of convolutions and of other ops")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    tally = Tally()
    with tempfile.TemporaryDirectory() as workdir:
        for index in range(len(FIXED) + args.models):
            title, problems = check(args.netc, workdir, index, args.seed * 1000 + index)
            tally.record(title, problems, one_per_line=True)
    return tally.summary()


if __name__ == "__main__":
    sys.exit(main())
