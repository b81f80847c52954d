#!/usr/bin/env bash
# The lab of examples/lab on this machine in one command (root, Debian 12).
#
#   bash scripts/lab.sh up         install what is missing (Node.js and npm packages, the test bed,
#                                  the Pulumi CLI), deploy the lab, print the VMs' addresses
#   bash scripts/lab.sh down       destroy everything the lab created (its stack and settings stay)
#   bash scripts/lab.sh pulumi …   any pulumi command on the lab's stack, e.g. `lab.sh pulumi stack output`
#   bash scripts/lab.sh address VM the address of one VM, e.g. vm1
#
# The lab runs on the test bed's libvirtd (scripts/testbed.sh), so its VMs are the test bed's tiny
# TCG guest (128 MiB each, direct kernel boot); their network lives in the `virtwire` network
# namespace: reach them with
#   ip netns exec virtwire busybox ping -c5 "$(bash scripts/lab.sh address vm1)"
# Pulumi runs on this machine with a local file backend in $VIRTWIRE_LAB_STATE (default
# /var/lib/virtwire/lab), which also holds a generated passphrase for the stack's secrets and the
# base image.
# Stack: $VIRTWIRE_LAB_STACK (default lab).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
LAB="$REPO/examples/lab"
STATE="${VIRTWIRE_LAB_STATE:-/var/lib/virtwire/lab}"
STACK="${VIRTWIRE_LAB_STACK:-lab}"
TARBALL="$REPO/examples/virtwire.tgz"

log() { echo "lab: $*" >&2; }
die() { log "error: $*"; exit 1; }

# shellcheck source=lib/node.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/node.sh"

# virtwire as users get it: built, then packed (a real directory under node_modules, so the
# provider serializes to a `require("virtwire/provider")` stub). Rebuilt when a source is newer.
pack_virtwire() {
  if [ -f "$TARBALL" ] && [ -z "$(find index.ts rpc provider resources sdk package.json schema.json \
    README.md LICENSE tsconfig.json tsconfig.build.json -newer "$TARBALL" -print -quit)" ]; then
    return
  fi
  log "building and packing virtwire"
  local staging
  staging="$(mktemp -d)"
  node node_modules/typescript/bin/tsc -p tsconfig.build.json --outDir "$staging/dist"
  cp package.json README.md schema.json LICENSE "$staging/"
  # --ignore-scripts: package.json's `prepare` builds from sources, which the staging directory lacks.
  (cd "$staging" && npm pack --silent --ignore-scripts >/dev/null)
  mv "$staging"/virtwire-*.tgz "$TARBALL"
  rm -rf "$staging"
  rm -rf "$LAB/node_modules/virtwire" # npm would keep the old copy
}

install_example() {
  if [ ! -d "$LAB/node_modules/virtwire" ] || [ "$LAB/package.json" -nt "$LAB/node_modules/.package-lock.json" ]; then
    log "installing the example's packages (npm install in examples/lab)"
    (cd "$LAB" && npm install --no-package-lock --prefer-offline --no-audit --no-fund --loglevel=error)
  fi
}

# PATH, offline settings, backend and passphrase for the pulumi commands that follow.
pulumi_env() {
  local cli_env
  cli_env="$(bash scripts/pulumi-cli.sh env)"
  eval "$cli_env"
  mkdir -p "$STATE/backend"
  if [ ! -s "$STATE/passphrase" ]; then
    (umask 077 && head -c 24 /dev/urandom | base64 >"$STATE/passphrase")
  fi
  export PULUMI_BACKEND_URL="file://$STATE/backend" PULUMI_CONFIG_PASSPHRASE_FILE="$STATE/passphrase"
  unset PULUMI_CONFIG_PASSPHRASE
}

# The test bed's guest, and a password for the VMs' `lab` user, unless already set.
configure_stack() {
  eval "$(bash scripts/testbed.sh env)"
  (cd "$LAB" && pulumi stack select --create "$STACK" >/dev/null)
  pulumi -C "$LAB" config set lab:domainType "$VIRTWIRE_GUEST_DOMAIN_TYPE"
  pulumi -C "$LAB" config set lab:kernel "$VIRTWIRE_GUEST_KERNEL"
  pulumi -C "$LAB" config set lab:initrd "$VIRTWIRE_GUEST_INITRD"
  pulumi -C "$LAB" config set lab:cmdline "$VIRTWIRE_GUEST_CMDLINE"
  pulumi -C "$LAB" config set lab:memory 128MiB
  # The base image stands in for a cloud image: the test guest's initramfs, uncompressed (a
  # volume must be an image a guest can read). The guests boot from kernel and initrd.
  if [ ! -s "$STATE/test-guest.img" ] || [ "$VIRTWIRE_GUEST_INITRD" -nt "$STATE/test-guest.img" ]; then
    gunzip -c "$VIRTWIRE_GUEST_INITRD" >"$STATE/test-guest.img.new"
    mv "$STATE/test-guest.img.new" "$STATE/test-guest.img"
  fi
  pulumi -C "$LAB" config get lab:image >/dev/null 2>&1 ||
    pulumi -C "$LAB" config set lab:image "$STATE/test-guest.img"
  pulumi -C "$LAB" config get lab:password >/dev/null 2>&1 ||
    head -c 12 /dev/urandom | base64 | pulumi -C "$LAB" config set --secret lab:password
}

cmd_up() {
  [ "$(id -u)" = 0 ] || die "run as root (the test bed needs it): sudo bash scripts/lab.sh up"
  local started=$SECONDS
  ensure_node
  ensure_npm_packages
  bash scripts/testbed.sh up
  pulumi_env
  pack_virtwire
  install_example
  configure_stack
  log "pulumi up (stack $STACK)"
  local deploy=$SECONDS
  pulumi -C "$LAB" up --yes --skip-preview
  log "deployed in $((SECONDS - deploy)) s ($((SECONDS - started)) s in all); VM addresses:"
  pulumi -C "$LAB" stack output addresses --json
  log "reach them inside the test bed's namespace, e.g.: ip netns exec virtwire busybox ping -c5 \"\$(bash scripts/lab.sh address vm1)\""
}

cmd_down() {
  pulumi_env
  if ! (cd "$LAB" && pulumi stack select "$STACK" >/dev/null 2>&1); then
    log "no stack $STACK: nothing to destroy"
    return
  fi
  pulumi -C "$LAB" destroy --yes --skip-preview
}

case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
pulumi)
  shift
  pulumi_env
  (cd "$LAB" && pulumi stack select "$STACK" >/dev/null) || die "no stack $STACK yet: run up first"
  pulumi -C "$LAB" "$@"
  ;;
address)
  [ -n "${2:-}" ] || die "which VM? e.g. bash scripts/lab.sh address vm1"
  pulumi_env
  (cd "$LAB" && pulumi stack select "$STACK" >/dev/null) || die "no stack $STACK yet: run up first"
  pulumi -C "$LAB" stack output addresses --json | node -e '
    const addresses = JSON.parse(require("fs").readFileSync(0, "utf8")) ?? {};
    const vm = process.argv[1];
    if (typeof addresses[vm] !== "string") {
      console.error(`lab: no address for ${vm}; the lab has ${Object.keys(addresses).join(", ") || "no VMs"}`);
      process.exit(1);
    }
    console.log(addresses[vm]);
  ' "$2"
  ;;
*) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
