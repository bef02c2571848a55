#!/usr/bin/env bash
# The main job: set up (packages, the MNIST sample in data/mnist), build
# netc, show what it makes of LeNet-5, compile LeNet-5 into a standalone
# training program, train it on the 8,000 training digits with the model
# file's recipe, and evaluate the result on the 2,000 held-out digits.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh" > /dev/null
"$root/build/bin/netc" summary "$root/examples/lenet5.nn"
echo
out="$root/build/programs"
mkdir -p "$out"
"$root/build/bin/netc" build "$root/examples/lenet5.nn" --train -o "$out/lenet5"
"$out/lenet5" train --data "$root/data/mnist" \
  --save "$out/lenet5.safetensors" --log "$out/lenet5-metrics.csv"
echo
"$out/lenet5" eval --weights "$out/lenet5.safetensors" --data "$root/data/mnist"
echo "weights: $out/lenet5.safetensors, metrics: $out/lenet5-metrics.csv"
