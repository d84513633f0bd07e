"""Emergency rollout on a 20-host lab fleet: forks, canary, batches, threshold, unreachable, interruption, locks."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from labtools import (
    BROKEN,
    FIXED,
    WP,
    fix_playbook,
    http_status,
    interrupted_apply,
    run_json,
    run_on_terminal,
    snapshot,
    start_apply,
    untouched,
    wait_until_fixed,
)

from remediate.lab.fleet import Lab, stop_sshd

pytestmark = pytest.mark.lab


def test_forks_bounds_how_many_hosts_are_worked_on_at_once(
    big_lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Each host's handler records when it ran, in the host's own /tmp; the intervals show the overlap.
    pb = fix_playbook(tmp_path, handler="date +%s.%N > /tmp/began; sleep 0.4; date +%s.%N > /tmp/ended")
    code, doc = run_json(capsys, "apply", pb, "-i", str(big_lab.inventory_path), "--yes", "--forks", "5")
    assert code == 0 and doc["summary"] == {"changed": 20}
    spans = [
        (float(h.local_path("/tmp/began").read_text()), float(h.local_path("/tmp/ended").read_text()))
        for h in big_lab.hosts
    ]
    most = max(sum(1 for b, e in spans if b <= t < e) for t, _ in spans)
    assert most == 5  # never more than 5, and the 5 were really used


def test_a_failing_canary_stops_the_run_before_any_other_host(
    big_lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The canary's locale file is gone: after the fix its site still answers 500, so its probe fails.
    canary = big_lab.hosts[0]
    canary.local_path("/var/www/html/wp-includes/class-wp-locale.php").unlink()
    pb = fix_playbook(tmp_path, verify=True)
    code, doc = run_json(
        capsys, "apply", pb, "-i", str(big_lab.inventory_path), "--yes", "--canary", "1", "--batch", "50%"
    )
    assert code == 1
    assert doc["hosts"][canary.name]["status"] == "rolled_back" and doc["hosts"][canary.name]["wave"] == 0
    assert doc["halted"] == (
        "1 host(s) failed, more than --max-fail 0 allows (0 of 20); none in flight; 19 skipped (not started)"
    )
    assert doc["summary"] == {"rolled_back": 1, "skipped": 19}
    assert BROKEN in canary.local_path(WP).read_bytes()
    for host in big_lab.hosts[1:]:
        entry = doc["hosts"][host.name]
        assert entry["status"] == "skipped" and entry["error"].startswith(
            "not started: the run halted: 1 host(s) failed"
        )
        assert entry["wave"] in (1, 2)
        assert untouched(big_lab, host.name)


def test_plan_failures_beyond_max_fail_write_nothing_and_say_how_to_go_on(
    big_lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hosts whose plan failed count before any host is written: with more of them than --max-fail allows,
    no host is written (not even those a worker would have reached first), and the way on works."""
    for name in ("web2", "web3", "web4"):  # each gets a second match: expect_matches 1 fails it at plan time
        local = big_lab.host(name).local_path(WP)
        local.write_bytes(local.read_bytes() + b"// class-wp-locale.phpp again\n")
    pb = tmp_path / "strict.yml"
    pb.write_text(
        "steps:\n  - line_patch: {path: /var/www/html/wp-settings.php, regex: '\\.phpp\\b', replace: '.php', expect_matches: 1}\n"
    )
    inventory = str(big_lab.inventory_path)
    code, doc = run_json(capsys, "apply", str(pb), "-i", inventory, "--yes", "--max-fail", "1", "--forks", "1")
    assert code == 1
    statuses = [doc["hosts"][h.name]["status"] for h in big_lab.hosts]
    assert statuses == ["skipped", "failed", "failed", "failed"] + ["skipped"] * 16
    assert doc["halted"] == (
        "3 host(s) failed while being read, more than --max-fail 1 allows (1 of 20): nothing was written;"
        " 17 skipped (not started)"
    )
    assert doc["halt"]["way_on"] == (
        "to go on: --max-fail 3, or --limit '!web2,!web3,!web4' to leave those hosts out"
        " (with any items your --limit had)"
    )
    assert all(untouched(big_lab, h.name) for h in big_lab.hosts if h.name not in ("web2", "web3", "web4"))
    # The limit it suggests, as a shell passes it, leaves those hosts out and fixes the others.
    code, doc = run_json(capsys, "apply", str(pb), "-i", inventory, "--yes", "--limit", "!web2,!web3,!web4")
    assert code == 0 and doc["summary"] == {"changed": 17} and doc["halted"] is None and doc["halt"] is None
    assert FIXED in big_lab.hosts[0].local_path(WP).read_bytes()


def test_max_fail_percent_and_rollback_on_halt_leave_the_fleet_as_found(
    big_lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(big_lab)
    for name in ("web5", "web6"):  # their sites stay broken after the fix: their probes fail
        big_lab.host(name).local_path("/var/www/html/wp-includes/class-wp-locale.php").unlink()
    pb = fix_playbook(tmp_path, verify=True)
    code, doc = run_json(
        capsys, "apply", pb, "-i", str(big_lab.inventory_path), "--yes",
        "--canary", "2", "--max-fail", "5%", "--rollback-on-halt",
    )  # fmt: skip
    assert code == 1
    assert doc["halted"].startswith("2 host(s) failed, more than --max-fail 5% allows (1 of 20)")
    for host in big_lab.hosts:
        status = doc["hosts"][host.name]["status"]
        assert status in ("rolled_back", "skipped"), (host.name, status)
    assert doc["hosts"]["web1"]["status"] == "rolled_back"  # the canary was fine, and still put back
    assert "rolled back because the run halted" in doc["hosts"]["web1"]["error"]
    after = snapshot(big_lab)
    assert {n: v[0] for n, v in after.items()} == {n: v[0] for n, v in before.items()}


def test_an_unreachable_host_fails_alone(big_lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stop_sshd(big_lab, "web7")
    code, doc = run_json(capsys, "apply", "fix-phpp", "-i", str(big_lab.inventory_path), "--yes", "--max-fail", "1")
    assert code == 1
    web7 = doc["hosts"]["web7"]
    assert web7["status"] == "unreachable" and web7["error"].startswith("connection refused by 127.0.")
    assert doc["summary"] == {"unreachable": 1, "changed": 19}
    assert all(http_status(h) == 200 for h in big_lab.hosts if h.name != "web7")


def test_a_hung_host_does_not_hold_up_the_others(
    big_lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A handler that hangs is ended at the host's deadline with its whole process group, the host is put
    back (the handler, run again, hangs again: the one state that needs a human), and the others finish."""
    hang = big_lab.host("web3").local_path("/tmp/hang")
    hang.write_text("")
    pb = fix_playbook(tmp_path, handler="test -e /tmp/hang && { echo $$ >> /tmp/hang; sleep 20; }; true")
    code, doc = run_json(
        capsys, "apply", pb, "-i", str(big_lab.inventory_path), "--yes", "--command-timeout", "2", "--max-fail", "1"
    )
    assert code == 1
    web3 = doc["hosts"]["web3"]
    assert web3["status"] == "rollback_failed"
    assert "timed out after " in web3["error"] and "files restored" in web3["error"]
    assert doc["summary"] == {"rollback_failed": 1, "changed": 19}
    assert BROKEN in big_lab.host("web3").local_path(WP).read_bytes()
    handlers = [int(pid) for pid in hang.read_text().split()]
    assert len(handlers) == 2  # the apply's, and the rollback's
    for _ in range(50):  # SIGKILL takes effect when the kernel runs the process: a moment on a loaded machine
        if not any(Path(f"/proc/{pid}").exists() for pid in handlers):
            break
        time.sleep(0.1)
    assert not any(Path(f"/proc/{pid}").exists() for pid in handlers)


def test_interrupt_mid_wave_leaves_every_file_whole_and_the_journal_consistent(
    big_lab: Lab, tmp_path: Path, in_repo: Path
) -> None:
    doc, err = interrupted_apply(big_lab, tmp_path)
    assert "interrupted: no new host starts" in err
    assert doc["interrupted"] is True
    fixed = {h.name for h in big_lab.hosts if FIXED in h.local_path(WP).read_bytes()}
    for host in big_lab.hosts:
        content = host.local_path(WP).read_bytes()
        assert (FIXED in content) != (BROKEN in content)  # whole: the original or the fix, never a mix
        status = doc["hosts"][host.name]["status"]
        assert status == ("changed" if host.name in fixed else "interrupted"), host.name
    assert 3 <= len(fixed) < 20
    db = sqlite3.connect(in_repo / "journal.sqlite")
    assert db.execute("SELECT status FROM runs").fetchone() == ("interrupted",)
    journal = dict(db.execute("SELECT host, status FROM hosts").fetchall())
    assert journal == {h.name: doc["hosts"][h.name]["status"] for h in big_lab.hosts}


def test_two_concurrent_runs_never_both_write_a_host(big_lab: Lab, tmp_path: Path) -> None:
    pb = fix_playbook(tmp_path, handler="sleep 0.3")
    runs = [start_apply(big_lab, pb, "--json", "--max-fail", "100%") for _ in range(2)]
    docs = [json.loads(run.communicate(timeout=120)[0]) for run in runs]
    for host in big_lab.hosts:
        statuses = sorted(doc["hosts"][host.name]["status"] for doc in docs)
        assert statuses.count("changed") == 1, (host.name, statuses)
        other = next(doc["hosts"][host.name] for doc in docs if doc["hosts"][host.name]["status"] != "changed")
        assert other["status"] in ("conflict", "failed", "unchanged"), other
        if other["status"] == "failed":
            assert other["error"].startswith("locked by run ")
        backups = list(host.local_path("/var/backups/remediate").iterdir())
        assert len(backups) == 1  # written by exactly one run
        assert FIXED in host.local_path(WP).read_bytes()


def test_rollout_settings_come_from_the_playbook_and_flags_win(
    big_lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pb = tmp_path / "fix.yml"
    pb.write_text(
        Path(fix_playbook(tmp_path, name="base.yml")).read_text()
        + "rollout: {canary: 2, batches: [50%, 100%], max_fail: 1, forks: 4}\n"
    )
    code, doc = run_json(capsys, "apply", str(pb), "-i", str(big_lab.inventory_path), "--yes")
    assert code == 0
    waves = [doc["hosts"][h.name]["wave"] for h in big_lab.hosts]
    assert waves == [0, 0] + [1] * 9 + [2] * 9
    assert all(doc["hosts"][h.name]["started"] <= doc["hosts"][h.name]["finished"] for h in big_lab.hosts)
    code, doc = run_json(
        capsys, "apply", str(pb), "-i", str(big_lab.inventory_path), "--yes", "--canary", "0", "--batch", "100%"
    )
    assert code == 0 and {doc["hosts"][h.name]["wave"] for h in big_lab.hosts} == {0}


def test_plain_progress_lines_without_a_terminal(big_lab: Lab, tmp_path: Path) -> None:
    web4 = big_lab.host("web4").local_path(WP)
    web4.write_bytes(web4.read_bytes().replace(BROKEN, FIXED))  # already fixed: nothing to do there
    result = subprocess.run(
        [sys.executable, "-m", "remediate.cli.main", "apply", "fix-phpp", "-i", str(big_lab.inventory_path), "--yes", "--canary", "1"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "canary: 1 host(s)" in lines and "wave 1/1: 19 host(s)" in lines
    assert "web1: changed" in lines and "web4: unchanged" in lines
    assert lines.index("canary: 1 host(s)") < lines.index("web1: changed") < lines.index("wave 1/1: 19 host(s)")


def test_a_second_interrupt_aborts_at_once_and_rollback_still_works(
    big_lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = snapshot(big_lab)
    pb = fix_playbook(tmp_path, handler="sleep 2")
    controller = start_apply(big_lab, pb, "--forks", "4")
    wait_until_fixed(big_lab, controller, 1, poll=0.02)
    controller.send_signal(signal.SIGINT)
    time.sleep(0.2)
    controller.send_signal(signal.SIGINT)
    out, _ = controller.communicate(timeout=10)  # at once: not after the 2 s handlers
    assert controller.returncode == 130
    assert "aborted; `remediate runs` and `remediate rollback RUN` know what was touched" in out
    for host in big_lab.hosts:  # the remote commands finish on their own: whole files only
        subprocess.run(["flock", "-w", "30", str(host.local_path("/run/remediate/lock")), "true"], check=True)
        content = host.local_path(WP).read_bytes()
        assert (FIXED in content) != (BROKEN in content)
    (run,) = json.loads(
        subprocess.run(
            [sys.executable, "-m", "remediate.cli.main", "runs", "--json"], capture_output=True, text=True, check=True
        ).stdout
    )
    assert run["status"] == "running"
    code, doc = run_json(capsys, "rollback", run["run_id"], "--yes")
    assert code == 0, doc
    assert {n: v[0] for n, v in snapshot(big_lab).items()} == {n: v[0] for n, v in broken.items()}


def test_progress_bar_per_wave_on_a_terminal(big_lab: Lab) -> None:
    big_lab.host("web9").local_path(WP).write_bytes(
        b"<?php require 'class-wp-locale.phpp'; require 'class-wp-locale.phpp';\n"
    )
    code, output = run_on_terminal(
        [
            "apply",
            "fix-phpp",
            "-i",
            str(big_lab.inventory_path),
            "--yes",
            "--canary",
            "1",
            "--max-fail",
            "1",
            "--batch",
            "50%",
        ]
    )
    output = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output)  # the terminal's colours and cursor moves
    assert code == 1, output  # web9 has two matches where fix-phpp expects at most one
    assert "canary" in output and "wave 1/2" in output and "wave 2/2" in output
    assert "changed 1  unchanged 0  failed 0  rolled back 0" in output  # the canary's bar
    # web9's plan failed: it is told before any wave starts, and its wave's bar counts the 9 hosts written.
    failure = "web9: failed: steps[0] (fix the require line): /var/www/html/wp-settings.php has 2 match(es)"
    assert failure in output and output.index(failure) < output.index("canary")
    assert "changed 9  unchanged 0  failed 0  rolled back 0" in output


def test_a_host_locked_by_another_run_is_reported_and_left_alone(
    big_lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = big_lab.host("web2").local_path("/run/remediate/lock")
    lock.touch(mode=0o600)
    lock.with_name("holder").write_text("20261121T060000Z-abcdef since 2026-11-21T06:00:00Z\n")
    holder = subprocess.Popen(["flock", str(lock), "sleep", "60"], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while subprocess.run(["flock", "-n", str(lock), "true"], check=False).returncode == 0:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        code, doc = run_json(capsys, "apply", "fix-phpp", "-i", str(big_lab.inventory_path), "--yes", "--max-fail", "1")
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()
    assert code == 1
    web2 = doc["hosts"]["web2"]
    assert web2["status"] == "failed"
    assert web2["error"] == "locked by run 20261121T060000Z-abcdef since 2026-11-21T06:00:00Z; not touched"
    assert untouched(big_lab, "web2")
    assert doc["summary"] == {"failed": 1, "changed": 19}
