# The records every script of ours writes: WORD INDEX DETAIL, the detail base64 when it came from the
# host (tell), so that a line stays a line. unlockable: the host's lock is refused (see hostlock.py).
say() { printf '%s %s %s\n' "$1" "$2" "$3"; }
tell() { printf '%s %s %s\n' "$1" "$2" "$(printf '%s' "$3" | base64 -w0)"; }
unlockable() { tell unlockable 0 "$1"; exit 5; }
