"""A host taken over from a worker whose claim ran out: written already, or to be written (issue 20)."""

from __future__ import annotations

from remediate.model import FileChange, FileKind, Host, HostPlan, RemoteFile
from remediate.plan.takeover import written_already

PATH = "/etc/app.conf"
CHANGE = FileChange(PATH, PATH, ("fix",), b"old\n", b"new\n", 0o644, 0, 0, before_mode=0o644)
PLAN = HostPlan(Host("web1", "10.0.0.1"), (CHANGE,))


def _seen(
    content: bytes | None, mode: int = 0o100644, kind: FileKind = FileKind.FILE, uid: int = 0, gid: int = 0
) -> dict[str, RemoteFile]:
    return {PATH: RemoteFile(PATH, kind, PATH, mode, uid, gid, "root", "root", content=content)}


def test_a_host_holding_the_planned_bytes_was_written_already() -> None:
    assert written_already(PLAN, _seen(b"new\n"))


def test_a_host_holding_the_original_or_anything_else_is_not() -> None:
    assert not written_already(PLAN, _seen(b"old\n"))  # the killed worker never replaced it: write it
    assert not written_already(PLAN, _seen(b"edited by hand\n"))  # the compare-and-swap makes it a conflict
    assert not written_already(PLAN, _seen(b"new\n", mode=0o100600))  # the plan's mode is part of its result
    assert not written_already(PLAN, _seen(b"new\n", uid=33))  # so are its owner and group: another writer's
    assert not written_already(PLAN, _seen(b"new\n", gid=33))
    assert not written_already(PLAN, _seen(None, kind=FileKind.MISSING))
    assert not written_already(PLAN, {})
    assert not written_already(HostPlan(PLAN.host), _seen(b"new\n"))  # nothing to write: nothing written


def test_a_new_file_is_held_to_the_owner_and_group_the_plan_names() -> None:
    new = FileChange(PATH, PATH, ("make",), None, b"new\n", 0o644, None, None, owner="www-data", group="www-data")
    plan = HostPlan(PLAN.host, (new,))
    written = {PATH: RemoteFile(PATH, FileKind.FILE, PATH, 0o100644, 33, 33, "www-data", "www-data", content=b"new\n")}
    assert written_already(plan, written)
    assert not written_already(plan, _seen(b"new\n"))  # root's, where the plan names www-data
