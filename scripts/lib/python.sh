# shellcheck shell=bash
# ensure_python_venv ROOT: prints the path of a venv with `pulumi` $PYTHON_PULUMI from PyPI (and
# what the generated SDK and pip builds need), made once under ROOT/python. Sourcing scripts define
# log and die.

# The `pulumi` package from PyPI: the CLI's version (scripts/pulumi-cli.sh BUILD_VERSION).
: "${PYTHON_PULUMI:=3.260.0}"
ensure_python_venv() {
	local venv="$1/python/venv-pulumi-$PYTHON_PULUMI"
	# A venv cannot move (its scripts name its path), so `.complete` marks a finished one.
	if [ ! -e "$venv/.complete" ]; then
		mkdir -p "$1/python"
		exec 7>"$1/python/.lock"
		flock 7
		if [ ! -e "$venv/.complete" ]; then
			# Debian ships venv's pip bootstrap separately (python3-venv).
			if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
				log "installing python3 and python3-venv from the distribution"
				apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
					--no-install-recommends python3 python3-venv >/dev/null || die "no python3 with venv"
			fi
			log "creating $venv with pulumi $PYTHON_PULUMI from PyPI"
			rm -rf "$venv"
			python3 -m venv "$venv" >&2 &&
				"$venv/bin/pip" install -q "pulumi==$PYTHON_PULUMI" parver semver setuptools wheel >&2 ||
				die "no venv with pulumi from PyPI (see above)"
			touch "$venv/.complete"
		fi
	fi
	echo "$venv"
}
