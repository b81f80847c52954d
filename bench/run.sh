#!/usr/bin/env bash
# virtwire vs libvirt-python against the test bed daemon, side by side (bench/compare.ts).
#
#   bash bench/run.sh                      # defaults: 3 rounds, 20 000 calls, 1 GiB dense,
#                                          # 2 GiB sparse, 4 GiB for the RSS target
#   VWBENCH_ROUNDS=5 VWBENCH_BIG_MIB=0 bash bench/run.sh
#
# Builds bench/ and the rpc/ and transfer/ it imports with tsc into a temporary directory (plain node at run
# time: no ts-node hooks in the measured processes), runs the comparison, removes the build.
# compare.ts creates and removes its own temporary dir pool, volumes and files (vwtest-bench-…).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

python="${VWBENCH_PYTHON:-/usr/bin/python3}"
if ! "$python" -c 'import libvirt' 2>/dev/null && [[ "$python" == /usr/bin/python3 && $EUID -eq 0 ]]; then
  echo "bench: installing python3-libvirt (the libvirt-python side)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-libvirt >/dev/null
fi
if ! "$python" -c 'import libvirt' 2>/dev/null; then
  echo "bench: $python cannot import libvirt (apt-get install python3-libvirt)" >&2
  exit 1
fi

build="$(mktemp -d /tmp/vwtest-bench-build-XXXXXX)"
trap 'rm -rf "$build"' EXIT
# Type errors elsewhere in the tree must not stop a benchmark: tsc still emits.
npx tsc -p bench/tsconfig.json --outDir "$build" >"$build/tsc.log" 2>&1 || {
  [[ -f "$build/bench/compare.js" ]] || { cat "$build/tsc.log" >&2; exit 1; }
  echo "bench: tsc reported type errors (built anyway):" >&2
  head -20 "$build/tsc.log" >&2
}

export NODE_PATH="$repo/node_modules${NODE_PATH:+:$NODE_PATH}"
export VWBENCH_PYTHON="$python"
export VWBENCH_PYTHON_SCRIPT="$repo/bench/python/libvirt_bench.py"
node "$build/bench/compare.js"
