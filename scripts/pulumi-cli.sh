#!/usr/bin/env bash
# Makes a Pulumi CLI available for tests and the quick start, without network access beyond the
# package registries: `pulumi` itself, and beside it virtwire's own Node.js language host
# (pulumi-cli/language-host, installed as `pulumi-language-nodejs`) and dynamic-provider shim
# (pulumi-cli/bin/pulumi-resource-pulumi-nodejs).
#
#   scripts/pulumi-cli.sh [bin]   ensure a CLI, print its bin directory on stdout
#   scripts/pulumi-cli.sh env     ensure a CLI, print `export PATH=…` and the offline settings
#   scripts/pulumi-cli.sh build   build from the Go modules even if another CLI is on PATH
#
# Where the CLI comes from, first match wins:
#   1. `pulumi` on PATH with `pulumi-language-nodejs` beside it or on PATH;
#   2. an earlier result of this script in the cache;
#   3. the official installer (get.pulumi.com), tried with short time-outs;
#   4. a build of the CLI from Pulumi's Go modules through the Go module proxy (scripts/pulumi-cli/).
# 2–4 get our language host and shim beside `pulumi`. Results are cached outside the repository,
# in $VIRTWIRE_CACHE_DIR/pulumi/<version>/bin (default /var/cache/virtwire, or ~/.cache/virtwire
# when that is not writable), so a machine installs or builds once; a change to the language host
# reinstalls only the host. Needs the repository's node_modules (npm ci) for TypeScript.
# Messages go to stderr; stdout carries only the result.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WRAPPER="$HERE/pulumi-cli"
REPO="$(dirname "$HERE")"

# The version built from source: must match the require lines of scripts/pulumi-cli/go.mod.
BUILD_VERSION="v3.260.0"
# The version asked of the installer: the @pulumi/pulumi in node_modules, if any.
install_version() {
	local v
	v="$(node -p 'require("@pulumi/pulumi/package.json").version' 2>/dev/null || true)"
	echo "${v:-${BUILD_VERSION#v}}"
}

log() { echo "pulumi-cli: $*" >&2; }
die() { log "$*"; exit 1; }

# shellcheck source=lib/go.sh
source "$HERE/lib/go.sh"
CACHE="$(virtwire_cache_root)/pulumi"

HOST_SOURCES="$WRAPPER/language-host"
LAUNCHERS="$WRAPPER/bin"

PROGRAMGEN="$WRAPPER/programgen"

# The language host's sources, launchers and program generator; a cached host with another hash is
# reinstalled.
host_hash() {
	(cd "$WRAPPER" && find language-host bin programgen -type f ! -name '*.test.ts' -print0 |
		LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
}

# Prints the path of the host's program generator (programgen/, Pulumi's TypeScript generator at
# the CLI's version), building it once per version of its sources into $CACHE/programgen/<hash>.
# The caller holds the lock.
programgen() {
	local out
	out="$CACHE/programgen/$(files_hash "$PROGRAMGEN" go.mod go.sum main.go)"
	if [ ! -x "$out/programgen" ]; then
		ensure_go "$PROGRAMGEN/go.mod" "$CACHE"
		log "building the host's program generator from the Go modules"
		mkdir -p "$out"
		(cd "$PROGRAMGEN" && nice -n 10 go build -mod=readonly -buildvcs=false -trimpath -ldflags "-w -s" \
			-o "$out/programgen.new" .) >&2 || die "building scripts/pulumi-cli/programgen failed (see above)"
		mv "$out/programgen.new" "$out/programgen"
		# Builds of earlier sources are never used again.
		find "$CACHE/programgen" -mindepth 1 -maxdepth 1 -type d ! -path "$out" -exec rm -rf {} +
	fi
	echo "$out/programgen"
}

# Installs our language host and the dynamic-provider shim into bin dir $1: the launchers, the
# host compiled with the repository's TypeScript, its runtime packages (npm ci from its lock file;
# --prefer-offline takes them from npm's cache when the repository installed them) and its program
# generator. CLIs may be running from $1 meanwhile (other test runs share the cache), so nothing
# they use is ever missing: the host is built in a directory of its own, `language-host` is a
# symbolic link switched to it in one rename, and the previous host stays until the next install.
install_host() {
	local bin="$1" tsc="$REPO/node_modules/typescript/bin/tsc" host new previous="" link file
	[ -f "$tsc" ] || die "TypeScript is missing from $REPO/node_modules: run npm ci in $REPO first"
	host="$bin/language-host"
	new="$(mktemp -d "$bin/language-host.XXXXXX")"
	log "installing the Node.js language host into $bin"
	node "$tsc" -p "$HOST_SOURCES/tsconfig.json" --outDir "$new" >&2 ||
		die "compiling the language host failed (see above)"
	cp "$HOST_SOURCES/package.json" "$HOST_SOURCES/package-lock.json" "$new/"
	(cd "$new" && npm ci --omit=dev --prefer-offline --no-audit --no-fund --loglevel=error) >&2 ||
		die "installing the language host's packages failed (see above)"
	cp "$(programgen)" "$new/programgen"
	chmod 755 "$new"
	if [ -L "$host" ]; then
		previous="$bin/$(readlink "$host")"
	elif [ -d "$host" ]; then
		# A host installed before hosts were links is a directory, which a rename cannot replace.
		previous="$(mktemp -u "$bin/language-host.XXXXXX")"
		mv "$host" "$previous"
	fi
	link="$(mktemp -u "$bin/.language-host-link.XXXXXX")"
	ln -s "$(basename "$new")" "$link"
	mv -T "$link" "$host"
	# Hosts older than the previous one are no longer running.
	for file in "$bin"/language-host.*; do
		[ "$file" = "$new" ] || [ "$file" = "$previous" ] || rm -rf "$file"
	done
	for file in pulumi-language-nodejs pulumi-resource-pulumi-nodejs; do
		cp "$LAUNCHERS/$file" "$bin/.$file.new"
		chmod +x "$bin/.$file.new"
		mv "$bin/.$file.new" "$bin/$file"
	done
}

# Line 1 of a cache entry's stamp says where `pulumi` came from; line 2 which host is installed.
stamp_cli() { sed -n 1p "$1/stamp" 2>/dev/null; }
stamp_host() { sed -n 2p "$1/stamp" 2>/dev/null; }

# One install or build per machine at a time; whoever waited finds the result in the cache.
LOCKED=0
lock() {
	[ "$LOCKED" = 1 ] && return 0
	exec 9>"$CACHE/.lock"
	flock 9
	LOCKED=1
}

# Gives cache entry $1 the current host if it has another one.
refresh_host() {
	local d="$1"
	[ "$(stamp_host "$d")" = "host $(host_hash)" ] && return 0
	lock
	if [ "$(stamp_host "$d")" != "host $(host_hash)" ]; then
		install_host "$d/bin"
		printf '%s\nhost %s\n' "$(stamp_cli "$d")" "$(host_hash)" >"$d/stamp"
	fi
}

# 1. An ambient CLI.
from_path() {
	local pulumi dir
	pulumi="$(command -v pulumi 2>/dev/null)" || return 1
	dir="$(dirname "$(readlink -f "$pulumi")")"
	# Our own cache on PATH (after `eval "$(… env)"`): step 2 checks it is current.
	case "$dir" in "$(readlink -f "$CACHE")"/*) return 1 ;; esac
	if [ ! -x "$dir/pulumi-language-nodejs" ] && ! command -v pulumi-language-nodejs >/dev/null; then
		log "ignoring $pulumi: no pulumi-language-nodejs beside it or on PATH"
		return 1
	fi
	if [ ! -x "$dir/pulumi-resource-pulumi-nodejs" ] &&
		! command -v pulumi-resource-pulumi-nodejs >/dev/null; then
		log "warning: $pulumi has no pulumi-resource-pulumi-nodejs beside it; dynamic providers need it"
	fi
	echo "$dir"
}

# A cached build of `pulumi` is valid when its stamp matches the wrapper module's go.mod and go.sum.
wrapper_hash() {
	files_hash "$WRAPPER" go.mod go.sum
}

# 2. An earlier result in the cache (its host brought up to date).
from_cache() {
	local d
	d="$CACHE/$BUILD_VERSION"
	if [ -x "$d/bin/pulumi" ] && [ "$(stamp_cli "$d")" = "build $(wrapper_hash)" ]; then
		refresh_host "$d"
		echo "$d/bin"
		return 0
	fi
	d="$CACHE/v$(install_version)"
	if [ -x "$d/bin/pulumi" ] && [ "$(stamp_cli "$d")" = "installer" ]; then
		refresh_host "$d"
		echo "$d/bin"
		return 0
	fi
	return 1
}

# 3. The official installer. Here it fails at once (no DNS); elsewhere it may hang, hence the limits.
from_installer() {
	[ "${VIRTWIRE_PULUMI_NO_INSTALLER:-}" = "1" ] && return 1
	command -v curl >/dev/null || return 1
	local d tmp version
	version="$(install_version)"
	d="$CACHE/v$version"
	tmp="$(mktemp -d "$CACHE/.install.XXXXXX")"
	log "trying the official installer for $version"
	if curl -fsSL --connect-timeout 5 --max-time 30 https://get.pulumi.com -o "$tmp/install.sh" 2>/dev/null &&
		timeout 300 sh "$tmp/install.sh" --version "$version" --install-root "$tmp/root" \
			--no-edit-path >&2 2>&1 &&
		[ -x "$tmp/root/bin/pulumi" ]; then
		# One language host everywhere: ours replaces the release's, so tests run the same code.
		install_host "$tmp/root/bin"
		printf 'installer\nhost %s\n' "$(host_hash)" >"$tmp/root/stamp"
		rm -rf "$d" && mv "$tmp/root" "$d"
		rm -rf "$tmp"
		echo "$d/bin"
		return 0
	fi
	rm -rf "$tmp"
	log "the installer is not reachable; building from the Go modules instead"
	return 1
}

# 4. A build of `pulumi` from the Go modules. See scripts/pulumi-cli/README.md.
from_source() {
	ensure_go "$WRAPPER/go.mod" "$CACHE"
	local d tmp flags t0 t1
	d="$CACHE/$BUILD_VERSION"
	rm -rf "$CACHE"/.build.* # left by an interrupted build; we hold the lock
	tmp="$(mktemp -d "$CACHE/.build.XXXXXX")"
	mkdir -p "$tmp/bin"
	# -mod=readonly: the committed go.sum is exact, and a build never edits the repository.
	flags=(-mod=readonly -buildvcs=false -trimpath -tags osusergo,grpcnotrace
		-ldflags "-w -s -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$BUILD_VERSION")
	log "building Pulumi $BUILD_VERSION from the Go modules (several minutes on 2 cores)"
	t0=$(date +%s)
	# `go list -deps` fetches the modules the CLI needs. Not `go mod download`: it also wants each
	# module's .info, which the proxy here refuses for some pseudo-versions (gocloud.dev).
	(cd "$WRAPPER" && go list -mod=readonly -deps github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
		>/dev/null) >&2 || die "fetching the Go modules failed (see above)"
	t1=$(date +%s)
	log "modules ready in $((t1 - t0)) s"
	(cd "$WRAPPER" && nice -n 10 go build "${flags[@]}" -o "$tmp/bin/pulumi" \
		github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) >&2 || die "building pulumi failed (see above)"
	t0=$(date +%s)
	log "pulumi built in $((t0 - t1)) s"
	install_host "$tmp/bin"
	printf 'build %s\nhost %s\n' "$(wrapper_hash)" "$(host_hash)" >"$tmp/stamp"
	rm -rf "$d" && mkdir -p "$d" && mv "$tmp/bin" "$tmp/stamp" "$d/"
	rm -rf "$tmp"
	echo "$d/bin"
}

ensure() {
	local mode="$1"
	mkdir -p "$CACHE"
	if [ "$mode" != build ]; then
		from_path && return 0
		from_cache && return 0
	fi
	lock
	if [ "$mode" = build ]; then
		from_source
	else
		from_cache || from_installer || from_source
	fi
}

cd "$REPO"
case "${1:-bin}" in
bin) ensure bin ;;
build) ensure build ;;
env)
	dir="$(ensure bin)" || exit 1
	echo "export PATH=\"$dir:\$PATH\""
	echo "export PULUMI_SKIP_UPDATE_CHECK=true"
	echo "export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true"
	;;
-h | --help | help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
*) die "unknown command '$1' (try --help)" ;;
esac
