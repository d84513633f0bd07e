"""The pure half of `remediate resume`: which hosts a run never started, and holding a new plan to the recorded one."""

from __future__ import annotations

import pytest

from remediate.errors import UserError
from remediate.model import FileChange, FileRecord, Host, HostPlan, HostRecord, Status, sha256_hex
from remediate.plan.resume import pinned, unfinished

PATH = "/etc/app.conf"
OLD, NEW = b"port = 80\n", b"port = 8080\n"


def change(before: bytes | None = OLD, after: bytes = NEW, mode: int = 0o644, path: str = PATH) -> FileChange:
    return FileChange(path, path, ("step",), before, after, mode, 0, 0)


def record(before: bytes | None = OLD, after: bytes = NEW, mode: int = 0o644) -> FileRecord:
    sha_before = None if before is None else sha256_hex(before)
    return FileRecord("web1", PATH, PATH, sha_before, sha256_hex(after), mode, mode, 0, 0, "", before, after)


def plan(*changes: FileChange) -> HostPlan:
    return HostPlan(Host("web1", "127.0.1.1"), changes)


def row(host: str, status: str) -> HostRecord:
    return HostRecord(host, "127.0.1.1", status, "", "", (), ())


def test_the_hosts_to_resume_are_those_never_started_and_unknown_outcomes_are_named() -> None:
    rows = [row("a", "changed"), row("b", "skipped"), row("c", "interrupted"), row("d", "planned")]
    rows += [row("e", "writing"), row("f", "unknown"), row("g", "rolled_back"), row("h", "unreachable")]
    left = unfinished(rows)
    assert left.hosts == ("b", "c", "d")
    assert left.unknown == (("e", "writing"), ("f", "unknown"))


def test_the_recorded_plan_again_is_kept_as_it_is() -> None:
    same = plan(change())
    assert pinned(same, [record()], "RUN") is same
    created = plan(change(before=None))
    assert pinned(created, [record(before=None)], "RUN") is created
    assert pinned(plan(), [], "RUN") == plan()


def test_a_file_changed_on_the_host_since_is_a_conflict_saying_so() -> None:
    moved = pinned(plan(change(before=b"port = 81\n")), [record()], "RUN")
    assert moved.failure == Status.CONFLICT and not moved.changes
    assert moved.error == (
        f"{PATH}: changed on the host since run RUN planned it"
        f" (sha256 {sha256_hex(OLD)[:12]} then, {sha256_hex(b'port = 81' + bytes([10]))[:12]} now)"
    )
    appeared = pinned(plan(change(before=OLD)), [record(before=None)], "RUN")
    assert appeared.error.endswith("(sha256 none (absent) then, " + sha256_hex(OLD)[:12] + " now)")


def test_a_change_no_longer_needed_or_newly_needed_is_a_conflict() -> None:
    fixed_by_hand = pinned(plan(), [record()], "RUN")
    assert fixed_by_hand.failure == Status.CONFLICT
    assert fixed_by_hand.error == f"{PATH}: needs no change now, but run RUN planned one: the host changed since"
    drifted = pinned(plan(change(path="/etc/other.conf")), [], "RUN")
    assert drifted.error == (
        "/etc/other.conf: run RUN planned no change to it, and it needs one now: the host changed since"
    )


@pytest.mark.parametrize("other", [change(after=b"port = 9090\n"), change(mode=0o600)])
def test_other_bytes_or_mode_from_the_same_original_refuse_the_whole_resume(other: FileChange) -> None:
    with pytest.raises(UserError, match=r"^web1: /etc/app.conf: the playbook now makes other content, mode or owner"):
        pinned(plan(other), [record()], "RUN")


def test_a_host_that_failed_to_be_read_stays_failed() -> None:
    failed = HostPlan(Host("web1", "127.0.1.1"), failure=Status.UNREACHABLE, error="connection refused")
    assert pinned(failed, [record()], "RUN") is failed
