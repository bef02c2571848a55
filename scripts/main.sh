#!/usr/bin/env bash
# The main job: set up, build netc, show what it makes of LeNet-5, compile
# LeNet-5 into a standalone program and time it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh" > /dev/null
"$root/build/bin/netc" summary "$root/examples/lenet5.nn"
echo
mkdir -p "$root/build/programs"
"$root/build/bin/netc" build "$root/examples/lenet5.nn" -o "$root/build/programs/lenet5"
"$root/build/programs/lenet5" bench --batch 64 --iters 50
