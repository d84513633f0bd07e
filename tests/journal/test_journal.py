"""The journal's records and guarantees, the same on both backends: each test runs on SQLite in a state
folder and on a PostgreSQL database of its own (tests/postgres.py's server), and the schema migrations
bring an earlier version's SQLite journal up to date without losing a row."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from postgres import Server

from remediate.errors import UserError
from remediate.journal import Journal
from remediate.journal.backends import connect
from remediate.journal.migrations import LATEST, MIGRATIONS, migrate
from remediate.model import FileChange, Host, HostPlan
from remediate.plan.masking import Masker

SECRET = "hunter2-s3cret"


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where a test's journal is: a state folder, or a fresh PostgreSQL database's URL."""
    if request.param == "sqlite":
        return tmp_path / "state"
    server: Server = request.getfixturevalue("postgres")
    return server.new_database()


def _change(path: str, before: bytes | None, after: bytes) -> FileChange:
    return FileChange(path, path, ("fix",), before, after, 0o644, 0, 0, before_mode=None if before is None else 0o600)


def _plan(name: str, *changes: FileChange) -> HostPlan:
    return HostPlan(Host(name, f"10.0.0.{len(name)}"), changes, handlers=(f"systemctl reload {SECRET}",))


def test_a_run_reads_back_as_written(target: Path | str) -> None:
    masker = Masker([SECRET])
    plans = [
        _plan("web2", _change("/etc/a.conf", b"old\x00\xff", b"new " + SECRET.encode())),
        _plan("web1", _change("/etc/b.conf", None, b"created"), _change("/etc/c.conf", b"c0", b"c1")),
    ]
    with Journal(target, masker) as journal:
        journal.start_run(
            "R-2026-1", "apply", "pb", "/p/pb.yml", "sha", "/i/inv.yml", ["apply", f"--secret-var=x={SECRET}"]
        )
        journal.record_plan("R-2026-1", plans, ["planned", "planned"])
        journal.record_host_plan("R-2026-1", plans[0], "writing", {"/etc/a.conf": "/backup/a"})
        journal.record_host("R-2026-1", "web2", "10.0.0.4", "changed", backup_dir="/backup")
        journal.record_host("R-2026-1", "web2", "10.0.0.4", "changed", error=f"no {SECRET}")  # backup_dir kept
        journal.finish_run("R-2026-1", "ok")
    with Journal(target, Masker()) as journal:
        run = journal.run("2026")  # a unique part of the id
        assert (run.run_id, run.status, run.plan_recorded, run.user) == ("R-2026-1", "ok", True, run.user)
        assert run.arguments == ("apply", "--secret-var=x=********") or SECRET not in " ".join(run.arguments)
        assert isinstance(run.started, float) and run.finished is not None and run.finished >= run.started
        hosts = journal.hosts("R-2026-1")
        # web2 was re-recorded when it was written: it comes after web1, as SQLite's replace always had it.
        assert [(h.host, h.status, h.backup_dir) for h in hosts] == [
            ("web1", "planned", ""),
            ("web2", "changed", "/backup"),
        ]
        assert SECRET not in hosts[1].error and SECRET not in hosts[1].handlers[0]
        files = {(f.host, f.path): f for f in journal.files("R-2026-1")}
        assert list(files) == [("web1", "/etc/b.conf"), ("web1", "/etc/c.conf"), ("web2", "/etc/a.conf")]
        a = files[("web2", "/etc/a.conf")]
        assert (a.original, a.backup_path, a.mode_before, a.mode_after) == (b"old\x00\xff", "/backup/a", 0o600, 0o644)
        assert SECRET.encode() not in a.written and SECRET not in a.diff
        b = files[("web1", "/etc/b.conf")]
        assert (b.original, b.written, b.sha256_before, b.original_masked) == (None, b"created", None, False)
        assert journal.runs() == [run] and journal.resumes("R-2026-1") == []


def test_runs_newest_first_resumes_and_ambiguous_parts(target: Path | str) -> None:
    with Journal(target, Masker()) as journal:
        for run_id, resume_of in (("R-a1", None), ("R-a2", "R-a1"), ("R-b3", "R-a1")):
            journal.start_run(run_id, "apply", "pb", "pb.yml", "sha", "inv", [], resume_of=resume_of)
        assert [r.run_id for r in journal.runs()] == ["R-b3", "R-a2", "R-a1"]
        assert [r.run_id for r in journal.runs(limit=1)] == ["R-b3"]
        assert [r.run_id for r in journal.resumes("R-a1")] == ["R-a2", "R-b3"]
        with pytest.raises(UserError, match=r"no run 'R-a' in the journal .* \(2 runs match it: be more precise\)"):
            journal.run("R-a")
        with pytest.raises(UserError, match="no run 'nothing'"):
            journal.run("nothing")


def test_a_run_an_error_ends_is_recorded_as_interrupted_or_failed(target: Path | str) -> None:
    with pytest.raises(KeyboardInterrupt), Journal(target, Masker()) as journal:
        journal.start_run("R-int", "apply", "pb", "pb.yml", "sha", "inv", [])
        raise KeyboardInterrupt
    with pytest.raises(RuntimeError), Journal(target, Masker()) as journal:
        journal.start_run("R-err", "apply", "pb", "pb.yml", "sha", "inv", [])
        raise RuntimeError
    with Journal(target, Masker()) as journal:
        assert {r.run_id: r.status for r in journal.runs()} == {"R-int": "interrupted", "R-err": "failed"}


def test_the_workers_threads_write_through_one_journal(target: Path | str) -> None:
    with Journal(target, Masker()) as journal:
        journal.start_run("R-threads", "apply", "pb", "pb.yml", "sha", "inv", [])

        def work(n: int) -> None:
            for i in range(10):
                name = f"h{n}-{i}"
                journal.record_host_plan("R-threads", _plan(name, _change(f"/f{i}", b"x", b"y")), "writing", {})
                journal.record_host("R-threads", name, "addr", "changed")

        threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(h.status for h in journal.hosts("R-threads")) == ["changed"] * 60
        assert len(journal.files("R-threads")) == 60


def test_a_journal_newer_than_this_remediate_is_refused(target: Path | str) -> None:
    Journal(target, Masker()).close()
    db = connect(target)
    with db.transaction():
        db.execute("UPDATE schema_version SET version = ?", (LATEST + 1,))
    db.close()
    with pytest.raises(UserError, match=f"has schema version {LATEST + 1}, newer than this remediate's {LATEST}"):
        Journal(target, Masker())


def test_a_journal_at_the_first_version_is_migrated(target: Path | str) -> None:
    db = connect(target)
    assert migrate(db, MIGRATIONS[:1]) == 0
    with db.transaction():
        db.execute(
            'INSERT INTO runs (run_id, kind, "user", started, playbook, playbook_path, playbook_sha256, inventory,'
            " arguments, status) VALUES ('R-v1', 'apply', 'ann', 1.5, 'pb', 'pb.yml', 'sha', 'inv', '[]', 'ok')"
        )
    db.close()
    with Journal(target, Masker()) as journal:
        run = journal.run("R-v1")
        assert (run.user, run.started, run.resume_of, run.plan_recorded) == ("ann", 1.5, None, False)
    db = connect(target)
    assert db.execute("SELECT version FROM schema_version") == [(LATEST,)]
    db.close()


# The schema of the first journals, before any column was added and before schema_version: as they are on disk.
OLDEST_SQLITE = """
CREATE TABLE runs (run_id TEXT PRIMARY KEY, kind TEXT NOT NULL, user TEXT NOT NULL, started REAL NOT NULL,
    finished REAL, playbook TEXT NOT NULL, playbook_path TEXT NOT NULL, playbook_sha256 TEXT NOT NULL,
    inventory TEXT NOT NULL, arguments TEXT NOT NULL, status TEXT NOT NULL, rollback_of TEXT);
CREATE TABLE hosts (run_id TEXT NOT NULL REFERENCES runs(run_id), host TEXT NOT NULL, address TEXT NOT NULL,
    status TEXT NOT NULL, error TEXT NOT NULL DEFAULT '', backup_dir TEXT NOT NULL DEFAULT '', started REAL,
    finished REAL, PRIMARY KEY (run_id, host));
CREATE TABLE files (run_id TEXT NOT NULL, host TEXT NOT NULL, path TEXT NOT NULL, real_path TEXT NOT NULL,
    sha256_before TEXT, sha256_after TEXT NOT NULL, mode_before INTEGER, mode_after INTEGER NOT NULL, uid INTEGER,
    gid INTEGER, backup_path TEXT NOT NULL DEFAULT '', original BLOB, written BLOB NOT NULL,
    PRIMARY KEY (run_id, host, path));
INSERT INTO runs VALUES ('R-old', 'apply', 'bob', 2.0, 3.0, 'pb', '/p/pb.yml', 'sha', '/i/inv.yml', '["apply"]', 'ok', NULL);
INSERT INTO hosts VALUES ('R-old', 'web2', '10.0.0.2', 'changed', '', '/bk', 2.1, 2.9);
INSERT INTO hosts VALUES ('R-old', 'web1', '10.0.0.1', 'failed', 'boom', '', 2.2, 2.8);
"""


@pytest.mark.parametrize("partly", [False, True], ids=["oldest", "partly upgraded"])
def test_an_earlier_versions_sqlite_journal_upgrades_losslessly(tmp_path: Path, partly: bool) -> None:
    import zlib

    state = tmp_path / "state"
    state.mkdir()
    with sqlite3.connect(state / "journal.sqlite") as old:
        old.executescript(OLDEST_SQLITE)
        old.execute(
            "INSERT INTO files VALUES ('R-old', 'web2', '/etc/a', '/etc/a', 's0', 's1', 420, 420, 0, 0, '/bk/a', ?, ?)",
            (zlib.compress(b"before"), zlib.compress(b"after")),
        )
        if partly:  # as a version in between left it: _add_missing_columns had added some
            old.execute("ALTER TABLE runs ADD COLUMN resume_of TEXT")
            old.execute("ALTER TABLE files ADD COLUMN diff TEXT NOT NULL DEFAULT ''")
            old.execute("UPDATE runs SET resume_of = 'R-first'")
    with Journal(state, Masker()) as journal:
        run = journal.run("R-old")
        assert (run.user, run.started, run.finished, run.arguments, run.plan_recorded) == (
            "bob",
            2.0,
            3.0,
            ("apply",),
            False,
        )
        assert run.resume_of == ("R-first" if partly else None)
        assert [(h.host, h.status, h.error, h.backup_dir, h.handlers) for h in journal.hosts("R-old")] == [
            ("web2", "changed", "", "/bk", ()),
            ("web1", "failed", "boom", "", ()),
        ]
        [f] = journal.files("R-old")
        assert (f.original, f.written, f.backup_path, f.xattrs, f.diff, f.folders) == (
            b"before",
            b"after",
            "/bk/a",
            None,
            "",
            (),
        )
        journal.start_run("R-new", "apply", "pb", "pb.yml", "sha", "inv", [], resume_of="R-old")
        assert [r.run_id for r in journal.resumes("R-old")] == ["R-new"]
    with sqlite3.connect(state / "journal.sqlite") as upgraded:
        assert upgraded.execute("SELECT version FROM schema_version").fetchall() == [(LATEST,)]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://db/journal", "journal URL 'mysql://db/journal': only postgresql://... is supported"),
        (
            "postgresql://ann:pw@127.0.0.1:1/journal",
            "cannot open the journal postgresql://ann:***@127.0.0.1:1/journal: ",
        ),
    ],
)
def test_a_bad_journal_url_is_one_line(url: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    from remediate.cli.main import main

    assert main(["runs", "--journal", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"remediate: error: {message}") and err.count("\n") == 1 and "pw" not in err


def _open_and_start_a_run(state: Path, run_id: str, barrier: Any, outcomes: Any) -> None:
    """One controller of the test below: waits for the others, then opens the journal and starts a run."""
    try:
        barrier.wait()
        with Journal(state, Masker()) as journal:
            journal.start_run(run_id, "apply", "pb", "/p/pb.yml", "sha", "/i/inv.yml", [])
        outcomes.put("ok")
    except BaseException as e:  # the test reads what happened, whatever it was
        outcomes.put(f"{type(e).__name__}: {e}")


def test_controllers_opening_a_new_journal_at_once_all_get_it(tmp_path: Path) -> None:
    """Six controllers open a state folder with no journal yet at the same moment, twenty times over: each
    gets the whole schema and records its run. (SQLite answers "database is locked" at once to the one that
    switches a journal to WAL while another is inside it, so first opens take turns; before they did, about
    one round in five failed.)"""
    forked = multiprocessing.get_context("fork")  # the processes share the test's imports: they start at once
    for round_ in range(20):
        state = tmp_path / f"state{round_}"
        barrier, outcomes = forked.Barrier(6), forked.Queue()
        run_ids = [f"R-{round_}-{k}" for k in range(6)]
        openers = [forked.Process(target=_open_and_start_a_run, args=(state, r, barrier, outcomes)) for r in run_ids]
        for opener in openers:
            opener.start()
        results = [outcomes.get(timeout=60) for _ in openers]
        for opener in openers:
            opener.join(timeout=60)
        assert results == ["ok"] * 6, f"round {round_}: {results}"
        with Journal(state, Masker()) as journal:
            assert sorted(run.run_id for run in journal.runs(limit=100)) == run_ids
