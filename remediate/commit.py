"""Writing a host's planned changes in one remote command: a shell half and a pure parser half.

The script, fed to ``sh -s`` on the host, runs these stages over all files of the host, each stage for
every file before the next stage starts:

1. compare-and-swap: the file still has the sha256 the plan was computed from (or is still absent);
   otherwise nothing is written and the host is a ``conflict``;
2. backup: a copy in a private folder (``/var/backups/remediate/RUN_ID/`` + the file's path, mode 0700
   folders, 0600 copies, and a MANIFEST with the original mode, owner and sha256), never beside the file
   where an include directory such as ``conf.d/`` would load it;
3. upload: the new bytes go to a ``mktemp`` file (0600 from the first instant) in the target's own
   folder, get the planned owner, group and mode, are flushed to disk and checked against the planned
   sha256;
4. rename each temporary file over its target (atomic: a reader sees the old file or the new one);
5. flush the folders and read each target back.

Every answer line is ``WORD INDEX [DETAIL]``; the last line is ``done``. Details that might hold any
text are base64 so that a line is always a line.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from .model import FileChange

DEFAULT_BACKUP_ROOT = "/var/backups/remediate"
_EOF = "__REMEDIATE_EOF__"  # underscores never occur in base64, so the heredoc cannot end early

_PRELUDE = r"""set -u
umask 077
LC_ALL=C; export LC_ALL
say() { printf '%s %s %s\n' "$1" "$2" "$(printf '%s' "$3" | base64 -w0)"; }
fail() { say error "$1" "$2"; exit 1; }
sum() { sha256sum < "$1" | cut -c1-64; }
cas() {
  if [ "$2" = absent ]; then
    if [ -e "$1" ] || [ -L "$1" ]; then say conflict "$3" "the file now exists"; exit 3; fi
  else
    [ -f "$1" ] || { say conflict "$3" "the file is gone"; exit 3; }
    c=$(sum "$1") || fail "$3" "cannot read $1"
    [ "$c" = "$2" ] || { say conflict "$3" "$c"; exit 3; }
  fi
}
cleanup() { for t in "$@"; do [ -n "$t" ] && rm -f -- "$t"; done; }
"""


def backup_path(backup_root: str, run_id: str, real_path: str) -> str:
    return posixpath.join(backup_root, run_id) + real_path


def commit_script(run_id: str, changes: Sequence[FileChange], backup_root: str = DEFAULT_BACKUP_ROOT) -> bytes:
    q = shlex.quote
    backup_dir = posixpath.join(backup_root, run_id)
    temps = [f"t{i}" for i in range(len(changes))]
    lines = [_PRELUDE]
    lines += [f"{t}=''" for t in temps]
    quoted_temps = " ".join('"$' + t + '"' for t in temps)
    lines.append(f"trap 'cleanup {quoted_temps}' EXIT")
    lines.append("trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM")

    for i, change in enumerate(changes):
        lines.append(f"cas {q(change.real_path)} {change.before_sha256 or 'absent'} {i}")

    for i, change in enumerate(changes):
        if change.before is None:
            continue  # a new file has nothing to back up; undoing it means deleting it
        saved = backup_path(backup_root, run_id, change.real_path)
        manifest = f"{change.before_sha256}\t{change.before_mode:04o}\t{change.uid}\t{change.gid}\t{change.real_path}"
        lines.append(
            f"mkdir -p -- {q(posixpath.dirname(saved))} && cat -- {q(change.real_path)} > {q(saved)}"
            f" || fail {i} {q('cannot write the backup ' + saved)}"
        )
        lines.append(f"printf '%s\\n' {q(manifest)} >> {q(backup_dir + '/MANIFEST')}")
        lines.append(
            f'[ "$(sum {q(saved)})" = {change.before_sha256} ] || fail {i} {q("backup does not match " + saved)}'
        )
        lines.append(f"say backup {i} {q(saved)}")

    for i, change in enumerate(changes):
        t = temps[i]
        folder = posixpath.dirname(change.real_path)
        owner = _ownership(change)
        lines.append(
            f"{t}=$(mktemp -- {q(posixpath.join(folder, '.remediate-XXXXXX'))})"
            f" || fail {i} {q('cannot create a temporary file in ' + folder)}"
        )
        lines.append(f"base64 -d > \"${t}\" <<'{_EOF}' || fail {i} {q('cannot write a temporary file in ' + folder)}")
        lines.append(base64.encodebytes(change.after).decode("ascii") + _EOF)
        if owner:
            lines.append(f'chown {q(owner)} -- "${t}" || fail {i} {q("cannot set owner " + owner)}')
        lines.append(f'chmod {change.mode:04o} -- "${t}" || fail {i} {q(f"cannot set mode {change.mode:04o}")}')
        lines.append(f'sync -- "${t}" 2>/dev/null || sync')
        lines.append(
            f'[ "$(sum "${t}")" = {change.after_sha256} ] || fail {i} \'the uploaded copy does not match the plan\''
        )

    for i, change in enumerate(changes):
        lines.append(
            f'mv -fT -- "${temps[i]}" {q(change.real_path)} || fail {i} {q("cannot rename into " + change.real_path)}'
        )
        lines.append(f"{temps[i]}=''")
        lines.append(f"say replaced {i} ''")

    for folder in sorted({posixpath.dirname(c.real_path) for c in changes}):
        lines.append(f"sync -- {q(folder)} 2>/dev/null || true")
    for i, change in enumerate(changes):
        lines.append(
            f'[ "$(sum {q(change.real_path)})" = {change.after_sha256} ]'
            f" || fail {i} 'read-back does not match the plan'"
        )
    lines.append("echo done")
    return ("\n".join(lines) + "\n").encode("utf-8", errors="surrogateescape")


def _ownership(change: FileChange) -> str:
    """``user:group`` for chown: names where the step sets them, else the original numbers kept."""
    user = change.owner or (str(change.uid) if change.uid is not None else "")
    group = change.group or (str(change.gid) if change.gid is not None else "")
    if user and group:
        return f"{user}:{group}"
    if user:
        return user
    return f":{group}" if group else ""


@dataclass(frozen=True)
class CommitOutcome:
    completed: bool  # the script reached its end: every file replaced and read back
    replaced: tuple[int, ...]  # indexes of files renamed into place
    backups: dict[int, str]
    conflict: tuple[int, str] | None  # (index, what the file holds now)
    error: tuple[int, str] | None


def parse_commit(output: bytes) -> CommitOutcome:
    replaced: list[int] = []
    backups: dict[int, str] = {}
    conflict = error = None
    completed = False
    for raw in output.decode("utf-8", errors="replace").splitlines():
        if raw == "done":
            completed = True
            continue
        word, _, rest = raw.partition(" ")
        index_text, _, detail_b64 = rest.partition(" ")
        if not index_text.isdigit():
            continue  # not ours (a chatty login script); the final 'done' decides success
        index = int(index_text)
        try:
            detail = base64.b64decode(detail_b64).decode("utf-8", errors="replace")
        except (binascii.Error, ValueError):
            detail = detail_b64
        if word == "replaced":
            replaced.append(index)
        elif word == "backup":
            backups[index] = detail
        elif word == "conflict":
            conflict = (index, detail)
        elif word == "error":
            error = (index, detail)
    return CommitOutcome(completed, tuple(replaced), backups, conflict, error)
