"""A host taken over from a worker whose claim ran out (``remediate work``): did that worker write it? Pure.

The host's own compare-and-swap already makes a second write impossible (the plan's originals are gone
once the plan is written, so it would be a ``conflict``). This tells the one case apart that is no
conflict at all: every file holds exactly what the plan writes, because the worker that was killed had
written the host before it could record so. Such a host is recorded once, as the run's ``changed``, and
not written again.
"""

from __future__ import annotations

from collections.abc import Mapping

from remediate.model import FileChange, FileKind, HostPlan, RemoteFile


def written_already(plan: HostPlan, observed: Mapping[str, RemoteFile]) -> bool:
    """Every file of ``plan`` is as the plan leaves it: its new bytes, mode, owner and group (a removed
    file: absent)."""
    if not plan.changes:
        return False
    for change in plan.changes:
        seen = observed.get(change.path)
        if seen is None:
            return False
        if change.delete:
            if seen.kind != FileKind.MISSING:
                return False
        elif seen.content != change.after or (seen.mode & 0o7777) != change.mode or not _owned_as_planned(change, seen):
            return False
    return True


def _owned_as_planned(change: FileChange, seen: RemoteFile) -> bool:
    """The file's owner and group are the ones the plan gives it: by number where the plan knows them (a
    replacement), else by name where it names them (a new file); a new file left to the login user's
    owner cannot be told apart, as its write would give it that."""
    owner = seen.uid == change.uid if change.uid is not None else not change.owner or seen.owner == change.owner
    group = seen.gid == change.gid if change.gid is not None else not change.group or seen.group == change.group
    return owner and group
