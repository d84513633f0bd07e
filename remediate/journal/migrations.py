"""The journal's schema as an ordered list of versioned migrations, the same for SQLite and PostgreSQL.

A journal records the last migration applied in its ``schema_version`` table; opening it applies the
later ones in one transaction. Journals from before the versions (no such table) hold the first tables
and some of the columns added since: every step is therefore written to be a no-op where its effect is
already there (``CREATE TABLE IF NOT EXISTS``, a column added only when missing). A column is never
removed or changed, so an older remediate's rows stay readable and no upgrade loses anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from remediate.errors import UserError
from remediate.journal.backends import Database


@dataclass(frozen=True)
class Table:
    """A table as first made. Types are SQL with ``{real}`` and ``{blob}`` for the engine's own names."""

    name: str
    columns: tuple[str, ...]
    key: str
    ordered: bool = False  # rows are read back in insertion order: PostgreSQL needs a column for it


@dataclass(frozen=True)
class Column:
    table: str
    name: str
    definition: str


@dataclass(frozen=True)
class Index:
    name: str
    table: str
    columns: str


@dataclass(frozen=True)
class Migration:
    version: int
    why: str
    steps: tuple[Table | Column | Index, ...]


MIGRATIONS = (
    Migration(
        1,
        "the first journal: runs, their hosts, and the files of each host with both contents",
        (
            Table(
                "runs",
                (
                    "run_id TEXT NOT NULL",
                    "kind TEXT NOT NULL",  # apply | dry-run | rollback
                    '"user" TEXT NOT NULL',  # quoted: a reserved word in PostgreSQL
                    "started {real} NOT NULL",
                    "finished {real}",
                    "playbook TEXT NOT NULL",
                    "playbook_path TEXT NOT NULL",
                    "playbook_sha256 TEXT NOT NULL",
                    "inventory TEXT NOT NULL",
                    "arguments TEXT NOT NULL",  # JSON list of the command line
                    "status TEXT NOT NULL",  # running | ok | failed | halted | interrupted | not confirmed
                    "rollback_of TEXT",
                ),
                "run_id",
            ),
            Table(
                "hosts",
                (
                    "run_id TEXT NOT NULL REFERENCES runs(run_id)",
                    "host TEXT NOT NULL",
                    "address TEXT NOT NULL",
                    "status TEXT NOT NULL",  # planned | writing | a final status such as changed or skipped
                    "error TEXT NOT NULL DEFAULT ''",
                    "backup_dir TEXT NOT NULL DEFAULT ''",
                    "started {real}",
                    "finished {real}",
                ),
                "run_id, host",
                ordered=True,
            ),
            Table(
                "files",
                (
                    "run_id TEXT NOT NULL",
                    "host TEXT NOT NULL",
                    "path TEXT NOT NULL",
                    "real_path TEXT NOT NULL",
                    "sha256_before TEXT",  # NULL: the run created the file
                    "sha256_after TEXT NOT NULL",
                    "mode_before INTEGER",
                    "mode_after INTEGER NOT NULL",
                    "uid INTEGER",
                    "gid INTEGER",
                    "backup_path TEXT NOT NULL DEFAULT ''",
                    "original {blob}",  # zlib of the bytes before; NULL for a created file
                    "written {blob} NOT NULL",  # zlib of the bytes the run wrote, secrets masked
                ),
                "run_id, host, path",
                ordered=True,
            ),
        ),
    ),
    Migration(
        2,
        "the columns added before the schema had versions (a journal of then may have some of them)",
        (
            Column("runs", "resume_of", "TEXT"),  # the run this one resumed: its hosts that were never started
            Column("runs", "plan_recorded", "INTEGER NOT NULL DEFAULT 0"),  # 1: every host's plan is recorded
            Column("hosts", "handlers", "TEXT NOT NULL DEFAULT '[]'"),  # JSON: rendered on_change commands
            Column("hosts", "probes", "TEXT NOT NULL DEFAULT '[]'"),  # JSON: rendered verify probes
            Column("files", "original_masked", "INTEGER NOT NULL DEFAULT 0"),  # 1: the original is kept masked
            Column("files", "xattrs", "TEXT"),  # JSON [[name, base64 value], ...] of the original; NULL: unknown
            Column("files", "diff", "TEXT NOT NULL DEFAULT ''"),  # the diff as shown: true bytes, secrets masked
            Column("files", "folders", "TEXT NOT NULL DEFAULT '[]'"),  # JSON: folders made for a created file
        ),
    ),
    Migration(
        3,
        "who holds each host for a run (a PostgreSQL journal: the advisory lock is the claim, this row names it)",
        (
            Table(
                "host_locks",
                (
                    "host_key INTEGER NOT NULL",  # the advisory lock's key: the host's address and port
                    "address TEXT NOT NULL",  # address:port, as the key was made from
                    "run_id TEXT NOT NULL",
                    '"user" TEXT NOT NULL',
                    "machine TEXT NOT NULL",  # the controller's host name
                    "since {real} NOT NULL",
                    "session INTEGER NOT NULL",  # the holder's server process: a row whose session is gone is stale
                ),
                "host_key",
            ),
        ),
    ),
    Migration(
        4,
        "a run's plan queued for workers (`apply --workers`, `work RUN`): its budget and each host's claim",
        (
            # Made on both engines, so that every journal has one schema; only PostgreSQL's are used (the
            # workers claim hosts with SELECT ... FOR UPDATE SKIP LOCKED, which SQLite has not).
            Table(
                "work_runs",
                (
                    "run_id TEXT NOT NULL REFERENCES runs(run_id)",
                    "max_fail TEXT NOT NULL",  # as the operator gave it (3, 10%), for the halt's message
                    "allowed INTEGER NOT NULL",  # how many hosts may fail: max_fail of the run's hosts
                    "total INTEGER NOT NULL",
                    "options TEXT NOT NULL",  # JSON: how each host is written (rollback, precheck, waits)
                    "halted TEXT NOT NULL DEFAULT ''",  # why no host starts any more; '': it did not halt
                    # Kept by each result's transaction (which holds this row), so that none counts the run's rows.
                    "failed INTEGER NOT NULL DEFAULT 0",  # hosts that count against the budget
                    "unfinished INTEGER NOT NULL DEFAULT 0",  # hosts to do or claimed
                    "in_flight INTEGER NOT NULL DEFAULT 0",  # hosts claimed when the budget ran out
                    "skipped INTEGER NOT NULL DEFAULT 0",  # hosts never started because it halted
                ),
                "run_id",
            ),
            Table(
                "work",
                (
                    "run_id TEXT NOT NULL",
                    "host TEXT NOT NULL",
                    "wave INTEGER NOT NULL",  # 0 first; no host of a wave is claimed before the last is done
                    "canary INTEGER NOT NULL DEFAULT 0",  # 1: the wave is the run's canary
                    "plan {blob} NOT NULL",  # zlib of the host's plan as a plan file holds it (load/planfile)
                    "state TEXT NOT NULL",  # todo | claimed | done
                    "claimed_by TEXT",  # the worker (user@machine:pid) that holds or last held it
                    "claimed_until {real}",  # the claim's lease, on the database's clock; a worker renews it
                    "claims INTEGER NOT NULL DEFAULT 0",  # times claimed: 2 or more is a taken-over host
                    "failed INTEGER NOT NULL DEFAULT 0",  # 1: it counts against the run's failure budget
                ),
                "run_id, host",
                ordered=True,
            ),
            # A claim looks for the lowest wave with a host not done, then for a host of it to take.
            Index("work_open_waves", "work", "run_id, state, wave"),
            Index("work_claimable", "work", "run_id, wave, state"),
        ),
    ),
)

LATEST = MIGRATIONS[-1].version


def migrate(db: Database, migrations: tuple[Migration, ...] = MIGRATIONS) -> int:
    """Brings the journal to the last of ``migrations`` in one transaction; returns the version it had."""
    with db.transaction():
        db.schema_lock()
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        rows = db.execute("SELECT version FROM schema_version")
        current = rows[0][0] if rows else 0
        latest = migrations[-1].version
        if current > latest:
            raise UserError(
                f"the journal {db.where} has schema version {current}, newer than this remediate's {latest}:"
                " upgrade remediate"
            )
        for migration in migrations:
            if migration.version > current:
                for step in migration.steps:
                    _apply(db, step)
        if not rows:
            db.execute("INSERT INTO schema_version (version) VALUES (?)", (latest,))
        elif latest != current:
            db.execute("UPDATE schema_version SET version = ?", (latest,))
    return int(current)


def _apply(db: Database, step: Table | Column | Index) -> None:
    if isinstance(step, Index):
        db.execute(f"CREATE INDEX IF NOT EXISTS {step.name} ON {step.table} ({step.columns})")
        return
    if isinstance(step, Column):
        if step.name not in db.columns(step.table):
            db.execute(f"ALTER TABLE {step.table} ADD COLUMN {step.name} {step.definition.format(**db.types)}")
        return
    columns = [c.format(**db.types) for c in step.columns]
    if step.ordered and db.row_order_column is not None:
        columns.append(db.row_order_column)
    body = ", ".join([*columns, f"PRIMARY KEY ({step.key})"])
    db.execute(f"CREATE TABLE IF NOT EXISTS {step.name} ({body})")
