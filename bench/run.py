"""netc against PyTorch 1.13 and ONNX Runtime on this machine, in one run.

For each case it builds netc's program (kernels are cached), then times the
same network, batch and thread count with netc's `bench`, PyTorch eager,
PyTorch frozen TorchScript (torch.jit.freeze + optimize_for_inference, which
uses oneDNN), and ONNX Runtime (onnxruntime-node, fed the torch.onnx export).
It prints median times, netc's speed ratio to each peer (above 1: netc is
faster), and the fraction of the machine's peak FLOP/s that netc reaches.
On a shared machine speed drifts within minutes: each case runs netc and
the peers one after the other `--rounds` times, and each time quoted is the
median of its rounds' medians.

    /usr/bin/python3 bench/run.py                          # every case, 1 and 2 threads
    /usr/bin/python3 bench/run.py --cases lenet5:1 resnet18:1 --threads 2

Set-up: a built netc (scripts/build.sh) and ONNX Runtime from npm:
`(cd bench && ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm install)`. Run it with
/usr/bin/python3, which has Debian's python3-torch.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

try:
    import torch
except ImportError:
    sys.exit(f"bench/run.py: {sys.executable} has no torch; run it with "
             "/usr/bin/python3, which has Debian's python3-torch")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))
import models  # noqa: E402

CASES = ["resnet50:1", "resnet50:16", "resnet18:1", "resnet18:16",
         "mobilenet_v1:1", "vgg16:1", "alexnet:1", "googlenet:1",
         "resnet20:1", "lenet5:1", "lenet5:256"]


def time_torch(fn, x, iterations):
    with torch.no_grad():
        for _ in range(3):
            fn(x)
        times = []
        deadline = time.time() + 60
        for _ in range(iterations):
            start = time.perf_counter()
            fn(x)
            times.append(time.perf_counter() - start)
            if time.time() > deadline and len(times) >= 3:
                break
    return statistics.median(times) * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--netc", default=os.path.join(ROOT, "build", "bin", "netc"))
    parser.add_argument("--cases", nargs="*", default=CASES,
                        help="MODEL:BATCH, e.g. resnet18:16")
    parser.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    parser.add_argument("--iters", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3,
                        help="netc and the peers in turn, this many times")
    parser.add_argument("--no-ort", action="store_true", help="skip ONNX Runtime")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="netc-bench-")
    peak_bin = os.path.join(work, "peak")
    subprocess.run(["g++", "-O3", "-march=native", os.path.join(ROOT, "bench", "peak.cpp"),
                    "-o", peak_bin, "-lpthread"], check=True)
    peaks = {t: float(subprocess.run([peak_bin, str(t)], capture_output=True,
                                     text=True, check=True).stdout) for t in args.threads}
    print("peak FP32 FMA throughput: " +
          ", ".join(f"{t} thread{'s' if t > 1 else ''} {p:.0f} GFLOP/s"
                    for t, p in peaks.items()))

    rows = []
    ort_failed = False
    for case in args.cases:
        name, batch = case.split(":")
        batch = int(batch)
        program = os.path.join(work, name)
        if not os.path.exists(program):
            subprocess.run([args.netc, "build", os.path.join(ROOT, "examples", name + ".nn"),
                            "-o", program], check=True, capture_output=True)
        model, shape = models.MODELS[name]()
        model.eval()
        macs = models.measure(name)["macs"] * batch
        x = torch.randn(batch, *shape)
        onnx_path = os.path.join(work, name + ".onnx")
        if not args.no_ort and not os.path.exists(onnx_path):
            with warnings.catch_warnings():
                # The exporter's notes on constant folding and shape
                # inference (GoogLeNet, AlexNet) are not about the timing.
                warnings.simplefilter("ignore", UserWarning)
                torch.onnx.export(model, torch.randn(1, *shape), onnx_path,
                                  input_names=["input"], dynamic_axes={"input": {0: "n"}},
                                  opset_version=13)
        with torch.no_grad():
            frozen = torch.jit.optimize_for_inference(
                torch.jit.freeze(torch.jit.trace(model, x, strict=False)))
        for threads in args.threads:
            torch.set_num_threads(threads)
            rounds = {"netc": [], "eager": [], "jit": [], "ort": []}
            for _ in range(args.rounds):
                out = subprocess.run([program, "--threads", str(threads), "bench",
                                      "--batch", str(batch), "--iters", str(args.iters),
                                      "--json"], capture_output=True, text=True, check=True)
                rounds["netc"].append(json.loads(out.stdout)["median_ms"])
                rounds["eager"].append(time_torch(model, x, args.iters))
                rounds["jit"].append(time_torch(frozen, x, args.iters))
                if not args.no_ort:
                    out = subprocess.run(
                        ["node", os.path.join(ROOT, "bench", "ort_bench.js"), onnx_path,
                         ",".join(map(str, (batch, *shape))), str(threads),
                         str(args.iters)], capture_output=True, text=True)
                    if out.returncode == 0:
                        rounds["ort"].append(json.loads(out.stdout)["median_ms"])
                    elif not ort_failed:
                        ort_failed = True
                        reason = (out.stderr.strip().splitlines() or ["no output"])[-1]
                        print(f"ONNX Runtime did not run ({reason}); its column stays "
                              "empty. Set-up: (cd bench && "
                              "ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm install)",
                              file=sys.stderr, flush=True)
            netc_ms, eager_ms, jit_ms = (statistics.median(rounds[k])
                                         for k in ("netc", "eager", "jit"))
            ort_ms = statistics.median(rounds["ort"]) if rounds["ort"] else None
            best = min(t for t in (eager_ms, jit_ms, ort_ms) if t)
            peak = 2 * macs / (netc_ms / 1e3) / 1e9 / peaks[threads]
            rows.append((case, threads, netc_ms, eager_ms, jit_ms, ort_ms, best, peak))
            print(f"{case:16} {threads}t  netc {netc_ms:9.3f} ms  torch {eager_ms:9.3f}  "
                  f"jit {jit_ms:9.3f}  ort {ort_ms if ort_ms else float('nan'):9.3f}  "
                  f"vs best {best / netc_ms:5.2f}x  peak {100 * peak:4.1f}%", flush=True)

    print()
    print(f"{'case':16} {'thr':>3} {'netc ms':>9} {'torch':>9} {'jit':>9} {'ort':>9} "
          f"{'/eager':>7} {'/best':>7} {'peak':>6}")
    for case, threads, n, e, j, o, best, peak in rows:
        print(f"{case:16} {threads:>3} {n:9.3f} {e:9.3f} {j:9.3f} "
              f"{o if o else float('nan'):9.3f} {e / n:6.2f}x {best / n:6.2f}x "
              f"{100 * peak:5.1f}%")


if __name__ == "__main__":
    main()
