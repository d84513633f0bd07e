"""The host's lock, as shell for the remote scripts: one run at a time on a host.

The lock is ``flock`` on ``lock`` in a folder of the run's user's own: ``/run/remediate`` for a run as
root, ``$HOME/.remediate`` for any other user. The folder must be a real folder (not a link) owned by
that user with no group or other write access, and the lock a regular file of that user (not a link):
anything else is a per-host error, and nothing is opened through it. So no other user of the host can
plant a link that makes root write through it (a world-writable ``/run/lock`` allowed that), nor hold
the lock or write the text a second run shows. That text, the holder's run id and start time, is kept
in ``holder`` in the same folder. A ``flock`` dies with its process, so a killed run never blocks the
next.

A write takes it; so does a rollback's read, whose write then follows in the same shell, still holding
it: what a rollback plans from is what no other run is changing.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import UTC, datetime

from remediate.remote.shell import CHECKS_CHAIN, library

ROOT_LOCK_DIR = "/run/remediate"  # /run: only root may create in it, and it is emptied at boot
USER_LOCK_DIR = "$HOME/.remediate"  # a shell word: the login user's own home, for a run that is not root's

# The records the lock's shell writes, as every script of ours writes them: ``WORD INDEX DETAIL``, the
# detail base64 when it came from the host (``tell``).
LOCK_FUNCTIONS = library("records.sh")


@dataclass(frozen=True)
class LockRequest:
    """A read that takes the host's lock for the write that follows it in the same shell."""

    run_id: str
    wait: float = 0.0  # seconds to wait for another run to let the lock go

    def shell(self, as_root: bool, now: datetime) -> str:
        return lock_shell(self.run_id, default_lock_dir(as_root), self.wait, now=now)


def default_lock_dir(as_root: bool) -> str:
    return ROOT_LOCK_DIR if as_root else USER_LOCK_DIR


def locked_message(holder: str, waited: float) -> str:
    """A host another run holds: its text, and how long this run waited for it."""
    wait = f" (waited {waited:g} s)" if waited > 0 else ""
    return f"locked by run {holder.strip() or 'another run'}{wait}; not touched"


def lock_shell(run_id: str, lock_dir: str, wait: float = 0.0, *, now: datetime) -> str:
    """Shell that takes the host's lock in ``lock_dir`` and records the holder (the run and ``now``, the
    time the holder's text shows: the caller reads its clock), waiting up to ``wait`` seconds for another
    run to let it go. A shell that holds it for this run already (a rollback reads under the lock, and its
    write follows in the same shell) keeps it."""
    # A $HOME/... folder becomes a double-quoted word, so that the host expands $HOME (unset: empty,
    # and the checks below refuse "/..."); any other is quoted.
    home, _, rest = lock_dir.partition("/")
    d = f'"${{HOME:-}}/{rest}"' if home == "$HOME" else shlex.quote(lock_dir)
    refused = shlex.quote(f"the lock folder {lock_dir} is not a folder of the run's user alone")
    lock_refused = shlex.quote(f"the lock {lock_dir}/lock is not a regular file of the run's user")
    run = shlex.quote(run_id)
    take = "flock -n 9" if wait <= 0 else f"flock -w {wait:g} 9"
    return "\n".join(
        [
            f"d={d}",
            f'if [ "${{held:-}}" != {run} ]; then',
            # mkdir only the first time (a process); an existing name of any kind is judged below.
            '[ -d "$d" ] || mkdir -m 0700 -- "$d" 2>/dev/null',
            # Not a link, the run's user's, and nobody else may write in it (stat -c %f: lstat's mode,
            # in hex; the type bits and group/other write must read "a folder", nothing more). Only
            # then is anything in it opened: nobody else can have put a link there.
            CHECKS_CHAIN,
            '[ ! -L "$d" ] && [ -O "$d" ] && m=$(stat -c %f -- "$d" 2>/dev/null)'
            f" && [ $((0x$m & 0170022)) = 16384 ] || unlockable {refused}",
            f'[ ! -L "$d/lock" ] || unlockable {lock_refused}',
            f'exec 9<>"$d/lock" || unlockable {shlex.quote("cannot open the lock " + lock_dir + "/lock")}',
            CHECKS_CHAIN,
            f'[ -f "$d/lock" ] && [ ! -L "$d/lock" ] && [ -O "$d/lock" ] || unlockable {lock_refused}',
            f'{take} || {{ tell locked 0 "$(head -c 512 -- "$d/holder" 2>/dev/null)"; exit 5; }}',
            # The start time comes from the controller's clock: one process fewer on every host.
            f"printf '%s since %s\\n' {run} {now.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ} > \"$d/holder\"",
            f"held={run}",
            "fi",
        ]
    )
