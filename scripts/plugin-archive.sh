#!/usr/bin/env bash
# Makes the archive of the provider plugin `pulumi-resource-virtwire`, for machines that install
# plugins from a file (no internet, or no npm there):
#
#   scripts/plugin-archive.sh [out-dir]      → out-dir/pulumi-resource-virtwire-v<version>-linux-<arch>.tar.gz
#   pulumi plugin install resource virtwire <version> --file <that archive>
#
# The CLI unpacks an archive into ~/.pulumi/plugins/resource-virtwire-v<version>/ and runs the
# executable named pulumi-resource-virtwire at its root (there is no PulumiPlugin.yaml, so it
# installs nothing itself). At the root: that launcher (`exec node …/main.js "$@"`; the machine
# needs Node.js >= 20 on PATH) and node_modules/ with virtwire (built from this checkout with
# `npm pack`) and its runtime dependencies, @pulumi/pulumi among them, installed with
# `npm install --omit=dev` (from npm's cache when this machine has installed them before).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
OUT="$(mkdir -p "${1:-$REPO}" && cd "${1:-$REPO}" && pwd)"
VERSION="$(node -p 'require(process.argv[1]).version' "$REPO/package.json")"
PULUMI="$(node -p 'require(process.argv[1]).devDependencies["@pulumi/pulumi"]' "$REPO/package.json")"
ARCH="$(node -p 'process.arch === "x64" ? "amd64" : process.arch')"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT

echo "plugin-archive: packing virtwire $VERSION" >&2
tarball="$(cd "$REPO" && npm pack --silent --pack-destination "$STAGE" | tail -n 1)"
cat >"$STAGE/package.json" <<JSON
{ "name": "pulumi-resource-virtwire", "version": "$VERSION", "private": true,
  "dependencies": { "virtwire": "file:./$tarball", "@pulumi/pulumi": "$PULUMI" } }
JSON
echo "plugin-archive: installing its runtime dependencies" >&2
(cd "$STAGE" && npm install --omit=dev --prefer-offline --no-audit --no-fund --loglevel=error) >&2
rm -f "$STAGE/$tarball" "$STAGE/package-lock.json"
# The CLI unpacks regular files and directories only: no .bin symlinks, no hard links (npm links
# files from its cache).
find "$STAGE/node_modules" -name .bin -type d -prune -exec rm -rf {} +
if find "$STAGE" -type l | grep -q .; then
  echo "plugin-archive: symbolic links in the tree, which pulumi plugin install refuses:" >&2
  find "$STAGE" -type l >&2
  exit 1
fi
cat >"$STAGE/pulumi-resource-virtwire" <<'SH'
#!/bin/sh
# The virtwire provider plugin: node on the package's bin entry, beside this file.
exec node "$(dirname "$(readlink -f "$0")")/node_modules/virtwire/dist/provider/plugin/main.js" "$@"
SH
chmod 755 "$STAGE/pulumi-resource-virtwire"
archive="$OUT/pulumi-resource-virtwire-v$VERSION-linux-$ARCH.tar.gz"
tar --hard-dereference -czf "$archive" -C "$STAGE" .
echo "plugin-archive: wrote $archive; install it with" >&2
echo "  pulumi plugin install resource virtwire $VERSION --file $archive" >&2
echo "$archive"
