"""Writing a host's planned changes in one remote command: a shell half and a pure parser half.

The script, fed to ``sh -s`` on the host, takes the host's lock (``flock`` on ``/run/lock/remediate.lock``,
which dies with the process, so a killed run never blocks the next), then runs these stages over all
files of the host, each stage for every file before the next stage starts:

1. compare-and-swap: the file still has the sha256 the plan was computed from (or is still absent);
   otherwise nothing is written and the host is a ``conflict``;
2. backup: a copy in a private folder (``/var/backups/remediate/RUN_ID/`` + the file's path, mode 0700
   folders, 0600 copies, and a MANIFEST with the original mode, owner and sha256), never beside the file
   where an include directory such as ``conf.d/`` would load it;
3. upload: the new bytes go to a ``mktemp`` file (0600 from the first instant) in the target's own
   folder, get the planned owner, group and mode, are flushed to disk and checked against the planned
   sha256; a ``validate`` command with ``{path}`` runs on it here, before anything is live;
4. rename each temporary file over its target (atomic: a reader sees the old file or the new one), or
   remove the target when undoing a created file; flush the folders and read each target back;
5. a ``validate`` command without ``{path}`` (a whole-service check such as ``apache2ctl configtest``)
   runs now, with the candidates in place and the lock held; if it fails, every original is put back at
   once from its backup, before any reload;
6. the handlers (``on_change``), each once, in order.

Validators and handlers run with the lock's descriptor closed: a handler that starts a daemon must not
hand the lock to it, or the host would stay locked for as long as the daemon lives.

Every answer line is ``WORD INDEX DETAIL``, where a detail that is a command's output is base64 (so a
line stays a line) and any other (a path, a sha256) is as it is; the last line is ``done``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import posixpath
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass

from .model import FileChange

DEFAULT_BACKUP_ROOT = "/var/backups/remediate"
LOCK_PATH = "/run/lock/remediate.lock"
PATH_PLACEHOLDER = "{path}"
_EOF = "__REMEDIATE_EOF__"  # underscores never occur in base64, so the heredoc cannot end early

_PRELUDE = r"""set -u
umask 077
LC_ALL=C; export LC_ALL
say() { printf '%s %s %s\n' "$1" "$2" "$3"; }
tell() { printf '%s %s %s\n' "$1" "$2" "$(printf '%s' "$3" | base64 -w0)"; }
fail() { tell error "$1" "$2"; exit 1; }
sum() { set -- $(sha256sum < "$1") && printf '%s' "$1"; }
cas() {
  if [ "$2" = absent ]; then
    if [ -e "$1" ] || [ -L "$1" ]; then say conflict "$3" "the file now exists"; exit 3; fi
  else
    [ -f "$1" ] || { say conflict "$3" "the file is gone"; exit 3; }
    c=$(sum "$1") || fail "$3" "cannot read $1"
    # What the file holds now, so that the conflict can be shown as a diff against the plan's basis.
    [ "$c" = "$2" ] || { printf 'current %s %s\n' "$3" "$(base64 -w0 < "$1")"; say conflict "$3" "$c"; exit 3; }
  fi
}
cleanup() { for t in "$@"; do [ -n "$t" ] && rm -f -- "$t"; done; }
"""


def backup_path(backup_root: str, run_id: str, real_path: str) -> str:
    return posixpath.join(backup_root, run_id) + real_path


def commit_script(
    run_id: str,
    changes: Sequence[FileChange],
    handlers: Sequence[str] = (),
    backup_root: str = DEFAULT_BACKUP_ROOT,
    lock_path: str = LOCK_PATH,
) -> bytes:
    q = shlex.quote
    backup_dir = posixpath.join(backup_root, run_id)
    temps = [f"t{i}" for i in range(len(changes))]
    lines = [_PRELUDE, _lock(run_id, lock_path)]
    # Temporary files left by a run that was killed (never by a live one: this run holds the lock).
    for folder in sorted({posixpath.dirname(c.real_path) for c in changes}):
        lines.append(
            f'for f in {q(folder)}/.remediate-??????; do [ -f "$f" ] && rm -f -- "$f" && say stale 0 "$f"; done'
        )
    lines += [f"{t}=''; r{i}=''" for i, t in enumerate(temps)]
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
        # cat's exit status tells a failed copy (a full disk, say); the copy is not read back again.
        lines.append(f"printf '%s\\n' {q(manifest)} >> {q(backup_dir + '/MANIFEST')}")
        strict = (change.before_mode or 0) & 0o600
        if strict != 0o600:  # the original is stricter than 0600 (0400, say): the copy is too
            lines.append(f"chmod {strict:04o} -- {q(saved)} || fail {i} {q('cannot set the mode of ' + saved)}")
        lines.append(f"say backup {i} {q(saved)}")

    for i, change in enumerate(changes):
        if not change.delete:
            lines += _upload(i, temps[i], change)
    uploaded = " ".join(f'"${temps[i]}"' for i, change in enumerate(changes) if not change.delete)
    if uploaded:  # on disk before they are renamed in: one sync for every temporary file
        lines.append(f"sync -- {uploaded} 2>/dev/null || sync")

    for i, change in enumerate(changes):
        target = q(change.real_path)
        if change.delete:
            lines.append(f"rm -f -- {target} || fail {i} {q('cannot remove ' + change.real_path)}")
        else:
            lines.append(f'mv -fT -- "${temps[i]}" {target} || fail {i} {q("cannot rename into " + change.real_path)}')
            lines.append(f"{temps[i]}=''")
        lines.append(f"r{i}=1; say replaced {i} -")

    folders = " ".join(q(folder) for folder in sorted({posixpath.dirname(c.real_path) for c in changes}))
    lines.append(f"sync -- {folders} 2>/dev/null || true")
    for i, change in enumerate(changes):
        target = q(change.real_path)
        if change.delete:
            lines.append(f"[ ! -e {target} ] || fail {i} 'the file is still there'")
        else:
            lines.append(
                f"[ \"$(sum {target})\" = {change.after_sha256} ] || fail {i} 'read-back does not match the plan'"
            )

    lines += _whole_config_validators(changes, backup_root, run_id)
    for k, handler in enumerate(handlers):
        lines.append(f'o=$( ( {handler}\n) 9>&- 2>&1 </dev/null) || {{ tell handler-failed {k} "$o"; exit 6; }}')
        lines.append(f'tell handler {k} "$o"')
    lines.append("echo done")
    return ("\n".join(lines) + "\n").encode("utf-8", errors="surrogateescape")


def _lock(run_id: str, lock_path: str) -> str:
    # The lock file carries the holder's run id and start time, for the message a second run shows.
    lock = shlex.quote(lock_path)
    return (
        f"exec 9<>{lock} || fail 0 {shlex.quote('cannot open the lock ' + lock_path)}\n"
        f'flock -n 9 || {{ say locked 0 "$(cat {lock})"; exit 5; }}\n'
        # The start time comes from the controller's clock: one process fewer on every host.
        f"printf '%s since %s\\n' {shlex.quote(run_id)} {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} > {lock}"
    )


def _upload(i: int, t: str, change: FileChange) -> list[str]:
    q = shlex.quote
    folder = posixpath.dirname(change.real_path)
    owner = _ownership(change)
    lines = [
        f"{t}=$(mktemp -- {q(posixpath.join(folder, '.remediate-XXXXXX'))})"
        f" || fail {i} {q('cannot create a temporary file in ' + folder)}",
    ]
    if change.source is not None:  # the bytes are on the host already (a backup)
        lines.append(f'cat -- {q(change.source)} > "${t}" || fail {i} {q("cannot read " + change.source)}')
    else:
        lines.append(f"base64 -d > \"${t}\" <<'{_EOF}' || fail {i} {q('cannot write a temporary file in ' + folder)}")
        lines.append(base64.encodebytes(change.after).decode("ascii") + _EOF)
    if owner:
        lines.append(f'chown {q(owner)} -- "${t}" || fail {i} {q("cannot set owner " + owner)}')
    lines.append(f'chmod {change.mode:04o} -- "${t}" || fail {i} {q(f"cannot set mode {change.mode:04o}")}')
    lines.append(
        f'[ "$(sum "${t}")" = {change.after_sha256} ] || fail {i} \'the uploaded copy does not match the plan\''
    )
    for validator in change.validators:
        if PATH_PLACEHOLDER in validator:
            # The placeholder becomes a double-quoted reference to the temporary file's path: shell-quoted.
            command = validator.replace(PATH_PLACEHOLDER, f'"${t}"')
            lines.append(f'o=$( ( {command}\n) 9>&- 2>&1 </dev/null) || {{ tell invalid {i} "$o"; exit 4; }}')
    return lines


def _whole_config_validators(changes: Sequence[FileChange], backup_root: str, run_id: str) -> list[str]:
    validators: dict[str, int] = {}
    for i, change in enumerate(changes):
        for validator in change.validators:
            if PATH_PLACEHOLDER not in validator:
                validators.setdefault(validator, i)
    if not validators:
        return []
    lines = ["undo() {", "  u=0"]
    for i, change in reversed(list(enumerate(changes))):
        lines.append(f'  if [ -n "$r{i}" ]; then {_put_back(i, change, backup_root, run_id)} || u=1; fi')
    lines += ["  return $u", "}"]
    for validator, i in validators.items():
        lines.append(
            f'o=$( ( {validator}\n) 9>&- 2>&1 </dev/null) || {{ tell invalid {i} "$o";'
            f" undo || {{ say undo-failed {i} 'could not put every original back'; exit 7; }}; exit 4; }}"
        )
    return lines


def _put_back(i: int, change: FileChange, backup_root: str, run_id: str) -> str:
    """Shell that restores one file as it was before this script: its backup, or its absence."""
    q = shlex.quote
    target = q(change.real_path)
    if change.before is None:
        return f"rm -f -- {target} && say restored {i} -"
    folder = q(posixpath.join(posixpath.dirname(change.real_path), ".remediate-XXXXXX"))
    saved = q(backup_path(backup_root, run_id, change.real_path))
    owner = f"{change.uid}:{change.gid}" if change.uid is not None else ""
    chown = f'chown {owner} -- "$b" && ' if owner else ""
    return (
        f'b=$(mktemp -- {folder}) && cat -- {saved} > "$b" && {chown}chmod {change.before_mode or 0o644:04o} -- "$b"'
        f' && mv -fT -- "$b" {target} && [ "$(sum {target})" = {change.before_sha256} ] && say restored {i} -'
    )


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
    completed: bool  # the script reached its end: every file replaced and read back, every handler run
    replaced: tuple[int, ...]  # indexes of files renamed into place (or removed)
    backups: dict[int, str]
    conflict: tuple[int, str] | None  # (index, what the file holds now)
    error: tuple[int, str] | None
    locked_by: str | None = None  # the lock file's text: another run works on this host
    invalid: tuple[int, str] | None = None  # (index, validator output): the live files are as before
    restored: tuple[int, ...] = ()  # put back at once after a whole-config validator failed
    undo_failed: bool = False
    handler_failed: tuple[int, str] | None = None  # (handler index, output): the files stay replaced
    handler_output: tuple[str, ...] = ()
    current: bytes | None = None  # with a conflict: what the file holds now
    stale: tuple[str, ...] = ()  # temporary files of a killed run, removed

    @property
    def live_changed(self) -> bool:
        """Some file of the host may hold the new content now (so a failure calls for a rollback)."""
        return bool(set(self.replaced) - set(self.restored))


_TOLD = frozenset({"error", "invalid", "handler", "handler-failed"})


def parse_commit(output: bytes) -> CommitOutcome:
    replaced: list[int] = []
    restored: list[int] = []
    handler_output: list[str] = []
    backups: dict[int, str] = {}
    conflict = error = invalid = handler_failed = None
    locked_by: str | None = None
    completed = undo_failed = False
    current: bytes | None = None
    stale: list[str] = []
    for raw in output.decode("utf-8", errors="replace").splitlines():
        if raw.startswith("current "):
            try:
                current = base64.b64decode(raw.split(" ", 2)[2])
            except (binascii.Error, ValueError, IndexError):
                current = None
            continue
        if raw == "done":
            completed = True
            continue
        word, _, rest = raw.partition(" ")
        index_text, _, detail = rest.partition(" ")
        if not index_text.isdigit():
            continue  # not ours (a chatty login script); the final 'done' decides success
        index = int(index_text)
        if word in _TOLD:  # free text (a command's output), base64 so that a line stays a line
            with contextlib.suppress(binascii.Error, ValueError):
                detail = base64.b64decode(detail).decode("utf-8", errors="replace")
        if word == "replaced":
            replaced.append(index)
        elif word == "backup":
            backups[index] = detail
        elif word == "conflict":
            conflict = (index, detail)
        elif word == "error":
            error = (index, detail)
        elif word == "locked":
            locked_by = detail.strip() or "another run"
        elif word == "invalid":
            invalid = (index, detail)
        elif word == "restored":
            restored.append(index)
        elif word == "undo-failed":
            undo_failed = True
        elif word == "handler":
            handler_output.append(detail)
        elif word == "handler-failed":
            handler_failed = (index, detail)
        elif word == "stale":
            stale.append(detail)
    return CommitOutcome(
        completed, tuple(replaced), backups, conflict, error, locked_by, invalid, tuple(restored), undo_failed,
        handler_failed, tuple(handler_output), current, tuple(stale),
    )  # fmt: skip
