#!/usr/bin/env bash
# LeNet-5 trained by its generated program on the MNIST sample (data/mnist:
# 8,000 training and 2,000 held-out digits, written by scripts/setup.sh),
# with the model file's own recipe: the held-out top-1 after the last epoch
# must be at least 98%.
#   tests/training/mnist_accuracy.sh NETC REPO
set -euo pipefail
netc=$1 root=$2
required=98.0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$root/scripts/fetch_mnist.sh"
"$netc" build "$root/examples/lenet5.nn" --train -o "$work/lenet5"
"$work/lenet5" --threads 2 train --data "$root/data/mnist" \
  --save "$work/lenet5.safetensors" --log "$work/metrics.csv"
accuracy=$(tail -n 1 "$work/metrics.csv" | cut -d, -f6)
echo "held-out top-1 after the last epoch: $accuracy% (required: $required%)"
# The checkpoint evaluates to the same accuracy through the inference path.
"$work/lenet5" eval --weights "$work/lenet5.safetensors" --data "$root/data/mnist"
awk -v a="$accuracy" -v r="$required" 'BEGIN { exit !(a >= r) }'
