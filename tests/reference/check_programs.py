"""Builds netc programs and checks their outputs against PyTorch 1.13: the
same architecture (tests/reference/models.py), the same random weights
through a safetensors file, the same input batch through .npy.

    python3 tests/reference/check_programs.py --netc build/bin/netc [MODEL…]

Batch-norm running statistics are randomized so that batch norm is not the
identity. Passes when max |netc - torch| / max |torch| <= 1e-4 per output.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402
from tally import Tally  # noqa: E402

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                        "examples")
TOLERANCE = 1e-4

# The networks checked by default, with a reduced input size where the
# model file takes one and 224x224 would make the suite slow.
CASES = {"lenet5": None, "resnet20": None, "plain20": None, "alexnet": None,
         "vgg11": None, "googlenet": None, "mobilenet_v1": 128,
         "resnet18": 64, "resnet50": 64, "xception": 96}


def write_safetensors(path, tensors):
    """tensors: list of (name, float32 numpy array), written in order."""
    header, offset = {}, 0
    for name, array in tensors:
        header[name] = {"dtype": "F32", "shape": list(array.shape),
                        "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    text = json.dumps(header).encode()
    text += b" " * (-(len(text) + 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, array in tensors:
            f.write(np.ascontiguousarray(array, dtype="<f4").tobytes())


def check_image(program, weights, model, workdir):
    """A PGM image through `infer`: pixels scaled to [0, 1], the top
    classes printed, the scores as PyTorch computes them."""
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, size=(28, 28), dtype=np.uint8)
    image = os.path.join(workdir, "digit.pgm")
    with open(image, "wb") as f:
        f.write(b"P5\n28 28\n255\n" + pixels.tobytes())
    scores = os.path.join(workdir, "digit.npy")
    run = subprocess.run([program, "infer", "--weights", weights, "--input", image,
                          "--top", "3", "--output", scores],
                         capture_output=True, text=True)
    if run.returncode != 0:
        return [f"infer on an image failed: {run.stderr}"]
    if run.stdout.count("class") != 3:
        return [f"--top 3 printed {run.stdout!r}"]
    with torch.no_grad():
        ref = model(torch.from_numpy(pixels.astype(np.float32) / 255).reshape(1, 1, 28, 28))
    error = np.abs(np.load(scores) - ref.numpy()).max() / np.abs(ref.numpy()).max()
    print(f"  lenet5 on a .pgm image: max relative difference {error:.2e}")
    return [] if error <= TOLERANCE else [f"image scores differ by {error:.2e}"]


def check_eval(program, weights, model, workdir, name):
    """`eval` on a small dataset in the model's format (MNIST IDX for
    lenet5, a CIFAR-10 batch for resnet20): the accuracies PyTorch gives."""
    rng = np.random.default_rng(7)
    count = 37  # not a multiple of the batch: the last batch is partial
    data = os.path.join(workdir, "data-" + name)
    os.makedirs(data, exist_ok=True)
    if name == "lenet5":
        pixels = rng.integers(0, 256, size=(count, 1, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=count, dtype=np.uint8)
        with open(os.path.join(data, "t10k-images-idx3-ubyte"), "wb") as f:
            f.write(struct.pack(">IIII", 0x803, count, 28, 28) + pixels.tobytes())
        with open(os.path.join(data, "t10k-labels-idx1-ubyte"), "wb") as f:
            f.write(struct.pack(">II", 0x801, count) + labels.tobytes())
    else:
        pixels = rng.integers(0, 256, size=(count, 3, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, 10, size=count, dtype=np.uint8)
        with open(os.path.join(data, "test_batch.bin"), "wb") as f:
            for i in range(count):
                f.write(bytes([labels[i]]) + pixels[i].tobytes())
    run = subprocess.run([program, "eval", "--weights", weights, "--data", data,
                          "--batch", "16", "--json"], capture_output=True, text=True)
    if run.returncode != 0:
        return [f"eval failed: {run.stderr}"]
    result = json.loads(run.stdout)
    with torch.no_grad():
        scores = model(torch.from_numpy(pixels.astype(np.float32) / 255))
    if name == "lenet5":
        scores = -scores  # rbf distances: lower is more likely
    top5 = scores.topk(5, dim=1).indices.numpy()
    labels = labels.astype(np.int64)
    top1 = 100 * np.mean(top5[:, 0] == labels)
    top5 = 100 * np.mean((top5 == labels[:, None]).any(axis=1))
    print(f"  {name} eval: top-1 {result['top1']:.2f}% (PyTorch {top1:.2f}%), "
          f"top-5 {result['top5']:.2f}% (PyTorch {top5:.2f}%)")
    if abs(result["top1"] - top1) > 1e-6 or abs(result["top5"] - top5) > 1e-6:
        return ["eval accuracies differ from PyTorch's"]
    return []


def check(netc, name, workdir, batch, size=None, target=None):
    program = os.path.join(workdir, name)
    params = ["-p", f"size={size}"] if size else []
    targets = ["--target", target] if target else []
    build = subprocess.run([netc, "build", os.path.join(EXAMPLES, name + ".nn"),
                            "-o", program] + params + targets, capture_output=True,
                           text=True)
    if build.returncode != 0:
        return [f"netc build failed:\n{build.stderr}"]
    info = json.loads(subprocess.run([program, "info", "--json"], check=True,
                                     capture_output=True, text=True).stdout)

    torch.manual_seed(1)
    model, shape = models.MODELS[name]()
    with torch.no_grad():
        for module in model.modules():
            # Weights that keep the signal's scale from layer to layer:
            # with PyTorch's default initialization a deep network's
            # outputs hardly depend on its input or its first layers (the
            # biases decide them), and an error there would go unseen.
            if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
                torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
    model.eval()
    state = [(k, v) for k, v in model.state_dict().items()
             if not k.endswith("num_batches_tracked")]
    expected = info["params"]
    if len(state) != len(expected):
        return [f"PyTorch has {len(state)} tensors, the program expects {len(expected)}"]
    tensors = []
    for (torch_name, value), param in zip(state, expected):
        if list(value.shape) != param["shape"]:
            return [f"{torch_name} {list(value.shape)} does not line up with "
                    f"{param['name']} {param['shape']}"]
        tensors.append((param["name"], value.numpy()))
    weights = os.path.join(workdir, name + ".safetensors")
    write_safetensors(weights, tensors)

    shape = info["inputs"][0]["shape"]  # the program's, e.g. a reduced size
    x = torch.randn(batch, *shape)
    np.save(os.path.join(workdir, "x.npy"), x.numpy())
    outputs = [o["name"] for o in info["outputs"]]

    def infer(flags, suffix):
        """Runs `infer` on x.npy, each output to NAME{suffix}; the error."""
        args = [program] + flags + ["infer", "--weights", weights, "--input",
                                    os.path.join(workdir, "x.npy")]
        for o in outputs:
            args += ["--output", f"{o}={os.path.join(workdir, o + suffix)}"]
        run = subprocess.run(args, capture_output=True, text=True)
        return None if run.returncode == 0 else f"infer {flags} failed: {run.stderr}"

    # Two threads, each running its own samples; the whole batch at once
    # on one thread; one sample per pass through the network (--chunk 1).
    # All must give the same outputs.
    passes = ((["--threads", "2"], ".npy"), (["--threads", "1"], ".batch.npy"),
              (["--chunk", "1"], ".chunked.npy"))
    for flags, suffix in passes:
        error = infer(flags, suffix)
        if error:
            return [error]
    with torch.no_grad():
        reference = model(x)
    if not isinstance(reference, tuple):
        reference = (reference,)
    # The reference returns every output in the model file's order; the
    # program has those that are not training-only heads.
    summary = json.loads(subprocess.run(
        [netc, "summary", os.path.join(EXAMPLES, name + ".nn"), "--json"] + params,
        check=True, capture_output=True, text=True).stdout)
    by_name = {o["name"]: r for o, r in zip(summary["outputs"], reference)}
    problems = []
    if name == "lenet5":
        problems += check_image(program, weights, model, workdir)
    if name in ("lenet5", "resnet20"):
        problems += check_eval(program, weights, model, workdir, name)
    for o in outputs:
        got = np.load(os.path.join(workdir, o + ".npy"))
        ref = by_name[o].numpy()
        if got.shape != ref.shape:
            problems.append(f"{o}: shape {got.shape} != {ref.shape}")
            continue
        error = np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-12)
        print(f"  {name}.{o}: max relative difference {error:.2e}")
        if not error <= TOLERANCE:
            problems.append(f"{o}: max relative difference {error:.2e} > {TOLERANCE}")
        if len(ref) >= 2:
            spread = np.abs(ref[0] - ref[1]).max() / max(np.abs(ref).max(), 1e-12)
            if not spread >= 1e-3:
                problems.append(f"{o}: the reference hardly depends on the input "
                                f"({spread:.1e} between two samples): the check "
                                f"would not see errors in early layers")
        for flags, suffix in passes[1:]:
            other = np.load(os.path.join(workdir, o + suffix))
            apart = np.abs(other - got).max() / max(np.abs(got).max(), 1e-12)
            if not apart <= 1e-6:
                problems.append(f"{o}: infer {' '.join(flags)} differs from "
                                f"two threads by {apart:.2e}")
    return problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--netc", required=True)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--target", help="Halide target of the programs, e.g. "
                        "host-opencl (run on PoCL here)")
    parser.add_argument("models", nargs="*", default=list(CASES),
                        help="MODEL or MODEL:SIZE (input height and width)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    tally = Tally()
    with tempfile.TemporaryDirectory() as workdir:
        for case in args.models:
            name, _, size = case.partition(":")
            size = int(size) if size else CASES.get(name)
            batch = 1 if name in ("vgg11",) else args.batch
            tally.record(name, check(args.netc, name, workdir, batch, size,
                                     args.target))
    return tally.summary()


if __name__ == "__main__":
    sys.exit(main())
