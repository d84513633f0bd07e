"""Extended attributes and POSIX ACLs are kept, on real lab hosts (issue 14, case 5).

A replacement used to be a new file with none of the original's ``user.*``, ``trusted.*`` and
``security.*`` attributes (on an SELinux host, its label) nor its ACL. The lab hosts' files live on a
tmpfs, which holds all of them; each test stages them on web1's WordPress file, as root on the host.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from labtools import BROKEN, FIXED, WP, journal_host, on_host, run_json, run_on_host

from remediate.cli.main import main
from remediate.lab.fleet import Lab, LabHost
from remediate.remote.commit import DEFAULT_BACKUP_ROOT, backup_path

pytestmark = pytest.mark.lab

# One of each namespace a root run must carry; SELinux keeps a label with its final NUL.
STAGED = {
    "user.origin": b"set by hand",
    "trusted.remediate-test": b"\x00\x01 binary\n",
    "security.selinux": b"system_u:object_r:httpd_sys_content_t:s0\x00",
}
ACL_TEXT = "user::rw-\nuser:nobody:r--\ngroup::r--\nmask::r--\nother::---\n\n"
NO_GETFATTR = f"getfattr not found on web1: extended attributes and ACLs of {WP} cannot be kept"


def stage_attributes(lab: Lab, host: LabHost, path: str = WP) -> dict[str, bytes]:
    """www-data's 0640 file with the STAGED attributes and an ACL entry for nobody; returns every
    attribute it then has (the ACL is one of them, system.posix_acl_access)."""
    commands = [f"chown 33:33 {path}", f"chmod 0640 {path}", f"setfacl -m u:nobody:r {path}"]
    commands += [f"setfattr -n {name} -v 0s{base64.b64encode(v).decode()} {path}" for name, v in STAGED.items()]
    on_host(lab, host, " && ".join(commands))
    seen = attributes(host.local_path(path))
    assert set(seen) == {*STAGED, "system.posix_acl_access"} and all(seen[n] == v for n, v in STAGED.items())
    return seen


def attributes(local: Path) -> dict[str, bytes]:
    return {name: os.getxattr(local, name) for name in os.listxattr(local)}


def acl_text(lab: Lab, host: LabHost, path: str) -> str:
    return on_host(lab, host, f"getfacl --omit-header --absolute-names {path}")


def mode_and_owner(local: Path) -> tuple[int, int, int]:
    st = local.stat()
    return stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid


@dataclass(frozen=True)
class Staged:
    host: LabHost  # web1
    original: bytes  # its WordPress file's bytes
    attributes: dict[str, bytes]  # every attribute of that file, its ACL included


@pytest.fixture
def staged(lab: Lab) -> Staged:
    web1 = lab.host("web1")
    return Staged(web1, web1.local_path(WP).read_bytes(), stage_attributes(lab, web1))


def apply_web1(capsys: pytest.CaptureFixture[str], lab: Lab, playbook: str = "fix-phpp") -> tuple[int, dict[str, Any]]:
    return run_json(capsys, "apply", playbook, "-i", str(lab.inventory_path), "--yes", "--limit", "web1")


def assert_kept(lab: Lab, staged: Staged, content: bytes) -> None:
    """web1's WordPress file holds ``content``, with www-data's 0640 and every staged attribute and ACL."""
    local = staged.host.local_path(WP)
    assert local.read_bytes() == content
    assert mode_and_owner(local) == (0o640, 33, 33)
    assert attributes(local) == staged.attributes
    assert acl_text(lab, staged.host, WP) == ACL_TEXT


def journal_xattrs(state: Path, run_id: str) -> list[str]:
    """The names of the original's attributes in web1's file row of the journal."""
    (row,) = (
        sqlite3.connect(state / "journal.sqlite")
        .execute("SELECT xattrs FROM files WHERE run_id = ? AND host = 'web1'", (run_id,))
        .fetchall()
    )
    return sorted(name for name, _ in json.loads(row[0]))


def test_a_replacement_and_its_backup_keep_them_and_a_rollback_puts_them_back(
    lab: Lab, staged: Staged, capsys: pytest.CaptureFixture[str], in_repo: Path
) -> None:
    web1, original = staged.host, staged.original
    code, doc = apply_web1(capsys, lab)
    assert code == 0 and doc["hosts"]["web1"]["status"] == "changed", doc
    run_id = doc["run_id"]
    assert_kept(lab, staged, original.replace(BROKEN, FIXED))
    backup = web1.local_path(backup_path(DEFAULT_BACKUP_ROOT, run_id, WP))
    assert backup.read_bytes() == original and attributes(backup) == staged.attributes
    assert journal_host(in_repo, run_id, "web1") == ("changed", "")
    assert journal_xattrs(in_repo, run_id) == sorted(staged.attributes)

    code, undone = run_json(capsys, "rollback", run_id, "--yes")
    assert code == 0 and undone["hosts"]["web1"]["status"] == "changed", undone
    assert journal_host(in_repo, undone["run_id"], "web1") == ("changed", "")
    assert_kept(lab, staged, original)


@pytest.mark.parametrize(
    ("extra", "status", "error"),
    [
        # The site's probe fails after the fix: the rollback in the run writes the original back.
        ("verify:\n  - command: {run: 'echo down; exit 1'}\n", "rolled_back", "rc 1, expected 0"),
        # A whole-service check fails with the fix in place: the write puts the original back at once.
        ("    validate: 'echo refused; exit 1'\n", "failed", "the live files were left as they were"),
    ],
    ids=["probe", "whole-service validator"],
)
def test_a_failed_change_puts_them_back_with_the_original(
    lab: Lab,
    staged: Staged,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    in_repo: Path,
    extra: str,
    status: str,
    error: str,
) -> None:
    playbook = tmp_path / "pb.yml"
    playbook.write_text(f"steps:\n  - line_patch: {{path: {WP}, regex: '\\.phpp\\b', replace: '.php'}}\n{extra}")
    code, doc = apply_web1(capsys, lab, str(playbook))
    assert code == 1
    entry = doc["hosts"]["web1"]
    assert entry["status"] == status and error in entry["error"], entry
    assert journal_host(in_repo, doc["run_id"], "web1") == (status, entry["error"])
    assert_kept(lab, staged, staged.original)


@contextmanager
def without(lab: Lab, host: LabHost, tool: str) -> Iterator[None]:
    """``tool`` is gone from ``host`` (a file that cannot run is bound over it in the host's namespace)."""
    on_host(lab, host, f"mount --bind /dev/null /usr/bin/{tool}")
    try:
        assert run_on_host(lab, host, f"sh -c 'command -v {tool}'").exit_status != 0  # sh: what runs our scripts
        yield
    finally:
        on_host(lab, host, f"umount /usr/bin/{tool}")


def test_a_host_without_getfattr_has_a_note_in_its_plan(
    lab: Lab, staged: Staged, tmp_path: Path, capsys: pytest.CaptureFixture[str], in_repo: Path
) -> None:
    web1 = staged.host
    args = ["fix-phpp", "-i", str(lab.inventory_path), "--limit", "web1"]
    plan_file = tmp_path / "fix.plan"
    with without(lab, web1, "getfattr"):
        assert main(["apply", *args, "--dry-run"]) == 0
        dry_run = capsys.readouterr().out
        assert main(["plan", *args, "-o", str(plan_file)]) == 0
        planned = capsys.readouterr().out
        assert web1.local_path(WP).read_bytes() == staged.original  # a dry run and a plan write nothing
        # With --json the plan is not shown: its notes are, beside the JSON.
        code = main(["apply", *args, "--yes", "--json"])
        applied = capsys.readouterr()
    note = f"  note: {NO_GETFATTR}"
    assert note in dry_run.splitlines() and note in planned.splitlines()
    (host_plan,) = json.loads(plan_file.read_text())["hosts"]
    assert [n["reason"] for n in host_plan["noops"]] == [NO_GETFATTR]
    assert [(c["xattrs"], c["before_xattrs"]) for c in host_plan["changes"]] == [(None, None)]
    assert applied.err.splitlines()[:2] == [f"web1 ({web1.address}):", note], applied.err  # then the progress
    doc = json.loads(applied.out)
    assert code == 0 and doc["hosts"]["web1"]["status"] == "changed"
    assert journal_host(in_repo, doc["run_id"], "web1") == ("changed", "")
    local = web1.local_path(WP)
    assert local.read_bytes() == staged.original.replace(BROKEN, FIXED) and mode_and_owner(local) == (0o640, 33, 33)


def test_a_host_without_setfattr_fails_before_anything_is_replaced(
    lab: Lab, staged: Staged, capsys: pytest.CaptureFixture[str], in_repo: Path
) -> None:
    web1 = staged.host
    with without(lab, web1, "setfattr"):
        code, doc = apply_web1(capsys, lab)
    assert code == 1
    entry = doc["hosts"]["web1"]
    problem = f"{WP}: setfattr not found on the host: its extended attributes and ACLs cannot be kept"
    assert (entry["status"], entry["error"]) == ("failed", f"{problem}; nothing was replaced")
    assert journal_host(in_repo, doc["run_id"], "web1") == ("failed", entry["error"])
    assert_kept(lab, staged, staged.original)
    assert not [p for p in web1.local_path(WP).parent.iterdir() if p.name.startswith(".remediate-")]
