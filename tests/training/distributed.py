"""Data-parallel training under mpirun (programs built with --mpi).

  - --deterministic: LeNet-5 (MNIST sample) and ResNet-20 (synthetic data,
    batch norm synchronized) trained for a few steps by 1, 2 and 4
    processes end with bit-identical weights and optimizer state;
  - without it, 2 processes match 1 within 1e-5 relative after 20 steps
    (LeNet-5: no batch norm, so only the order of additions differs);
  - a checkpoint written by 2 processes resumes on 1 and ends bit-identical
    to an uninterrupted run (--deterministic);
  - a process killed mid-epoch ends the job, non-zero, within 30 s, with a
    message naming it, and the last checkpoint loads;
  - processes started with different flags are refused with a message.

    distributed.py --netc build/bin/netc
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "reference"))
from check_training import read_safetensors  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe"]


def mpirun(n, command, timeout=300):
    """`command` on n processes (n = 1: the program alone, without MPI)."""
    full = command if n == 1 else MPIRUN + ["-np", str(n)] + command
    return subprocess.run(full, capture_output=True, text=True, timeout=timeout)


def tensors(path):
    return read_safetensors(path)


def identical(a, b):
    """The names of tensors that differ in any bit."""
    return [k for k in a if k not in b or a[k].tobytes() != b[k].tobytes()]


def worst_relative(a, b):
    return max(float(np.abs(a[k] - b[k]).max() / max(np.abs(a[k]).max(), 1e-12))
               for k in a)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--netc", required=True)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="netc-mpi-")
    failures = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what, flush=True)
        if not ok:
            failures.append(what)

    programs = {}
    for name in ("lenet5", "resnet20"):
        programs[name] = os.path.join(work, name)
        subprocess.run([args.netc, "build", os.path.join(ROOT, "examples", name + ".nn"),
                        "--train", "--mpi", "-o", programs[name]],
                       check=True, stderr=subprocess.DEVNULL)
    mnist = os.path.join(ROOT, "data", "mnist")
    runs = {
        "lenet5": [programs["lenet5"], "--threads", "1", "train", "--data", mnist,
                   "--epochs", "2", "--max-batches", "3"],
        "resnet20": [programs["resnet20"], "--threads", "1", "train", "--data",
                     "synthetic", "--batch", "16", "--epochs", "1",
                     "--max-batches", "3"],
    }

    # Bit-identical for 1, 2 and 4 processes.
    for name, command in runs.items():
        results = {}
        for n in (1, 2, 4):
            out = os.path.join(work, f"{name}-det-{n}.safetensors")
            start = time.time()
            run = mpirun(n, command + ["--deterministic", "--chunks", "4",
                                       "--save", out])
            if run.returncode != 0:
                check(False, f"{name} --deterministic on {n} processes: {run.stderr}")
                break
            results[n] = (tensors(out), time.time() - start)
        else:
            for n in (2, 4):
                differ = identical(results[1][0], results[n][0])
                check(not differ,
                      f"{name} --deterministic: {n} processes' weights and state "
                      f"bit-identical to 1 process's ({results[n][1]:.1f} s vs "
                      f"{results[1][1]:.1f} s)" +
                      (f"; differ: {differ[:4]}" if differ else ""))

    # Without --deterministic: 2 processes against 1, after 20 steps (two
    # epochs of 10).
    outs = {}
    for n in (1, 2):
        outs[n] = os.path.join(work, f"lenet5-plain-{n}.safetensors")
        run = mpirun(n, runs["lenet5"][:-4] + ["--epochs", "2", "--max-batches", "10",
                                               "--save", outs[n]])
        check(run.returncode == 0, f"lenet5 on {n} process(es), 20 steps" +
              ("" if run.returncode == 0 else ": " + run.stderr))
    if all(os.path.exists(p) for p in outs.values()):
        error = worst_relative(tensors(outs[1]), tensors(outs[2]))
        check(error <= 1e-5,
              f"lenet5: 2 processes match 1 within 1e-5 relative after 20 steps "
              f"(worst {error:.1e})")

    # A checkpoint of 2 processes resumes on 1 and continues the same run.
    det = ["--deterministic", "--chunks", "4"]
    whole = os.path.join(work, "whole.safetensors")
    mpirun(1, runs["lenet5"] + det + ["--save", whole])
    part = os.path.join(work, "part.safetensors")
    stopped = subprocess.run(
        MPIRUN + ["-np", "2", "-x", "NETC_STOP_AFTER_STEPS=2"] + runs["lenet5"] +
        det + ["--save", part], capture_output=True, text=True, timeout=300)
    resumed = mpirun(1, runs["lenet5"] + det + ["--save", part, "--resume", part])
    check(stopped.returncode != 0 and resumed.returncode == 0 and
          not identical(tensors(whole), tensors(part)),
          "a checkpoint of 2 processes (stopped after step 2) resumed on 1 "
          "ends bit-identical to an uninterrupted run")

    # A process killed mid-epoch: the job ends within 30 s, non-zero, naming
    # it; the last checkpoint loads.
    saved = os.path.join(work, "killed.safetensors")
    job = subprocess.Popen(
        MPIRUN + ["-np", "2", programs["lenet5"], "--threads", "1", "train",
                  "--data", mnist, "--epochs", "50", "--save-every", "0.001",
                  "--save", saved],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = None
    deadline = time.time() + 60
    while victim is None and time.time() < deadline:
        time.sleep(0.2)
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    env = f.read().split(b"\0")
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmdline = f.read()
            except OSError:
                continue
            if (b"OMPI_COMM_WORLD_RANK=1" in env and
                    programs["lenet5"].encode() in cmdline.split(b"\0")[0] and
                    os.path.exists(saved)):
                victim = int(pid)
    if victim is None:
        job.kill()
        check(False, "a process to kill: none found")
    else:
        time.sleep(0.5)
        os.kill(victim, signal.SIGKILL)
        killed = time.time()
        try:
            _, err = job.communicate(timeout=30)
            took = time.time() - killed
            named = "noticed that process rank 1" in err
            check(job.returncode != 0 and named,
                  f"killing process 1 mid-epoch ends the job in {took:.1f} s with "
                  f"status {job.returncode}, naming rank 1" +
                  ("" if named else f": {err[-400:]}"))
        except subprocess.TimeoutExpired:
            job.kill()
            check(False, "killing process 1 ends the job within 30 s")
        evaluated = subprocess.run([programs["lenet5"], "eval", "--weights", saved,
                                    "--data", mnist], capture_output=True, text=True)
        check(evaluated.returncode == 0,
              "the last checkpoint of the killed job loads and evaluates" +
              ("" if evaluated.returncode == 0 else ": " + evaluated.stderr))

    # Processes started differently are refused.
    mixed = subprocess.run(
        MPIRUN + ["-np", "1"] + runs["lenet5"] + ["--save", os.path.join(work, "m")] +
        [":", "-np", "1"] + runs["lenet5"] + ["--batch", "32", "--save",
                                              os.path.join(work, "m")],
        capture_output=True, text=True, timeout=60)
    check(mixed.returncode != 0 and "were not started alike" in mixed.stderr,
          "processes started with different --batch are refused" +
          ("" if "were not started alike" in mixed.stderr else ": " + mixed.stderr[-400:]))

    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
