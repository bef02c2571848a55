"""Checks every example's `netc summary --json` against the PyTorch
reference in models.py: the exact parameter count, multiply-adds within 1%,
and, for examples named as torchvision names its modules, every parameter's
name and shape in definition order.

    python3 tests/reference/check_examples.py --netc build/bin/netc
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402


def netc_summary(netc, path):
    out = subprocess.run([netc, "summary", path, "--json"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--netc", required=True)
    parser.add_argument("--examples", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples"))
    parser.add_argument("models", nargs="*", default=list(models.MODELS))
    args = parser.parse_args()

    import torch
    torch.set_num_threads(2)
    examples = sorted(f[:-3] for f in os.listdir(args.examples) if f.endswith(".nn"))
    missing = sorted(set(examples) - set(models.MODELS))
    passed = failed = 0
    if missing:
        print(f"FAIL: examples without a PyTorch reference: {missing}")
        failed += 1

    for name in args.models:
        ours = netc_summary(args.netc, os.path.join(args.examples, name + ".nn"))
        ref = models.measure(name)
        problems = []
        if ours["params"] != ref["params"]:
            problems.append(f"params {ours['params']:,} != PyTorch {ref['params']:,}")
        if abs(ours["macs"] - ref["macs"]) > 0.01 * ref["macs"]:
            problems.append(f"MACs {ours['macs']:,} differ from PyTorch "
                            f"{ref['macs']:,} by more than 1%")
        if name in models.TORCHVISION_NAMES:
            mine = [[p["name"], p["shape"]] for p in ours["parameters"]
                    if p["trainable"]]
            if mine != ref["parameters"]:
                first = next((i for i, (a, b) in enumerate(zip(mine, ref["parameters"]))
                              if a != b), min(len(mine), len(ref["parameters"])))
                problems.append(
                    f"parameter {first} differs from torchvision: "
                    f"{mine[first] if first < len(mine) else None} vs "
                    f"{ref['parameters'][first] if first < len(ref['parameters']) else None}")
        status = "ok" if not problems else "FAIL: " + "; ".join(problems)
        print(f"{name:14} params {ours['params']:>12,}  MACs {ours['macs']:>16,}  {status}")
        if problems:
            failed += 1
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
