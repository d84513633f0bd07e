# r INDEX PATH COMPONENT...: one record about PATH (see gather.py), its COMPONENTs being the path's
# folders and itself, outermost first. Set by the generated part: LIMIT, the most bytes of a file read.
# Sets xa for a regular file, which is what has extended attributes to read (xattrs.sh).
LC_ALL=C; export LC_ALL
r() {
  i=$1 f=$2
  shift 2
  if [ ! -e "$f" ]; then
    d=${f%/*}
    if [ -L "$f" ]; then echo "$i dangling"
    elif [ -d "${d:-/}" ]; then echo "$i missing"
    else
      k=0 b=/
      for c in "$@"; do
        if [ -e "$c" ] || [ -L "$c" ]; then k=$((k + 1)) b=$c; else break; fi
      done
      if [ -d "$b" ]; then echo "$i missing orphan $k"; else echo "$i missing blocked $k"; fi
    fi
    return 0
  fi
  s=$(stat -L -c '%f %s %u %g %U %G' -- "$f") || { echo "$i unreadable"; return 0; }
  p='='
  for c in "$@"; do
    if [ -L "$c" ]; then p=$(readlink -f -- "$f" | base64 -w0); break; fi
  done
  # shellcheck disable=SC2086  # stat's six words, split on purpose (a name holds no space: %U %G)
  set -- $s
  printf '%s stat %s %s %s %s %s %s %s ' "$i" "$p" "$1" "$2" "$3" "$4" "$5" "$6"
  if [ -f "$f" ] && [ "$2" -le "$LIMIT" ]; then
    # shellcheck disable=SC2034  # read by read_xattrs (xattrs.sh), after every r
    xa=1
    printf b; base64 -w0 -- "$f" 2>/dev/null || printf '!'
  else
    printf -- -
  fi
  echo
}
