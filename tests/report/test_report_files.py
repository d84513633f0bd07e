"""Report files (audit --prometheus, --junit) are replaced atomically: never truncated in place."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest
from pytest_mock import MockerFixture

from remediate.errors import UserError
from remediate.report.files import check_writable_folder, replace_file


def test_the_file_is_replaced_by_a_new_inode_readable_by_the_collector_and_nothing_is_left(tmp_path: Path) -> None:
    target = tmp_path / "remediate.prom"
    target.write_bytes(b"old\n")
    old_inode = target.stat().st_ino
    umask = os.umask(0o022)
    try:
        replace_file(target, b"new\n", "--prometheus")
    finally:
        os.umask(umask)
    assert target.read_bytes() == b"new\n"
    assert target.stat().st_ino != old_inode
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # node_exporter often runs as another user
    assert [p.name for p in tmp_path.iterdir()] == ["remediate.prom"]


def test_the_data_and_the_folder_are_fsynced_before_and_after_the_rename(tmp_path: Path, mocker: MockerFixture) -> None:
    target = tmp_path / "audit.xml"
    calls: list[str] = []
    fsync = mocker.patch("remediate.report.files.os.fsync", side_effect=lambda fd: calls.append("fsync"))
    real_replace = os.replace
    mocker.patch(
        "remediate.report.files.os.replace", side_effect=lambda a, b: (calls.append("rename"), real_replace(a, b))
    )
    replace_file(target, b"<testsuites/>", "--junit")
    assert calls == ["fsync", "rename", "fsync"] and fsync.call_count == 2
    assert target.read_bytes() == b"<testsuites/>"


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_write_that_fails_midway_leaves_the_old_file_whole_and_no_temporary_file(
    tmp_path: Path, mocker: MockerFixture, failing: str
) -> None:
    target = tmp_path / "remediate.prom"
    target.write_bytes(b"the previous audit\n")
    mocker.patch(f"remediate.report.files.os.{failing}", side_effect=OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(UserError) as raised:
        replace_file(target, b"x" * 100_000, "--prometheus")
    assert str(raised.value) == f"--prometheus {target}: cannot write: No space left on device"
    assert target.read_bytes() == b"the previous audit\n"
    assert [p.name for p in tmp_path.iterdir()] == ["remediate.prom"]


def test_a_missing_folder_or_a_folder_as_the_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"^--junit .*/no/x\.xml: folder .*/no does not exist$"):
        check_writable_folder(tmp_path / "no" / "x.xml", "--junit")
    with pytest.raises(UserError, match=r"^--prometheus .*: is a folder$"):
        check_writable_folder(tmp_path, "--prometheus")
