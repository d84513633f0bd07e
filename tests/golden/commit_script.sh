# shellcheck disable=SC2016  # single-quoted words are data here (file bytes, paths, messages, commands for sh -c): none is to expand
{
CURRENT_LIMIT=1048577 KILL_GRACE=1 STEP_OUTPUT_LIMIT=65536
# The records every script of ours writes: WORD INDEX DETAIL, the detail base64 when it came from the
# host (tell), so that a line stays a line. unlockable: the host's lock is refused (see hostlock.py).
say() { printf '%s %s %s\n' "$1" "$2" "$3"; }
tell() { printf '%s %s %s\n' "$1" "$2" "$(printf '%s' "$3" | base64 -w0)"; }
unlockable() { tell unlockable 0 "$1"; exit 5; }
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
echo remediate-answer-begin
d=/run/remediate
if [ "${held:-}" != 20261203T123456Z-golden ]; then
[ -d "$d" ] || mkdir -m 0700 -- "$d" 2>/dev/null
# shellcheck disable=SC2015  # a chain of checks: what follows || runs when any of them fails
[ ! -L "$d" ] && [ -O "$d" ] && m=$(stat -c %f -- "$d" 2>/dev/null) && [ $((0x$m & 0170022)) = 16384 ] || unlockable 'the lock folder /run/remediate is not a folder of the run'"'"'s user alone'
[ ! -L "$d/lock" ] || unlockable 'the lock /run/remediate/lock is not a regular file of the run'"'"'s user'
exec 9<>"$d/lock" || unlockable 'cannot open the lock /run/remediate/lock'
# shellcheck disable=SC2015  # a chain of checks: what follows || runs when any of them fails
[ -f "$d/lock" ] && [ ! -L "$d/lock" ] && [ -O "$d/lock" ] || unlockable 'the lock /run/remediate/lock is not a regular file of the run'"'"'s user'
flock -w 5 9 || { tell locked 0 "$(head -c 512 -- "$d/holder" 2>/dev/null)"; exit 5; }
printf '%s since %s\n' 20261203T123456Z-golden 2026-12-03T12:34:56Z > "$d/holder"
held=20261203T123456Z-golden
fi
for f in /etc/app/.remediate-??????; do [ -f "$f" ] && rm -f -- "$f" && tell stale 0 "$f"; done
for f in /etc/app/new/sub/.remediate-??????; do [ -f "$f" ] && rm -f -- "$f" && tell stale 0 "$f"; done
for f in /etc/app/old/.remediate-??????; do [ -f "$f" ] && rm -f -- "$f" && tell stale 0 "$f"; done
for f in /srv/real/.remediate-??????; do [ -f "$f" ] && rm -f -- "$f" && tell stale 0 "$f"; done
t0=''; r0=''
t1=''; r1=''
t2=''; r2=''
k=''
m0=''
m1=''
unmake() {
  [ -z "$k" ] || return 0
  [ -z "$m1" ] || rmdir -- /etc/app/new/sub 2>/dev/null
  [ -z "$m0" ] || rmdir -- /etc/app/new 2>/dev/null
  :
}
trap 'cleanup "$t0" "$t1" "$t2"; unmake' EXIT
undo() {
  u=0
  if [ -n "$r2" ]; then rm -f -- /etc/app/new/sub/extra.conf && say restored 2 - || u=1; fi
  if [ -n "$r1" ]; then b=$(mktemp -- /srv/real/.remediate-XXXXXX) && cat -- /var/backups/remediate/20261203T123456Z-golden/srv/real/blob > "$b" && chown 0:0 -- "$b" && chmod 0600 -- "$b" && mv -fT -- "$b" /srv/real/blob && [ "$(sum /srv/real/blob)" = b413f47d13ee2fe6c845b2ee141af81de858df4ec549a58b7970bb96645bc8d2 ] && say restored 1 - || u=1; fi
  if [ -n "$r0" ]; then b=$(mktemp -- /etc/app/.remediate-XXXXXX) && cat -- /var/backups/remediate/20261203T123456Z-golden/etc/app/app.conf > "$b" && chown 0:33 -- "$b" && chmod 0640 -- "$b" && printf '%s\n' "# file: /etc/app/${b##*/}" user.tag=0seA== | setfattr -h --restore=- && mv -fT -- "$b" /etc/app/app.conf && [ "$(sum /etc/app/app.conf)" = 2b2aa6e8026076315da7c288f20a19955f04ebc7cf0668fd2c42fdbb82a4689f ] && say restored 0 - || u=1; fi
  return $u
}
gone() {
  trap '' HUP INT PIPE TERM
  [ -z "$p" ] || kill -KILL -"$p" 2>/dev/null
  say signal 0 "$1" 2>/dev/null
  undo 2>/dev/null || say undo-failed 0 'could not put every original back' 2>/dev/null
  if [ -n "$h" ]; then deadline 108; step 'systemctl reload app'; step 'touch /run/app.reloaded'; fi
  exit "$1"
}
trap 'gone 129' HUP
trap 'gone 130' INT
trap 'gone 141' PIPE
trap 'gone 143' TERM
deadline 108
cas /etc/app/new/sub/extra.conf absent 2
# shellcheck disable=SC2015  # a chain of checks: what follows || runs when any of them fails
[ ! -L /etc ] && [ ! -L /etc/app ] && [ ! -L /etc/app/app.conf ] || { tell moved 0 "$(readlink -f -- /etc/app/app.conf)"; exit 3; }
[ "$(readlink -f -- /etc/app/blob)" = /srv/real/blob ] || { tell moved 1 "$(readlink -f -- /etc/app/blob)"; exit 3; }
m=$(stat -c '%f %u %g' -- /etc/app/app.conf 2>/dev/null); case $m in 81a0\ 0\ 33) ;; *) tell drift 0 "$m"; exit 3;; esac
m=$(stat -c '%f %u %g' -- /srv/real/blob 2>/dev/null); case $m in 8180\ *\ *) ;; *) tell drift 1 "$m"; exit 3;; esac
# shellcheck disable=SC2015  # a chain of checks: what follows || runs when any of them fails
mkdir -m 0755 -- /etc/app/new 2>/dev/null && m0=1 || { if [ -e /etc/app/new ] || [ -L /etc/app/new ]; then say conflict 2 'its folder /etc/app/new now exists'; exit 3; else fail 2 'cannot make the folder /etc/app/new'; fi; }
# shellcheck disable=SC2015  # a chain of checks: what follows || runs when any of them fails
mkdir -m 0755 -- /etc/app/new/sub 2>/dev/null && m1=1 || { if [ -e /etc/app/new/sub ] || [ -L /etc/app/new/sub ]; then say conflict 2 'its folder /etc/app/new/sub now exists'; exit 3; else fail 2 'cannot make the folder /etc/app/new/sub'; fi; }
t0=/etc/app/.remediate-aaaaa0
[ -e "$t0" ] || [ -L "$t0" ] && { t0=''; fail 0 'temporary name taken: /etc/app/.remediate-aaaaa0'; }
umask 077; set -C
printf %s 'new = '"'"'two'"'"' $(not run)
' > "$t0" || { [ -e "$t0" ] || { t0=''; fail 0 'cannot create a temporary file in /etc/app'; }; fail 0 'cannot write a temporary file in /etc/app'; }
set +C; umask 077
chown 0:33 -- "$t0" || fail 0 'cannot set owner 0:33'
chmod 0640 -- "$t0" || fail 0 'cannot set mode 0640'
t1=/srv/real/.remediate-aaaaa1
[ -e "$t1" ] || [ -L "$t1" ] && { t1=''; fail 1 'temporary name taken: /srv/real/.remediate-aaaaa1'; }
umask 177; set -C
base64 -d > "$t1" <<'__REMEDIATE_EOF__' || { [ -e "$t1" ] || { t1=''; fail 1 'cannot create a temporary file in /srv/real'; }; fail 1 'cannot write a temporary file in /srv/real'; }
/wBuZXc=
__REMEDIATE_EOF__
set +C; umask 077
[ -G "$t1" ] || chown 0:0 -- "$t1" || fail 1 'cannot set owner 0:0'
t2=/etc/app/new/sub/.remediate-aaaaa2
[ -e "$t2" ] || [ -L "$t2" ] && { t2=''; fail 2 'temporary name taken: /etc/app/new/sub/.remediate-aaaaa2'; }
umask 133; set -C
printf %s 'extra
' > "$t2" || { [ -e "$t2" ] || { t2=''; fail 2 'cannot create a temporary file in /etc/app/new/sub'; }; fail 2 'cannot write a temporary file in /etc/app/new/sub'; }
set +C; umask 077
chown www-data:www-data -- "$t2" || fail 2 'cannot set owner www-data:www-data'
if [ "$(sha256sum -- /etc/app/app.conf /srv/real/blob /etc/app/.remediate-aaaaa0 /srv/real/.remediate-aaaaa1 /etc/app/new/sub/.remediate-aaaaa2 2>/dev/null)" != '2b2aa6e8026076315da7c288f20a19955f04ebc7cf0668fd2c42fdbb82a4689f  /etc/app/app.conf
b413f47d13ee2fe6c845b2ee141af81de858df4ec549a58b7970bb96645bc8d2  /srv/real/blob
d897ec6eb37a849e60d5434e92e1e1a499a571289d083e333d287a7746bad5c2  /etc/app/.remediate-aaaaa0
b73773ff065e56f9eed6d4bd2226dc4ed48be2739500583c9b5153f8aa861945  /srv/real/.remediate-aaaaa1
65110ea3b8b62b0c09742c368bf1527f0978b06dff7a1371ef7b4c98e244d91a  /etc/app/new/sub/.remediate-aaaaa2' ]; then
cas /etc/app/app.conf 2b2aa6e8026076315da7c288f20a19955f04ebc7cf0668fd2c42fdbb82a4689f 0
cas /srv/real/blob b413f47d13ee2fe6c845b2ee141af81de858df4ec549a58b7970bb96645bc8d2 1
[ "$(sum "$t0")" = d897ec6eb37a849e60d5434e92e1e1a499a571289d083e333d287a7746bad5c2 ] || fail 0 'the uploaded copy does not match the plan'
[ "$(sum "$t1")" = b73773ff065e56f9eed6d4bd2226dc4ed48be2739500583c9b5153f8aa861945 ] || fail 1 'the uploaded copy does not match the plan'
[ "$(sum "$t2")" = 65110ea3b8b62b0c09742c368bf1527f0978b06dff7a1371ef7b4c98e244d91a ] || fail 2 'the uploaded copy does not match the plan'
fi
step 'app --check "$1"' sh "$t0"; [ "$s" = 0 ] || { output; tell invalid 0 "$o"; exit 4; }
mkdir -p -- /var/backups/remediate/20261203T123456Z-golden/etc/app /var/backups/remediate/20261203T123456Z-golden/srv/real || fail 0 'cannot make the backup folder /var/backups/remediate/20261203T123456Z-golden'
umask 177; set -C
printf %s 'old = 1
' > /var/backups/remediate/20261203T123456Z-golden/etc/app/app.conf || fail 0 'cannot write the backup /var/backups/remediate/20261203T123456Z-golden/etc/app/app.conf'
set +C; umask 077
cp --parents -- /srv/real/blob /var/backups/remediate/20261203T123456Z-golden/ || fail 0 'cannot write the backups in /var/backups/remediate/20261203T123456Z-golden'
printf '%s\n' '2b2aa6e8026076315da7c288f20a19955f04ebc7cf0668fd2c42fdbb82a4689f	0640	0	33	/etc/app/app.conf' >> /var/backups/remediate/20261203T123456Z-golden/MANIFEST
say backup 0 L3Zhci9iYWNrdXBzL3JlbWVkaWF0ZS8yMDI2MTIwM1QxMjM0NTZaLWdvbGRlbi9ldGMvYXBwL2FwcC5jb25m
printf '%s\n' 'b413f47d13ee2fe6c845b2ee141af81de858df4ec549a58b7970bb96645bc8d2	0600	0	0	/srv/real/blob' >> /var/backups/remediate/20261203T123456Z-golden/MANIFEST
say backup 1 L3Zhci9iYWNrdXBzL3JlbWVkaWF0ZS8yMDI2MTIwM1QxMjM0NTZaLWdvbGRlbi9zcnYvcmVhbC9ibG9i
command -v setfattr >/dev/null || fail 0 'setfattr not found on the host: its extended attributes and ACLs cannot be kept'
o=$(setfattr -h --restore=- 2>&1 <<'__REMEDIATE_XATTRS__'
# file: /etc/app/.remediate-aaaaa0
user.tag=0seA==

# file: /var/backups/remediate/20261203T123456Z-golden/etc/app/app.conf
user.tag=0seA==
__REMEDIATE_XATTRS__
) || fail 0 "cannot set the extended attributes and ACLs of the originals: $o"
sync -- "$t0" "$t1" "$t2" /var/backups/remediate/20261203T123456Z-golden/etc/app/app.conf /var/backups/remediate/20261203T123456Z-golden/srv/real/blob 2>/dev/null || sync
say ready 0 -
r0=1; mv -fT -- "$t0" /etc/app/app.conf || fail 0 'cannot rename into /etc/app/app.conf'
t0=''
say replaced 0 -
r1=1; mv -fT -- "$t1" /srv/real/blob || fail 1 'cannot rename into /srv/real/blob'
t1=''
say replaced 1 -
r2=1; mv -fT -- "$t2" /etc/app/new/sub/extra.conf || fail 2 'cannot rename into /etc/app/new/sub/extra.conf'
t2=''
say replaced 2 -
sync -- /etc/app /etc/app/new/sub /srv/real 2>/dev/null || true
if [ "$(sha256sum -- /etc/app/app.conf /srv/real/blob /etc/app/new/sub/extra.conf 2>/dev/null)" != 'd897ec6eb37a849e60d5434e92e1e1a499a571289d083e333d287a7746bad5c2  /etc/app/app.conf
b73773ff065e56f9eed6d4bd2226dc4ed48be2739500583c9b5153f8aa861945  /srv/real/blob
65110ea3b8b62b0c09742c368bf1527f0978b06dff7a1371ef7b4c98e244d91a  /etc/app/new/sub/extra.conf' ]; then
[ "$(sum /etc/app/app.conf)" = d897ec6eb37a849e60d5434e92e1e1a499a571289d083e333d287a7746bad5c2 ] || fail 0 'read-back does not match the plan'
[ "$(sum /srv/real/blob)" = b73773ff065e56f9eed6d4bd2226dc4ed48be2739500583c9b5153f8aa861945 ] || fail 1 'read-back does not match the plan'
[ "$(sum /etc/app/new/sub/extra.conf)" = 65110ea3b8b62b0c09742c368bf1527f0978b06dff7a1371ef7b4c98e244d91a ] || fail 2 'read-back does not match the plan'
fi
step 'app configtest'; [ "$s" = 0 ] || { output; tell invalid 0 "$o"; undo || { say undo-failed 0 'could not put every original back'; exit 7; }; exit 4; }
h=1
step 'systemctl reload app'; [ "$s" = 0 ] || { output; tell handler-failed 0 "$o"; exit 6; }
step 'touch /run/app.reloaded'; [ "$s" = 0 ] || { output; tell handler-failed 1 "$o"; exit 6; }
k=1
echo remediate-answer-end
}
