#!/usr/bin/env bash
# One stack of 100 volumes: how long a no-change `pulumi preview` and a `pulumi refresh` take
# (bench/volumes/many.ts). As root, after `bash scripts/testbed.sh up`:
#
#   bash bench/volumes/run.sh
#   VWBENCH_VOLUMES=300 VWBENCH_ROUNDS=3 bash bench/volumes/run.sh
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
eval "$(bash scripts/testbed.sh env 2>/dev/null)"
export VWBENCH_PULUMI_BIN="$(bash scripts/pulumi-cli.sh bin)"
export VWBENCH_URI="qemu:///system?socket=$VIRTWIRE_LIBVIRT_SOCK"
node -r ts-node/register/transpile-only bench/volumes/many.ts
