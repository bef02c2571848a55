"""Every kernel of a GPU build runs on the device: no silent host fallback.

Builds each example (and two training programs: backward kernels and the
optimizer's update) for a GPU target (default host-opencl) with Halide's
lowered statement kept beside each kernel (NETC_DUMP_STMT=1, in a cache of
its own), and checks every kernel's statement: it launches device kernels
(halide_opencl_run or halide_cuda_run), and its host code has no loop of
its own (Halide writes host loops as `for (name, min, extent)`; the
device kernels' sources are C, `for (int …)`), so no element is computed
on the host.

    kernels_on_device.py --netc build/bin/netc [--target host-opencl] [MODEL…]
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = ["lenet5", "resnet20", "alexnet", "mobilenet_v1"]
TRAINING = ["lenet5", "resnet20"]  # also built with --train: backward, optimizer
SIZES = {"mobilenet_v1": 128, "xception": 96}  # as check_programs.py
HOST_LOOP = re.compile(r"^\s*(for|parallel|vectorized|unrolled) \((?!int )[^;]*\)\s*\{?\s*$")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--netc", required=True)
    parser.add_argument("--target", default="host-opencl")
    parser.add_argument("models", nargs="*", default=MODELS)
    args = parser.parse_args()
    builds = [(name, []) for name in args.models]
    builds += [(name, ["--train"]) for name in TRAINING if name in args.models]
    api = "cuda" if "cuda" in args.target else "opencl"
    failures = 0
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NETC_DUMP_STMT="1", NETC_CACHE_DIR=cache)
        for name, train in builds:
            params = ["-p", f"size={SIZES[name]}"] if name in SIZES else []
            build = subprocess.run(
                [args.netc, "build", os.path.join(ROOT, "examples", name + ".nn"),
                 "--target", args.target, "-o", os.path.join(cache, name)] + params +
                train, env=env, capture_output=True, text=True)
            if build.returncode != 0:
                print(f"FAIL {name}: netc build failed:\n{build.stderr}")
                failures += 1
                continue
        problems = []
        statements = sorted(glob.glob(os.path.join(cache, "netc_*.stmt")))
        for path in statements:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            kernel = os.path.basename(path)[:-5]
            if f"halide_{api}_run" not in text:
                problems.append(f"{kernel}: launches no {api} kernel")
            # The host code follows the device sources (a buffer of C text).
            host = text.split(f"halide_{api}_initialize_kernels", 1)[-1]
            loops = [line.strip() for line in host.splitlines() if HOST_LOOP.match(line)]
            if loops:
                problems.append(f"{kernel}: host loop {loops[0]}")
        for p in problems:
            print("FAIL " + p)
        failures += len(problems)
        print(f"{len(statements)} kernels of {', '.join(args.models)} (and "
              f"{', '.join(n for n, t in builds if t)} for training) for "
              f"{args.target}: {len(statements) - len(problems)} entirely on the device")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
