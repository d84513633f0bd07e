"""Sharded rollouts (issue 20): ``apply --workers`` plans a run and queues its whole plan in a PostgreSQL
journal; three ``remediate work RUN`` processes then apply it to a 60-host lab, sharing its canary, its
waves' gates and its one failure budget through the journal.

Every host's write appends a line to ``/tmp/applied`` on the host (its handler, which runs once the new
file is live): one line is one write that went through. A validator that sleeps keeps each host in
flight for a moment, under its host lock, before anything on it is replaced.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from labtools import BROKEN, FIXED, WP, snapshot, untouched
from postgres import Server

from remediate.journal import Journal
from remediate.journal.work import Claim
from remediate.lab.fleet import Lab
from remediate.model import FAILED_STATUSES
from remediate.plan.masking import Masker

pytestmark = pytest.mark.lab

APPLIED = "/tmp/applied"
LOCALE = "/var/www/html/wp-includes/class-wp-locale.php"  # without it the fixed site still answers 500


def _playbook(tmp_path: Path, validate: str = "sleep 0.2", verify: bool = False) -> str:
    text = (
        "name: fix-phpp\n"
        "steps:\n"
        "  - name: fix the require line\n"
        "    line_patch: {path: /var/www/html/wp-settings.php, regex: '\\.phpp\\b', replace: '.php'}\n"
        f"    validate: '{validate}; test -s {{path}}'\n"
        f"    on_change: 'echo applied >> {APPLIED}'\n"
    )
    if verify:
        text += "verify:\n  - http: {url: 'http://{{ host.address }}:8080/', expect_status: 200, retries: 1}\n"
    path = tmp_path / "fix.yml"
    path.write_text(text)
    return str(path)


def _env(url: str, state: Path) -> dict[str, str]:
    return {**os.environ, "REMEDIATE_JOURNAL": url, "REMEDIATE_STATE": str(state)}


def _remediate(*argv: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "remediate.cli.main", *argv]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=300, check=False)


def _queue(lab: Lab, playbook: str, url: str, state: Path, *flags: str) -> str:
    """``apply --workers``: the run's id, once its plan is queued (no host written)."""
    queued = _remediate("apply", playbook, "-i", str(lab.inventory_path), "--yes", "--json", "--workers", *flags,
                        env=_env(url, state))  # fmt: skip
    assert queued.returncode == 0, queued.stdout + queued.stderr
    document = json.loads(queued.stdout)
    assert (document["queued"], sum(document["waves"]), document["halted"]) == (60, 60, "")
    run_id: str = document["run_id"]
    assert re.search(rf"^run {run_id}: 60 host\(s\) queued for workers", queued.stderr, re.MULTILINE), queued.stderr
    assert all(untouched(lab, h.name) for h in lab.hosts)
    return run_id


def _start_workers(run_id: str, url: str, state: Path, *flags: str, count: int = 3) -> list[subprocess.Popen[str]]:
    argv = [sys.executable, "-m", "remediate.cli.main", "work", run_id, *flags]
    return [
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(url, state))
        for _ in range(count)
    ]


def _finish(workers: list[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    """Each worker's exit status and output, once it ended (a worker still going after 2 minutes fails)."""
    ended = []
    try:
        for worker in workers:
            out, err = worker.communicate(timeout=120)
            ended.append((worker.returncode, out + err))
    finally:
        for worker in workers:  # none outlives the test: a worker left waiting would hold its claims
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    return ended


def _rows(url: str, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as db:
        return db.execute(sql, params).fetchall()


def _applied_lines(lab: Lab) -> dict[str, int]:
    lines = {}
    for host in lab.hosts:
        path = host.local_path(APPLIED)
        lines[host.name] = len(path.read_text().splitlines()) if path.exists() else 0
    return lines


def test_three_workers_apply_every_host_exactly_once_with_the_waves_gates(
    sixty_lab: Lab, postgres: Server, tmp_path: Path
) -> None:
    url = postgres.new_database()
    run_id = _queue(sixty_lab, _playbook(tmp_path), url, tmp_path / "state", "--canary", "2", "--batch", "20,100%")
    ended = _finish(_start_workers(run_id, url, tmp_path / "state", "--forks", "4"))
    assert [code for code, _ in ended] == [0, 0, 0], ended

    # The journal: every host changed, claimed once, by one of the three workers (all three took part).
    hosts = _rows(url, "SELECT host, status, error FROM hosts WHERE run_id = %s", run_id)
    assert sorted(hosts) == sorted((h.name, "changed", "") for h in sixty_lab.hosts)
    work = _rows(
        url, "SELECT host, wave, canary, state, claims, failed, claimed_by FROM work WHERE run_id = %s", run_id
    )
    assert {(state, claims, failed) for _, _, _, state, claims, failed, _ in work} == {("done", 1, 0)}
    assert len({by for *_, by in work}) == 3
    assert sorted(w[:3] for w in work if w[2]) == [("web1", 0, 1), ("web2", 0, 1)]
    assert _rows(url, "SELECT status FROM runs WHERE run_id = %s", run_id) == [("ok",)]
    # The bytes: every host fixed, written once (one handler line, one backup folder: the run's).
    assert _applied_lines(sixty_lab) == {h.name: 1 for h in sixty_lab.hosts}
    for host in sixty_lab.hosts:
        assert FIXED in host.local_path(WP).read_bytes()
        assert [p.name for p in host.local_path("/var/backups/remediate").iterdir()] == [run_id]
    # The gates: no host of a wave began before every host of the wave before it had its result.
    times = _rows(
        url,
        "SELECT w.wave, min(h.started), max(h.finished) FROM work w JOIN hosts h USING (run_id, host)"
        " WHERE w.run_id = %s GROUP BY w.wave ORDER BY w.wave",
        run_id,
    )
    assert [wave for wave, _, _ in times] == [0, 1, 2]
    for (_, _, last_done), (_, first_begun, _) in itertools.pairwise(times):
        assert first_begun >= last_done
    # `runs` and `show` see the run like any other.
    listed = _remediate("runs", "--json", env=_env(url, tmp_path / "state"))
    assert [r["status"] for r in json.loads(listed.stdout) if r["run_id"] == run_id] == ["ok"]
    shown = _remediate("show", run_id, "--json", env=_env(url, tmp_path / "state"))
    assert {h["status"] for h in json.loads(shown.stdout)["hosts"].values()} == {"changed"}, shown.stderr


def test_one_failure_budget_halts_every_worker(sixty_lab: Lab, postgres: Server, tmp_path: Path) -> None:
    """5 hosts fail their verify probe (and roll back); the budget is 3: the 4th failure halts the run, in
    the transaction of its result, and no host starts after it on any worker."""
    failing = [sixty_lab.hosts[i].name for i in (3, 9, 15, 21, 27)]
    for name in failing:
        sixty_lab.host(name).local_path(LOCALE).unlink()
    url = postgres.new_database()
    playbook = _playbook(tmp_path, verify=True)
    run_id = _queue(sixty_lab, playbook, url, tmp_path / "state", "--max-fail", "3")
    ended = _finish(_start_workers(run_id, url, tmp_path / "state", "--forks", "2"))

    (halted, in_flight), *_ = _rows(url, "SELECT halted, in_flight FROM work_runs WHERE run_id = %s", run_id)
    assert halted, ended
    for code, output in ended:  # every worker stopped, saying why
        assert code == 1 and "halted: " in output, output
    rows = dict(_rows(url, "SELECT host, status FROM hosts WHERE run_id = %s", run_id))
    failed = [name for name, status in rows.items() if status in FAILED_STATUSES]
    skipped = [name for name, status in rows.items() if status == "skipped"]
    assert set(failed) <= set(failing) and len(failed) >= 4
    # The budget (3), the host that spent it, and at most the hosts in flight then (at most 6 claimed at
    # once by 3 workers of 2 forks, the spender among them): no more.
    assert in_flight <= 5 and len(failed) <= 3 + 1 + in_flight
    assert skipped and all(untouched(sixty_lab, name) for name in skipped)
    assert halted.startswith(f"{len(failed)} host(s) failed, more than --max-fail 3 allows (3 of 60)")
    assert halted.endswith(f"{len(skipped)} skipped (not started)")
    assert _rows(url, "SELECT count(*) FROM work WHERE run_id = %s AND state IN ('todo', 'claimed')", run_id) == [(0,)]
    assert _rows(url, "SELECT status FROM runs WHERE run_id = %s", run_id) == [("halted",)]

    # `resume RUN` goes on with the hosts the halt skipped, in one controller, as after any halt.
    resumed = _remediate("resume", run_id, "--yes", "--json", "--max-fail", "100%", env=_env(url, tmp_path / "s2"))
    statuses = {name: host["status"] for name, host in json.loads(resumed.stdout)["hosts"].items()}
    assert statuses == {name: "rolled_back" if name in failing else "changed" for name in skipped}, resumed.stderr


def test_a_killed_workers_hosts_are_finished_by_the_others_none_written_twice(
    sixty_lab: Lab, postgres: Server, tmp_path: Path
) -> None:
    """``kill -9`` of a worker with hosts in flight: once its claims' lease (3 s) is over, the other two take
    its hosts over; a host it had written is found so and not written again, one it had not is written."""
    url = postgres.new_database()
    run_id = _queue(sixty_lab, _playbook(tmp_path, validate="sleep 1"), url, tmp_path / "state")
    workers = _start_workers(run_id, url, tmp_path / "state", "--forks", "3", "--lease", "3")
    victim = workers[0]
    held: list[tuple[Any, ...]] = []
    held_sql = "SELECT host FROM work WHERE run_id = %s AND state = 'claimed'"
    deadline = time.monotonic() + 60
    while not held:  # the victim holds hosts mid-wave, and others are done already
        assert time.monotonic() < deadline and victim.poll() is None, _finish(workers)
        done = _rows(url, "SELECT count(*) FROM work WHERE run_id = %s AND state = 'done'", run_id)[0][0]
        claimed = _rows(url, f"{held_sql} AND claimed_by LIKE %s", run_id, f"%:{victim.pid}.%")
        held = claimed if done >= 6 and claimed else []
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.communicate()
    # What it held when it died (it may have finished a host since the poll): its lease runs 3 s more.
    mine = "%:" + str(victim.pid) + ".%"
    taken = {name for (name,) in _rows(url, f"{held_sql} AND claimed_by LIKE %s", run_id, mine)}
    assert taken
    ended = _finish(workers[1:])
    assert [code for code, _ in ended] == [0, 0], "\n".join(output for _, output in ended)

    work = _rows(url, "SELECT host, state, claims, claimed_by FROM work WHERE run_id = %s", run_id)
    for name, state, claims, by in work:
        assert state == "done"
        if name in taken:  # taken over, by a worker still alive
            assert claims == 2 and f":{victim.pid}." not in by, (name, claims, by)
    rows = dict(_rows(url, "SELECT host, status FROM hosts WHERE run_id = %s", run_id))
    assert set(rows.values()) == {"changed"}, rows
    # None written twice: one write went through on each host, and every host holds the fix.
    assert _applied_lines(sixty_lab) == {h.name: 1 for h in sixty_lab.hosts}
    assert all(FIXED in h.local_path(WP).read_bytes() for h in sixty_lab.hosts)
    assert _rows(url, "SELECT status FROM runs WHERE run_id = %s", run_id) == [("ok",)]


def test_rollback_from_another_folder_and_state_restores_every_host(
    sixty_lab: Lab, postgres: Server, tmp_path: Path
) -> None:
    url = postgres.new_database()
    broken = snapshot(sixty_lab)
    run_id = _queue(sixty_lab, _playbook(tmp_path), url, tmp_path / "state", "--batch", "50%")
    ended = _finish(_start_workers(run_id, url, tmp_path / "state", "--forks", "4"))
    assert [code for code, _ in ended] == [0, 0, 0], ended
    assert all(FIXED in h.local_path(WP).read_bytes() for h in sixty_lab.hosts)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    back = _remediate("rollback", run_id, "--yes", "--json", env=_env(url, tmp_path / "other-state"), cwd=elsewhere)
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout)["summary"] == {"changed": 60}
    assert snapshot(sixty_lab) == broken
    assert all(BROKEN in h.local_path(WP).read_bytes() for h in sixty_lab.hosts)
    assert not (tmp_path / "other-state").exists() or not any((tmp_path / "other-state").iterdir())


def test_a_taken_over_host_already_written_is_recorded_once_and_not_written_again(
    sixty_lab: Lab, postgres: Server, tmp_path: Path
) -> None:
    """A worker ("ghost", the test's own journal connection) claims web1 and web2 and dies: it had written
    web1 (the test puts the fixed file there, as its write would have) and not web2. The worker that takes
    them over records web1 changed, naming the ghost, without writing it; it writes web2."""
    url = postgres.new_database()
    run_id = _queue(sixty_lab, _playbook(tmp_path), url, tmp_path / "state")
    with Journal(url, Masker()) as ghost:
        claims = [ghost.work.claim_work(run_id, "ghost", 1.0) for _ in range(2)]
    assert [c.plan.host.name for c in claims if isinstance(c, Claim)] == ["web1", "web2"]
    web1 = sixty_lab.host("web1").local_path(WP)
    web1.write_bytes(web1.read_bytes().replace(BROKEN, FIXED))
    time.sleep(1.5)  # the ghost's lease is over
    ended = _finish(_start_workers(run_id, url, tmp_path / "state", count=1))
    assert [code for code, _ in ended] == [0], ended

    rows = {host: (status, error) for host, status, error in _rows(url, "SELECT host, status, error FROM hosts")}
    assert rows["web1"] == (
        "changed",
        "taken over from worker ghost, whose claim ran out: it had written the host (every file holds the"
        " planned content); not written again",
    )
    assert rows["web2"] == ("changed", "")
    assert {status for status, _ in rows.values()} == {"changed"}
    applied = _applied_lines(sixty_lab)
    assert applied.pop("web1") == 0 and set(applied.values()) == {1}  # web1: by the ghost, outside a handler
    assert [p.name for p in sixty_lab.host("web2").local_path("/var/backups/remediate").iterdir()] == [
        f"{run_id}.takeover-2"
    ]
    work = _rows(url, "SELECT host, claims, claimed_by FROM work WHERE host IN ('web1', 'web2') ORDER BY host")
    assert [(host, claims) for host, claims, _ in work] == [("web1", 2), ("web2", 2)]
