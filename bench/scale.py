"""Data-parallel scaling of netc's training programs (built with --mpi) on
this machine, and a model of the same runs across machines.

Measured: for each case, training steps (`bench --train`) by 1 process and
by N processes of one thread each under mpirun, each process with the same
batch (weak scaling: the global batch grows with N). Printed per case: the
median step time, images/s, the weak-scaling efficiency (the N-process
rate over N times the 1-process rate), the share of the step spent waiting
for the gradient sums (including waiting for the slowest process), and the
share of the gradients whose sums were done before the backward pass ended.
`--rounds` alternates the runs; each figure is the median of the rounds.

Modelled: a ring all-reduce moves 2 (N-1)/N of the gradients' bytes through
each link, plus 2 (N-1) latencies per bucket; the buckets of all but the
last layers are summed while the backward pass (taken as 2/3 of a step)
goes on. With the compute time of a step measured here (one process, the
given batch per process), the predicted efficiency of N machines is
compute / (compute + the part of the all-reduce not hidden). The same is
given for a rank 50 times faster than this machine's process, to show
where communication starts to matter.

    /usr/bin/python3 bench/scale.py                       # lenet5, resnet20 measured; resnet50 modelled
    /usr/bin/python3 bench/scale.py --cases resnet20:64 --processes 2 --model resnet50:32
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe"]


def bench(program, processes, batch, iters, bucket_mb):
    """`bench --train --json` of `batch` samples per process."""
    command = [program, "--threads", "1", "bench", "--train", "--batch",
               str(batch * processes), "--iters", str(iters), "--json"]
    if processes > 1:
        command = MPIRUN + ["-np", str(processes)] + command + ["--bucket-mb", str(bucket_mb)]
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{run.stderr[-2000:]}")
    return json.loads(run.stdout)


def build(netc, name, work):
    program = os.path.join(work, name)
    subprocess.run([netc, "build", os.path.join(ROOT, "examples", name + ".nn"),
                    "--train", "--mpi", "-o", program], check=True, capture_output=True)
    return program


def gradient_bytes(netc, name):
    summary = json.loads(subprocess.run(
        [netc, "summary", os.path.join(ROOT, "examples", name + ".nn"), "--json"],
        check=True, capture_output=True, text=True).stdout)
    return 4 * summary["params"]  # trained parameters; buffers are not summed


def exposed_allreduce(bytes_, ranks, gbits, compute_s, bucket_mb, latency_s=10e-6):
    """Seconds of a ring all-reduce of `bytes_` over `ranks` that the backward
    pass does not hide."""
    if ranks == 1:
        return 0.0
    link = gbits * 1e9 / 8
    buckets = max(1, -(-bytes_ // int(bucket_mb * 2**20)))
    total = 2 * (ranks - 1) / ranks * bytes_ / link + 2 * (ranks - 1) * latency_s * buckets
    last = total / buckets
    backward = compute_s * 2 / 3
    return last + max(0.0, total - last - backward)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--netc", default=os.path.join(ROOT, "build", "bin", "netc"))
    parser.add_argument("--cases", nargs="*", default=["lenet5:128", "resnet20:32"],
                        help="MODEL:BATCH per process, measured")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bucket-mb", type=float, default=25)
    parser.add_argument("--model", default="resnet50:32",
                        help="MODEL:BATCH per rank whose multi-machine run is modelled")
    parser.add_argument("--model-ranks", nargs="*", type=int, default=[8, 64])
    parser.add_argument("--links", nargs="*", type=float, default=[25, 100],
                        help="link bandwidths, Gbit/s")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="netc-scale-")

    print(f"| case (batch per process) | processes | step ms | images/s | "
          f"weak-scaling efficiency | waiting share | summed before backward ended |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for case in args.cases:
        name, _, batch = case.partition(":")
        batch = int(batch)
        program = build(args.netc, name, work)
        runs = {1: [], args.processes: []}
        for _ in range(args.rounds):
            for n in runs:
                runs[n].append(bench(program, n, batch, args.iters, args.bucket_mb))
        one = statistics.median(r["median_ms"] for r in runs[1])
        for n, results in runs.items():
            ms = statistics.median(r["median_ms"] for r in results)
            rate = batch * n / ms * 1e3
            efficiency = one / ms
            if n == 1:
                print(f"| {name} ({batch}) | 1 | {ms:.1f} | {rate:.0f} | 100% | | |")
                continue
            waiting = statistics.median(r["waiting_ms"] / r["median_ms"] for r in results)
            hidden = statistics.median(r["hidden"] for r in results)
            print(f"| {name} ({batch}) | {n} | {ms:.1f} | {rate:.0f} | "
                  f"{efficiency * 100:.0f}% | {waiting * 100:.1f}% | {hidden * 100:.0f}% |")

    name, _, batch = args.model.partition(":")
    batch = int(batch)
    program = build(args.netc, name, work)
    compute = bench(program, 1, batch, 3, args.bucket_mb)["median_ms"] / 1e3
    size = gradient_bytes(args.netc, name)
    print(f"\nModel: {name}, {size / 2**20:.0f} MiB of gradients, a step of "
          f"{batch} samples per rank takes {compute * 1e3:.0f} ms here (one "
          f"process, one thread); buckets of {args.bucket_mb:g} MiB, 10 us "
          f"latency per message.\n")
    print("| ranks | link | all-reduce ms | exposed ms | efficiency | "
          "efficiency, a rank 50x faster |")
    print("|---:|---:|---:|---:|---:|---:|")
    for ranks in args.model_ranks:
        for gbits in args.links:
            link = gbits * 1e9 / 8
            total = 2 * (ranks - 1) / ranks * size / link
            exposed = exposed_allreduce(size, ranks, gbits, compute, args.bucket_mb)
            fast = compute / 50
            exposed_fast = exposed_allreduce(size, ranks, gbits, fast, args.bucket_mb)
            print(f"| {ranks} | {gbits:g} Gbit/s | {total * 1e3:.1f} | "
                  f"{exposed * 1e3:.1f} | {compute / (compute + exposed) * 100:.1f}% | "
                  f"{fast / (fast + exposed_fast) * 100:.1f}% |")


if __name__ == "__main__":
    main()
