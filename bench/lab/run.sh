#!/usr/bin/env bash
# examples/lab with virtwire (`pulumi up`) against Terraform + terraform-provider-libvirt (TPL),
# side by side on the test bed's daemon (bench/lab/compare.ts). As root, after
# `bash scripts/testbed.sh up`:
#
#   bash bench/lab/run.sh                     # 3 rounds, 3 VMs
#   VWBENCH_ROUNDS=5 bash bench/lab/run.sh
#
# Builds TPL 0.8.3 once from the Go module proxy (go mod download, then go build in the module's
# directory of the module cache) into $VIRTWIRE_CACHE_DIR/tpl (default /var/cache/virtwire/tpl), and
# gives Terraform only that provider, offline: a private TF_CLI_CONFIG_FILE whose
# filesystem_mirror is a temporary directory, direct installation excluded. A TPL 0.9 binary is
# used when VWBENCH_TPL09_BIN names one (its module is not served by the proxy here).
# Everything temporary is named vwtest-bench-… and removed on exit.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
log() { echo "bench: $*" >&2; }

eval "$(bash scripts/testbed.sh env 2>/dev/null)"
pulumi_bin="$(bash scripts/pulumi-cli.sh bin)"
terraform="${VWBENCH_TERRAFORM:-$(command -v terraform || true)}"
[[ -x "$terraform" ]] || {
	log "no terraform: install it (https://developer.hashicorp.com/terraform/install) or set VWBENCH_TERRAFORM"
	exit 1
}
log "$("$terraform" version | head -1), pulumi $("$pulumi_bin/pulumi" version)"

cache="${VIRTWIRE_CACHE_DIR:-/var/cache/virtwire}/tpl"
tpl083="$cache/v0.8.3/terraform-provider-libvirt_v0.8.3"
if [[ ! -x "$tpl083" ]]; then
	log "building terraform-provider-libvirt v0.8.3 from the Go module proxy (about a minute)"
	dir="$(go mod download -json github.com/dmacvicar/terraform-provider-libvirt@v0.8.3 |
		node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8")).Dir)')"
	mkdir -p "$(dirname "$tpl083")"
	# -mod=mod: the module's go.sum lacks a few test-only sums; the module cache stays read-only.
	(cd "$dir" && nice -n 10 go build -mod=mod -trimpath -ldflags "-s -w" \
		-o "$tpl083.new" .) >&2
	mv "$tpl083.new" "$tpl083"
fi

tmp="$(mktemp -d /tmp/vwtest-bench-setup-XXXXXX)"
trap 'rm -rf "$tmp"' EXIT

# A filesystem mirror per provider version, each with its own CLI config (Terraform's
# "unpacked" layout: <host>/<namespace>/<type>/<version>/<os_arch>/<binary>).
mirror() { # name version binary
	local dir="$tmp/$1"
	mkdir -p "$dir/mirror/registry.terraform.io/dmacvicar/libvirt/$2/linux_amd64"
	ln -s "$3" "$dir/mirror/registry.terraform.io/dmacvicar/libvirt/$2/linux_amd64/terraform-provider-libvirt_v$2"
	cat >"$dir/cli.tfrc" <<-EOF
		provider_installation {
		  filesystem_mirror {
		    path    = "$dir/mirror"
		    include = ["registry.terraform.io/dmacvicar/libvirt"]
		  }
		  direct {
		    exclude = ["registry.terraform.io/*/*"]
		  }
		}
		disable_checkpoint = true
	EOF
	echo "$1=$dir/cli.tfrc"
}
tpl="$(mirror tpl-0.8.3 0.8.3 "$tpl083")"
if [[ -n "${VWBENCH_TPL09_BIN:-}" ]]; then
	log "VWBENCH_TPL09_BIN is set, but TPL 0.9 has a new schema and examples/lab/terraform is written for 0.8; not run"
else
	log "no TPL 0.9 binary (VWBENCH_TPL09_BIN); its module is not served by the Go module proxy here"
fi

# The trace preload runs inside the measured Node processes: compiled to plain JavaScript.
node node_modules/typescript/bin/tsc --outDir "$tmp/preload" --module commonjs --target ES2020 \
	--types node --skipLibCheck --esModuleInterop bench/lab/trace-preload.ts

# A private copy of the CLI's bin directory (hard links: instant, no space): the shared cache's
# language host is reinstalled in place (rm -rf, then mv) whenever a checkout with other host
# sources runs scripts/pulumi-cli.sh, which broke a run midway. pulumi finds the host and the
# shim beside its own executable, so the copy is self-contained.
cp -al "$pulumi_bin" "$tmp/pulumi-bin" 2>/dev/null || cp -a "$pulumi_bin" "$tmp/pulumi-bin"
pulumi_bin="$tmp/pulumi-bin"

export VWBENCH_PULUMI_BIN="$pulumi_bin" VWBENCH_TERRAFORM="$terraform" VWBENCH_TPL="$tpl"
export VWBENCH_PRELOAD="$tmp/preload/trace-preload.js" VWBENCH_DAEMON_SOCKET="$VIRTWIRE_LIBVIRT_SOCK"
# The harness itself runs through ts-node (it is not measured; the measured processes are plain
# node, pulumi and terraform). It starts each measured command inside the test bed's namespace;
# it stays outside, where the cgroup hierarchies are mounted (ip netns exec mounts its own /sys).
export VWBENCH_NETNS="$VIRTWIRE_NETNS"
node -r ts-node/register/transpile-only bench/lab/compare.ts
