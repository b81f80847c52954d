#!/usr/bin/env bash
# The whole test suite, the README's test command and what .ci/run calls.
#
# On a fresh Debian 12 machine as root it installs what is missing (Node.js packages, the test
# bed's Debian packages), starts the test bed (scripts/testbed.sh: the host's libvirtd 9.0 inside
# the `virtwire` network namespace, and libvirt 11 from a Debian 13 root in `virtwire11`) and the
# Pulumi CLI for the e2e tests (scripts/pulumi-cli.sh, with the language hosts of
# scripts/pulumi-yaml.sh and scripts/pulumi-python.sh; and the SDK generator of
# scripts/sdk-langs.sh), type-checks, and runs every jest project (unit, integration on libvirt
# 9.0, integration-11 on libvirt 11, e2e; see jest.config.js) inside the `virtwire` namespace, so
# TCP/TLS/SSH tests only ever reach loopback or our own guests (the libvirt 11 daemon's unix socket
# is a file, reachable from there).
#
# The last line printed is `N passed, N failed, N skipped`, over all projects, after one line per
# daemon for the integration tests. Exits non-zero when a test failed, a suite could not run, or
# no test ran at all.
#
# Usage: bash scripts/test.sh [jest arguments…]   e.g. bash scripts/test.sh --selectProjects unit
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "test: $*" >&2; }

# Whatever stops the run before jest reports (a failed install, a test bed that did not come up, a
# type error), CI still gets a closing line that counts it as a failure.
summary_printed=0
trap '[ "$summary_printed" = 1 ] || echo "0 passed, 1 failed, 0 skipped"' EXIT

# shellcheck source=lib/node.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/node.sh"

ensure_node
ensure_npm_packages
ensure_npm_metadata
bash scripts/testbed.sh up
eval "$(bash scripts/testbed.sh env)"
export VIRTWIRE_TEST_URI VIRTWIRE_NETNS
# The e2e tests' Pulumi CLI, built or installed here: the namespace has no network.
VIRTWIRE_PULUMI_BIN="$(bash scripts/pulumi-cli.sh)" || log "warning: no Pulumi CLI; e2e tests will fail"
export VIRTWIRE_PULUMI_BIN
# Beside it Pulumi's YAML language host and our Python one (with a venv holding `pulumi` from PyPI
# and sdk/python), and the generator behind sdk/python and sdk/go, made here for the same reason
# (all cached: later runs take milliseconds).
VIRTWIRE_PULUMI_YAML_BIN="$(bash scripts/pulumi-yaml.sh)" ||
	log "warning: no YAML language host; the YAML e2e tests will fail"
VIRTWIRE_PYTHON_VENV="$(bash scripts/pulumi-python.sh venv)" ||
	log "warning: no Python language host; the Python e2e tests will fail"
export VIRTWIRE_PULUMI_YAML_BIN VIRTWIRE_PYTHON_VENV
bash scripts/sdk-langs.sh build >/dev/null ||
	log "warning: no SDK generator; the sdk/python and sdk/go check will fail"

log "type-checking"
npx tsc -p tsconfig.json --noEmit

mkdir -p reports
rm -f reports/jest.json reports/testbed-events.log
# A shared daemon revived during the run (test/support/daemon-watch.ts) is written here, and the
# summary below prints it.
export VIRTWIRE_TESTBED_EVENTS="$PWD/reports/testbed-events.log"
log "running jest inside network namespace ${VIRTWIRE_NETNS}"
status=0
# Two test files at a time: most of a file's time is spent waiting on guests, daemons and the
# Pulumi CLI, so on a 2-core machine two overlap well (jest's default would be one).
ip netns exec "${VIRTWIRE_NETNS}" npx jest --ci --maxWorkers=2 --json --outputFile=reports/jest.json "$@" ||
	status=$?

summary_printed=1
node scripts/summarize-jest.js reports/jest.json || status=$?
exit "$status"
