"""The journal belongs to the operator, not to the working directory (issue 17): it is found from any
folder, an earlier version's ``.remediate/`` is still read, and commands that only read create nothing."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from labtools import run_json, snapshot

from remediate.journal import Journal, journal_dirs, state_dir
from remediate.lab.fleet import Lab
from remediate.plan.masking import Masker

REPO = Path(__file__).resolve().parents[2]


def project_with_playbooks(parent: Path) -> Path:
    """A folder an operator works in, beside its playbooks/ (so fix-phpp resolves)."""
    project = parent / "project"
    shutil.copytree(REPO / "playbooks", project / "playbooks")
    return project


@pytest.fixture
def operator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An operator with no $REMEDIATE_STATE: the journal goes by $XDG_STATE_HOME, else by $HOME."""
    monkeypatch.delenv("REMEDIATE_STATE")
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


def test_the_state_folder_is_the_operators(operator: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert state_dir() == operator / "home" / ".local" / "state" / "remediate"
    monkeypatch.setenv("XDG_STATE_HOME", str(operator / "xdg"))
    assert state_dir() == operator / "xdg" / "remediate"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/xdg")  # ignored, as the spec says: it would move with the cwd
    assert state_dir() == operator / "home" / ".local" / "state" / "remediate"
    monkeypatch.setenv("REMEDIATE_STATE", str(operator / "explicit"))
    assert state_dir() == operator / "explicit"


def test_reading_commands_create_no_journal(
    operator: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = operator / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, runs = run_json(capsys, "runs", "--json")
    assert (code, runs) == (0, [])
    from remediate.cli.main import main

    assert main(["show", "RUN123"]) == 2
    assert "no run 'RUN123': there is no journal in" in capsys.readouterr().err
    assert not (operator / "home").exists() and list(elsewhere.iterdir()) == []


@pytest.mark.lab
def test_a_run_is_found_and_rolled_back_from_any_folder(
    lab: Lab, operator: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    host = lab.hosts[0]
    broken = snapshot(lab)[host.name]
    inventory = str(lab.inventory_path)
    monkeypatch.chdir(project_with_playbooks(operator))  # a folder with no journal of an earlier version
    code, dry = run_json(capsys, "apply", "fix-phpp", "-i", inventory, "--limit", host.name, "--dry-run")
    assert code == 0
    code, doc = run_json(capsys, "apply", "fix-phpp", "-i", inventory, "--limit", host.name, "--yes")
    assert code == 0 and doc["summary"] == {"changed": 1}
    assert journal_dirs() == [operator / "home" / ".local" / "state" / "remediate"]

    elsewhere = operator / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, runs = run_json(capsys, "runs", "--json")
    by_id = {run["run_id"]: run for run in runs}
    assert by_id[dry["run_id"]]["hosts"] == {"would change": 1}  # a dry-run changed nothing
    assert by_id[doc["run_id"]]["hosts"] == {"changed": 1}
    code, back = run_json(capsys, "rollback", doc["run_id"], "--yes")
    assert code == 0 and back["summary"] == {"changed": 1}, back
    assert snapshot(lab)[host.name] == broken
    assert list(elsewhere.iterdir()) == []  # nothing made in the folder it was typed in


@pytest.mark.lab
def test_an_earlier_versions_journal_in_the_working_folder_is_still_read(
    lab: Lab, operator: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    host = lab.hosts[0]
    broken = snapshot(lab)[host.name]
    project = project_with_playbooks(operator)
    monkeypatch.chdir(project)
    # As an earlier version kept it: .remediate/ beside playbooks/.
    monkeypatch.setenv("REMEDIATE_STATE", ".remediate")
    code, doc = run_json(capsys, "apply", "fix-phpp", "-i", str(lab.inventory_path), "--limit", host.name, "--yes")
    assert code == 0 and (project / ".remediate" / "journal.sqlite").is_file()
    monkeypatch.delenv("REMEDIATE_STATE")

    code, runs = run_json(capsys, "runs", "--json")
    assert [run["run_id"] for run in runs] == [doc["run_id"]]
    from remediate.cli.main import main

    assert main(["show", doc["run_id"], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["hosts"][host.name]["status"] == "changed"
    code, back = run_json(capsys, "rollback", doc["run_id"], "--yes")
    assert code == 0 and back["summary"] == {"changed": 1}, back
    assert snapshot(lab)[host.name] == broken
    # The rollback is recorded beside its run; the operator's own journal was never needed.
    code, runs = run_json(capsys, "runs", "--json")
    assert [run["kind"] for run in runs] == ["rollback", "apply"]
    assert not (operator / "home").exists()
    assert os.path.samefile(journal_dirs()[0], project / ".remediate")


@pytest.mark.parametrize("planted", ["another user's", "group-writable", "a link"])
def test_a_journal_in_the_working_folder_that_is_not_the_users_own_is_not_read(
    operator: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], planted: str
) -> None:
    """A folder such as /tmp is anyone's: a .remediate/ planted there must not tell a rollback what to write."""
    shared = operator / "shared"
    shared.mkdir()
    monkeypatch.chdir(shared)
    made = operator / "made" if planted == "a link" else shared / ".remediate"
    with Journal(made, Masker()) as journal:
        journal.start_run("R-planted", "apply", "pb", "pb.yml", "sha", "inv", [])
        journal.finish_run("R-planted", "ok")
    if planted == "a link":
        (shared / ".remediate").symlink_to(made)
    elif planted == "group-writable":
        made.chmod(0o770)
    else:
        os.chown(made, 65534, 65534)
        os.chown(made / "journal.sqlite", 65534, 65534)
    assert journal_dirs() == []
    code, runs = run_json(capsys, "runs", "--json")
    assert (code, runs) == (0, [])
    from remediate.cli.main import main

    assert main(["show", "R-planted"]) == 2
    assert "no run 'R-planted'" in capsys.readouterr().err
