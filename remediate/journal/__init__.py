"""The run journal: a database recording every apply, dry-run and rollback. SQLite in the state folder by
default; a PostgreSQL database named by a journal URL for a journal shared between controllers
(backends.py is the seam between them, migrations.py the schema).

A host's row and its files' rows (with the original and the new content, compressed) are written
*before* anything is written to that host, and updated after; a controller killed in the middle of a
run therefore leaves a journal that says exactly which hosts may have been touched, and holds what is
needed to put every file back even when the host's own backup is gone.
"""

from __future__ import annotations

import functools
import getpass
import hashlib
import json
import os
import socket
import stat
import threading
import time
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from remediate.errors import UserError
from remediate.journal.backends import DATABASE, Database, connect, shown_url
from remediate.journal.migrations import migrate
from remediate.journal.rows import HOST_RESULT
from remediate.journal.work import WorkQueue
from remediate.load.config import load_config
from remediate.model import (
    FileChange,
    FileRecord,
    HostPlan,
    HostRecord,
    RunRecord,
    Xattrs,
    xattrs_from_json,
    xattrs_to_json,
)
from remediate.plan.diff import file_diff
from remediate.plan.masking import Masker
from remediate.probes.codec import probe_from_json, probe_to_json

# In RunRecord's order (a journal that gained a column keeps it last, whatever its place in the schema).
# "user" is quoted: unquoted, PostgreSQL reads it as CURRENT_USER.
RUN_COLUMNS = (
    'run_id, kind, "user", started, finished, playbook, playbook_path, playbook_sha256, inventory, arguments,'
    " status, rollback_of, resume_of, plan_recorded"
)

LEGACY_STATE_DIR = ".remediate"  # where versions before 0.2 kept it: in the working directory
JOURNAL_ENV = "REMEDIATE_JOURNAL"  # a journal URL, as --journal gives one


def recorded_path(path: Path) -> str:
    """A playbook's or an inventory's path as the journal keeps it: absolute, so that `rollback RUN` and
    `resume RUN` find it from any folder (a made-up one, a hotfix's, stays as it is)."""
    return str(path.absolute()) if path.exists() else str(path)


def state_dir() -> Path:
    """The operator's journal folder, the same wherever a command is typed: ``$REMEDIATE_STATE``, else
    ``$XDG_STATE_HOME/remediate``, else ``~/.local/state/remediate``."""
    if explicit := os.environ.get("REMEDIATE_STATE"):
        return Path(explicit)
    xdg = os.environ.get("XDG_STATE_HOME")
    # The XDG base directory spec ignores a relative path: it would change with the working directory.
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "state"
    return base / "remediate"


def journal_dirs() -> list[Path]:
    """Every journal a run may be in: the operator's, then a ``.remediate/`` in the working directory
    that an earlier version made there (still read, so that no run is lost). Only those that exist."""
    found = [state_dir()]
    if not os.environ.get("REMEDIATE_STATE"):
        legacy = Path(LEGACY_STATE_DIR)
        if _own_private(legacy) and _own_private(legacy / DATABASE) and legacy.resolve() != found[0].resolve():
            found.append(legacy)
    return [folder for folder in found if (folder / DATABASE).is_file()]


def _own_private(path: Path) -> bool:
    """A path found in the working directory, which may be anyone's (/tmp): trusted only as the user's own,
    not a link, writable by nobody else. A journal planted there would tell a rollback what to write."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return not stat.S_ISLNK(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o022


def journal_target(url: str | None) -> Path | str:
    """Where runs are recorded: the journal URL given (``--journal``, else ``$REMEDIATE_JOURNAL``, else the
    configuration file's ``journal``), else the SQLite journal in the state folder."""
    return url or os.environ.get(JOURNAL_ENV) or load_config().journal or state_dir()


def journal_sources(url: str | None) -> list[Path | str]:
    """Every journal a run may be in: the URL's database alone when one is given, else journal_dirs()."""
    target = journal_target(url)
    return [target] if isinstance(target, str) else list(journal_dirs())


def open_run_journal(run_id: str, masker: Masker, url: str | None = None) -> tuple[Journal, RunRecord]:
    """The journal that holds ``run_id`` (a unique part of it will do), and the run; a run in none of them
    is a UserError naming where it was looked for. Nothing is created on the way (but a database named by
    a URL gets its tables)."""
    problems = []
    for source in journal_sources(url):
        journal = Journal(source, masker)
        try:
            return journal, journal.run(run_id)
        except UserError as e:
            journal.close()
            problems.append(str(e))
    if not problems:
        raise UserError(f"no run {run_id!r}: there is no journal in {state_dir()} (no run was recorded yet)")
    raise UserError("; ".join(problems))


# A file's columns after run_id and host, in FileRecord's order (path, the rest of its key, first); an
# upsert replaces all but the key, as SQLite's INSERT OR REPLACE (which PostgreSQL lacks) did.
_FILE_UPDATED = (
    "path, real_path, sha256_before, sha256_after, mode_before, mode_after, uid, gid, backup_path, original, written,"
    " original_masked, xattrs, diff, folders"
)
_FILE_COLUMNS = f"run_id, host, {_FILE_UPDATED}"
_FILE_PLACEHOLDERS = ", ".join("?" * len(_FILE_COLUMNS.split(", ")))
_FILE_UPDATES = ", ".join(f"{c} = excluded.{c}" for c in _FILE_UPDATED.split(", ")[1:])

# The class of remediate's host locks in PostgreSQL's two-key advisory locks: its own, whatever else uses
# the database (the schema's lock is a one-key lock, which never meets a two-key one).
HOST_LOCK_CLASS = 0x72656D68  # "remh"
# A granted two-key advisory lock of that class and a host's key, in this database (as pg_locks shows it).
_HELD = (
    "l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid::bigint = ? AND l.objid::bigint = ?"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)

# Every host of a fleet mostly has the same original and the same new file: each distinct content is
# compressed once per run, not once per host.
_compress = functools.lru_cache(maxsize=64)(zlib.compress)


class Journal:
    """One journal database, SQLite or PostgreSQL; safe to use from the worker threads of a run: one
    connection behind one lock, one transaction per write."""

    def __init__(self, target: Path | str, masker: Masker) -> None:
        """``target``: a state folder (its SQLite journal) or a journal URL (postgresql://...)."""
        self.masker = masker  # secrets never reach the database: errors, diffs and contents are masked
        self._db: Database = connect(target)
        self.where = self._db.where
        self._lock = threading.Lock()
        self._started: list[str] = []  # the runs this journal object started, for __exit__
        try:
            migrate(self._db)
        except BaseException:
            self._db.close()
            raise
        self._db.schema_ready()
        # A sharded run's queue, on this connection and under this lock (workers require PostgreSQL).
        self.work = WorkQueue(self._write, lambda: self.masker)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: object) -> None:
        """A run this journal started that an error or an interruption (Ctrl-C, SIGTERM) ends before its
        own finish is finished here, as ``interrupted`` or ``failed``: never left ``running``."""
        try:
            if kind is not None:
                status = "interrupted" if issubclass(kind, KeyboardInterrupt) else "failed"
                with self._write() as db:
                    db.executemany(
                        "UPDATE runs SET finished = ?, status = ? WHERE run_id = ? AND status = 'running'",
                        [(time.time(), status, run_id) for run_id in self._started],
                    )
        finally:
            self.close()

    @contextmanager
    def _write(self) -> Iterator[Database]:
        with self._lock, self._db.transaction():
            yield self._db

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params)

    # --- writing ---------------------------------------------------------------------------------------

    def start_run(
        self,
        run_id: str,
        kind: str,
        playbook: str,
        playbook_path: str,
        playbook_sha256: str,
        inventory: str,
        arguments: Sequence[str],
        rollback_of: str | None = None,
        resume_of: str | None = None,
    ) -> None:
        self._started.append(run_id)
        with self._write() as db:
            db.execute(
                'INSERT INTO runs (run_id, kind, "user", started, finished, playbook, playbook_path, playbook_sha256,'
                " inventory, arguments, status, rollback_of, resume_of)"
                " VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, 'running', ?, ?)",
                (run_id, kind, who(), time.time(), playbook, playbook_path, playbook_sha256, inventory,
                 json.dumps([self.masker.text(_no_password(a)) for a in arguments]), rollback_of, resume_of),
            )  # fmt: skip

    def finish_run(self, run_id: str, status: str) -> None:
        with self._write() as db:
            db.execute("UPDATE runs SET finished = ?, status = ? WHERE run_id = ?", (time.time(), status, run_id))

    def record_host(
        self, run_id: str, host: str, address: str, status: str, error: str = "", backup_dir: str = ""
    ) -> None:
        """Inserts or updates one host's row: called before the host is written to and after."""
        now = time.time()
        with self._write() as db:
            db.execute(HOST_RESULT, (run_id, host, address, status, self.masker.text(error), backup_dir, now, now))

    def record_host_plan(self, run_id: str, host_plan: HostPlan, status: str, backup_paths: Mapping[str, str]) -> None:
        """The host's row, its handlers and probes, and every file it is about to get, in one transaction."""
        with self._write() as db:
            self._insert_host_plan(db, run_id, host_plan, status, backup_paths)

    def record_plan(self, run_id: str, host_plans: Sequence[HostPlan], statuses: Sequence[str]) -> None:
        """Every host's row and files as planned, in one transaction: what a dry-run shows, and before a
        rollout what each host is to get, so that a host never started can be resumed exactly."""
        with self._write() as db:
            for host_plan, status in zip(host_plans, statuses, strict=True):
                self._insert_host_plan(db, run_id, host_plan, status, {})
            db.execute("UPDATE runs SET plan_recorded = 1 WHERE run_id = ?", (run_id,))

    def _insert_host_plan(
        self, db: Database, run_id: str, host_plan: HostPlan, status: str, backup_paths: Mapping[str, str]
    ) -> None:
        host = host_plan.host
        # A replace, as SQLite's INSERT OR REPLACE (which PostgreSQL lacks) was: the row goes last in order.
        db.execute("DELETE FROM hosts WHERE run_id = ? AND host = ?", (run_id, host.name))
        db.execute(
            "INSERT INTO hosts (run_id, host, address, status, error, backup_dir, started,"
            " handlers, probes) VALUES (?, ?, ?, ?, ?, '', ?, ?, ?)",
            (run_id, host.name, host.address, status, self.masker.text(host_plan.error), time.time(),
             self.masker.text(json.dumps(list(host_plan.handlers))),
             self.masker.text(json.dumps([probe_to_json(p) for p in host_plan.probes]))),
        )  # fmt: skip
        # A host planned earlier in this run (its row "planned") is now written: its files are the plan's.
        db.execute("DELETE FROM files WHERE run_id = ? AND host = ?", (run_id, host.name))
        self._insert_files(db, run_id, host.name, host_plan.changes, backup_paths)

    def _insert_files(
        self,
        db: Database,
        run_id: str,
        host: str,
        changes: Sequence[FileChange],
        backup_paths: Mapping[str, str],
    ) -> None:
        rows = []
        for c in changes:
            # An original with lines a secret is rendered into (shown_before) is kept masked too: a rotation's
            # old value is not known as a value. So is what a rollback found, shown as the journal's masked
            # copy of what the run wrote: it may hold secrets the rollback does not know.
            masked = c.before is not None and (c.shown_before is not None or self.masker.holds_secret(c.before))
            before = c.before if c.shown_before is None else c.shown_before
            original = None if before is None else _compress(self.masker.data(before))
            after = c.after if c.shown_after is None else c.shown_after
            rows.append(
                (run_id, host, c.path, c.real_path, c.before_sha256, c.after_sha256, c.before_mode, c.mode,
                 c.uid, c.gid, backup_paths.get(c.path, ""), original, _compress(self.masker.data(after)),
                 int(masked), _xattrs_text(c.before_xattrs), self.masker.text(file_diff(c)),
                 json.dumps(c.folders))
            )  # fmt: skip
        db.executemany(
            f"INSERT INTO files ({_FILE_COLUMNS}) VALUES ({_FILE_PLACEHOLDERS})"
            f" ON CONFLICT (run_id, host, path) DO UPDATE SET {_FILE_UPDATES}",
            rows,
        )

    # --- holding hosts (a journal shared between controllers) --------------------------------------------

    @property
    def shared(self) -> bool:
        """The journal is a database controllers share (PostgreSQL): runs claim their hosts here
        (claim_host and release_host do something), and a run's workers meet in it."""
        return self._db.host_locks

    def require_shared(self, who: str) -> None:
        """Refuses ``who`` (a flag or command that needs workers) on a journal one controller keeps."""
        if not self.shared:
            raise UserError(
                f"{who}: the journal {self.where} is SQLite, one controller's own: a run's workers share a"
                " PostgreSQL journal (--journal postgresql://..., $REMEDIATE_JOURNAL or the configuration file)"
            )

    def claim_host(self, run_id: str, address: str, port: int) -> str | None:
        """Takes the host's advisory lock for ``run_id`` on this journal's connection, at once or not at
        all, and records its holder: None when taken, else the holder as ``RUN (user@machine)`` ('' when
        it cannot be named). The server lets it go when the connection ends, so a controller killed while
        holding it blocks nobody, and its row, naming a session that is gone, names nobody."""
        key = host_key(address, port)
        for attempt in range(20):
            if attempt:
                time.sleep(0.1)
            with self._lock:
                if self._db.execute("SELECT pg_try_advisory_lock(?::integer, ?::integer)", (HOST_LOCK_CLASS, key))[0][
                    0
                ]:
                    with self._db.transaction():
                        self._db.execute(
                            'INSERT INTO host_locks (host_key, address, run_id, "user", machine, since, session)'
                            " VALUES (?, ?, ?, ?, ?, ?, pg_backend_pid()) ON CONFLICT (host_key) DO UPDATE SET"
                            ' address = excluded.address, run_id = excluded.run_id, "user" = excluded."user",'
                            " machine = excluded.machine, since = excluded.since, session = excluded.session",
                            (key, _host_address(address, port), run_id, who(), socket.gethostname(), time.time()),
                        )
                    return None
                # The holder writes its row just after taking the lock: it may not be there yet, a moment.
                rows = self._db.execute(
                    'SELECT h.run_id, h."user", h.machine FROM host_locks h JOIN pg_locks l ON l.pid = h.session'
                    f" WHERE h.host_key = ? AND {_HELD}",
                    (key, HOST_LOCK_CLASS, key),
                )
            if rows:
                holder_run, user, machine = rows[0]
                return f"{holder_run} ({user}@{machine})"
        return ""

    def release_host(self, run_id: str, address: str, port: int) -> None:
        """Lets go of the host's lock that ``claim_host`` took for ``run_id``, and of its holder row."""
        key = host_key(address, port)
        with self._write() as db:
            db.execute("DELETE FROM host_locks WHERE host_key = ? AND run_id = ?", (key, run_id))
        with self._lock:
            self._db.execute("SELECT pg_advisory_unlock(?::integer, ?::integer)", (HOST_LOCK_CLASS, key))

    # --- reading ---------------------------------------------------------------------------------------

    def runs(self, limit: int = 20) -> list[RunRecord]:
        rows = self._read(f"SELECT {RUN_COLUMNS} FROM runs ORDER BY started DESC LIMIT ?", (limit,))
        return [_run(row) for row in rows]

    def resumes(self, run_id: str) -> list[RunRecord]:
        """The runs that resumed ``run_id``, oldest first."""
        rows = self._read(f"SELECT {RUN_COLUMNS} FROM runs WHERE resume_of = ? ORDER BY started", (run_id,))
        return [_run(row) for row in rows]

    def run(self, run_id: str) -> RunRecord:
        exact = self._read(f"SELECT {RUN_COLUMNS} FROM runs WHERE run_id = ?", (run_id,))
        row = exact[0] if exact else None
        if row is None:
            matches = self._read(f"SELECT {RUN_COLUMNS} FROM runs WHERE run_id LIKE ?", (f"%{run_id}%",))
            if len(matches) == 1:
                return _run(matches[0])
            raise UserError(
                f"no run {run_id!r} in the journal {self.where}"
                + (f" ({len(matches)} runs match it: be more precise)" if matches else "")
            )
        return _run(row)

    def hosts(self, run_id: str) -> list[HostRecord]:
        rows = self._read(
            "SELECT host, address, status, error, backup_dir, handlers, probes FROM hosts WHERE run_id = ?"
            f" ORDER BY {self._db.row_order}",
            (run_id,),
        )
        return [
            HostRecord(
                host,
                address,
                status,
                error,
                backup_dir,
                tuple(json.loads(handlers)),
                tuple(probe_from_json(p) for p in json.loads(probes)),
            )
            for host, address, status, error, backup_dir, handlers, probes in rows
        ]

    def files(self, run_id: str) -> list[FileRecord]:
        rows = self._read(
            f"SELECT host, {_FILE_UPDATED} FROM files WHERE run_id = ? ORDER BY {self._db.row_order}", (run_id,)
        )
        return [_file(row) for row in rows]


def _host_address(address: str, port: int) -> str:
    """A host as every controller names it: its address (lowercase, no brackets nor final dot) and port,
    not its inventory name, which each controller's inventory may choose differently."""
    return f"{address.strip('[]').rstrip('.').lower()}:{port}"


def host_key(address: str, port: int) -> int:
    """The host's key among remediate's advisory locks: 31 bits of the sha256 of its address and port, the
    same in every controller (positive, so that it reads the same as PostgreSQL's int4 and its oid)."""
    digest = hashlib.sha256(_host_address(address, port).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def _run(row: Sequence[Any]) -> RunRecord:
    values = list(row)
    values[9] = tuple(json.loads(values[9]))
    values[13] = bool(values[13])
    return RunRecord(*values)


def _file(row: Sequence[Any]) -> FileRecord:
    *fields, xattrs, diff, folders = row
    host, path, real_path, before, after, mode_before, mode_after, uid, gid, backup, original, written, masked = fields
    return FileRecord(
        host, path, real_path, before, after, mode_before, mode_after, uid, gid, backup,
        None if original is None else zlib.decompress(original), zlib.decompress(written), bool(masked),
        xattrs_from_json(None if xattrs is None else json.loads(xattrs)), diff, tuple(json.loads(folders)),
    )  # fmt: skip


def _no_password(argument: str) -> str:
    """A command-line argument as recorded: a journal URL's password (``--journal=URL`` too) is not kept."""
    option, equals, value = argument.partition("=") if argument.startswith("--") else ("", "", argument)
    return option + equals + shown_url(value) if "://" in value else argument


def _xattrs_text(xattrs: Xattrs | None) -> str | None:
    return None if xattrs is None else json.dumps(xattrs_to_json(xattrs))


def who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    sudo_user = os.environ.get("SUDO_USER")
    return f"{sudo_user} (as {user})" if sudo_user and sudo_user != user else user
