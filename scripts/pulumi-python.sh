#!/usr/bin/env bash
# Makes Python Pulumi programs runnable with the Pulumi CLI of scripts/pulumi-cli.sh, without
# network access beyond the package registries: a venv with `pulumi` from PyPI and virtwire's
# generated Python SDK (sdk/python), and virtwire's own Python language host (scripts/pulumi-python:
# Pulumi's is refused by the Go module proxy, see its README.md) beside `pulumi`.
#
#   scripts/pulumi-python.sh [bin]   ensure all of it, print the CLI's bin directory
#   scripts/pulumi-python.sh venv    the same, print the venv's directory (a program's
#                                    `runtime.options.virtualenv`)
#
# The venv is cached in $VIRTWIRE_CACHE_DIR/python/venv-pulumi-<version> (default
# /var/cache/virtwire), shared with scripts/sdk-langs.sh verify; the SDK is reinstalled into it
# when sdk/python changes, the host when scripts/pulumi-python changes. Later runs take
# milliseconds. Only our own cached CLI gets the host; another CLI (a developer's own, which has
# Pulumi's host beside it) is used as it is. Messages go to stderr; stdout carries only the result.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
SOURCES="$HERE/pulumi-python"

log() { echo "pulumi-python: $*" >&2; }
die() { log "$*"; exit 1; }

# shellcheck source=lib/go.sh
source "$HERE/lib/go.sh"
# shellcheck source=lib/python.sh
source "$HERE/lib/python.sh"
ROOT="$(virtwire_cache_root)"

sdk_hash() {
	(cd "$REPO/sdk/python" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum |
		sha256sum | cut -c1-16)
}

# Installs sdk/python into venv $1 unless the installed copy is current.
install_sdk() {
	local venv="$1" stamp tmp
	stamp="sdk $(sdk_hash)"
	[ "$(cat "$venv/.virtwire-sdk" 2>/dev/null)" = "$stamp" ] && return 0
	log "installing sdk/python into $venv"
	# From a copy: a build writes build/ and *.egg-info beside the sources.
	tmp="$(mktemp -d)"
	cp -r "$REPO/sdk/python/." "$tmp/"
	"$venv/bin/pip" install -q --no-deps --no-build-isolation --force-reinstall "$tmp" >&2 ||
		die "installing sdk/python failed (see above)"
	rm -rf "$tmp"
	echo "$stamp" >"$venv/.virtwire-sdk"
}

# Installs the host beside our cached CLI in bin directory $1, run by venv $2.
install_host() {
	local cli="$1" venv="$2" stamp
	stamp="host $(files_hash "$SOURCES" host.py run.py pulumi-language-python) $venv"
	[ "$(cat "$cli/.pulumi-language-python.stamp" 2>/dev/null)" = "$stamp" ] && return 0
	log "installing the Python language host into $cli"
	rm -rf "$cli/python-host.new" && mkdir -p "$cli/python-host.new"
	cp "$SOURCES/host.py" "$SOURCES/run.py" "$cli/python-host.new/"
	rm -rf "$cli/python-host" && mv "$cli/python-host.new" "$cli/python-host"
	sed "s#@PYTHON@#$venv/bin/python#" "$SOURCES/pulumi-language-python" \
		>"$cli/.pulumi-language-python.new"
	chmod +x "$cli/.pulumi-language-python.new"
	mv "$cli/.pulumi-language-python.new" "$cli/pulumi-language-python"
	echo "$stamp" >"$cli/.pulumi-language-python.stamp"
}

ensure() {
	local cli venv
	cli="$(bash "$HERE/pulumi-cli.sh" bin)" || die "no Pulumi CLI (scripts/pulumi-cli.sh failed)"
	venv="$(ensure_python_venv "$ROOT")"
	install_sdk "$venv"
	case "$(readlink -f "$cli")" in
	"$(readlink -f "$ROOT/pulumi")"/*) install_host "$cli" "$venv" ;;
	*) [ -x "$cli/pulumi-language-python" ] || log "warning: $cli has no pulumi-language-python" ;;
	esac
	printf '%s\n%s\n' "$cli" "$venv"
}

case "${1:-bin}" in
bin) ensure | sed -n 1p ;;
venv) ensure | sed -n 2p ;;
-h | --help | help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
*) die "unknown command '$1' (try --help)" ;;
esac
