#!/usr/bin/env bash
# virtwire's Python and Go SDKs, generated from schema.json by Pulumi's own code generators
# (scripts/sdkgen: pkg/v3/codegen/python and codegen/go at the CLI's version) into sdk/python and
# sdk/go. Every generated file says so in its header. The generators read schema.json as the
# provider plugin serves it (scripts/codegen/served-schema.ts): with the explicit provider's
# section derived from `config`, so `Provider` takes the same settings in every language.
#
#   scripts/sdk-langs.sh [gen]   regenerate sdk/python and sdk/go  (npm run gen:langs)
#   scripts/sdk-langs.sh check   exit 1 when either is stale        (npm run gen:langs:check)
#   scripts/sdk-langs.sh verify  check, then compile both: every Python file with py_compile and
#                                the package imported with `pulumi` from PyPI in a cached venv;
#                                `go build ./...` and `go vet ./...` with Pulumi's Go SDK from the
#                                Go module proxy                    (npm run gen:langs:verify)
#   scripts/sdk-langs.sh build   build the generator if the cache lacks it, print its path (for
#                                scripts/test.sh, outside the test namespace that has no network)
#
# The generator is built through the Go module proxy and cached in
# $VIRTWIRE_CACHE_DIR/sdkgen/<hash of its sources>/ (default /var/cache/virtwire): about a minute
# the first time after the CLI's build, milliseconds afterwards. Messages go to stderr.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
WRAPPER="$HERE/sdkgen"
LANGUAGES=(python go)

log() { echo "sdk-langs: $*" >&2; }
die() { log "$*"; exit 1; }

# shellcheck source=lib/go.sh
source "$HERE/lib/go.sh"
# shellcheck source=lib/python.sh
source "$HERE/lib/python.sh"
ROOT="$(virtwire_cache_root)"
CACHE="$ROOT/sdkgen/$(files_hash "$WRAPPER" go.mod go.sum main.go)"

# Prints the path of the generator, building it once per version of its sources.
sdkgen() {
	if [ ! -x "$CACHE/sdkgen" ]; then
		mkdir -p "$ROOT/sdkgen"
		exec 8>"$ROOT/sdkgen/.lock"
		flock 8
		if [ ! -x "$CACHE/sdkgen" ]; then
			ensure_go "$WRAPPER/go.mod" "$ROOT/pulumi"
			log "building the SDK generator from the Go modules"
			mkdir -p "$CACHE"
			(cd "$WRAPPER" && nice -n 10 go build -mod=readonly -buildvcs=false -trimpath -ldflags "-w -s" \
				-o "$CACHE/sdkgen.new" .) >&2 || die "building scripts/sdkgen failed (see above)"
			mv "$CACHE/sdkgen.new" "$CACHE/sdkgen"
			# Builds of earlier sources are never used again.
			find "$ROOT/sdkgen" -mindepth 1 -maxdepth 1 -type d ! -path "$CACHE" -exec rm -rf {} +
		fi
	fi
	echo "$CACHE/sdkgen"
}

# Generates every language into directory $1 (<dir>/python, <dir>/go), from the served schema.
generate_into() {
	local out="$1" gen language
	gen="$(sdkgen)"
	"$REPO/node_modules/.bin/ts-node" --transpile-only "$REPO/scripts/codegen/served-schema.ts" \
		>"$out/schema.json" || die "deriving the served schema failed"
	for language in "${LANGUAGES[@]}"; do
		"$gen" "$out/schema.json" "$language" "$out/$language" || die "generating the $language SDK failed"
	done
}

gen() {
	local tmp language
	tmp="$(mktemp -d)"
	generate_into "$tmp"
	for language in "${LANGUAGES[@]}"; do
		rm -rf "$REPO/sdk/$language"
		mv "$tmp/$language" "$REPO/sdk/$language"
		log "wrote sdk/$language"
	done
	rm -rf "$tmp"
}

check() {
	local tmp language stale=0
	tmp="$(mktemp -d)"
	generate_into "$tmp"
	for language in "${LANGUAGES[@]}"; do
		if ! diff -r -q "$tmp/$language" "$REPO/sdk/$language" >&2; then
			log "sdk/$language is stale; run npm run gen:langs"
			stale=1
		fi
	done
	rm -rf "$tmp"
	return "$stale"
}

verify_python() {
	local venv tmp
	venv="$(ensure_python_venv "$ROOT")"
	tmp="$(mktemp -d)"
	cp -r "$REPO/sdk/python/." "$tmp/sdk"
	python3 -m compileall -q "$tmp/sdk" >&2 || die "the Python SDK does not compile"
	log "python: every file compiles"
	# Installed (into a scratch directory) as a user would: the SDK reads its version from the
	# package's metadata.
	"$venv/bin/pip" install -q --no-deps --no-build-isolation --target "$tmp/site" "$tmp/sdk" >&2 ||
		die "pip could not install the Python SDK (see above)"
	(cd "$tmp" && PYTHONPATH="$tmp/site" "$venv/bin/python" -c '
import pulumi_virtwire as v
for kind in ("Provider", "Domain", "Network", "Pool", "Volume", "CloudInitDisk"):
    assert isinstance(getattr(v, kind), type), kind
assert v._utilities.get_version() == "0.1.0", v._utilities.get_version()
') >&2 || die "importing pulumi_virtwire failed (see above)"
	log "python: pulumi_virtwire imports with pulumi $PYTHON_PULUMI"
	rm -rf "$tmp"
}

verify_go() {
	local tmp
	ensure_go "$WRAPPER/go.mod" "$ROOT/pulumi"
	tmp="$(mktemp -d)"
	cp -r "$REPO/sdk/go/." "$tmp/"
	# go.sum is the consumer's business; here it is written in a scratch copy.
	(cd "$tmp" && go mod tidy && nice -n 10 go build ./... && go vet ./...) >&2 ||
		die "the Go SDK does not build (see above)"
	log "go: go build ./... and go vet ./... pass"
	rm -rf "$tmp"
}

cd "$REPO"
case "${1:-gen}" in
gen) gen ;;
check) check ;;
build) sdkgen ;;
verify)
	check
	verify_python
	verify_go
	;;
-h | --help | help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
*) die "unknown command '$1' (try --help)" ;;
esac
