"""``parents: true``: a new file's missing folders, from the read through the plan, the write and its undo.

Without it a missing folder fails the host in the plan (the dry-run says so); with it the folders are made
0755 just before the upload, removed again when the write does not stand, and removed by a rollback
while they are empty. The shell halves run under a real sh on real files; the whole path on lab hosts.
"""

from __future__ import annotations

import sqlite3
import stat
import textwrap
from pathlib import Path

import pytest
from labtools import run_json
from planning import plan_for
from remote_shells import LOCK_DIR, commit_script, gather, run_sh

from remediate.errors import UserError
from remediate.lab.fleet import Lab
from remediate.load.planfile import plan_document, plan_from_document
from remediate.load.playbook import load_playbook
from remediate.model import FileChange, FileKind, Host, HostPlan, Plan, RemoteFile, Status
from remediate.plan.diff import file_diff
from remediate.plan.masking import Masker
from remediate.plan.undo import reverse
from remediate.remote.commit import parse_commit

NEW = "/etc/new/sub/app.conf"


@pytest.mark.usefixtures("remote_shell")
def test_the_read_names_every_missing_folder_or_the_component_that_is_not_a_folder(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "file").write_bytes(b"x")
    deep = tmp_path / "a" / "b" / "c" / "x.conf"
    blocked = tmp_path / "file" / "d" / "x.conf"
    files = gather([str(deep), str(blocked)])
    assert files[str(deep)].kind == FileKind.MISSING
    assert files[str(deep)].missing_folders == (str(tmp_path / "a" / "b"), str(tmp_path / "a" / "b" / "c"))
    assert (files[str(blocked)].missing_folders, files[str(blocked)].not_a_folder) == ((), str(tmp_path / "file"))


def missing_in_new_folders() -> dict[str, RemoteFile]:
    return {NEW: RemoteFile(NEW, FileKind.MISSING, missing_folders=("/etc/new", "/etc/new/sub"))}


def test_without_parents_a_missing_folder_fails_the_host_in_the_plan_and_says_how(tmp_path: Path) -> None:
    steps = f"steps: [{{line_patch: {{path: {NEW}, ensure_line: x=1, create: true}}}}]"
    host = plan_for(tmp_path, steps, missing_in_new_folders())
    assert host.status == Status.FAILED and not host.changes
    assert host.error.endswith("cannot create it: its folder /etc/new/sub does not exist (parents: true makes it)")


@pytest.mark.parametrize(
    "step",
    [
        f"line_patch: {{path: {NEW}, ensure_line: x=1, create: true, parents: true}}",
        f"template: {{src: t.j2, dest: {NEW}, parents: true}}",
    ],
)
def test_with_parents_the_plan_makes_the_folders_and_shows_them(tmp_path: Path, step: str) -> None:
    host = plan_for(tmp_path, f"steps: [{{{step}}}]", missing_in_new_folders(), templates={"t.j2": "x=1\n"})
    (change,) = host.changes
    assert (change.before, change.after, change.folders) == (None, b"x=1\n", ("/etc/new", "/etc/new/sub"))
    assert file_diff(change).startswith(
        f"new folder /etc/new mode 0755\nnew folder /etc/new/sub mode 0755\nnew file {NEW} mode 0644\n"
    )


def test_a_component_that_is_not_a_folder_fails_the_host_even_with_parents(tmp_path: Path) -> None:
    steps = f"steps: [{{template: {{src: t.j2, dest: {NEW}, parents: true}}}}]"
    observed = {NEW: RemoteFile(NEW, FileKind.MISSING, not_a_folder="/etc/new")}
    host = plan_for(tmp_path, steps, observed, templates={"t.j2": "x\n"})
    assert host.status == Status.FAILED and host.error.endswith("cannot create it: /etc/new is not a folder")


def test_parents_on_a_line_patch_needs_create(tmp_path: Path) -> None:
    path = tmp_path / "pb.yml"
    path.write_text(f"steps: [{{line_patch: {{path: {NEW}, ensure_line: x=1, parents: true}}}}]\n")
    with pytest.raises(UserError, match=r"pb\.yml: steps\[0\]\.line_patch\.parents: only goes with create: true"):
        load_playbook(str(path))


def new_file_change(target: Path, folders: tuple[Path, ...], validators: tuple[str, ...] = ()) -> FileChange:
    return FileChange(
        str(target), str(target), ("s",), None, b"hello\n", 0o644, None, None,
        validators=validators, folders=tuple(str(f) for f in folders),
    )  # fmt: skip


def commit(tmp_path: Path, changes: list[FileChange], undoing: bool = False):  # type: ignore[no-untyped-def]
    script = commit_script("RUNP", changes, backup_root=str(tmp_path / "b"), lock_dir=LOCK_DIR, undoing=undoing)
    return parse_commit(run_sh(script).stdout)


@pytest.mark.usefixtures("remote_shell")
def test_the_write_makes_the_folders_0755_and_its_undo_removes_them(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "a" / "b"
    first, second = b / "one.conf", b / "two.conf"  # two new files in the same new folders: made once
    outcome = commit(tmp_path, [new_file_change(first, (a, b)), new_file_change(second, (a, b))])
    assert outcome.completed, outcome
    assert (first.read_bytes(), second.read_bytes()) == (b"hello\n", b"hello\n")
    assert [stat.S_IMODE(folder.stat().st_mode) for folder in (a, b)] == [0o755, 0o755]  # the script's umask is 077

    undone = commit(tmp_path, [reverse(new_file_change(first, (a, b)))], undoing=True)
    assert undone.completed and not first.exists()
    assert second.exists() and b.is_dir()  # a folder still holding a file stays, and so does its parent
    undone = commit(tmp_path, [reverse(new_file_change(second, (a, b)))], undoing=True)
    assert undone.completed and not a.exists()


@pytest.mark.usefixtures("remote_shell")
def test_a_write_that_does_not_stand_leaves_no_folder_behind(tmp_path: Path) -> None:
    a = tmp_path / "a"
    target = a / "b" / "x.conf"
    outcome = commit(tmp_path, [new_file_change(target, (a, a / "b"), validators=("false {path}",))])
    assert outcome.invalid is not None and not outcome.completed
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no folder, no backup folder

    outcome = commit(tmp_path, [new_file_change(target, (a, a / "b"), validators=("false",))])  # after the rename
    assert outcome.invalid is not None and not a.exists()


@pytest.mark.usefixtures("remote_shell")
def test_a_folder_that_appeared_since_the_plan_is_a_conflict_and_nothing_is_made(tmp_path: Path) -> None:
    a = tmp_path / "a"
    other = tmp_path / "elsewhere"
    other.mkdir()
    a.symlink_to(other)  # put there after the plan: the folder must not be made through it
    outcome = commit(tmp_path, [new_file_change(a / "b" / "x.conf", (a, a / "b"))])
    assert outcome.conflict == (0, f"its folder {a} now exists") and not outcome.completed
    assert list(other.iterdir()) == []


@pytest.mark.lab
def test_apply_and_rollback_of_a_file_in_new_folders_on_a_lab_host(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], in_repo: Path
) -> None:
    (tmp_path / "extra.j2").write_text("ServerTokens Prod\n")
    playbook = tmp_path / "pb.yml"
    dest = "/etc/apache2/extra/site.d/tokens.conf"
    playbook.write_text(
        textwrap.dedent(f"""\
        steps:
          - template: {{src: extra.j2, dest: {dest}, parents: true}}
        """)
    )
    host = lab.hosts[0]
    args = ["-i", str(lab.inventory_path), "--limit", host.name]
    code, dry = run_json(capsys, "apply", str(playbook), *args, "--dry-run")
    assert code == 0 and dry["hosts"][host.name]["status"] == "changed"
    assert dry["hosts"][host.name]["changes"][0]["diff"].startswith(
        "new folder /etc/apache2/extra mode 0755\nnew folder /etc/apache2/extra/site.d mode 0755\n"
    )
    assert not host.local_path("/etc/apache2/extra").exists()  # the dry-run touched nothing

    code, doc = run_json(capsys, "apply", str(playbook), *args, "--yes")
    assert code == 0 and doc["hosts"][host.name]["status"] == "changed", doc["hosts"][host.name]
    assert host.local_path(dest).read_bytes() == b"ServerTokens Prod\n"
    assert stat.S_IMODE(host.local_path("/etc/apache2/extra").stat().st_mode) == 0o755
    db = sqlite3.connect(in_repo / "journal.sqlite")
    (folders,) = db.execute("SELECT folders FROM files WHERE run_id = ?", (doc["run_id"],)).fetchone()
    assert folders == '["/etc/apache2/extra", "/etc/apache2/extra/site.d"]'

    code, back = run_json(capsys, "rollback", doc["run_id"], "--yes")
    assert code == 0 and back["summary"] == {"changed": 1}, back
    assert not host.local_path("/etc/apache2/extra").exists()
    assert host.local_path("/etc/apache2").is_dir()


@pytest.mark.lab
def test_a_failed_verify_undoes_the_new_file_and_its_folders(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "extra.j2").write_text("x\n")
    playbook = tmp_path / "pb.yml"
    playbook.write_text(
        textwrap.dedent("""\
        steps:
          - template: {src: extra.j2, dest: /etc/apache2/extra/x.conf, parents: true}
        verify:
          - command: {run: "false"}
        """)
    )
    host = lab.hosts[0]
    code, doc = run_json(capsys, "apply", str(playbook), "-i", str(lab.inventory_path), "--limit", host.name, "--yes")
    assert code == 1 and doc["hosts"][host.name]["status"] == "rolled_back", doc["hosts"][host.name]
    assert not host.local_path("/etc/apache2/extra").exists()


def test_a_plan_file_keeps_the_folders_to_make_and_refuses_one_off_the_path() -> None:
    change = new_file_change(Path(NEW), (Path("/etc/new"), Path("/etc/new/sub")))
    plan = Plan("P", "pb", "inv", (HostPlan(Host("web1", "a"), (change,)),))
    document = plan_document(plan, "pb.yml", "sha", 0.0, "me", Masker())
    loaded, _ = plan_from_document(document, "fix.plan")
    assert loaded.hosts[0].changes[0].folders == ("/etc/new", "/etc/new/sub")
    document["hosts"][0]["changes"][0]["folders"] = ["/etc/new", "/root/.ssh"]
    with pytest.raises(
        UserError, match=r"^fix\.plan: host web1: /etc/new/sub/app\.conf: a folder to make is not one of its path"
    ):
        plan_from_document(document, "fix.plan")
