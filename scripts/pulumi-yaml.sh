#!/usr/bin/env bash
# Makes Pulumi's YAML language host, `pulumi-language-yaml`, available beside the Pulumi CLI of
# scripts/pulumi-cli.sh, without network access beyond the package registries: it builds the host
# from the `github.com/pulumi/pulumi-yaml` Go module through the Go module proxy
# (scripts/pulumi-yaml/go.mod, which pins the version and raises pulumi/pkg/v3 to the CLI's).
#
#   scripts/pulumi-yaml.sh [bin]   ensure the CLI and the host, print the CLI's bin directory
#                                  (`<cli bin>:<host bin>` when the host cannot go beside the CLI)
#   scripts/pulumi-yaml.sh env     the same, as `export PATH=…` and the offline settings
#   scripts/pulumi-yaml.sh build   rebuild the host even if the cache has it
#
# The CLI looks for `pulumi-language-yaml` on PATH, then next to itself (a *bundled* language
# host, like nodejs). A CLI that already has one beside it (an official release) keeps it; into
# our own cached CLI (/var/cache/virtwire/pulumi/<version>/bin) the host is copied. The build is
# cached in $VIRTWIRE_CACHE_DIR/pulumi-yaml/<version>/bin with a stamp of go.mod and go.sum, so a
# machine builds once; later runs take milliseconds. A CLI elsewhere (a developer's own) is not
# written to: without a host of its own, `bin` names our cache's bin directory after it.
# Messages go to stderr; stdout carries only the result.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WRAPPER="$HERE/pulumi-yaml"

log() { echo "pulumi-yaml: $*" >&2; }
die() { log "$*"; exit 1; }

# shellcheck source=lib/go.sh
source "$HERE/lib/go.sh"
ROOT="$(virtwire_cache_root)"
# The version built: must match the require line of scripts/pulumi-yaml/go.mod.
VERSION="$(sed -n 's#^\tgithub.com/pulumi/pulumi-yaml \(v[^ ]*\).*#\1#p' "$WRAPPER/go.mod")"
[ -n "$VERSION" ] || die "no github.com/pulumi/pulumi-yaml requirement in $WRAPPER/go.mod"
CACHE="$ROOT/pulumi-yaml/$VERSION"
STAMP="build $VERSION $(files_hash "$WRAPPER" go.mod go.sum)"

# The cached build is current when its stamp matches go.mod and go.sum.
cached() { [ -x "$CACHE/bin/pulumi-language-yaml" ] && [ "$(cat "$CACHE/stamp" 2>/dev/null)" = "$STAMP" ]; }

build() {
	ensure_go "$WRAPPER/go.mod" "$ROOT/pulumi"
	local tmp t0 t1 flags
	mkdir -p "$ROOT/pulumi-yaml"
	rm -rf "$ROOT/pulumi-yaml"/.build.* # left by an interrupted build; we hold the lock
	tmp="$(mktemp -d "$ROOT/pulumi-yaml/.build.XXXXXX")"
	mkdir -p "$tmp/bin"
	# As upstream's release (.goreleaser.yml): -trimpath, no debug info, the version linked in.
	flags=(-mod=readonly -buildvcs=false -trimpath
		-ldflags "-w -s -X github.com/pulumi/pulumi-yaml/pkg/version.Version=$VERSION")
	log "building pulumi-language-yaml $VERSION from the Go modules (minutes on 2 cores)"
	t0=$(date +%s)
	# `go list -deps` fetches what the build needs (not `go mod download`: see ../pulumi-cli/README.md).
	(cd "$WRAPPER" && go list -mod=readonly -deps github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml \
		>/dev/null) >&2 || die "fetching the Go modules failed (see above)"
	(cd "$WRAPPER" && nice -n 10 go build "${flags[@]}" -o "$tmp/bin/pulumi-language-yaml" \
		github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml) >&2 ||
		die "building pulumi-language-yaml failed (see above)"
	t1=$(date +%s)
	log "pulumi-language-yaml built in $((t1 - t0)) s"
	echo "$STAMP" >"$tmp/stamp"
	rm -rf "$CACHE" && mkdir -p "$CACHE" && mv "$tmp/bin" "$tmp/stamp" "$CACHE/"
	rm -rf "$tmp"
}

# One build per machine at a time; whoever waited finds the result in the cache.
ensure_built() {
	local force="$1"
	if [ "$force" = 0 ] && cached; then return 0; fi
	mkdir -p "$ROOT/pulumi-yaml"
	exec 8>"$ROOT/pulumi-yaml/.lock"
	flock 8
	if [ "$force" = 1 ] || ! cached; then build; fi
}

# Copies the cached host into our own cached CLI's bin directory $1, unless it is there already.
install_beside() {
	local cli="$1"
	cmp -s "$cli/.pulumi-language-yaml.stamp" "$CACHE/stamp" && return 0
	cp "$CACHE/bin/pulumi-language-yaml" "$cli/.pulumi-language-yaml.new"
	mv "$cli/.pulumi-language-yaml.new" "$cli/pulumi-language-yaml"
	cp "$CACHE/stamp" "$cli/.pulumi-language-yaml.stamp"
}

# Prints the directories PATH needs, joined by `:`, the CLI's first.
ensure() {
	local force="$1" cli
	cli="$(bash "$HERE/pulumi-cli.sh" bin)" || die "no Pulumi CLI (scripts/pulumi-cli.sh failed)"
	case "$(readlink -f "$cli")" in
	"$(readlink -f "$ROOT/pulumi")"/*)
		ensure_built "$force"
		install_beside "$cli"
		echo "$cli"
		;;
	*)
		# Someone else's CLI: an official release has its own YAML host beside it; else ours on PATH.
		if [ "$force" = 0 ] && [ -x "$cli/pulumi-language-yaml" ]; then
			echo "$cli"
		else
			ensure_built "$force"
			echo "$cli:$CACHE/bin"
		fi
		;;
	esac
}

case "${1:-bin}" in
bin) ensure 0 ;;
build) ensure 1 ;;
env)
	dirs="$(ensure 0)" || exit 1
	echo "export PATH=\"$dirs:\$PATH\""
	echo "export PULUMI_SKIP_UPDATE_CHECK=true"
	echo "export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true"
	;;
-h | --help | help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
*) die "unknown command '$1' (try --help)" ;;
esac
