"""The shell halves of gather and commit, run by a real sh on real files, and their parsers.

These exercise the exact script text a host receives; tests/test_apply_lab.py runs the same scripts over
real SSH on lab hosts.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from remediate.commit import commit_script, parse_commit
from remediate.gather import gather_script, parse_gather
from remediate.model import FileChange, FileKind, sha256_hex


def run_sh(script: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["sh", "-s"], input=script, capture_output=True, check=False)


def gather(paths: list[str], limit: int = 10 * 1024 * 1024):  # type: ignore[no-untyped-def]
    result = run_sh(gather_script(paths, limit))
    assert result.returncode == 0, result.stderr
    return parse_gather(result.stdout, paths, limit)


def test_gather_reads_bytes_mode_owner_and_kinds(tmp_path: Path) -> None:
    regular = tmp_path / "it's a $(file) `x`;.conf"
    regular.write_bytes(b"a\r\nb\x00\xff")
    regular.chmod(0o640)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    link = tmp_path / "link"
    link.symlink_to(regular)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    big = tmp_path / "big"
    big.write_bytes(b"x" * 2000)
    paths = [str(p) for p in (regular, empty, link, dangling, fifo, big, tmp_path, tmp_path / "missing")]
    files = gather(paths, limit=1000)

    r = files[str(regular)]
    assert (r.kind, r.content, r.mode, r.uid, r.size) == (FileKind.FILE, b"a\r\nb\x00\xff", 0o640, os.getuid(), 6)
    assert files[str(empty)].content == b""
    assert files[str(link)].real_path == str(regular) and files[str(link)].content == r.content
    assert files[str(dangling)].kind == FileKind.DANGLING
    assert files[str(fifo)].kind == FileKind.OTHER
    assert files[str(big)].content is None and "over the 1000-byte limit" in files[str(big)].error
    assert files[str(tmp_path)].kind == FileKind.DIRECTORY
    assert files[str(tmp_path / "missing")].kind == FileKind.MISSING
    assert not (tmp_path / "file").exists()  # the $(file) in the name was never run


def change_for(path: Path, after: bytes, mode: int | None = None) -> FileChange:
    before = path.read_bytes()
    st = path.stat()
    return FileChange(
        path=str(path),
        real_path=str(path),
        steps=("s",),
        before=before,
        after=after,
        mode=mode if mode is not None else stat.S_IMODE(st.st_mode),
        uid=st.st_uid,
        gid=st.st_gid,
        before_mode=stat.S_IMODE(st.st_mode),
    )


def test_commit_replaces_atomically_keeps_mode_and_owner_and_backs_up(tmp_path: Path) -> None:
    target = tmp_path / "conf dir" / "wp-settings.php"
    target.parent.mkdir()
    target.write_bytes(b"old.phpp\n")
    target.chmod(0o640)
    os.chown(target, 33, 33)
    backups = tmp_path / "backups"
    change = change_for(target, b"old.php\n")
    result = run_sh(commit_script("RUN1", [change], str(backups)))
    outcome = parse_commit(result.stdout)
    assert result.returncode == 0 and outcome.completed, result.stderr
    assert target.read_bytes() == b"old.php\n"
    st = target.stat()
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o640, 33, 33)
    saved = Path(outcome.backups[0])
    assert saved == backups / "RUN1" / str(target).lstrip("/")
    assert saved.read_bytes() == b"old.phpp\n"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE((backups / "RUN1").stat().st_mode) == 0o700
    manifest = (backups / "RUN1" / "MANIFEST").read_text()
    old_sha = sha256_hex(b"old.phpp\n")
    assert manifest == f"{old_sha}\t0640\t33\t33\t{target}\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["wp-settings.php"]  # no temp file left


def test_commit_refuses_a_file_changed_since_the_plan(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.write_bytes(b"a1\n")
    second.write_bytes(b"b1\n")
    changes = [change_for(first, b"a2\n"), change_for(second, b"b2\n")]
    second.write_bytes(b"edited by hand\n")
    result = run_sh(commit_script("RUN2", changes, str(tmp_path / "backups")))
    outcome = parse_commit(result.stdout)
    assert not outcome.completed and outcome.conflict == (1, sha256_hex(b"edited by hand\n"))
    # Nothing of the host was written: not even the first, unconflicted file.
    assert (first.read_bytes(), second.read_bytes()) == (b"a1\n", b"edited by hand\n")
    assert not (tmp_path / "backups").exists()


def test_commit_creates_a_new_file_only_if_still_absent(tmp_path: Path) -> None:
    target = tmp_path / "new.conf"
    change = FileChange(str(target), str(target), ("s",), None, b"hello\n", 0o600, None, None)
    outcome = parse_commit(run_sh(commit_script("RUN3", [change], str(tmp_path / "b"))).stdout)
    assert outcome.completed and target.read_bytes() == b"hello\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    outcome = parse_commit(run_sh(commit_script("RUN4", [change], str(tmp_path / "b"))).stdout)
    assert outcome.conflict == (0, "the file now exists")


def test_commit_failure_cleans_its_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "x"
    target.write_bytes(b"1\n")
    change = FileChange(
        str(target), str(target), ("s",), b"1\n", b"2\n", 0o644, 0, 0, owner="no-such-user-here", before_mode=0o644
    )
    result = run_sh(commit_script("RUN5", [change], str(tmp_path / "b")))
    outcome = parse_commit(result.stdout)
    assert outcome.error is not None and "cannot set owner no-such-user-here" in outcome.error[1]
    assert target.read_bytes() == b"1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "x"]


@pytest.mark.parametrize("size", [0, 1, 57, 76 * 1000 + 3])
def test_commit_transfers_any_bytes_exactly(tmp_path: Path, size: int) -> None:
    target = tmp_path / "f"
    target.write_bytes(b"old")
    after = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    outcome = parse_commit(run_sh(commit_script("RUN6", [change_for(target, after)], str(tmp_path / "b"))).stdout)
    assert outcome.completed and target.read_bytes() == after
