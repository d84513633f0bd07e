"""The journal's two databases behind one small seam: SQLite in the state folder (the default) and PostgreSQL
reached by a URL. The journal's logic writes its SQL once, with ``?`` placeholders and ``ON CONFLICT``
upserts (both engines have them); a backend only connects, runs statements and transactions, and says
what differs: its placeholder, its column types, and which column keeps the rows' order.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from remediate.errors import UserError
from remediate.load.config import JOURNAL_SCHEMES

DATABASE = "journal.sqlite"
OPEN_LOCK = "journal.lock"  # beside it: held by a controller from its first statement until the schema is ready
POSTGRES_SCHEMES = JOURNAL_SCHEMES


class Database(Protocol):
    """One connection to a journal database. The Journal serialises every call with its own lock."""

    where: str  # for messages: the SQLite file, or the URL without its password
    types: Mapping[str, str]  # the schema's portable type names (real, blob) in this engine's words
    row_order: str  # the column that keeps the order rows were inserted in
    row_order_column: str | None  # its definition, where the engine has no implicit one (SQLite's rowid)
    # Session-level advisory locks (PostgreSQL's): a run holds each host it writes in the journal, for every
    # controller sharing it. A journal of one controller's own (SQLite) has no one to keep out.
    host_locks: bool

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def transaction(self) -> AbstractContextManager[None]: ...

    def columns(self, table: str) -> set[str]: ...

    def schema_lock(self) -> None: ...

    def schema_ready(self) -> None: ...

    def close(self) -> None: ...


def connect(target: Path | str) -> Database:
    """A state folder (its journal.sqlite) or a journal URL; an unusable one is a UserError, in one line."""
    if isinstance(target, Path):
        return SQLiteDatabase(target)
    scheme = urlsplit(target).scheme
    if scheme in POSTGRES_SCHEMES:
        return PostgresDatabase(target)
    raise UserError(
        f"journal URL {shown_url(target)!r}: only postgresql://... is supported"
        " (the default journal is SQLite in the state folder)"
    )


def shown_url(url: str) -> str:
    """A URL as messages show it: without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


class SQLiteDatabase:
    """The embedded journal: one file in the operator's private state folder."""

    types: Mapping[str, str] = {"real": "REAL", "blob": "BLOB"}
    row_order = "rowid"
    row_order_column: str | None = None
    host_locks = False

    def __init__(self, directory: Path) -> None:
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            directory.chmod(0o700)  # the journal holds file contents: private even if the folder existed
        except OSError as e:
            raise UserError(f"cannot use state folder {directory}: {e.strerror}") from None
        path = directory / DATABASE
        self.where = str(path)
        # Controllers that open a new journal at once take turns, from the first statement to the last
        # migration: switching a journal to WAL needs it alone, and SQLite answers "database is locked" at
        # once (no busy wait: a wait could deadlock) to the one that finds another inside. Released by
        # schema_ready, or by the process's end.
        self._open_lock: int | None = os.open(directory / OPEN_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self._open_lock, fcntl.LOCK_EX)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
            path.chmod(0o600)
            self._db.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL skips the fsync at each commit (two a host): a committed row survives the
            # controller being killed, as the kill -9 test shows; only a power cut may take the last rows.
            self._db.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            self.schema_ready()
            raise

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._db.execute(sql, params).fetchall()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # IMMEDIATE: the write lock is taken at BEGIN, so two controllers' writes queue instead of failing.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def columns(self, table: str) -> set[str]:
        return {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}

    def schema_lock(self) -> None:
        """BEGIN IMMEDIATE already holds the database's one write lock."""

    def schema_ready(self) -> None:
        if self._open_lock is not None:
            os.close(self._open_lock)  # and with it the lock
            self._open_lock = None

    def close(self) -> None:
        self.schema_ready()
        self._db.close()


# Any constant: the key of the transaction-scoped advisory lock under which a journal's schema is migrated,
# so that two controllers opening a new journal at once do not both create it.
_SCHEMA_LOCK = 0x72656D65


class PostgresDatabase:
    """A shared journal: one PostgreSQL connection (autocommit, so a write's transaction is explicit)."""

    types: Mapping[str, str] = {"real": "DOUBLE PRECISION", "blob": "BYTEA"}
    row_order = "seq"
    row_order_column: str | None = "seq BIGINT GENERATED BY DEFAULT AS IDENTITY"
    host_locks = True

    def __init__(self, url: str) -> None:
        import psycopg  # only a command that opens a PostgreSQL journal pays for the import

        self.where = shown_url(url)
        self._errors: type[Exception] = psycopg.Error
        try:
            self._db = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except (psycopg.Error, ValueError) as e:
            raise UserError(f"cannot open the journal {self.where}: {_first_line(e)}") from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            cursor = self._db.execute(_pg(sql), _pg_params(params))
            return cursor.fetchall() if cursor.description else []
        except self._errors as e:
            raise UserError(f"the journal {self.where}: {_first_line(e)}") from None

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            with self._db.cursor() as cursor:
                cursor.executemany(_pg(sql), [_pg_params(row) for row in rows])
        except self._errors as e:
            raise UserError(f"the journal {self.where}: {_first_line(e)}") from None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        try:
            with self._db.transaction():
                yield
        except self._errors as e:
            raise UserError(f"the journal {self.where}: {_first_line(e)}") from None

    def columns(self, table: str) -> set[str]:
        rows = self.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = ?",
            (table,),
        )
        return {row[0] for row in rows}

    def schema_lock(self) -> None:
        self.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))

    def schema_ready(self) -> None:
        """The advisory lock of the migration's transaction ended with it."""

    def close(self) -> None:
        self._db.close()


def _pg(sql: str) -> str:
    """The journal's SQL has no literal ``?`` or ``%`` (LIKE patterns are parameters): a plain swap is exact."""
    return sql.replace("?", "%s")


def _pg_params(params: Sequence[Any]) -> list[Any]:
    """PostgreSQL's text cannot hold NUL, which a diff of a binary file may show: it is kept as the symbol
    for it, U+2400. Only shown text is text (contents are bytea), so no byte a rollback needs is changed."""
    return [p.replace("\x00", "\u2400") if isinstance(p, str) else p for p in params]


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
