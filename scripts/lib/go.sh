# shellcheck shell=bash
# Helpers for the scripts that build Go programs through the Go module proxy
# (scripts/pulumi-cli.sh, scripts/pulumi-yaml.sh, scripts/sdk-langs.sh). Sourcing scripts define
# log and die.

# virtwire_cache_root: where builds are cached, outside the repository: $VIRTWIRE_CACHE_DIR, else
# /var/cache/virtwire, else ~/.cache/virtwire when that is not writable.
virtwire_cache_root() {
	if [ -n "${VIRTWIRE_CACHE_DIR:-}" ]; then
		echo "$VIRTWIRE_CACHE_DIR"
	elif mkdir -p /var/cache/virtwire 2>/dev/null && [ -w /var/cache/virtwire ]; then
		echo /var/cache/virtwire
	else
		echo "${XDG_CACHE_HOME:-$HOME/.cache}/virtwire"
	fi
}

# ensure_go GO_MOD CACHE: a Go new enough for the go.mod at GO_MOD on PATH: the one on PATH, else
# Go's own toolchain module (golang.org/toolchain, what GOTOOLCHAIN=auto would fetch) from the Go
# module proxy, cached under CACHE/go-toolchain.
ensure_go() {
	local gomod="$1" cache="$2" want have proxy dir zip
	want="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")"
	if command -v go >/dev/null; then
		have="$(go env GOVERSION 2>/dev/null | sed 's/^go//')"
		if [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -1)" = "$want" ]; then return; fi
	fi
	dir="$cache/go-toolchain/go$want"
	if [ ! -x "$dir/bin/go" ]; then
		command -v curl >/dev/null && command -v unzip >/dev/null || {
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
				curl unzip ca-certificates >/dev/null
		}
		proxy="${GOPROXY:-https://proxy.golang.org}"
		proxy="${proxy%%,*}"
		log "fetching Go $want from the Go module proxy (golang.org/toolchain)"
		zip="$(mktemp)"
		curl -fsSL "$proxy/golang.org/toolchain/@v/v0.0.1-go$want.linux-amd64.zip" -o "$zip" ||
			die "no Go >= $want here, and the Go module proxy did not serve its toolchain"
		rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
		unzip -q "$zip" -d "$dir.tmp" && rm -f "$zip"
		rm -rf "$dir" && mv "$dir.tmp/golang.org/toolchain@v0.0.1-go$want.linux-amd64" "$dir" && rm -rf "$dir.tmp"
	fi
	export PATH="$dir/bin:$PATH" GOTOOLCHAIN=local
}

# files_hash DIR FILE…: a short hash of the named files of DIR, for cache stamps.
files_hash() {
	local dir="$1"
	shift
	(cd "$dir" && sha256sum "$@" | sha256sum | cut -c1-16)
}
