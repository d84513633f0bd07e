#!/usr/bin/env bash
# The fleet benchmark in one command, as root on a Debian machine:
#   benchmarks/run.sh [--hosts 100] [--repeat 3] [--tools remediate,pyinfra,ansible,ansible-tuned,openssh] [...]
# Installs the Debian packages the lab and the floors need where missing, installs every tool as its
# users install it, each in a venv of its own:
#   benchmarks/.venv-remediate  rebuilt on every run: `pip install` of a snapshot of this checkout's
#                               tracked files (not editable, no extras, default dependency resolution)
#   benchmarks/.venv-pyinfra    pip install pyinfra
#   benchmarks/.venv-ansible    pip install ansible-core
#   benchmarks/.venv-fabric     pip install fabric (only when the Fabric floor is asked for)
# raises the open-file limit, and runs benchmarks/bench.py with the remediate venv's Python and the
# arguments given (`benchmarks/run.sh --help` lists them).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "run.sh: the lab fleet needs root (mount namespaces, one sshd per host)" >&2
  exit 2
fi

# openssh-server, php-cli: the lab hosts; openssh-client: ssh-keygen and the OpenSSH floor;
# findutils: xargs; util-linux, mount: the lab's namespaces; git, tar: the snapshot of the checkout.
missing=()
for pkg in openssh-server openssh-client php-cli findutils util-linux mount git tar; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv python3-pip)
if [ ${#missing[@]} -gt 0 ]; then
  echo "run.sh: installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# This machine's pip configuration may name local package folders that do not exist; pip warns about
# each one. Those warnings say nothing about the benchmark, so they are filtered; pip's failure is not.
pip_install() {  # pip install into the venv $1, quietly
  local python=$1/bin/python
  shift
  { "$python" -m pip install -q --disable-pip-version-check "$@" 2>&1; } \
    | { grep -v "^WARNING: Location '.*' is ignored" || true; }
}
new_venv() {  # a venv at $1 unless there is one
  [ -x "$1/bin/python" ] || python3 -m venv "$1"
}

# remediate: a snapshot of the checkout's tracked files (as they are in the working tree), so that edits
# made in the checkout while the benchmark runs cannot leak into it, installed with `pip install` into a
# venv built afresh, as a user's first install: whatever paramiko, cryptography etc. pip resolves today.
# The snapshot is taken again if the checkout changed while it was copied.
snapshot=$(mktemp -d /tmp/remediate-bench-snapshot.XXXXXX)
trap 'rm -rf "$snapshot"' EXIT
state() {  # the commit, and a hash of the tracked files' changes against it
  printf '%s %s' "$(git describe --always --dirty)" "$(git diff HEAD --binary | sha256sum | cut -c1-16)"
}
for attempt in 1 2 3; do
  before=$(state)
  find "$snapshot" -mindepth 1 -delete
  git ls-files -z | tar --null --ignore-failed-read -T - -c 2>/dev/null | tar -x -C "$snapshot"
  after=$(state)
  [ "$before" = "$after" ] && break
  echo "run.sh: the checkout changed while it was copied; copying it again" >&2
  [ "$attempt" -lt 3 ] || { echo "run.sh: the checkout keeps changing; no stable snapshot" >&2; exit 2; }
done
describe=${after%% *}
diff_hash=${after##* }
commit=$(git rev-parse HEAD)

venv=benchmarks/.venv-remediate
echo "run.sh: installing remediate $describe (a snapshot of the checkout) into a new $venv ..."
rm -rf "$venv"
python3 -m venv "$venv"
pip_install "$venv" "$snapshot"
# What the venv holds, for bench.py's results.
"$venv/bin/python" - "$describe" "$commit" "$diff_hash" "$venv/remediate-snapshot.json" <<'EOF'
import datetime, json, sys
describe, commit, diff_hash, path = sys.argv[1:]
with open(path, "w") as out:
    json.dump({
        "describe": describe,
        "commit": commit,
        "dirty": describe.endswith("-dirty"),
        "diff_sha256": diff_hash if describe.endswith("-dirty") else None,  # of `git diff HEAD --binary`
        "installed_at": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }, out, indent=1)
EOF
rm -rf "$snapshot"

# pyinfra and Ansible: installed once (kept between runs, so that runs compare; delete the venv to get
# the newest release), each alone in its venv, as its users install it.
pyinfra_venv=benchmarks/.venv-pyinfra
new_venv "$pyinfra_venv"
pip_install "$pyinfra_venv" pyinfra
ansible_venv=benchmarks/.venv-ansible
new_venv "$ansible_venv"
pip_install "$ansible_venv" ansible-core
# The Fabric floor (optional, not in the default tools): only when asked for, in a venv of its own like
# every tool, on the paramiko remediate's venv resolved.
case " $* " in
  *fabric*)
    fabric_venv=benchmarks/.venv-fabric
    new_venv "$fabric_venv"
    paramiko_version=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("paramiko"))')
    pip_install "$fabric_venv" fabric "paramiko==$paramiko_version"
    ;;
esac

# 1,000 hosts: every tool holds a socket (OpenSSH and Ansible a process and pipes) per host in flight.
ulimit -n "$(ulimit -Hn)"
exec "$venv/bin/python" benchmarks/bench.py "$@"
