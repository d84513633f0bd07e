#!/usr/bin/env bash
# Installs what remediate, its lab fleet and its tests need on a Debian machine, as root:
# Debian packages where missing, then the package itself into ./.venv.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for pkg in openssh-server openssh-client php-cli coreutils; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv python3-pip)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# This machine's pip configuration may name local package folders that do not exist; pip warns about
# each one. The warnings say nothing about remediate, so they are filtered; pip's own failure is not.
{ .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1; } \
  | { grep -v "^WARNING: Location '.*' is ignored" || true; }
