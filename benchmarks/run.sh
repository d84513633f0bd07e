#!/usr/bin/env bash
# The fleet benchmark in one command, as root on a Debian machine:
#   benchmarks/run.sh [--hosts 100] [--repeat 3] [--tools remediate,pyinfra,ansible,fabric,openssh] [...]
# Installs the Debian packages the lab and the floors need where missing, builds benchmarks/.venv
# (remediate from this checkout, plus ansible-core and pyinfra, which are never dependencies of the
# package) and benchmarks/.venv-fabric (the Fabric floor), raises the open-file limit, and runs
# benchmarks/bench.py with the arguments given
# (`benchmarks/run.sh --help` lists them).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "run.sh: the lab fleet needs root (mount namespaces, one sshd per host)" >&2
  exit 2
fi

# openssh-server, php-cli: the lab hosts; openssh-client: ssh-keygen and the OpenSSH floor;
# findutils: xargs; util-linux, mount: the lab's namespaces.
missing=()
for pkg in openssh-server openssh-client php-cli findutils util-linux mount; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv python3-pip)
if [ ${#missing[@]} -gt 0 ]; then
  echo "run.sh: installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

venv=benchmarks/.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
# Installed every time (quick when nothing changed) so the venv follows the checkout's dependencies.
# This machine's pip configuration may name local package folders that do not exist; pip warns about
# each one. Those warnings say nothing about the benchmark, so they are filtered; pip's failure is not.
pip_install() {  # pip install into the venv $1, quietly
  local python=$1/bin/python
  shift
  { "$python" -m pip install -q --disable-pip-version-check "$@" 2>&1; } \
    | { grep -v "^WARNING: Location '.*' is ignored" || true; }
}
pip_install "$venv" -e . ansible-core pyinfra
# Fabric (the floor) has a venv of its own, as each tool would be installed by its users: where Fabric's
# invoke is installed, paramiko imports it at start (about 30 ms), so in one shared venv remediate and
# pyinfra would pay for the floor's library. A tools venv built before this keeps no Fabric either.
if "$venv/bin/python" -c 'import importlib.util, sys; sys.exit(not importlib.util.find_spec("invoke"))'; then
  "$venv/bin/python" -m pip uninstall -q -y fabric invoke
fi
fabric_venv=benchmarks/.venv-fabric
if [ ! -x "$fabric_venv/bin/python" ]; then
  python3 -m venv "$fabric_venv"
fi
# The floor runs on the same paramiko as remediate and pyinfra.
paramiko_version=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("paramiko"))')
pip_install "$fabric_venv" fabric "paramiko==$paramiko_version"

# 500 hosts: every tool holds a socket (OpenSSH and Ansible a process and pipes) per host in flight.
ulimit -n "$(ulimit -Hn)"
export PATH="$PWD/$venv/bin:$PATH"
exec "$venv/bin/python" benchmarks/bench.py "$@"
