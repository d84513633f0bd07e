"""Writing a host's planned changes in one remote command: a shell half and a pure parser half.

The script, fed to ``sh -s`` on the host, takes the host's lock (``hostlock``), then runs these stages
over all files of the host, each stage for every file before the next stage starts.

1. upload: the new bytes go to a temporary file in the target's own folder, named ``.remediate-`` and six
   random characters and created exclusively (O_EXCL: never through an existing file or link), with the
   planned owner, group and mode; it never allows anyone more than the final mode does;
2. compare-and-swap and check, with one ``sha256sum`` for every file: each target still has the sha256 the
   plan was computed from (or is still absent), otherwise nothing is written and the host is a
   ``conflict``; each temporary file has the planned sha256. A ``validate`` command with ``{path}`` runs
   on the temporary file here, before anything is live;
3. backup: a copy in a private folder (``/var/backups/remediate/RUN_ID/`` + the file's path, folders 0700,
   copies without group or other access, and a MANIFEST with the original mode, owner and sha256), never
   beside the file where an include directory such as ``conf.d/`` would load it; then every temporary
   file and every copy gets its original's extended attributes and ACL (``xattrs``: one ``setfattr``);
4. the temporary files and the copies are flushed to disk; each temporary file is renamed over its target
   (atomic: a reader sees the old file or the new one), or the target removed when undoing a created
   file; the folders are flushed and the targets read back;
5. a ``validate`` command without ``{path}`` (a whole-service check such as ``apache2ctl configtest``)
   runs now, with the candidates in place and the lock held; if it fails, every original is put back at
   once from its backup, before any reload;
6. the handlers (``on_change``), each once, in order.

Each process started on a host costs about a millisecond of its CPU, and a fleet's hosts may share few
cores, so the common case starts few: text goes in through the ``printf`` builtin, a mode the umask can
give needs no ``chmod``, root's own file no ``chown``, and one ``sha256sum`` checks every file at once
(only a mismatch looks at each file alone, to say which and why).

Validators and handlers run with the lock's descriptor closed: a handler that starts a daemon must not
hand the lock to it, or the host would stay locked for as long as the daemon lives. They run under a
deadline on the host, short of the controller's own limit (``host_budget``), each in a process group
of its own that the deadline ends whole.

The script never outlives its controller with a change live: on SIGHUP, SIGINT, SIGTERM or SIGPIPE (a
record it could not write: the controller is gone) it ends the step running, puts every original back
and runs the handlers again if they had run, then exits. Only an answer that reached its end leaves
the new files in place. A rollback's script (``undoing``) instead carries on without its controller.
The whole script is one compound command, read in full before any of it runs.

The functions every write uses (``fail``, ``sum``, ``cas``, ``step``, ...) are sh/records.sh and
sh/commit.sh (``shell``); what is generated here are the per-run lines that call them, with the plan's
paths quoted. The script depends only on its arguments: the caller passes the time (``now``) and the
source of the temporary names (``names``), so the same plan gives the same text (tests/golden/).

The answer is framed as ``answer`` says. Every record is ``WORD INDEX DETAIL``, where a detail that came
from the host (a command's output, a file name found there, the lock holder's text) is base64, so a
line stays a line, and any other (a path of the plan, a sha256) is as it is. The last line, ``END``,
comes only when the script got to its end.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
import secrets
import shlex
import stat
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from remediate.model import FileChange, Xattrs, path_components
from remediate.remote.answer import BEGIN_LINE, CURRENT_LIMIT, END_LINE, read_answer
from remediate.remote.hostlock import LOCK_FUNCTIONS, default_lock_dir, lock_shell
from remediate.remote.shell import CHECKS_CHAIN, DATA_WORDS, library
from remediate.remote.xattrs import ACL, put_back_xattrs, setfattr_commands

DEFAULT_BACKUP_ROOT = "/var/backups/remediate"
PATH_PLACEHOLDER = "{path}"
KILL_GRACE = 1  # seconds from timeout's TERM to its KILL, for a step that ignores TERM
STEP_OUTPUT_LIMIT = 64 * 1024  # bytes of a validator's or handler's output sent back
DEFAULT_COMMAND_TIMEOUT = 120.0  # seconds: the controller's limit of one remote command, unless told
_EOF = "__REMEDIATE_EOF__"  # underscores never occur in base64, so the heredoc cannot end early

# The functions of every write (sh/records.sh, sh/commit.sh), after the limits they read.
_PRELUDE = "\n".join(
    [
        f"CURRENT_LIMIT={CURRENT_LIMIT + 1} KILL_GRACE={KILL_GRACE} STEP_OUTPUT_LIMIT={STEP_OUTPUT_LIMIT}",
        LOCK_FUNCTIONS,
        library("commit.sh"),
    ]
)

# Six letters or digits for a temporary file's name, fresh at every call (``random_letters``).
NameSource = Callable[[], str]


def host_budget(command_timeout: float) -> int:
    """Seconds a write's validators and handlers may take in all on the host: the controller's limit of
    the command less a margin, so that a step ended at the deadline (TERM, then KILL ``KILL_GRACE``
    later) leaves the script time to put the originals back and answer before the controller gives up."""
    return max(1, int(command_timeout - max(3.0, command_timeout / 10)))


def sweep_script(
    run_id: str,
    folders: Sequence[str],
    lock_dir: str | None = None,
    as_root: bool = False,
    lock_wait: float = 0.0,
    *,
    now: datetime,
) -> bytes:
    """Only the sweep of a killed run's temporary files in ``folders``, under the host's lock: for a host
    with nothing to write whose folders may hold them (a rollback's). Its answer parses as a commit's.
    ``now``: the time the lock's holder text shows."""
    lock = lock_shell(run_id, lock_dir or default_lock_dir(as_root), lock_wait, now=now)
    lines = [DATA_WORDS, _PRELUDE, BEGIN_LINE, lock, *_sweep(folders), END_LINE]
    return ("\n".join(lines) + "\n").encode("utf-8", errors="surrogateescape")


def _sweep(folders: Sequence[str]) -> list[str]:
    """Removes the temporary files a killed run left in ``folders`` (never a live run's: the caller holds
    the lock), each named in a ``stale`` record."""
    q = shlex.quote
    return [
        f'for f in {q(folder)}/.remediate-??????; do [ -f "$f" ] && rm -f -- "$f" && tell stale 0 "$f"; done'
        for folder in folders
    ]


def backup_path(backup_root: str, run_id: str, real_path: str) -> str:
    return posixpath.join(backup_root, run_id) + real_path


def commit_script(
    run_id: str,
    changes: Sequence[FileChange],
    handlers: Sequence[str] = (),
    backup_root: str = DEFAULT_BACKUP_ROOT,
    lock_dir: str | None = None,
    as_root: bool = False,
    sweep: Sequence[str] = (),
    budget: int = host_budget(DEFAULT_COMMAND_TIMEOUT),
    lock_wait: float = 0.0,
    undoing: bool = False,
    *,
    now: datetime,
    names: NameSource,
) -> bytes:
    """The host's whole write as one sh script. ``as_root``: the script runs as root (the login user is
    root, or it goes through sudo), so a file that must belong to root:root needs no ``chown``.
    ``lock_dir``: the lock's folder, by default ``ROOT_LOCK_DIR`` or ``USER_LOCK_DIR`` as ``as_root``
    says (a path, or a shell word such as ``$HOME/...``, which is expanded on the host). ``budget``:
    seconds the validators and handlers may take in all (see ``host_budget``). ``lock_wait``: seconds to
    wait for a lock another run holds. ``undoing``: the script puts originals back (a rollback), so it
    carries on when the controller is gone rather than undo itself. ``now``: the time the lock's holder
    text shows; ``names``: the source of the temporary files' names (``random_letters``). The script
    is the same for the same arguments: the caller reads the clock and the random source."""
    q = shlex.quote
    temps = [f"t{i}" for i in range(len(changes))]
    temporary = _temporary_names(changes, names)
    folders = sorted({posixpath.dirname(c.real_path) for c in changes})  # the targets' own folders
    lock = lock_shell(run_id, lock_dir or default_lock_dir(as_root), lock_wait, now=now)
    lines = [_PRELUDE, BEGIN_LINE, lock]
    lines += _sweep(sorted(set(folders) | set(sweep)))
    lines += [f"{t}=''; r{i}=''" for i, t in enumerate(temps)]
    made = _folders_to_make(changes)
    lines += _unmake_function(made)
    quoted_temps = " ".join('"$' + t + '"' for t in temps)
    lines.append(f"trap 'cleanup {quoted_temps}; unmake' EXIT")
    lines += _undo_function(changes, backup_root, run_id)
    lines += _on_signals(handlers, budget, undoing)
    if handlers or any(c.validators for c in changes):
        lines.append(f"deadline {budget}")

    for i, change in enumerate(changes):
        if change.before_sha256 is None:  # a file to create must still be absent: shell builtins tell
            lines.append(f"cas {q(change.real_path)} absent {i}")
    lines += _same_path_and_metadata(changes)
    lines += _make_folders(made)
    for i, change in enumerate(changes):
        if not change.delete:
            lines += _upload(i, temps[i], temporary[i], change, as_root)
    lines += _check_sums(changes, temps, temporary)
    for i, change in enumerate(changes):
        for validator in change.validators:
            if PATH_PLACEHOLDER in validator:
                # The placeholder becomes "$1", and sh -c gets the temporary file's path as $1.
                command = q(validator.replace(PATH_PLACEHOLDER, '"$1"'))
                failed = f'{{ output; tell invalid {i} "$o"; exit 4; }}'
                lines.append(f'step {command} sh "${temps[i]}"; [ "$s" = 0 ] || {failed}')

    backed_up = [(i, c) for i, c in enumerate(changes) if c.before is not None]  # a new file has no original
    saved = {i: backup_path(backup_root, run_id, c.real_path) for i, c in backed_up}
    lines += _backups(backed_up, saved, posixpath.join(backup_root, run_id))
    lines += _kept_xattrs(changes, temps, temporary, saved)

    # On disk before they are renamed in: one sync for every temporary file and every backup.
    synced = [f'"${temps[i]}"' for i, change in enumerate(changes) if not change.delete]
    synced += [q(path) for path in saved.values()]
    if synced:
        lines.append(f"sync -- {' '.join(synced)} 2>/dev/null || sync")

    # Said before anything goes live: when the controller is gone, this write fails (SIGPIPE), and the
    # script stops here with every file as it was.
    lines.append("say ready 0 -")
    for i, change in enumerate(changes):
        target = q(change.real_path)
        # r is set first: a signal taken right after the rename (traps run between commands) must find
        # the file marked for putting back. Putting back a file not yet renamed rewrites its original.
        if change.delete:
            lines.append(f"r{i}=1; rm -f -- {target} || fail {i} {q('cannot remove ' + change.real_path)}")
        else:
            lines.append(
                f'r{i}=1; mv -fT -- "${temps[i]}" {target} || fail {i} {q("cannot rename into " + change.real_path)}'
            )
            lines.append(f"{temps[i]}=''")
        lines.append(f"say replaced {i} -")

    lines.append(f"sync -- {' '.join(q(folder) for folder in folders)} 2>/dev/null || true")
    for i, change in enumerate(changes):
        if change.delete:
            lines.append(f"[ ! -e {q(change.real_path)} ] || fail {i} 'the file is still there'")
    lines += _read_back(changes)

    lines += _whole_config_validators(changes)
    lines += _remove_folders(changes)
    if handlers and not undoing:  # (a rollback's signal puts nothing back: see _on_signals)
        lines.append("h=1")  # from here, putting the originals back also means running the handlers again
    for k, handler in enumerate(handlers):
        lines.append(f'step {q(handler)}; [ "$s" = 0 ] || {{ output; tell handler-failed {k} "$o"; exit 6; }}')
    if made:
        lines.append("k=1")  # the write stands: the folders made for it stay
    lines.append(END_LINE)
    # One compound command: sh reads all of it before it runs any of it, so a script cut short on its
    # way (a controller killed while sending it) runs none of it.
    return (DATA_WORDS + "\n{\n" + "\n".join(lines) + "\n}\n").encode("utf-8", errors="surrogateescape")


def _folders_to_make(changes: Sequence[FileChange]) -> list[tuple[str, int]]:
    """Every folder the new files need made (``parents: true``), outermost first, once each, with the
    index of the first change that needs it."""
    made: dict[str, int] = {}
    for i, change in enumerate(changes):
        if not change.delete:
            for folder in change.folders:
                made.setdefault(folder, i)
    return list(made.items())


def _unmake_function(made: Sequence[tuple[str, int]]) -> list[str]:
    """``unmake``, run at the exit: unless the write stands (``k``), the folders this script made (``m``
    set) are removed again, innermost first. rmdir removes only an empty folder, so one that holds a
    file still in place (an original that could not be put back) stays with it."""
    if not made:
        return ["unmake() { :; }"]
    q = shlex.quote
    lines = ["k=''", *(f"m{j}=''" for j in range(len(made))), "unmake() {", '  [ -z "$k" ] || return 0']
    for j, (folder, _) in reversed(list(enumerate(made))):
        lines.append(f'  [ -z "$m{j}" ] || rmdir -- {q(folder)} 2>/dev/null')
    lines += ["  :", "}"]
    return lines


def _make_folders(made: Sequence[tuple[str, int]]) -> list[str]:
    """Each folder made with mode 0755 (umask aside), never through one that appeared since the plan:
    mkdir fails on anything already there, a link too, and that is a conflict like a file's."""
    q = shlex.quote
    lines = []
    for j, (folder, i) in enumerate(made):
        appeared = f"say conflict {i} {q('its folder ' + folder + ' now exists')}; exit 3"
        cannot = f"fail {i} {q('cannot make the folder ' + folder)}"
        lines.append(CHECKS_CHAIN)  # m=1 cannot fail: only mkdir's failure runs what follows ||
        lines.append(
            f"mkdir -m 0755 -- {q(folder)} 2>/dev/null && m{j}=1"
            f" || {{ if [ -e {q(folder)} ] || [ -L {q(folder)} ]; then {appeared}; else {cannot}; fi; }}"
        )
    return lines


def _remove_folders(changes: Sequence[FileChange]) -> list[str]:
    """After a created file is removed (undoing it), the folders its run made for it, innermost first,
    each only while it is empty: anything put there since stays, and so does its folder."""
    q = shlex.quote
    folders = {folder for change in changes if change.delete for folder in change.folders}
    innermost_first = sorted(folders, key=lambda folder: (-folder.count("/"), folder))
    return [f"rmdir -- {q(folder)} 2>/dev/null || :" for folder in innermost_first]


# The exit status a shell gives for each signal the script catches (128 + its number).
SIGNAL_STATUS = {"HUP": 129, "INT": 130, "PIPE": 141, "TERM": 143}


def _on_signals(handlers: Sequence[str], budget: int, undoing: bool) -> list[str]:
    """What the script does on a signal. A write puts every original back before it exits (with the
    handlers again, once they had run): HUP or PIPE (the controller is gone: the write of a record
    failed), TERM or INT. A step running then is ended with its whole process group. A rollback carries
    on without its controller (PIPE, HUP: nothing can be said, but putting originals back is the safe
    way), and on TERM or INT stops with every file wholly old or new."""
    q = shlex.quote
    rerun = [f"step {q(handler)}" for handler in handlers]
    lines = [
        "gone() {",
        "  trap '' HUP INT PIPE TERM",
        '  [ -z "$p" ] || kill -KILL -"$p" 2>/dev/null',
        '  say signal 0 "$1" 2>/dev/null',
    ]
    if not undoing:
        lines += [
            "  undo 2>/dev/null || say undo-failed 0 'could not put every original back' 2>/dev/null",
            f'  if [ -n "$h" ]; then deadline {budget}; {"; ".join(rerun) or ":"}; fi',
        ]
    lines += ['  exit "$1"', "}"]
    caught = ("INT", "TERM") if undoing else tuple(SIGNAL_STATUS)
    lines += [f"trap 'gone {SIGNAL_STATUS[name]}' {name}" for name in caught]
    if undoing:
        lines.append("trap '' HUP PIPE")
    return lines


def _backups(backed_up: Sequence[tuple[int, FileChange]], saved: Mapping[int, str], backup_dir: str) -> list[str]:
    """A copy of every original (at ``saved``, by change index) in the run's backup folder, and its MANIFEST
    line. Under umask 077 the folders are 0700 and no copy lets group or others in (a stricter original,
    0400, keeps its mode).

    The compare-and-swap has just found each original to hold exactly the plan's ``before``, so a text
    original is written from those bytes through the printf builtin, with no process; any other (binary
    or large) is copied by one ``cp`` for all of them."""
    q = shlex.quote
    if not backed_up:
        return []
    folders = sorted({posixpath.dirname(path) for path in saved.values()})
    first = backed_up[0][0]
    cannot = q("cannot make the backup folder " + backup_dir)
    lines = [f"mkdir -p -- {' '.join(q(f) for f in folders)} || fail {first} {cannot}"]
    copied = []
    for i, c in backed_up:
        assert c.before is not None
        if _printable(c.before):
            umask = 0o777 & ~((c.before_mode or 0) & 0o600)
            failed = f"fail {i} {q('cannot write the backup ' + saved[i])}"
            lines += _exclusively(umask, [f"printf %s {_shell_word(c.before)} > {q(saved[i])} || {failed}"])
        else:
            copied.append(c.real_path)
    if copied:
        # --parents rebuilds each original's path under the run's folder; cp's exit status tells a failure.
        lines.append(
            f"cp --parents -- {' '.join(q(path) for path in copied)} {q(backup_dir + '/')}"
            f" || fail {first} {q('cannot write the backups in ' + backup_dir)}"
        )
    for i, c in backed_up:
        manifest = f"{c.before_sha256}\t{c.before_mode:04o}\t{c.uid}\t{c.gid}\t{c.real_path}"
        lines.append(f"printf '%s\\n' {q(manifest)} >> {q(backup_dir + '/MANIFEST')}")
        # A told record (base64: the path holds the target's real path, which the host resolved, and a link's
        # target may hold a newline), encoded here rather than by a `base64` process on every host.
        lines.append(f"say backup {i} {_base64(saved[i])}")
    return lines


def _base64(text: str) -> str:
    """A told record's detail as the host's ``tell`` would have written it: the bytes of ``text``, base64."""
    return base64.b64encode(text.encode("utf-8", errors="surrogateescape")).decode("ascii")


def _kept_xattrs(
    changes: Sequence[FileChange], temps: Sequence[str], names: Sequence[str], saved: Mapping[int, str]
) -> list[str]:
    """Every temporary file gets the extended attributes and ACL its change carries (a replacement: the
    original's) and every backup copy those of its original, before anything is live: a failure leaves
    every file as it was. After chown and chmod, which would clear a file capability and narrow an ACL's
    mask; only where an ACL comes with a new mode is the mode set again, as chmod on the live file would."""
    q = shlex.quote
    targets: dict[str, Xattrs] = {}
    given: list[int] = []  # the changes whose files get some
    chmods = []
    for i, change in enumerate(changes):
        if change.xattrs and not change.delete:
            targets[names[i]] = change.xattrs
            if any(name == ACL for name, _ in change.xattrs) and change.mode != change.before_mode:
                mode = f"{change.mode:04o}"
                chmods.append(f'chmod {mode} -- "${temps[i]}" || fail {i} {q("cannot set mode " + mode)}')
        if i in saved and change.before_xattrs:
            targets[saved[i]] = change.before_xattrs
        if names[i] in targets or saved.get(i) in targets:
            given.append(i)
    if not given:
        return []
    first = given[0]
    missing = q("setfattr not found on the host: its extended attributes and ACLs cannot be kept")
    refused = f'fail {first} "cannot set the extended attributes and ACLs of the originals: $o"'
    return [
        f"command -v setfattr >/dev/null || fail {first} {missing}",
        *setfattr_commands(targets, refused),
        *chmods,
    ]


_NAME_LETTERS = string.ascii_letters + string.digits


def _temporary_names(changes: Sequence[FileChange], names: NameSource) -> list[str]:
    """A fresh temporary name in each target's folder, ``.remediate-`` and six letters or digits from
    ``names`` (what mktemp would pick, without its process). The shell creates each one exclusively
    (``set -C``, O_EXCL), so an existing file or link of that name is never written through."""
    return [posixpath.join(posixpath.dirname(change.real_path), ".remediate-" + names()) for change in changes]


def random_letters(count: int = 6) -> str:
    """``count`` letters or digits from one draw of the system's random source (not one draw each): the
    production ``NameSource``."""
    number = secrets.randbelow(len(_NAME_LETTERS) ** count)
    letters = []
    for _ in range(count):
        number, index = divmod(number, len(_NAME_LETTERS))
        letters.append(_NAME_LETTERS[index])
    return "".join(letters)


def _upload(i: int, t: str, name: str, change: FileChange, as_root: bool) -> list[str]:
    """The new bytes in a temporary file with the planned mode and owner, not yet live."""
    q = shlex.quote
    folder = posixpath.dirname(change.real_path)
    owner = _ownership(change)
    # A redirection that fails left no file (it could not be created: a read-only or full folder, no
    # permission) or a part of one (a write failed), which the exit trap removes.
    cannot_write = (
        f"|| {{ [ -e \"${t}\" ] || {{ {t}=''; fail {i} {q('cannot create a temporary file in ' + folder)}; }};"
        f" fail {i} {q('cannot write a temporary file in ' + folder)}; }}"
    )
    # With the same access for group and others, the file can be created with its final mode (the
    # umask gives it), and no user ever reads more of it than the final mode allows: no chmod.
    mode_from_umask = change.mode & ~0o666 == 0 and (change.mode >> 3) & 0o7 == change.mode & 0o7
    umask = 0o777 & ~change.mode if mode_from_umask else 0o077
    lines = [
        f"{t}={q(name)}",
        # A name taken by a file or a link is refused, not written through (bash's set -C opens an
        # existing non-regular file; dash's never does).
        f'[ -e "${t}" ] || [ -L "${t}" ] && {{ {t}=\'\'; fail {i} {q("temporary name taken: " + name)}; }}',
    ]
    if change.source is not None:  # the bytes are on the host already (a backup)
        writing = [f'cat -- {q(change.source)} > "${t}" || fail {i} {q("cannot read " + change.source)}']
    elif _printable(change.after):
        # Plain text goes in as one single-quoted word through the printf builtin: no process at all.
        writing = [f'printf %s {_shell_word(change.after)} > "${t}" {cannot_write}']
    else:
        writing = [
            f"base64 -d > \"${t}\" <<'{_EOF}' {cannot_write}",
            base64.encodebytes(change.after).decode("ascii") + _EOF,
        ]
    lines += _exclusively(umask, writing)
    if owner and not (as_root and owner == "0:0"):
        lines.append(f'chown {q(owner)} -- "${t}" || fail {i} {q("cannot set owner " + owner)}')
    elif owner:
        # Root's new file is root's, and root's group unless a set-group-ID folder gave it the folder's.
        lines.append(f'[ -G "${t}" ] || chown 0:0 -- "${t}" || fail {i} {q("cannot set owner " + owner)}')
    if not mode_from_umask:
        lines.append(f'chmod {change.mode:04o} -- "${t}" || fail {i} {q(f"cannot set mode {change.mode:04o}")}')
    return lines


def _exclusively(umask: int, writing: list[str]) -> list[str]:
    """``writing``, whose redirections create their files exclusively (``set -C``: O_EXCL, never through
    an existing name) and with the modes ``umask`` leaves; then the script's own umask 077 again."""
    return [f"umask {umask:03o}; set -C", *writing, "set +C; umask 077"]


_PRINTF_LIMIT = 1024 * 1024  # beyond this, base64's process costs little next to the transfer itself


@lru_cache(maxsize=16)  # texts of up to 1 MiB each: a few distinct ones are what a fleet shares
def _shell_word(text: bytes) -> str:
    """ASCII text (see ``_printable``) as one single-quoted shell word; quoted once for every host that
    gets the same bytes."""
    return shlex.quote(text.decode("ascii"))


def _printable(data: bytes) -> bool:
    """ASCII text a shell word carries byte for byte (no NUL, no byte the shell could treat specially)."""
    return len(data) <= _PRINTF_LIMIT and data.isascii() and b"\0" not in data


def _same_path_and_metadata(changes: Sequence[FileChange]) -> list[str]:
    """Compare-and-swap beyond the content, for every file that exists: its path still leads where the
    plan saw it lead (no link put on the way, none re-pointed: shell builtins, and ``readlink`` only
    where the plan saw a link), and it is still a regular file with the mode, owner and group the plan
    saw (one ``stat`` for all; each file alone only when that differs, or where some of it is unknown)."""
    q = shlex.quote
    lines = []
    existing = [(i, c) for i, c in enumerate(changes) if c.before_sha256 is not None]
    for i, c in existing:
        resolved = f'"$(readlink -f -- {q(c.path)})"'
        moved = f"{{ tell moved {i} {resolved}; exit 3; }}"
        if c.path == c.real_path:
            no_link = " && ".join(f"[ ! -L {q(part)} ]" for part in path_components(c.path))
            lines += [CHECKS_CHAIN, f"{no_link} || {moved}"]
        else:
            lines.append(f"[ {resolved} = {q(c.real_path)} ] || {moved}")
    expected = [(i, c, _stat_expected(c)) for i, c in existing]
    one_by_one = [
        f"m=$(stat -c '%f %u %g' -- {q(c.real_path)} 2>/dev/null); case $m in {pattern}) ;;"
        f' *) tell drift {i} "$m"; exit 3;; esac'
        for i, c, (pattern, _) in expected
    ]
    exact = [text for _, _, (_, text) in expected]
    if not expected or None in exact:
        return lines + one_by_one
    files = " ".join(q(c.real_path) for _, c in existing)
    lines += [f"if [ \"$(stat -c '%f %u %g' -- {files} 2>/dev/null)\" != {q(chr(10).join(map(str, exact)))} ]; then"]
    return [*lines, *one_by_one, "fi"]


def _stat_expected(change: FileChange) -> tuple[str, str | None]:
    """``stat -c '%f %u %g'`` of the file as the plan saw it: a case pattern (``*`` for what is not
    known), and the exact text when all of it is known."""
    parts = [
        None if change.before_mode is None else f"{stat.S_IFREG | change.before_mode:x}",
        None if change.before_uid is None else str(change.before_uid),
        None if change.before_gid is None else str(change.before_gid),
    ]
    pattern = "\\ ".join("*" if part is None else part for part in parts)  # hex and digits: only the space quoted
    return pattern, None if None in parts else " ".join(p for p in parts if p is not None)


def _check_sums(changes: Sequence[FileChange], temps: Sequence[str], names: Sequence[str]) -> list[str]:
    """Compare-and-swap and the uploaded copies' check: each original still has the sha256 the plan was
    made from, each temporary file the planned one."""
    q = shlex.quote
    pairs = [(c.real_path, sha) for c in changes if (sha := c.before_sha256) is not None]
    pairs += [(names[i], c.after_sha256) for i, c in enumerate(changes) if not c.delete]
    one_by_one = [f"cas {q(c.real_path)} {c.before_sha256} {i}" for i, c in enumerate(changes) if c.before_sha256]
    one_by_one += [
        f'[ "$(sum "${temps[i]}")" = {c.after_sha256} ] || fail {i} \'the uploaded copy does not match the plan\''
        for i, c in enumerate(changes)
        if not c.delete
    ]
    return _one_sha256sum(pairs, one_by_one)


def _read_back(changes: Sequence[FileChange]) -> list[str]:
    """Every replaced file read back from its folder: it holds exactly the planned bytes."""
    q = shlex.quote
    written = [(i, c) for i, c in enumerate(changes) if not c.delete]
    one_by_one = [
        f"[ \"$(sum {q(c.real_path)})\" = {c.after_sha256} ] || fail {i} 'read-back does not match the plan'"
        for i, c in written
    ]
    return _one_sha256sum([(c.real_path, c.after_sha256) for _, c in written], one_by_one)


def _one_sha256sum(pairs: Sequence[tuple[str, str]], one_by_one: list[str]) -> list[str]:
    """One sha256sum for every (file, sha256) pair. Only when its answer differs from the expected one
    does ``one_by_one`` (each file's own check) run, to say which file and why; also when a name would
    come out escaped in sha256sum's answer (a backslash or a newline in it)."""
    if not pairs:
        return []
    if any("\\" in name or "\n" in name for name, _ in pairs):
        return one_by_one
    q = shlex.quote
    expected = "\n".join(f"{digest}  {name}" for name, digest in pairs)
    files = " ".join(q(name) for name, _ in pairs)
    return [f'if [ "$(sha256sum -- {files} 2>/dev/null)" != {q(expected)} ]; then', *one_by_one, "fi"]


def _undo_function(changes: Sequence[FileChange], backup_root: str, run_id: str) -> list[str]:
    """``undo``: every file this script renamed into place (``r`` set) put back, last first; its status
    says whether all of them are. For a failed whole-service validator, and on a signal."""
    if not changes:
        return ["undo() { :; }"]
    lines = ["undo() {", "  u=0"]
    for i, change in reversed(list(enumerate(changes))):
        lines.append(f'  if [ -n "$r{i}" ]; then {_put_back(i, change, backup_root, run_id)} || u=1; fi')
    lines += ["  return $u", "}"]
    return lines


def _whole_config_validators(changes: Sequence[FileChange]) -> list[str]:
    validators: dict[str, int] = {}
    for i, change in enumerate(changes):
        for validator in change.validators:
            if PATH_PLACEHOLDER not in validator:
                validators.setdefault(validator, i)
    return [
        f'step {shlex.quote(validator)}; [ "$s" = 0 ] || {{ output; tell invalid {i} "$o";'
        f" undo || {{ say undo-failed {i} 'could not put every original back'; exit 7; }}; exit 4; }}"
        for validator, i in validators.items()
    ]


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
        f"{put_back_xattrs(change)}"
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
    locked_by: str | None = None  # the lock holder's text: another run works on this host
    invalid: tuple[int, str] | None = None  # (index, validator output): the live files are as before
    restored: tuple[int, ...] = ()  # put back at once after a whole-config validator failed
    undo_failed: bool = False
    handler_failed: tuple[int, str] | None = None  # (handler index, output): the files stay replaced
    current: bytes | None = None  # with a conflict: what the file holds now
    stale: tuple[str, ...] = ()  # temporary files of a killed run, removed
    unlockable: str | None = None  # why the host's lock was refused (not the run's user's own): not touched
    unexpected: str | None = None  # a record no script of ours writes: the host failed, with the raw tail
    moved: tuple[int, str] | None = None  # (index, where the path leads now): not where the plan saw it lead
    drift: tuple[int, str] | None = None  # (index, stat's '%f %u %g' now): not the type, mode or owner planned
    signal: int | None = None  # the script was stopped by a signal (its exit status: 143 for TERM...)
    ready: bool = False  # the script got to the renames: from here a file may hold the new content

    @property
    def live_changed(self) -> bool:
        """Some file of the host may hold the new content now (so a failure calls for a rollback)."""
        return bool(set(self.replaced) - set(self.restored))


# Records whose detail is base64 (it holds something that came from the host), and those whose is not.
_TOLD = frozenset({"error", "invalid", "handler-failed", "locked", "unlockable", "stale", "backup", "moved", "drift"})
_PLAIN = frozenset({"replaced", "conflict", "restored", "undo-failed", "signal", "ready"})


def parse_commit(output: bytes) -> CommitOutcome:
    answer = read_answer(output)
    replaced: list[int] = []
    restored: list[int] = []
    backups: dict[int, str] = {}
    conflict = error = invalid = handler_failed = None
    locked_by: str | None = None
    unlockable: str | None = None
    unexpected: str | None = None
    moved = drift = None
    signal: int | None = None
    undo_failed = ready = False
    current: bytes | None = None
    stale: list[str] = []
    for raw in answer.records:
        word, _, rest = raw.partition(" ")
        if word == "current":
            try:
                current = base64.b64decode(rest.split(" ", 1)[1], validate=True)
            except (binascii.Error, ValueError, IndexError):
                unexpected = answer.unexpected("from the write")
            continue
        index_text, _, detail = rest.partition(" ")
        if word not in _TOLD | _PLAIN or not index_text.isdigit():
            unexpected = answer.unexpected("from the write")
            continue
        index = int(index_text)
        if word in _TOLD:  # what came from the host, base64 so that a line stays a line
            try:
                detail = base64.b64decode(detail, validate=True).decode("utf-8", errors="replace")
            except (binascii.Error, ValueError):
                unexpected = answer.unexpected("from the write")
                continue
        if word == "replaced":
            replaced.append(index)
        elif word == "backup":
            backups[index] = detail
        elif word == "conflict":
            conflict = (index, detail)
        elif word == "error":
            error = (index, detail)
        elif word == "locked":
            locked_by = detail
        elif word == "unlockable":
            unlockable = detail
        elif word == "invalid":
            invalid = (index, detail)
        elif word == "restored":
            restored.append(index)
        elif word == "undo-failed":
            undo_failed = True
        elif word == "handler-failed":
            handler_failed = (index, detail)
        elif word == "stale":
            stale.append(detail)
        elif word == "moved":
            moved = (index, detail)
        elif word == "drift":
            drift = (index, detail)
        elif word == "ready":
            ready = True
        elif word == "signal":
            signal = int(detail) if detail.isdigit() else None
    return CommitOutcome(
        answer.complete and unexpected is None, tuple(replaced), backups, conflict, error, locked_by, invalid,
        tuple(restored), undo_failed, handler_failed, current, tuple(stale), unlockable,
        unexpected, moved, drift, signal, ready,
    )  # fmt: skip
