"""Checkpoints survive kills: LeNet-5 training SIGKILLed at random moments,
half of them while a checkpoint is being written, resumed each time.

After every kill a loadable checkpoint exists (once the first was written);
the run that finally completes leaves no temporary file behind; and its
weights, optimizer state and position are bit-identical to an uninterrupted
run's (one thread, the same seed).

    kill_resume.py --netc build/bin/netc [--kills 20]
"""
import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "reference"))
from check_training import read_safetensors  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))


def signature(path):
    """What tells one write of `path` from another, or None."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--netc", required=True)
    parser.add_argument("--kills", type=int, default=20)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="netc-kill-")
    program = os.path.join(work, "lenet5")
    subprocess.run([args.netc, "build", os.path.join(ROOT, "examples", "lenet5.nn"),
                    "--train", "-o", program], check=True, stderr=subprocess.DEVNULL)

    # Checkpoints within epochs every 30 ms, so that kills land near writes.
    common = [program, "--threads", "1", "train", "--data", "synthetic",
              "--epochs", "3", "--max-batches", "12", "--save-every", "0.0005"]
    reference = os.path.join(work, "reference.safetensors")
    subprocess.run(common + ["--save", reference], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    checkpoint = os.path.join(work, "killed.safetensors")
    tmp = checkpoint + ".tmp"
    rng = random.Random(20261206)
    kills = during_write = completions = 0
    while True:
        command = common + ["--save", checkpoint]
        if os.path.exists(checkpoint):
            command += ["--resume", checkpoint]
        # Half of the kills wait for a checkpoint write in progress (made
        # slow by the test hook), the others come at a random moment.
        in_write = kills < args.kills and kills % 2 == 1
        env = dict(os.environ, NETC_SLOW_WRITE_MS="300") if in_write else None
        # A temporary left by an earlier kill is not a write in progress.
        stale = signature(tmp)
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=env)
        if kills < args.kills:
            deadline = time.time() + (5.0 if in_write else rng.uniform(0.0, 0.25))
            while time.time() < deadline and proc.poll() is None:
                if in_write and signature(tmp) not in (None, stale):
                    break
                time.sleep(0.002)
            if proc.poll() is None:
                in_write_now = signature(tmp) not in (None, stale)
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills += 1
                during_write += in_write_now
                if os.path.exists(checkpoint):
                    read_safetensors(checkpoint)  # loadable, or this raises
                continue
        _, err = proc.communicate()
        if proc.returncode != 0:
            sys.exit("training failed after %d kills: %s" % (kills, err.decode()))
        # Finished: the weights, state and position equal the uninterrupted
        # run's, and no temporary is left.
        assert not os.path.exists(tmp), "a temporary file was left behind: " + tmp
        with open(reference, "rb") as a, open(checkpoint, "rb") as b:
            if a.read() != b.read():
                sys.exit("after %d kills the final checkpoint differs from the "
                         "uninterrupted run's" % kills)
        completions += 1
        if kills >= args.kills:
            break
        os.remove(checkpoint)  # train again from the start, for more kills
    print("%d kills (%d during a checkpoint write), %d runs completed: each "
          "final checkpoint bit-identical to the uninterrupted run's"
          % (kills, during_write, completions))
    if during_write < args.kills // 2:
        sys.exit("too few kills landed during a checkpoint write")


if __name__ == "__main__":
    main()
