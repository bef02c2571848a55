"""Checks netc's generated gradients against central finite differences:
for small random models, one per family of ops (random shapes, strides,
padding, dilation, groups), the gradient of the loss with respect to each
parameter tensor, in a random direction v, must equal
(L(w + h v) - L(w - h v)) / 2h as the same program computes L.

    python3 tests/reference/check_gradients.py --netc build/bin/netc [--cases N]

Losses are float32 sums; with h = 1e-3 the tolerance is 2e-2 of the
directional derivative (plus 2e-3 absolute). ReLU and max pooling are not
differentiable everywhere: a step across a kink can fail the comparison,
so the families keep smooth activations around pooling (ReLU's own
gradient is checked against PyTorch by check_training.py).
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_programs import write_safetensors  # noqa: E402
from check_training import read_safetensors  # noqa: E402
from tally import Tally  # noqa: E402

H = 1e-3
RELATIVE, ABSOLUTE = 2e-2, 2e-3

TRAIN = "train {\n  loss = %s\n  optimizer = sgd(lr=0.1)\n}\n"


def conv_case(r):
    c, o, g = r.choice([(2, 4, 1), (3, 6, 3), (4, 4, 4), (4, 8, 2)])
    k, s, d = r.choice([1, 2, 3, 5]), r.choice([1, 2, 3]), r.choice([1, 1, 2])
    p = r.choice([0, 1, 2])
    size = r.randint(k * d + 1, 12)
    return (f"conv k={k} stride={s} pad={p} dilation={d} groups={g}",
            f"model m {{\n  input x: f32[{c}, {size}, {size + 1}]\n"
            f"  y = x -> c0: conv({c}, k=3, pad=1) -> tanh\n"
            f"        -> c1: conv({o}, k={k}, stride={s}, pad={p}, dilation={d}, groups={g})\n"
            f"        -> sigmoid -> flatten\n"
            f"  output logits = y -> fc: dense(5)\n}}\n" + TRAIN % "cross_entropy(logits)")


def strided_conv_case(r):
    # Sixteen channels or more: the packed kernels, and for strides whose
    # phases divide the image, the input gradient one phase at a time.
    c, o = r.choice([(16, 16), (20, 32), (32, 16)])
    k, s, p = r.choice([1, 3, 5]), r.choice([2, 3]), r.choice([0, 1, 2])
    h = s * r.randint((k + s - 1) // s, 4)
    w = s * r.randint((k + s - 1) // s, 5)
    return (f"strided conv {c}->{o} k={k} stride={s} pad={p} on {h}x{w}",
            f"model m {{\n  input x: f32[3, {h}, {w}]\n"
            f"  y = x -> c0: conv({c}, k=3, pad=1) -> tanh\n"
            f"        -> c1: conv({o}, k={k}, stride={s}, pad={p})\n"
            f"        -> sigmoid -> flatten\n"
            f"  output logits = y -> fc: dense(5)\n}}\n" + TRAIN % "cross_entropy(logits)")


def pool_case(r):
    kind = r.choice(["maxpool", "avgpool"])
    k = r.choice([2, 3])
    s = r.choice([1, 2, 3])
    p = r.choice([0, 1]) if k > 1 else 0
    ceil = r.choice(["true", "false"])
    extra = f", count_pad={r.choice(['true', 'false'])}" if kind == "avgpool" else ""
    size = r.randint(5, 11)
    return (f"{kind} k={k} stride={s} pad={p} ceil={ceil}{extra}",
            f"model m {{\n  input x: f32[3, {size}, {size}]\n"
            f"  y = x -> c0: conv(4, k=3, pad=1) -> tanh\n"
            f"        -> {kind}(k={k}, stride={s}, pad={p}, ceil={ceil}{extra})\n"
            f"        -> flatten\n"
            f"  output logits = y -> fc: dense(6)\n}}\n" + TRAIN % "cross_entropy(logits)")


def batchnorm_case(r):
    size = r.randint(3, 7)
    return ("batchnorm, relu, global_avgpool",
            f"model m {{\n  input x: f32[3, {size}, {size}]\n"
            f"  y = x -> c0: conv(6, k=3, pad=1, bias=false) -> bn0: batchnorm -> relu\n"
            f"        -> c1: conv(5, k=3, pad=1) -> bn1: batchnorm -> global_avgpool -> flatten\n"
            f"  output logits = y -> fc: dense(4)\n}}\n" + TRAIN % "cross_entropy(logits)")


def structure_case(r):
    size = r.randint(4, 8)
    return ("concat, channel_pad, add, softmax",
            f"model m {{\n  input x: f32[2, {size}, {size}]\n"
            f"  a = x -> ca: conv(3, k=3, pad=1) -> tanh\n"
            f"  b = x -> cb: conv(2, k=1) -> relu\n"
            f"  c = concat(a, b) -> channel_pad(before=1, after=2)\n"
            f"  d = x -> cd: conv(8, k=3, pad=1)\n"
            f"  y = (c + d) -> ce: conv(3, k=3, stride=2) -> flatten -> f1: dense(7) -> softmax\n"
            f"  output logits = y -> fc: dense(5)\n}}\n" + TRAIN % "cross_entropy(logits)")


def heads_case(r):
    size = r.randint(5, 8)
    return ("two weighted losses (cross-entropy, mse), rbf",
            f"model m {{\n  input x: f32[1, {size}, {size}]\n"
            f"  y = x -> c0: conv(4, k=3) -> tanh -> flatten -> f1: dense(12) -> tanh\n"
            f"  output distances = y -> f2: rbf(5)\n"
            f"  output aux = y -> f3: dense(5)\n}}\n"
            "train {\n  loss = cross_entropy(-distances) + 0.3 * mse(aux)\n"
            "  optimizer = sgd(lr=0.1)\n}\n")


def subsample_case(r):
    # One-value windows (ResNet's subsampling shortcut): the gradient goes
    # back to every stride-th value, zero elsewhere.
    s = r.choice([2, 3])
    size = r.randint(4, 9)
    return (f"maxpool k=1 stride={s} on {size}x{size + 2}",
            f"model m {{\n  input x: f32[2, {size}, {size + 2}]\n"
            f"  y = x -> c0: conv(4, k=3, pad=1) -> tanh -> maxpool(k=1, stride={s})\n"
            f"        -> c1: conv(3, k=1) -> sigmoid -> flatten\n"
            f"  output logits = y -> fc: dense(5)\n}}\n" + TRAIN % "cross_entropy(logits)")


# New families go last: each case's seed follows its position, and the
# earlier cases keep theirs (a ReLU near zero makes some seeds' finite
# differences straddle the kink).
FAMILIES = [conv_case, pool_case, batchnorm_case, structure_case, heads_case,
            strided_conv_case, subsample_case]
if os.environ.get("NETC_GRAD_FAMILY"):
    FAMILIES = [f for f in FAMILIES if f.__name__ == os.environ["NETC_GRAD_FAMILY"]]


def loss_at(program, weights, workdir, tensors):
    path = os.path.join(workdir, "probe.safetensors")
    write_safetensors(path, tensors)
    run = subprocess.run([program, "--threads", "1", "train-step", "--weights", path,
                          "--input", os.path.join(workdir, "x.npy"),
                          "--labels", os.path.join(workdir, "labels.npy"),
                          "--results", os.path.join(workdir, "probe-results.safetensors"),
                          "--updated", os.path.join(workdir, "probe-updated.safetensors")],
                         capture_output=True, text=True, check=True)
    return float(run.stdout.split()[-1])


def check(netc, workdir, index, family, seed, target=None):
    r = random.Random(seed)
    title, source = family(r)
    model = os.path.join(workdir, f"case{index}.nn")
    with open(model, "w") as f:
        f.write(source)
    program = os.path.join(workdir, f"case{index}")
    targets = ["--target", target] if target else []
    build = subprocess.run([netc, "build", model, "--train", "-o", program] + targets,
                           capture_output=True, text=True)
    if build.returncode != 0:
        return title, [f"netc build --train failed:\n{build.stderr}\n{source}"]
    info = json.loads(subprocess.run([program, "info", "--json"], check=True,
                                     capture_output=True, text=True).stdout)
    rng = np.random.default_rng(seed)
    tensors = []
    for p in info["params"]:
        if p["name"].endswith("running_var"):
            value = rng.uniform(0.5, 1.5, p["shape"])
        else:
            value = rng.normal(0, 0.5, p["shape"])
        tensors.append((p["name"], value.astype(np.float32)))
    batch = 3
    shape = info["inputs"][0]["shape"]
    classes = info["outputs"][0]["shape"][0]
    np.save(os.path.join(workdir, "x.npy"),
            rng.normal(0, 1, [batch] + shape).astype(np.float32))
    np.save(os.path.join(workdir, "labels.npy"),
            rng.integers(0, classes, batch).astype(np.float32))
    weights = os.path.join(workdir, "w.safetensors")
    loss_at(program, weights, workdir, tensors)
    results = read_safetensors(os.path.join(workdir, "probe-results.safetensors"))
    problems = []
    for i, (name, value) in enumerate(tensors):
        key = "grad:" + name
        if key not in results:
            continue  # buffers
        v = rng.normal(0, 1, value.shape).astype(np.float32)
        plus = [(n, t + H * v if j == i else t) for j, (n, t) in enumerate(tensors)]
        minus = [(n, t - H * v if j == i else t) for j, (n, t) in enumerate(tensors)]
        numeric = (loss_at(program, weights, workdir, plus) -
                   loss_at(program, weights, workdir, minus)) / (2 * H)
        analytic = float((results[key].astype(np.float64) * v).sum())
        if not abs(numeric - analytic) <= RELATIVE * abs(numeric) + ABSOLUTE:
            problems.append(f"{name}: analytic {analytic:.6g}, numeric {numeric:.6g}")
    return title, problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--netc", required=True)
    parser.add_argument("--cases", type=int, default=3,
                        help="random cases per family of ops")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--target", help="Halide target of the programs, e.g. "
                        "host-opencl (run on PoCL here)")
    args = parser.parse_args()
    tally = Tally()
    with tempfile.TemporaryDirectory() as workdir:
        index = 0
        for family in FAMILIES:
            for case in range(args.cases):
                index += 1
                title, problems = check(args.netc, workdir, index, family,
                                        args.seed * 1000 + index, args.target)
                tally.record(title, problems, limit=6)
    return tally.summary()


if __name__ == "__main__":
    sys.exit(main())
