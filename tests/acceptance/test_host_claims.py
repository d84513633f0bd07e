"""Hosts held across controllers (issue 20): two controllers apply the same playbook to the same lab hosts
through one PostgreSQL journal, at once, and no host is written by both; the one that did not write a host
ends it ``failed`` with ``locked by run X (user@machine); not touched``, naming the run that wrote it.

The second controller logs in as another user (the unprivileged lab account, without become), whose host
lock is ``~/.remediate/lock`` where root's is ``/run/remediate/lock``: the host's own lock cannot keep the
two runs apart, only the journal's claim can. The target is a file of that user's, in a folder of its own,
so that both logins may write it; the backup root is left open (1777) for the same reason.
"""

from __future__ import annotations

import json
import os
import pwd
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from labtools import ensure_lab_user, fix_playbook, run_json, snapshot
from postgres import Server

from remediate.journal import Journal, who
from remediate.lab.fleet import Lab
from remediate.plan.masking import Masker

pytestmark = pytest.mark.lab

TARGET = "/var/www/shared/app.conf"
# The validator runs on the temporary file before the rename, under the host's lock: each controller keeps
# a host busy for its seconds between its compare-and-swap and its rename.
PLAYBOOK = """\
name: tune-shared
steps:
  - name: who tuned it
    line_patch: {path: /var/www/shared/app.conf, regex: '^setting=.*$', replace: 'setting={{ who }}'}
    validate: 'sleep 4; test -s {path}'
"""


def _share_target(lab: Lab, user: str) -> None:
    account = pwd.getpwnam(user)
    for host in lab.hosts:
        folder = host.local_path("/var/www/shared")
        folder.mkdir()
        (folder / "app.conf").write_text("setting=original\n")
        for path in (folder, folder / "app.conf"):
            os.chown(path, account.pw_uid, account.pw_gid)
        backups = host.local_path("/var/backups/remediate")
        backups.mkdir(exist_ok=True)
        backups.chmod(0o1777)


def _controller(playbook: Path, inventory: Path, who_var: str, url: str, state: Path) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "remediate.cli.main", "apply", str(playbook), "-i", str(inventory), "--yes",
            "--json", "--max-fail", "100%", "-e", f"who={who_var}"]  # fmt: skip
    env = {**os.environ, "REMEDIATE_JOURNAL": url, "REMEDIATE_STATE": str(state)}
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _journal_rows(url: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as db:
        return db.execute(sql).fetchall()


def test_two_controllers_never_both_write_a_host(lab: Lab, postgres: Server, tmp_path: Path) -> None:
    url = postgres.new_database()
    user = ensure_lab_user()
    _share_target(lab, user)
    playbook = tmp_path / "tune.yml"
    playbook.write_text(PLAYBOOK)
    as_lab_user = tmp_path / "as-lab-user.yml"
    as_lab_user.write_text(lab.inventory_path.read_text().replace("  user: root\n", f"  user: {user}\n"))
    assert as_lab_user.read_text() != lab.inventory_path.read_text()

    first = _controller(playbook, lab.inventory_path, "first", url, tmp_path / "first-state")
    # The second starts once the first is writing every host (its rows say so): both have read every host
    # as it was, and the first's writes are under way, not done.
    deadline = time.monotonic() + 30
    while _writing(url) < len(lab.hosts):
        assert time.monotonic() < deadline and first.poll() is None, first.communicate()
        time.sleep(0.05)
    second = _controller(playbook, as_lab_user, "second", url, tmp_path / "second-state")
    out1, err1 = first.communicate(timeout=120)
    out2, err2 = second.communicate(timeout=120)
    docs = {"first": json.loads(out1), "second": json.loads(out2)}
    runs = {name: doc["run_id"] for name, doc in docs.items()}
    holder = {name: f"{run} ({who()}@{socket.gethostname()})" for name, run in runs.items()}

    for host in lab.hosts:
        statuses = {name: doc["hosts"][host.name]["status"] for name, doc in docs.items()}
        writers = [name for name, status in statuses.items() if status == "changed"]
        assert len(writers) == 1, (host.name, statuses, err1, err2)
        (writer,) = writers
        (other,) = set(docs) - {writer}
        assert docs[other]["hosts"][host.name]["error"] == f"locked by run {holder[writer]}; not touched"
        # The bytes, the backups and the journal say the same: one run wrote the host.
        assert host.local_path(TARGET).read_text() == f"setting={writer}\n"
        assert [p.name for p in host.local_path("/var/backups/remediate").iterdir()] == [runs[writer]]
        rows = _journal_rows(url, f"SELECT run_id, status, error FROM hosts WHERE host = '{host.name}'")
        assert sorted(rows) == sorted(
            [
                (runs[writer], "changed", ""),
                (runs[other], "failed", f"locked by run {holder[writer]}; not touched"),
            ]
        )
    assert [h["status"] for h in docs["first"]["hosts"].values()] == ["changed"] * len(lab.hosts)
    assert (first.returncode, second.returncode) == (0, 1), (err1, err2)
    # Nothing is held after the runs, and the journal's rows of holders are gone with the claims.
    assert _journal_rows(url, "SELECT * FROM host_locks") == []
    # The first run held each host's own lock as root; the second, logged in as another user, would have
    # taken its own (in its home), which nothing of the first's kept it from: only the claim did.
    assert lab.hosts[0].local_path("/run/remediate/holder").read_text().startswith(runs["first"])


def _writing(url: str) -> int:
    """How many hosts the journal says are being written (0 before the first run made its tables)."""
    with psycopg.connect(url) as db:
        row = db.execute("SELECT to_regclass('hosts') IS NOT NULL").fetchone()
        if not (row and row[0]):
            return 0
        count = db.execute("SELECT count(*) FROM hosts WHERE status = 'writing'").fetchone()
        return int(count[0]) if count else 0


def test_a_rollback_claims_its_hosts_too(
    lab: Lab, postgres: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A rollback writes: it is refused a host another controller holds (here the test's own connection to
    the journal, holding every host as a run would), and with --lock-wait it goes on once the host is let go."""
    url = postgres.new_database()
    monkeypatch.setenv("REMEDIATE_JOURNAL", url)
    broken = snapshot(lab)
    code, applied = run_json(capsys, "apply", fix_playbook(tmp_path), "-i", str(lab.inventory_path), "--yes")
    assert code == 0, applied
    fixed = snapshot(lab)
    with Journal(url, Masker()) as other:
        for host in lab.hosts:
            assert other.claim_host("R-other", host.address, host.ssh_port) is None
        code, refused = run_json(capsys, "rollback", applied["run_id"], "--yes", "--lock-wait", "0")
        assert code == 1 and snapshot(lab) == fixed
        holder = f"R-other ({who()}@{socket.gethostname()})"
        assert {h["error"] for h in refused["hosts"].values()} == {f"locked by run {holder}; not touched"}
        assert {h["status"] for h in refused["hosts"].values()} == {"failed"}
        release = threading.Timer(
            1.0, lambda: [other.release_host("R-other", h.address, h.ssh_port) for h in lab.hosts]
        )
        release.start()
        code, back = run_json(capsys, "rollback", applied["run_id"], "--yes", "--lock-wait", "30")
        release.join()
    assert code == 0 and back["summary"] == {"changed": len(lab.hosts)}, back
    assert snapshot(lab) == broken
