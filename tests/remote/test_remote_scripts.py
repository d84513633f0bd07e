"""The shell halves of gather and commit, run by a real sh on real files, and their parsers.

These exercise the exact script text a host receives; tests/acceptance/test_apply_lab.py runs the same scripts over
real SSH on lab hosts.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
from remote_shells import LOCK_DIR, commit_script, gather, run_sh, sweep_script

from remediate.model import FileChange, FileKind, RemoteFile, sha256_hex
from remediate.remote.answer import BEGIN, CURRENT_LIMIT, END
from remediate.remote.commit import CommitOutcome, NameSource, parse_commit, random_letters
from remediate.remote.gather import parse_gather

pytestmark = pytest.mark.usefixtures("remote_shell")  # every test under dash, bash and busybox sh


def test_each_script_runs_in_the_shell_the_test_is_for(remote_shell: str) -> None:
    """The shell parameter is the shell that runs: bash says so, busybox's ash is busybox's binary."""
    done = run_sh(b'echo "${BASH_VERSION:+bash}"; readlink /proc/$$/exe\n')
    version, binary = done.stdout.decode().splitlines()
    assert (version == "bash") == (remote_shell == "bash")
    assert binary.rsplit("/", 1)[-1] == remote_shell


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
    orphan = tmp_path / "no-such-folder" / "x.conf"
    paths = [str(p) for p in (regular, empty, link, dangling, fifo, big, tmp_path, tmp_path / "missing", orphan)]
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
    assert files[str(tmp_path / "missing")].parent_exists
    assert (files[str(orphan)].kind, files[str(orphan)].parent_exists) == (FileKind.MISSING, False)
    assert files[str(orphan)].missing_folders == (str(tmp_path / "no-such-folder"),)
    assert not (tmp_path / "file").exists()  # the $(file) in the name was never run


def commit(
    tmp_path: Path, run_id: str, changes: list[FileChange], as_root: bool = False, names: NameSource = random_letters
) -> CommitOutcome:
    """The commit script run by a real sh, with its backups under tmp_path/b."""
    script = commit_script(
        run_id, changes, backup_root=str(tmp_path / "b"), lock_dir=LOCK_DIR, as_root=as_root, names=names
    )
    return parse_commit(run_sh(script).stdout)


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
    result = run_sh(commit_script("RUN1", [change], backup_root=str(backups), lock_dir=LOCK_DIR))
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
    result = run_sh(commit_script("RUN2", changes, backup_root=str(tmp_path / "backups"), lock_dir=LOCK_DIR))
    outcome = parse_commit(result.stdout)
    assert not outcome.completed and outcome.conflict == (1, sha256_hex(b"edited by hand\n"))
    # Nothing of the host was written: not even the first, unconflicted file.
    assert (first.read_bytes(), second.read_bytes()) == (b"a1\n", b"edited by hand\n")
    assert not (tmp_path / "backups").exists()


def test_commit_creates_a_new_file_only_if_still_absent(tmp_path: Path) -> None:
    target = tmp_path / "new.conf"
    change = FileChange(str(target), str(target), ("s",), None, b"hello\n", 0o600, None, None)
    outcome = parse_commit(
        run_sh(commit_script("RUN3", [change], backup_root=str(tmp_path / "b"), lock_dir=LOCK_DIR)).stdout
    )
    assert outcome.completed and target.read_bytes() == b"hello\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    outcome = parse_commit(
        run_sh(commit_script("RUN4", [change], backup_root=str(tmp_path / "b"), lock_dir=LOCK_DIR)).stdout
    )
    assert outcome.conflict == (0, "the file now exists")


def test_commit_failure_cleans_its_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "x"
    target.write_bytes(b"1\n")
    change = FileChange(
        str(target), str(target), ("s",), b"1\n", b"2\n", 0o644, 0, 0, owner="no-such-user-here", before_mode=0o644
    )
    result = run_sh(commit_script("RUN5", [change], backup_root=str(tmp_path / "b"), lock_dir=LOCK_DIR))
    outcome = parse_commit(result.stdout)
    assert outcome.error is not None and "cannot set owner no-such-user-here" in outcome.error[1]
    assert target.read_bytes() == b"1\n"
    # The temporary file (made before the chown failed) is gone; no backup was made of a file never replaced.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x"]


@pytest.mark.parametrize("size", [0, 1, 57, 76 * 1000 + 3])
def test_commit_transfers_any_bytes_exactly(tmp_path: Path, size: int) -> None:
    target = tmp_path / "f"
    target.write_bytes(b"old")
    after = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    outcome = parse_commit(
        run_sh(
            commit_script("RUN6", [change_for(target, after)], backup_root=str(tmp_path / "b"), lock_dir=LOCK_DIR)
        ).stdout
    )
    assert outcome.completed and target.read_bytes() == after


def test_path_validator_checks_the_temporary_file_and_a_failure_leaves_the_live_file(tmp_path: Path) -> None:
    target = tmp_path / "site.php"
    target.write_bytes(b"<?php echo 1;\n")
    seen = tmp_path / "validated"
    good = dataclasses.replace(
        change_for(target, b"<?php echo 2;\n"), validators=(f"cp {{path}} {seen} && grep -q 'echo 2' {{path}}",)
    )
    outcome = parse_commit(
        run_sh(commit_script("RUN7", [good], backup_root=str(tmp_path / "b"), lock_dir=LOCK_DIR)).stdout
    )
    assert outcome.completed and seen.read_bytes() == b"<?php echo 2;\n"  # the validator saw the candidate

    bad = dataclasses.replace(
        change_for(target, b"<?php echo(;\n"), validators=("echo 'Parse error in' {path}; exit 255",)
    )
    result = run_sh(commit_script("RUN8", [bad], backup_root=str(tmp_path / "b"), lock_dir=LOCK_DIR))
    outcome = parse_commit(result.stdout)
    assert outcome.invalid is not None and outcome.invalid[1].startswith(f"Parse error in {target.parent}/.remediate-")
    assert target.read_bytes() == b"<?php echo 2;\n" and not outcome.replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "site.php", "validated"]  # temp file gone


def test_whole_config_validator_failure_puts_every_original_back_at_once(tmp_path: Path) -> None:
    first, second = tmp_path / "a.conf", tmp_path / "b.conf"
    first.write_bytes(b"A1\n")
    second.write_bytes(b"B1\n")
    os.chmod(second, 0o640)
    os.chown(second, 33, 34)
    created = tmp_path / "new.conf"
    check = f"grep -q A2 {first} && ! grep -q BROKEN {second}"  # sees the candidates in place
    changes = [
        dataclasses.replace(change_for(first, b"A2\n"), validators=(check,)),
        dataclasses.replace(change_for(second, b"BROKEN\n"), validators=(check,)),
        FileChange(str(created), str(created), ("s",), None, b"N\n", 0o644, None, None, validators=(check,)),
    ]
    handler_ran = tmp_path / "handler-ran"
    result = run_sh(
        commit_script("RUN9", changes, [f"touch {handler_ran}"], backup_root=str(tmp_path / "b"), lock_dir=LOCK_DIR)
    )
    outcome = parse_commit(result.stdout)
    assert outcome.invalid is not None and outcome.invalid[0] == 0
    assert sorted(outcome.restored) == [0, 1, 2] and not outcome.live_changed
    assert (first.read_bytes(), second.read_bytes(), created.exists()) == (b"A1\n", b"B1\n", False)
    st = second.stat()
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o640, 33, 34)
    assert not handler_ran.exists()  # no reload of a configuration that failed its check


def test_handlers_run_once_each_after_the_files_and_a_failing_one_is_reported(tmp_path: Path) -> None:
    target = tmp_path / "x.conf"
    target.write_bytes(b"1\n")
    log = tmp_path / "log"
    handlers = [f"echo reload >> {log}; echo reloaded", f"echo restart >> {log}"]
    outcome = parse_commit(
        run_sh(
            commit_script(
                "RUN10", [change_for(target, b"2\n")], handlers, backup_root=str(tmp_path / "b"), lock_dir=LOCK_DIR
            )
        ).stdout
    )
    assert outcome.completed and log.read_text() == "reload\nrestart\n"

    failing = [f"cat {target} >> {log}; echo 'Job for apache2.service failed' >&2; exit 1"]
    outcome = parse_commit(
        run_sh(
            commit_script(
                "RUN11", [change_for(target, b"3\n")], failing, backup_root=str(tmp_path / "b"), lock_dir=LOCK_DIR
            )
        ).stdout
    )
    assert outcome.handler_failed == (0, "Job for apache2.service failed")
    assert target.read_bytes() == b"3\n" and outcome.live_changed  # left for the controller to roll back
    assert log.read_text().endswith("3\n")  # the handler ran with the new file in place


def test_a_held_lock_refuses_the_host_and_names_the_holder(tmp_path: Path) -> None:
    locks = tmp_path / "locks"
    locks.mkdir(mode=0o700)
    lock, holder_file = locks / "lock", locks / "holder"
    target = tmp_path / "x"
    target.write_bytes(b"1\n")
    # flock's child holds the lock too: it gets a session of its own, and the whole group is stopped.
    holder = subprocess.Popen(
        ["flock", str(lock), "sh", "-c", f"echo 'RUN-OTHER since 2026-11-21T06:00:00Z' > {holder_file}; sleep 30"],
        start_new_session=True,
    )
    try:
        for _ in range(100):
            if holder_file.exists() and holder_file.read_text():
                break
            time.sleep(0.02)
        outcome = parse_commit(
            run_sh(
                commit_script(
                    "RUN12", [change_for(target, b"2\n")], backup_root=str(tmp_path / "b"), lock_dir=str(locks)
                )
            ).stdout
        )
        assert outcome.locked_by == "RUN-OTHER since 2026-11-21T06:00:00Z"
        assert target.read_bytes() == b"1\n"
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()
    outcome = parse_commit(
        run_sh(
            commit_script("RUN13", [change_for(target, b"2\n")], backup_root=str(tmp_path / "b"), lock_dir=str(locks))
        ).stdout
    )
    assert outcome.completed and holder_file.read_text().startswith("RUN13 since ")  # a dead holder blocks nothing


def test_a_delete_change_removes_the_file_it_created(tmp_path: Path) -> None:
    target = tmp_path / "created.conf"
    target.write_bytes(b"N\n")
    removal = FileChange(str(target), str(target), ("undo",), b"N\n", b"", 0o644, 0, 0, before_mode=0o644, delete=True)
    outcome = parse_commit(
        run_sh(commit_script("RUN14", [removal], backup_root=str(tmp_path / "b"), lock_dir=LOCK_DIR)).stdout
    )
    assert outcome.completed and not target.exists()
    assert (tmp_path / "b" / "RUN14" / str(target).lstrip("/")).read_bytes() == b"N\n"  # backed up first


def test_a_daemon_started_by_a_handler_does_not_inherit_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / "locks" / "lock"
    target = tmp_path / "x"
    target.write_bytes(b"1\n")
    pid_file = tmp_path / "daemon.pid"
    handler = f"sleep 30 >/dev/null 2>&1 & echo $! > {pid_file}"  # like `apache2ctl start`: it stays behind
    script = commit_script(
        "RUN15", [change_for(target, b"2\n")], [handler], backup_root=str(tmp_path / "b"), lock_dir=str(lock.parent)
    )
    try:
        assert parse_commit(run_sh(script).stdout).completed
        free = subprocess.run(["flock", "-n", str(lock), "true"], check=False)
        assert free.returncode == 0, "the handler's daemon holds the host's lock"
    finally:
        os.kill(int(pid_file.read_text()), signal.SIGKILL)


def test_a_backup_is_never_less_strict_than_its_original(tmp_path: Path) -> None:
    target = tmp_path / "secret.key"
    target.write_bytes(b"k1\n")
    target.chmod(0o400)
    outcome = parse_commit(
        run_sh(
            commit_script("RUN16", [change_for(target, b"k2\n")], backup_root=str(tmp_path / "b"), lock_dir=LOCK_DIR)
        ).stdout
    )
    assert outcome.completed
    assert stat.S_IMODE(Path(outcome.backups[0]).stat().st_mode) == 0o400
    assert stat.S_IMODE(target.stat().st_mode) == 0o400


def test_gather_resolves_a_symlinked_folder_and_answers_a_plain_path_as_itself(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "site.conf").write_bytes(b"x\n")
    (tmp_path / "linked").symlink_to(real)
    plain, through_link = str(real / "site.conf"), str(tmp_path / "linked" / "site.conf")
    files = gather([plain, through_link])
    assert files[plain].real_path == plain
    assert files[through_link].real_path == plain and files[through_link].content == b"x\n"


def test_commit_never_writes_through_a_taken_temporary_name(tmp_path: Path) -> None:
    target, victim = tmp_path / "site.conf", tmp_path / "victim"
    target.write_bytes(b"1\n")
    victim.write_bytes(b"precious\n")
    # Named unlike the stale temporary files a new run removes first, so that it is still there.
    taken = tmp_path / ".remediate-taken-by-someone"
    taken.symlink_to(victim)
    outcome = commit(tmp_path, "RUN17", [change_for(target, b"2\n")], names=lambda: "taken-by-someone")
    assert outcome.error is not None and "temporary name taken" in outcome.error[1]
    assert (target.read_bytes(), victim.read_bytes()) == (b"1\n", b"precious\n")
    assert taken.is_symlink()  # not ours: left where it was


@pytest.mark.parametrize("mode", [0o644, 0o444, 0o600, 0o640, 0o755, 0o2750])
def test_commit_gives_the_planned_mode_with_or_without_chmod(tmp_path: Path, mode: int) -> None:
    target = tmp_path / "f"
    target.write_bytes(b"1\n")
    os.chown(target, 0, 33)
    outcome = commit(tmp_path, "RUN18", [change_for(target, b"2\n", mode=mode)], as_root=True)
    assert outcome.completed
    st = target.stat()
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (mode, 0, 33)


def test_commit_as_root_sets_root_group_in_a_set_group_id_folder(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    os.chown(folder, 0, 33)
    folder.chmod(0o2775)  # new files get the folder's group, www-data
    target = folder / "root-only.conf"
    target.write_bytes(b"1\n")
    os.chown(target, 0, 0)
    outcome = commit(tmp_path, "RUN19", [change_for(target, b"2\n")], as_root=True)
    assert outcome.completed
    st = target.stat()
    assert (target.read_bytes(), st.st_uid, st.st_gid) == (b"2\n", 0, 0)


def test_commit_checks_files_whose_names_sha256sum_would_escape(tmp_path: Path) -> None:
    target = tmp_path / "back\\slash.conf"
    target.write_bytes(b"1\n")
    changes = [change_for(target, b"2\n")]
    outcome = commit(tmp_path, "RUN20", changes)
    assert outcome.completed and target.read_bytes() == b"2\n"
    target.write_bytes(b"edited\n")
    outcome = commit(tmp_path, "RUN21", changes)
    assert outcome.conflict == (0, sha256_hex(b"edited\n")) and target.read_bytes() == b"edited\n"


def test_text_and_binary_originals_are_both_backed_up_byte_for_byte(tmp_path: Path) -> None:
    text, binary = tmp_path / "text.conf", tmp_path / "blob.bin"
    text.write_bytes(b"it's 'quoted' $(not run) `x`\n")
    binary.write_bytes(bytes(range(256)))
    binary.chmod(0o400)
    changes = [change_for(text, b"new\n"), change_for(binary, b"\x00new")]
    outcome = commit(tmp_path, "RUN22", changes)
    assert outcome.completed
    saved_text, saved_binary = Path(outcome.backups[0]), Path(outcome.backups[1])
    assert saved_text.read_bytes() == b"it's 'quoted' $(not run) `x`\n"
    assert saved_binary.read_bytes() == bytes(range(256))
    assert stat.S_IMODE(saved_text.stat().st_mode) == 0o600
    assert stat.S_IMODE(saved_binary.stat().st_mode) == 0o400
    assert not (tmp_path / "not run").exists()


def test_a_run_that_is_not_roots_locks_in_its_own_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    target = tmp_path / "x"
    target.write_bytes(b"1\n")
    script = commit_script("RUN17", [change_for(target, b"2\n")], backup_root=str(tmp_path / "b"), as_root=False)
    done = run_sh(script, env={**os.environ, "HOME": str(home)})
    assert parse_commit(done.stdout).completed, done
    assert stat.S_IMODE((home / ".remediate").stat().st_mode) == 0o700
    assert (home / ".remediate" / "holder").read_text().startswith("RUN17 since ")
    # A link in its place (in a home others can write to, say) is refused, and nothing is touched.
    (home / ".remediate").rename(tmp_path / "elsewhere")
    (home / ".remediate").symlink_to(tmp_path / "elsewhere")
    again = commit_script("RUN18", [change_for(target, b"3\n")], backup_root=str(tmp_path / "b"), as_root=False)
    refused = run_sh(again, env={**os.environ, "HOME": str(home)})
    outcome = parse_commit(refused.stdout)
    assert outcome.unlockable == "the lock folder $HOME/.remediate is not a folder of the run's user alone"
    assert target.read_bytes() == b"2\n" and not (tmp_path / "b" / "RUN18").exists()


def test_a_conflicting_file_is_sent_back_only_up_to_a_limit(tmp_path: Path) -> None:
    target = tmp_path / "big.conf"
    target.write_bytes(b"1\n")
    change = change_for(target, b"2\n")
    target.write_bytes(b"x" * (3 * CURRENT_LIMIT))  # changed since the plan, and large
    outcome = parse_commit(
        run_sh(commit_script("RUN19", [change], backup_root=str(tmp_path / "b"), lock_dir=LOCK_DIR)).stdout
    )
    assert outcome.conflict is not None and outcome.current == b"x" * (CURRENT_LIMIT + 1)  # "larger than that"


def test_the_sweep_alone_removes_a_killed_runs_temporary_files_under_the_lock(tmp_path: Path) -> None:
    leftover = tmp_path / ".remediate-Kx81Qz"
    leftover.write_bytes(b"new content of a killed run\n")
    keep = tmp_path / ".remediate-longer-name"  # not one of ours: six letters after the prefix
    keep.write_bytes(b"x")
    outcome = parse_commit(run_sh(sweep_script("RUN20", [str(tmp_path)], lock_dir=LOCK_DIR)).stdout)
    assert outcome.completed and outcome.stale == (str(leftover),)
    assert not leftover.exists() and keep.exists()


def test_parse_gather_reads_a_missing_file_whose_folder_is_missing_too() -> None:
    files = parse_gather(f"{BEGIN}\n0 missing orphan 1\n{END}\n".encode(), ["/etc/new/app.conf"])
    assert files["/etc/new/app.conf"] == RemoteFile(
        "/etc/new/app.conf", FileKind.MISSING, missing_folders=("/etc/new",)
    )
    files = parse_gather(f"{BEGIN}\n0 missing blocked 1\n{END}\n".encode(), ["/etc/new/app.conf"])
    assert files["/etc/new/app.conf"] == RemoteFile("/etc/new/app.conf", FileKind.MISSING, not_a_folder="/etc")
