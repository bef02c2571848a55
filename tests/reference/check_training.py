"""Builds netc training programs and checks one training step against
PyTorch 1.13: the same architecture (tests/reference/models.py) with the
same weights, input batch and labels; every parameter's gradient, the batch
statistics and the weights after one optimizer step (the model's train
section: optimizer, learning rate, momentum, weight decay) must agree.

    python3 tests/reference/check_training.py --netc build/bin/netc [MODEL…]

Passes when, per tensor, max |netc - torch| / max |torch| <= 1e-3.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402
from tally import Tally  # noqa: E402
from check_programs import EXAMPLES, write_safetensors  # noqa: E402

TOLERANCE = 1e-3
CASES = {"lenet5": None, "resnet20": None, "alexnet_small": None,
         "googlenet_small": None, "xception_block": None}
TRAINING = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "training")
U = np.uint64
M32 = U(0xFFFFFFFF)


def mix32(h):
    """lowbias32, as the dropout kernels hash (numpy uint64 holding uint32)."""
    h = h ^ (h >> U(16))
    h = (h * U(0x7feb352d)) & M32
    h = h ^ (h >> U(15))
    h = (h * U(0x846ca68b)) & M32
    return h ^ (h >> U(16))


class MaskedDropout(torch.nn.Module):
    """Dropout with the mask netc's dropout_train computes for (seed, step,
    salt): element i (NCHW order) is kept when its hash >= p 2^32."""

    def __init__(self, p, salt, seed=0, step=0):
        super().__init__()
        self.p, self.salt, self.seed, self.step = p, salt, seed, step

    def forward(self, x):
        key = mix32(U(self.seed) ^ mix32(U(self.step) ^ mix32(U(self.salt))))
        index = np.arange(x.numel(), dtype=np.uint64)
        h = mix32((mix32(index ^ key) + key) & M32)
        keep = h >= U(int(self.p * 4294967296.0))
        mask = torch.from_numpy(keep.astype(np.float32)).reshape(x.shape)
        return x * mask / (1 - self.p)


def use_netc_masks(model):
    """Replaces nn.Dropout modules, in definition order: the order of the
    model file's dropout layers."""
    modules = dict(model.named_modules())
    found = [name for name, m in model.named_modules() if isinstance(m, torch.nn.Dropout)]
    for salt, path in enumerate(found):
        parent, _, name = path.rpartition(".")
        setattr(modules[parent], name, MaskedDropout(modules[path].p, salt))
    return model


def read_safetensors(path):
    with open(path, "rb") as f:
        size = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(size))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        out[name] = np.frombuffer(data[begin:end], dtype="<f4").reshape(info["shape"])
    return out


def optimizer_for(train, params):
    kind = train["optimizer"]
    if kind == "sgd":
        return torch.optim.SGD(params, lr=train["lr"], momentum=train["momentum"],
                               nesterov=train["nesterov"],
                               weight_decay=train["weight_decay"])
    if kind in ("adam", "adamw"):
        cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
        return cls(params, lr=train["lr"], betas=(train["beta1"], train["beta2"]),
                   eps=train["eps"], weight_decay=train["weight_decay"])
    return torch.optim.RMSprop(params, lr=train["lr"], alpha=train["alpha"],
                               eps=train["eps"], momentum=train["momentum"],
                               weight_decay=train["weight_decay"])


def relative(got, ref):
    return float(np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-12))


def check(netc, name, workdir, batch, size=None, parallel=([], []), target=None):
    source = os.path.join(EXAMPLES, name + ".nn")
    if not os.path.exists(source):
        source = os.path.join(TRAINING, name + ".nn")
    params = ["-p", f"size={size}"] if size else []
    program = os.path.join(workdir, name)
    launch, step_flags = parallel  # mpirun and its arguments; train-step's flags
    mpi = ["--mpi"] if launch else []
    targets = ["--target", target] if target else []
    build = subprocess.run([netc, "build", source, "--train", "-o", program] + mpi +
                           params + targets,
                           capture_output=True, text=True)
    if build.returncode != 0:
        return [f"netc build --train failed:\n{build.stderr}"]
    info = json.loads(subprocess.run([program, "info", "--json"], check=True,
                                     capture_output=True, text=True).stdout)
    summary = json.loads(subprocess.run([netc, "summary", source, "--json"] + params,
                                        check=True, capture_output=True,
                                        text=True).stdout)
    train = summary["train"]

    torch.manual_seed(3)
    model, _ = {**models.MODELS, **models.TRAINING_MODELS}[name]()
    use_netc_masks(model)
    state = [(k, v) for k, v in model.state_dict().items()
             if not k.endswith("num_batches_tracked")]
    expected = info["params"]
    if len(state) != len(expected):
        return [f"PyTorch has {len(state)} tensors, the program expects {len(expected)}"]
    names = {}
    tensors = []
    for (torch_name, value), param in zip(state, expected):
        names[torch_name] = param["name"]
        tensors.append((param["name"], value.numpy().copy()))
    weights = os.path.join(workdir, name + ".safetensors")
    write_safetensors(weights, tensors)

    shape = info["inputs"][0]["shape"]
    classes = info["outputs"][0]["shape"][0]
    x = torch.randn(batch, *shape)
    labels = torch.randint(0, classes, (batch,))
    np.save(os.path.join(workdir, "x.npy"), x.numpy())
    np.save(os.path.join(workdir, "labels.npy"), labels.numpy().astype(np.float32))
    results = os.path.join(workdir, "results.safetensors")
    updated = os.path.join(workdir, "updated.safetensors")
    run = subprocess.run(launch + [program, "--threads", "1", "train-step", "--weights", weights,
                          "--input", os.path.join(workdir, "x.npy"),
                          "--labels", os.path.join(workdir, "labels.npy"),
                          "--results", results, "--updated", updated] + step_flags,
                         capture_output=True, text=True)
    if run.returncode != 0:
        return [f"train-step failed: {run.stderr}"]
    got = read_safetensors(results)
    after = read_safetensors(updated)

    # PyTorch: the same step.
    model.train()
    outputs = model(x)
    if not isinstance(outputs, tuple):
        outputs = (outputs,)
    by_output = {o["name"]: r for o, r in zip(summary["outputs"], outputs)}
    loss = 0
    for term in train["loss"]:
        scores = by_output[term["output"]]
        if term["kind"] == "mse":
            target = torch.nn.functional.one_hot(labels, scores.shape[1]).float()
            loss = loss + term["weight"] * torch.nn.functional.mse_loss(scores, target)
        else:
            loss = loss + term["weight"] * torch.nn.functional.cross_entropy(
                -scores if term["negate"] else scores, labels)
    optimizer = optimizer_for(train, model.parameters())
    optimizer.zero_grad()
    loss.backward()
    problems = []
    worst = 0.0
    for torch_name, param in model.named_parameters():
        key = "grad:" + names[torch_name]
        if key not in got:
            problems.append(f"no gradient for {names[torch_name]}")
            continue
        error = relative(got[key], param.grad.numpy())
        worst = max(worst, error)
        if not error <= TOLERANCE:
            problems.append(f"{key}: max relative difference {error:.2e}")
    optimizer.step()
    for torch_name, value in model.state_dict().items():
        if torch_name.endswith("num_batches_tracked"):
            continue
        error = relative(after[names[torch_name]], value.numpy())
        worst = max(worst, error)
        if not error <= TOLERANCE:
            problems.append(f"updated {names[torch_name]}: max relative difference {error:.2e}")
    print(f"  {name}: {len(got)} results, loss {loss.item():.6f}, "
          f"worst relative difference {worst:.2e}")
    return problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--netc", required=True)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--chunks", type=int, default=0,
                        help="the step of the whole batch computed in this many "
                        "chunks (--deterministic)")
    parser.add_argument("--target", help="Halide target of the programs, e.g. "
                        "host-opencl (run on PoCL here)")
    parser.add_argument("--processes", type=int, default=1,
                        help="... by this many processes (mpirun; --sync-bn "
                        "unless --chunks)")
    parser.add_argument("models", nargs="*", default=list(CASES),
                        help="MODEL or MODEL:SIZE")
    args = parser.parse_args()
    torch.set_num_threads(2)
    tally = Tally()
    with tempfile.TemporaryDirectory() as workdir:
        for case in args.models:
            name, _, size = case.partition(":")
            size = int(size) if size else CASES.get(name)
            launch, flags = [], []
            if args.processes > 1:
                launch = ["mpirun", "--allow-run-as-root", "--oversubscribe",
                          "-np", str(args.processes)]
                if not args.chunks:
                    flags.append("--sync-bn")
            if args.chunks:
                flags += ["--deterministic", "--chunks", str(args.chunks)]
            problems = check(args.netc, name, workdir, args.batch, size,
                             (launch, flags), args.target)
            tally.record(name, problems, limit=8)
    return tally.summary()


if __name__ == "__main__":
    sys.exit(main())
