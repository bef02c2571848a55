"""Training speed: netc's training programs against PyTorch 1.13 on this
machine, in one run.

For each case it builds netc's training program (kernels are cached) and
times full training steps (forward, backward, optimizer update) with the
program's `bench --train`, then the same model, batch, optimizer and thread
count in PyTorch eager (each in its own process, so that peak resident
memory is each one's own). It prints median step times, images/s, netc's
speed ratio (above 1: netc is faster) and peak resident memory. Speed
drifts within minutes on a shared machine: netc and PyTorch run in turn
`--rounds` times, and each time quoted is the median of the rounds'.

    /usr/bin/python3 bench/train.py                           # every case, 2 threads
    /usr/bin/python3 bench/train.py --cases lenet5:128 --threads 1 2
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CASES = ["lenet5:128", "resnet20:128", "resnet18:16", "mobilenet_v1:16"]

TORCH_STEP = r"""
import json, statistics, sys, time
import torch
sys.path.insert(0, {refs!r})
import models
torch.set_num_threads({threads})
torch.manual_seed(0)
model, shape = models.MODELS[{name!r}]()
train = {train}
model.train()
opt = torch.optim.SGD(model.parameters(), lr=1e-6, momentum=train["momentum"],
                      weight_decay=train["weight_decay"])
x = torch.randn({batch}, *{shape})
y = torch.randint(0, {classes}, ({batch},))
def step():
    out = model(x)
    if isinstance(out, tuple):
        out = out[0]
    scores = -out if {negate} else out
    loss = torch.nn.functional.cross_entropy(scores, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
for _ in range(3):
    step()
times = []
deadline = time.time() + 60
for _ in range({iters}):
    start = time.perf_counter()
    step()
    times.append(time.perf_counter() - start)
    if time.time() > deadline and len(times) >= 3:
        break
print(json.dumps({{"median_ms": statistics.median(times) * 1e3}}))
"""


def peak_rss_of(command):
    """Runs `command`; returns its stdout and its own peak resident MiB."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            sys.exit(f"{' '.join(command[:3])} failed:\n{err.read()[-2000:]}")
        return out.read(), usage.ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--netc", default=os.path.join(ROOT, "build", "bin", "netc"))
    parser.add_argument("--cases", nargs="*", default=CASES,
                        help="MODEL:BATCH, e.g. resnet20:128")
    parser.add_argument("--threads", nargs="*", type=int, default=[2])
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3,
                        help="netc and PyTorch in turn, this many times")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="netc-train-bench-")
    rows = []
    for case in args.cases:
        name, _, batch = case.partition(":")
        batch = int(batch or 1)
        source = os.path.join(ROOT, "examples", name + ".nn")
        program = os.path.join(work, name)
        subprocess.run([args.netc, "build", source, "--train", "-o", program],
                       check=True, capture_output=True)
        summary = json.loads(subprocess.run([args.netc, "summary", source, "--json"],
                                            check=True, capture_output=True,
                                            text=True).stdout)
        train = summary["train"]
        shape = summary["inputs"][0]["shape"]
        classes = summary["outputs"][0]["shape"][0]
        negate = train["loss"][0]["negate"]
        for threads in args.threads:
            script = TORCH_STEP.format(refs=os.path.join(ROOT, "tests", "reference"),
                                       threads=threads, name=name, train=train,
                                       batch=batch, shape=shape, classes=classes,
                                       negate=negate, iters=args.iters)
            netc_times, torch_times, netc_rss, torch_rss = [], [], 0, 0
            for _ in range(args.rounds):
                out, rss = peak_rss_of([program, "--threads", str(threads), "bench",
                                        "--train", "--batch", str(batch), "--iters",
                                        str(args.iters), "--json"])
                netc_times.append(json.loads(out)["median_ms"])
                netc_rss = max(netc_rss, rss)
                out, rss = peak_rss_of(["/usr/bin/python3", "-c", script])
                torch_times.append(json.loads(out)["median_ms"])
                torch_rss = max(torch_rss, rss)
            netc_ms = statistics.median(netc_times)
            torch_ms = statistics.median(torch_times)
            rows.append((name, batch, threads, netc_ms, torch_ms, netc_rss, torch_rss))
            print(f"{name} b{batch} t{threads}: netc {netc_ms:.2f} ms, "
                  f"torch {torch_ms:.2f} ms (rounds: netc "
                  f"{', '.join(f'{t:.1f}' for t in netc_times)}; torch "
                  f"{', '.join(f'{t:.1f}' for t in torch_times)})", file=sys.stderr)
    print("| case | threads | netc ms | netc img/s | torch ms | torch img/s | "
          "netc vs torch | netc MiB | torch MiB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, batch, threads, n_ms, t_ms, n_rss, t_rss in rows:
        rss = f"{n_rss:.0f}"
        print(f"| {name} b{batch} | {threads} | {n_ms:.2f} | {batch / n_ms * 1e3:.0f} | "
              f"{t_ms:.2f} | {batch / t_ms * 1e3:.0f} | {t_ms / n_ms:.2f}x | "
              f"{rss} | {t_rss:.0f} |")


if __name__ == "__main__":
    main()
