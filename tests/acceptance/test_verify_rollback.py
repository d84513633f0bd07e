"""Validate, handlers, probes, automatic rollback, the journal and `remediate rollback RUN`, on the lab fleet."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from labtools import FIXED, WP, give_distinct_ownership, http_status, run_json, snapshot

from remediate.cli.main import main
from remediate.lab.fleet import Lab

pytestmark = pytest.mark.lab

HEALTHY = "verify:\n  - http: {url: 'http://{{ host.address }}:8080/', expect_status: 200, retries: 2, delay: 0.2}\n"


def playbook(tmp_path: Path, text: str, verify: bool = False) -> str:
    """Writes a playbook; ``verify`` adds a probe that the lab host's site answers 200."""
    path = tmp_path / "pb.yml"
    path.write_text(textwrap.dedent(text) + (HEALTHY if verify else ""))
    return str(path)


def fix_all(lab: Lab, capsys: pytest.CaptureFixture[str]) -> str:
    code, doc = run_json(capsys, "apply", "fix-phpp", "-i", str(lab.inventory_path), "--yes")
    assert code == 0 and doc["summary"] == {"changed": len(lab.hosts)}
    return str(doc["run_id"])


def test_failing_path_validator_leaves_the_live_file_and_stops_the_host(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pb = playbook(
        tmp_path,
        """\
        steps:
          - name: break the syntax
            line_patch: {path: /var/www/html/wp-settings.php, regex: "^define\\\\( 'WPINC', 'wp-includes' \\\\);$", replace: "define( 'WPINC' 'wp-includes' );"}
            validate: "php -l {path}"
          - name: never reached
            template: {src: t.j2, dest: /etc/apache2/conf-available/after.conf}
        """,
    )
    (tmp_path / "t.j2").write_text("x\n")
    before = snapshot(lab)
    code, doc = run_json(capsys, "apply", pb, "-i", str(lab.inventory_path), "--yes", "--max-fail", "100%")
    assert code == 1
    for host in lab.hosts:
        entry = doc["hosts"][host.name]
        assert entry["status"] == "failed"
        assert "validation of /var/www/html/wp-settings.php failed" in entry["error"]
        assert "Parse error" in entry["error"] and "the live files were left as they were" in entry["error"]
        assert not host.local_path("/etc/apache2/conf-available/after.conf").exists()
        leftovers = [p for p in host.local_path("/var/www/html").iterdir() if p.name.startswith(".remediate")]
        assert leftovers == []
    assert snapshot(lab) == before


def test_failing_whole_config_validator_puts_the_original_back_before_any_handler(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pb = playbook(
        tmp_path,
        """\
        steps:
          - name: break the syntax
            line_patch: {path: /var/www/html/wp-settings.php, regex: "^define\\\\( 'WPINC', 'wp-includes' \\\\);$", replace: "define( 'WPINC' 'wp-includes' );"}
            validate: "php -l /var/www/html/wp-settings.php"
            on_change: "touch /tmp/reloaded"
        """,
    )
    before = snapshot(lab)
    code, doc = run_json(capsys, "apply", pb, "-i", str(lab.inventory_path), "--yes", "--max-fail", "100%")
    assert code == 1
    for host in lab.hosts:
        entry = doc["hosts"][host.name]
        assert entry["status"] == "failed" and "Parse error" in entry["error"]
        assert not host.local_path("/tmp/reloaded").exists()
    assert snapshot(lab) == before  # bytes, mode and owner


def test_probe_failure_rolls_back_bytes_mode_owner_and_reruns_handlers(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    give_distinct_ownership(lab)
    fix_all(lab, capsys)
    healthy = snapshot(lab)
    assert healthy["web1"][1:] == (0o640, 33, 33)
    assert all(http_status(h) == 200 for h in lab.hosts)
    pb = playbook(
        tmp_path,
        """\
        steps:
          - name: require a file that does not exist (valid syntax, dead site)
            line_patch: {path: /var/www/html/wp-settings.php, regex: "class-wp-locale\\\\.php'", replace: "class-wp-nowhere.php'"}
            validate: "php -l {path}"
            on_change: "echo reload >> /tmp/handler.log"
          - name: a second file, same handler
            template: {src: t.j2, dest: /etc/apache2/conf-available/extra.conf, mode: "0600"}
            on_change: "echo reload >> /tmp/handler.log"
        """,
        verify=True,
    )
    (tmp_path / "t.j2").write_text("# {{ host.name }}\n")
    code, doc = run_json(capsys, "apply", pb, "-i", str(lab.inventory_path), "--yes", "--max-fail", "100%")
    assert code == 1
    for host in lab.hosts:
        entry = doc["hosts"][host.name]
        assert entry["status"] == "rolled_back", entry
        assert "verification failed: http http://" in entry["error"] and "HTTP 500, expected 200" in entry["error"]
        assert entry["error"].endswith("rolled back")
        assert [p["ok"] for p in entry["probes"]] == [True]  # healthy again after the rollback
        # The handler ran once for the change and once for the rollback, not once per step.
        assert host.local_path("/tmp/handler.log").read_text() == "reload\nreload\n"
        assert not host.local_path("/etc/apache2/conf-available/extra.conf").exists()  # created, so removed
        assert http_status(host) == 200
    assert snapshot(lab) == healthy


def test_no_rollback_keeps_the_changes(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fix_all(lab, capsys)
    pb = playbook(
        tmp_path,
        """\
        steps:
          - line_patch: {path: /var/www/html/wp-settings.php, regex: "class-wp-locale\\\\.php'", replace: "class-wp-nowhere.php'"}
        """,
        verify=True,
    )
    code, doc = run_json(
        capsys, "apply", pb, "-i", str(lab.inventory_path), "--yes", "--max-fail", "100%", "--no-rollback"
    )
    assert code == 1
    for host in lab.hosts:
        entry = doc["hosts"][host.name]
        assert entry["status"] == "failed" and entry["error"].endswith("changes kept (--no-rollback)")
        assert b"class-wp-nowhere.php" in host.local_path(WP).read_bytes()
        assert http_status(host) == 500


def test_failing_handler_rolls_back(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(lab)
    pb = playbook(
        tmp_path,
        """\
        steps:
          - line_patch: {path: /var/www/html/wp-settings.php, sed: 's/\\.phpp\\b/.php/'}
            on_change: "test -e /tmp/allow-reload || { echo 'apache2: reload refused' >&2; exit 1; }"
        """,
    )
    lab.hosts[0].local_path("/tmp/allow-reload").write_text("")
    code, doc = run_json(capsys, "apply", pb, "-i", str(lab.inventory_path), "--yes", "--max-fail", "100%")
    assert code == 1
    assert doc["hosts"][lab.hosts[0].name]["status"] == "changed"
    for host in lab.hosts[1:]:
        entry = doc["hosts"][host.name]
        assert entry["status"] == "rollback_failed", entry  # the handler fails again during the rollback
        assert "handler `test -e /tmp/allow-reload" in entry["error"] and "apache2: reload refused" in entry["error"]
        assert "files restored, but handler" in entry["error"]
        assert host.local_path(WP).read_bytes() == before[host.name][0]


def test_rollback_failed_needs_a_human_and_says_so(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A handler that fails and edits the file meanwhile: the rollback must not overwrite that edit."""
    pb = playbook(
        tmp_path,
        """\
        steps:
          - line_patch: {path: /var/www/html/wp-settings.php, sed: 's/\\.phpp\\b/.php/'}
            on_change: "echo '// hand edit during the run' >> /var/www/html/wp-settings.php; exit 1"
        """,
    )
    code, doc = run_json(capsys, "apply", pb, "-i", str(lab.inventory_path), "--yes", "--limit", "web1")
    assert code == 1
    entry = doc["hosts"]["web1"]
    assert entry["status"] == "rollback_failed"
    assert (
        "failed: (no output); rollback FAILED: /var/www/html/wp-settings.php changed again meanwhile" in entry["error"]
    )
    assert f"originals in /var/backups/remediate/{doc['run_id']}" in entry["error"]
    assert lab.hosts[0].local_path(WP).read_bytes().endswith(b"// hand edit during the run\n")

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "remediate.cli.main",
            "apply",
            pb,
            "-i",
            str(lab.inventory_path),
            "--yes",
            "--limit",
            "web2",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "NEEDS A HUMAN: the rollback failed on web2; see the detail above" in result.stdout


def test_fix_phpp_precheck_shows_http_500_before_and_http_200_after(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    # The playbook of the outage as it ships: its probe asks each host's health_url (set by the lab's
    # inventory) for HTTP 200.
    code, doc = run_json(capsys, "apply", "fix-phpp", "--inventory", str(lab.inventory_path), "--yes", "--precheck")
    assert code == 0
    for host in lab.hosts:
        entry = doc["hosts"][host.name]
        assert entry["status"] == "changed"
        assert [p["probe"] for p in entry["probes"]] == [f"http {host.url}"]
        assert [p["detail"] for p in entry["precheck"]] == ["HTTP 500, expected 200"]
        assert [(p["ok"], p["detail"]) for p in entry["probes"]] == [(True, "HTTP 200")]
        assert host.local_path(WP).read_bytes().count(FIXED) == 1
    # Probes also run on an unchanged host, so a re-run reports health.
    code, doc = run_json(capsys, "apply", "fix-phpp", "--inventory", str(lab.inventory_path), "--yes")
    assert code == 0 and doc["summary"] == {"unchanged": len(lab.hosts)}
    assert all(e["probes"][0]["detail"] == "HTTP 200" for e in doc["hosts"].values())


def test_fix_phpp_full_summary_has_the_health_before_and_after_in_each_row(lab: Lab) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "remediate.cli.main",
            "apply",
            "fix-phpp",
            "--inventory",
            str(lab.inventory_path),
            "--yes",
            "--precheck",
            "--summary",
            "full",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "400"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    names = {host.name for host in lab.hosts}
    # The table's rows, by their first cell (rich draws box characters, or ASCII where it must).
    rows = {
        cells[1].strip(): line
        for line in result.stdout.splitlines()
        if len(cells := re.split(r"[│|]", line)) > 2 and cells[1].strip() in names
    }
    assert set(rows) == names
    for host in lab.hosts:
        assert f"ok http {host.url}: HTTP 500, expected 200 -> HTTP 200" in rows[host.name]


def test_fix_phpp_rolls_back_a_host_whose_site_still_answers_500(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    # A second fault on web2 alone: the file the fixed line requires is missing there, so the site
    # still answers 500 after the fix, and the fix must not be reported as a success.
    web2 = lab.host("web2")
    web2.local_path("/var/www/html/wp-includes/class-wp-locale.php").unlink()
    before = snapshot(lab)
    code, doc = run_json(
        capsys, "apply", "fix-phpp", "--inventory", str(lab.inventory_path), "--yes", "--max-fail", "100%"
    )
    assert code == 1
    entry = doc["hosts"]["web2"]
    assert entry["status"] == "rolled_back"
    assert "HTTP 500, expected 200" in entry["error"] and "rolled back" in entry["error"]
    assert snapshot(lab)["web2"] == before["web2"]  # bytes, mode and owner as they were
    assert http_status(web2) == 500
    for host in lab.hosts:
        if host.name != "web2":
            assert doc["hosts"][host.name]["status"] == "changed"
            assert host.local_path(WP).read_bytes().count(FIXED) == 1 and http_status(host) == 200


def test_rollback_run_restores_every_host_even_without_host_backups(
    lab: Lab, capsys: pytest.CaptureFixture[str], in_repo: Path
) -> None:
    give_distinct_ownership(lab)
    broken = snapshot(lab)
    run_id = fix_all(lab, capsys)
    assert all(http_status(h) == 200 for h in lab.hosts)
    for host in lab.hosts:  # the journal holds the originals: a lost backup on the host does not matter
        subprocess.run(["rm", "-rf", str(host.local_path("/var/backups/remediate"))], check=True)

    code, dry = run_json(capsys, "rollback", run_id, "--dry-run")
    assert code == 0 and dry["dry_run"] is True
    assert all(
        "+require ABSPATH . WPINC . '/class-wp-locale.phpp';" in e["changes"][0]["diff"] for e in dry["hosts"].values()
    )
    assert all(http_status(h) == 200 for h in lab.hosts)

    code, doc = run_json(capsys, "rollback", run_id, "--yes")
    assert code == 0, doc
    assert doc["summary"] == {"changed": len(lab.hosts)}
    assert doc["playbook"] == f"rollback of {run_id} (fix-phpp)"
    assert snapshot(lab) == broken
    assert all(http_status(h) == 500 for h in lab.hosts)  # back to what it was before the run

    code, again = run_json(capsys, "rollback", run_id, "--yes")
    assert code == 0 and again["summary"] == {"unchanged": len(lab.hosts)}

    db = sqlite3.connect(in_repo / "journal.sqlite")
    kinds = db.execute("SELECT kind, rollback_of, status FROM runs ORDER BY started").fetchall()
    assert kinds == [
        ("apply", None, "ok"),
        ("rollback-dry-run", run_id, "ok"),
        ("rollback", run_id, "ok"),
        ("rollback", run_id, "ok"),
    ]
    rows = db.execute("SELECT host, status FROM hosts WHERE run_id = ?", (run_id,)).fetchall()
    assert sorted(rows) == [(h.name, "changed") for h in lab.hosts]
    original = db.execute("SELECT original FROM files WHERE run_id = ? AND host = 'web1'", (run_id,)).fetchone()[0]
    import zlib

    assert zlib.decompress(original) == broken["web1"][0]


def test_rollback_leaves_a_hand_edited_file_alone_unless_forced(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    broken = snapshot(lab)
    run_id = fix_all(lab, capsys)
    edited = lab.hosts[0].local_path(WP)
    edited.write_bytes(edited.read_bytes() + b"// edited by hand after the run\n")
    hand_edit = edited.read_bytes()

    code, doc = run_json(capsys, "rollback", run_id, "--yes")
    assert code == 1
    first = doc["hosts"][lab.hosts[0].name]
    assert first["status"] == "conflict"
    assert (
        "changed since the run; left alone" in first["error"] and "+// edited by hand after the run" in first["error"]
    )
    assert edited.read_bytes() == hand_edit
    assert all(doc["hosts"][h.name]["status"] == "changed" for h in lab.hosts[1:])

    code, doc = run_json(capsys, "rollback", run_id, "--yes", "--force")
    assert code == 0 and doc["hosts"][lab.hosts[0].name]["status"] == "changed"
    assert snapshot(lab) == broken


def test_killed_controller_leaves_a_journal_that_rolls_back_every_touched_host(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], in_repo: Path
) -> None:
    broken = snapshot(lab)
    pb = playbook(
        tmp_path,
        """\
        steps:
          - line_patch: {path: /var/www/html/wp-settings.php, sed: 's/\\.phpp\\b/.php/'}
            on_change: "touch /tmp/handler-started; sleep 3"
        """,
    )
    controller = subprocess.Popen(
        [sys.executable, "-m", "remediate.cli.main", "apply", pb, "-i", str(lab.inventory_path), "--yes"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not all(h.local_path("/tmp/handler-started").exists() for h in lab.hosts):
            assert time.monotonic() < deadline, "the run never reached its handlers"
            time.sleep(0.05)
    finally:
        controller.send_signal(signal.SIGKILL)
        controller.wait()
    assert all(h.local_path(WP).read_bytes() != broken[h.name][0] for h in lab.hosts)  # touched, mid-run

    # The remote commands outlive their controller until their handler ends (a command without a
    # terminal is not stopped by a dropped connection); their lock goes with them.
    for host in lab.hosts:
        subprocess.run(["flock", "-w", "30", str(host.local_path("/run/remediate/lock")), "true"], check=True)

    db = sqlite3.connect(in_repo / "journal.sqlite")
    ((run_id, status),) = db.execute("SELECT run_id, status FROM runs").fetchall()
    assert status == "running"
    assert sorted(db.execute("SELECT host, status FROM hosts").fetchall()) == [(h.name, "writing") for h in lab.hosts]

    code, doc = run_json(capsys, "rollback", run_id, "--yes")
    assert code == 0, doc
    assert snapshot(lab) == broken


def test_runs_and_show_tell_what_happened(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    run_id = fix_all(lab, capsys)
    assert main(["runs"]) == 0
    listing = capsys.readouterr().out
    assert run_id in listing and "apply" in listing and "fix-phpp" in listing and f"{len(lab.hosts)} changed" in listing
    assert main(["show", run_id[-6:]]) == 0  # a unique part of the id is enough
    shown = capsys.readouterr().out
    assert f"run {run_id}: apply of fix-phpp" in shown
    assert "-require ABSPATH . WPINC . '/class-wp-locale.phpp';" in shown
    assert f"/var/backups/remediate/{run_id}/var/www/html/wp-settings.php" in shown
    assert main(["show", run_id, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["hosts"]["web1"]["files"][0]["path"] == WP
    assert main(["show", "no-such-run"]) == 2
    assert "no run 'no-such-run' in the journal" in capsys.readouterr().err


def test_state_folder_is_private(lab: Lab, capsys: pytest.CaptureFixture[str], in_repo: Path) -> None:
    fix_all(lab, capsys)
    assert oct(os.stat(in_repo).st_mode & 0o777) == "0o700"
    assert oct(os.stat(in_repo / "journal.sqlite").st_mode & 0o777) == "0o600"
