#!/usr/bin/env bash
# LeNet-5 trained by its generated program on the MNIST sample (data/mnist:
# 8,000 training and 2,000 held-out digits, written by scripts/setup.sh),
# with the model file's own recipe: the held-out top-1 after the last epoch
# must be at least 98%. With PROCESSES (default 1) above one, the program is
# built with --mpi and trained data-parallel by that many processes of one
# thread each (mpirun).
#   tests/training/mnist_accuracy.sh NETC REPO [PROCESSES]
set -euo pipefail
netc=$1 root=$2 processes=${3:-1}
required=98.0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$root/scripts/fetch_mnist.sh"
if [[ $processes -gt 1 ]]; then
  "$netc" build "$root/examples/lenet5.nn" --train --mpi -o "$work/lenet5"
  launch=(mpirun --allow-run-as-root --oversubscribe -np "$processes")
  threads=1
else
  "$netc" build "$root/examples/lenet5.nn" --train -o "$work/lenet5"
  launch=()
  threads=2
fi
"${launch[@]}" "$work/lenet5" --threads "$threads" train --data "$root/data/mnist" \
  --save "$work/lenet5.safetensors" --log "$work/metrics.csv"
accuracy=$(tail -n 1 "$work/metrics.csv" | cut -d, -f6)
echo "held-out top-1 after the last epoch: $accuracy% (required: $required%)"
# The checkpoint evaluates to the same accuracy through the inference path.
"$work/lenet5" eval --weights "$work/lenet5.safetensors" --data "$root/data/mnist"
awk -v a="$accuracy" -v r="$required" 'BEGIN { exit !(a >= r) }'
