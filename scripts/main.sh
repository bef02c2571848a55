#!/usr/bin/env bash
# The main job: set up, build, and show what netc makes of LeNet-5.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh" > /dev/null
"$root/build/bin/netc" summary "$root/examples/lenet5.nn"
