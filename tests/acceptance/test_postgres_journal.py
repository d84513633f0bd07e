"""A journal on PostgreSQL (issue 20): a run recorded there by one operator is listed, shown and rolled back
from another folder with another state folder, as a colleague on another machine would, every host restored."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from labtools import fix_playbook, run_json, snapshot
from postgres import Server

from remediate.cli.main import main
from remediate.lab.fleet import Lab

REPO = Path(__file__).resolve().parents[2]
LOCALE = "/var/www/html/wp-includes/class-wp-locale.php"  # without it a site answers 500: its probe fails


def statuses(doc: dict[str, object]) -> dict[str, str]:
    hosts = doc["hosts"]
    assert isinstance(hosts, dict)
    return {name: entry["status"] for name, entry in hosts.items()}


@pytest.mark.lab
def test_a_run_in_a_postgresql_journal_is_rolled_back_from_anywhere(
    lab: Lab, postgres: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = postgres.new_database()
    broken = snapshot(lab)
    project = tmp_path / "project"
    shutil.copytree(REPO / "playbooks", project / "playbooks")
    monkeypatch.chdir(project)
    monkeypatch.setenv("REMEDIATE_STATE", str(tmp_path / "first-state"))
    code, doc = run_json(capsys, "apply", "fix-phpp", "-i", str(lab.inventory_path), "--yes", "--journal", url)
    assert code == 0 and doc["summary"] == {"changed": len(lab.hosts)}, doc
    assert snapshot(lab) != broken
    assert not (tmp_path / "first-state").exists()  # nothing went to the SQLite journal

    colleague = tmp_path / "colleague"
    colleague.mkdir()
    monkeypatch.chdir(colleague)
    monkeypatch.setenv("REMEDIATE_STATE", str(tmp_path / "colleague-state"))
    monkeypatch.setenv("REMEDIATE_JOURNAL", url)
    code, runs = run_json(capsys, "runs", "--json")
    assert [(r["run_id"], r["hosts"]) for r in runs] == [(doc["run_id"], {"changed": len(lab.hosts)})]
    assert main(["show", doc["run_id"][-8:], "--json"]) == 0  # a unique part of the id, as with SQLite
    shown = json.loads(capsys.readouterr().out)
    assert {name: host["status"] for name, host in shown["hosts"].items()} == dict.fromkeys(broken, "changed")
    monkeypatch.delenv("REMEDIATE_JOURNAL")
    code, back = run_json(capsys, "rollback", doc["run_id"], "--yes", "--journal", url)
    assert code == 0 and back["summary"] == {"changed": len(lab.hosts)}, back
    assert snapshot(lab) == broken
    assert list(colleague.iterdir()) == [] and not (tmp_path / "colleague-state").exists()
    code, runs = run_json(capsys, "runs", "--json", "--journal", url)
    assert [(r["kind"], r["rollback_of"]) for r in runs] == [("rollback", doc["run_id"]), ("apply", None)]


@pytest.mark.lab
def test_a_halted_run_in_a_postgresql_journal_is_resumed_from_elsewhere(
    lab: Lab, postgres: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = postgres.new_database()
    monkeypatch.setenv("REMEDIATE_JOURNAL", url)
    names = [h.name for h in lab.hosts]
    locale = lab.hosts[1].local_path(LOCALE)
    kept = locale.read_bytes()
    locale.unlink()
    before = snapshot(lab)
    pb = fix_playbook(tmp_path, verify=True)
    code, first = run_json(capsys, "apply", str(pb), "-i", str(lab.inventory_path), "--yes", "--forks", "1")
    assert code == 1 and first["halted"], first
    assert [statuses(first)[n] for n in names] == ["changed", "rolled_back", "skipped", "skipped"]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("REMEDIATE_STATE", str(tmp_path / "other-state"))
    code, resumed = run_json(capsys, "resume", first["run_id"][-10:], "--yes")
    assert code == 0, resumed
    assert statuses(resumed) == dict.fromkeys(names[2:], "changed")  # the hosts never started, and only those
    code, shown = run_json(capsys, "show", first["run_id"])
    assert shown["resumed_by"] == [resumed["run_id"]]
    for run_id in (resumed["run_id"], first["run_id"]):
        code, back = run_json(capsys, "rollback", run_id, "--yes")
        assert code == 0, back
    assert snapshot(lab) == before and not (tmp_path / "other-state").exists()
    locale.write_bytes(kept)


@pytest.mark.lab
def test_a_journal_named_in_the_configuration_file_serves_every_command(
    lab: Lab, postgres: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --journal, no $REMEDIATE_JOURNAL: the configuration file's journal records the run and lists it."""
    url = postgres.new_database()
    config = tmp_path / "config" / "remediate" / "config.yml"  # conftest points XDG_CONFIG_HOME at tmp_path/config
    config.parent.mkdir(parents=True)
    config.write_text(f"journal: {url}\n")
    monkeypatch.setenv("REMEDIATE_STATE", str(tmp_path / "state"))
    code, doc = run_json(capsys, "apply", "fix-phpp", "-i", str(lab.inventory_path), "--dry-run")
    assert code == 0 and doc["dry_run"] and doc["summary"] == {"changed": len(lab.hosts)}, doc
    code, runs = run_json(capsys, "runs", "--json")
    assert [(r["run_id"], r["kind"]) for r in runs] == [(doc["run_id"], "dry-run")]
    assert not (tmp_path / "state").exists()  # nothing went to the SQLite journal
