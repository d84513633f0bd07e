#!/usr/bin/env bash
# Installs what remediate, its lab fleet and its tests need on a Debian machine, as root:
# Debian packages where missing, then the package itself into ./.venv.
set -euo pipefail
cd "$(dirname "$0")/.."

# apache2 and libapache2-mod-php: for `remediate lab up --apache` (hosts running a real Apache), which
# the test suite uses. attr and acl (getfattr, setfattr, setfacl, getfacl): lab hosts use the machine's
# binaries, and a host keeps its files' extended attributes and ACLs only where it has them. shellcheck,
# busybox and dash: the tests check the remote scripts with shellcheck and run them under each shell.
# postgresql: the tests run the journal on a PostgreSQL server of their own (tests/postgres.py: initdb in a
# temporary folder; the policy-rc.d below keeps the package's own cluster from starting).
missing=()
for pkg in openssh-server openssh-client php-cli coreutils sudo zsh apache2 libapache2-mod-php attr acl shellcheck busybox dash postgresql; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv python3-pip)

# The pid of the machine's own Apache (Debian's pid file, checked against /proc), if one runs.
system_apache() {
  local pid
  pid=$(cat /run/apache2/apache2.pid 2>/dev/null) || return 0
  [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = /usr/sbin/apache2 ] && echo "$pid"
  return 0
}

# Installing apache2 must not leave the machine's own Apache running: Debian's postinst starts it
# (invoke-rc.d apache2 start) with the stock config, whose `Listen 80` takes port 80 on every address,
# so no lab host's Apache (each on its own 127.0.x.y:80) could start. So:
# - during the install a policy-rc.d answering 101 ("action forbidden") makes invoke-rc.d skip every
#   start; it is written only when the machine has none (containers often ship one that denies all)
#   and removed afterwards, also when the install fails;
# - should an Apache run after all (a start that bypassed invoke-rc.d) and none ran before, the one
#   the install started is stopped by its pid file.
# On a machine booted with systemd, apache2.service stays enabled and starts at the next boot; then
# `remediate lab up --apache` refuses with "0.0.0.0:80 ... is already in use" and
# `systemctl disable --now apache2` is the fix.
install_packages() {
  local policy=/usr/sbin/policy-rc.d own_policy=false before after
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# Written by remediate scripts/setup.sh for one apt-get install; removed after it.\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=true
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  before=$(system_apache)
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  if $own_policy; then
    rm -f "$policy"
    trap - EXIT
  fi
  after=$(system_apache)
  if [ -z "$before" ] && [ -n "$after" ]; then
    echo "setup: stopping the Apache that installing apache2 started (pid $after)"
    kill "$after"
    # Not /proc/PID itself: a zombie keeps it, and PID 1 on some machines reaps late.
    for _ in $(seq 100); do [ -n "$(system_apache)" ] || break; sleep 0.1; done
  fi
}

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  apt-get update -qq
  install_packages "${missing[@]}"
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# This machine's pip configuration may name local package folders that do not exist; pip warns about
# each one. The warnings say nothing about remediate, so they are filtered; pip's own failure is not.
{ .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1; } \
  | { grep -v "^WARNING: Location '.*' is ignored" || true; }
