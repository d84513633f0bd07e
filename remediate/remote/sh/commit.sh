# The functions of a write's script (see commit.py), after records.sh. Set by the generated part:
# CURRENT_LIMIT, bytes of a conflicting file sent back (one more than answer.CURRENT_LIMIT, which says
# "larger than that"); KILL_GRACE, seconds from timeout's TERM to its KILL; STEP_OUTPUT_LIMIT, bytes of a
# validator's or handler's output sent back; d, the lock's private folder (hostlock.py).
set -u
umask 077
LC_ALL=C; export LC_ALL
fail() { tell error "$1" "$2"; exit 1; }
# shellcheck disable=SC2046  # sha256sum's answer split into words on purpose: the first is the sum
sum() { set -- $(sha256sum < "$1") && printf '%s' "$1"; }
cas() {
  if [ "$2" = absent ]; then
    if [ -e "$1" ] || [ -L "$1" ]; then say conflict "$3" "the file now exists"; exit 3; fi
  else
    [ -f "$1" ] || { say conflict "$3" "the file is gone"; exit 3; }
    c=$(sum "$1") || fail "$3" "cannot read $1"
    # What the file holds now, so that the conflict can be shown as a diff against the plan's basis.
    if [ "$c" != "$2" ]; then
      printf 'current %s %s\n' "$3" "$(head -c "$CURRENT_LIMIT" < "$1" | base64 -w0)"
      say conflict "$3" "$c"; exit 3
    fi
  fi
}
cleanup() { for t in "$@"; do [ -n "$t" ] && rm -f -- "$t"; done; }
p=''; dl=0
# shellcheck disable=SC2034  # h: set once the handlers ran, read by gone (both generated, commit.py)
h=''
# A validator or handler ("$@": sh -c's arguments), until the deadline dl, in a process group of its own
# (timeout leads one, and at the deadline ends all of it), with the lock's descriptor closed and its
# output in a file of the lock's private folder: a pipe could be held open by a daemon a handler starts.
# s: its status; output then sets o, its output (only a failure needs it: one process fewer).
# Time is the uptime in hundredths of a second, read by a builtin.
# shellcheck disable=SC2154  # d: set by the lock's generated part (hostlock.lock_shell)
step() {
  now; left=$(( dl - c ))
  if [ "$left" -lt 1 ]; then : > "$d/out"; s=125; return; fi
  c=$(( left % 100 )); [ "$c" -ge 10 ] || c=0$c; left=$(( left / 100 )).$c
  timeout -k "$KILL_GRACE" "$left" sh -c "$@" > "$d/out" 2>&1 < /dev/null 9>&- & p=$!
  wait "$p"; s=$?; p=''
}
# shellcheck disable=SC2154  # d, as for step
output() {
  o=$(head -c "$STEP_OUTPUT_LIMIT" -- "$d/out"); : > "$d/out"
  case $s in 124|137) o="timed out after $left s${o:+: $o}";; 125) o="not run: the run's time on the host was up";; esac
}
now() {
  read -r u _ < /proc/uptime 2>/dev/null || u=0.00
  c=${u%.*}${u#*.}; while [ "${c#0}" != "$c" ]; do c=${c#0}; done; : "${c:=0}"  # no leading 0: not octal
}
deadline() { now; dl=$(( c + $1 * 100 )); }
