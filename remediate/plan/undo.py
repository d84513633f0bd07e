"""Undoing changes, as plans: the reverse of a change, and the plan of ``remediate rollback RUN``. Pure.

A rollback is a plan like any other, so it goes through the same compare-and-swap, backup, atomic
rename and handlers as an apply: it only writes a file that still holds exactly what the run wrote.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence

from remediate.model import (
    FileChange,
    FileKind,
    FileRecord,
    Host,
    HostFailure,
    HostPlan,
    HostRecord,
    NoChange,
    Observed,
    RemoteFile,
    Status,
    sha256_hex,
)
from remediate.plan.diff import file_diff
from remediate.plan.masking import MASK
from remediate.plan.notes import unkept_xattrs_notes
from remediate.plan.secret_lines import shown_version


def reverse(change: FileChange) -> FileChange:
    """The change that puts back what ``change`` replaced (or removes the file it created)."""
    if change.before is None:
        return FileChange(
            change.path, change.real_path, change.steps, change.after, b"", change.mode, None, None,
            before_mode=change.mode, delete=True, folders=change.folders, shown_before=change.shown_after,
        )  # fmt: skip
    # The replacement got the original's owner and group unless the step named others.
    kept_owner = change.owner is None and change.group is None
    # The replacement was given the original's attributes: the original gets them back, and so does the
    # copy of the replacement made before it goes.
    return FileChange(
        change.path, change.real_path, change.steps, change.after, change.before,
        mode=change.before_mode if change.before_mode is not None else change.mode,
        uid=change.uid, gid=change.gid, before_mode=change.mode,
        before_uid=change.uid if kept_owner else None, before_gid=change.gid if kept_owner else None,
        xattrs=change.before_xattrs, before_xattrs=change.xattrs,
        shown_before=change.shown_after, shown_after=change.shown_before,
    )  # fmt: skip


def rollback_host_plan(
    host: Host | None,
    record: HostRecord,
    files: Sequence[FileRecord],
    observed: Observed | None,
    force: bool,
    inventory: str,
) -> HostPlan:
    """Puts back every file the run changed on one host, refusing files changed since (unless ``force``)."""
    if host is None:
        return HostPlan(
            Host(record.host, record.address), failure=Status.FAILED, error=f"not in the inventory {inventory}"
        )
    if isinstance(observed, HostFailure):
        return HostPlan(host, failure=observed.status, error=observed.error)
    assert observed is not None
    changes: list[FileChange] = []
    noops: list[NoChange] = []
    conflicts: list[str] = []
    for record_file in files:
        current = observed[record_file.path]
        change, problem = _restore(record_file, current, force)
        if problem:
            conflicts.append(problem)
        elif change is None:
            noops.append(NoChange(record_file.path, "rollback", "already as before the run"))
        else:
            changes.append(change)
    if conflicts:
        return HostPlan(host, failure=Status.CONFLICT, error="\n".join(conflicts), handlers=record.handlers)
    # Handlers rerun only where something is put back; the probes run either way, to report health. One
    # that held a secret is kept masked by the journal and cannot be run again from it: it is left out,
    # and the plan says so.
    handlers = tuple(h for h in record.handlers if MASK not in h) if changes else ()
    noops += [
        NoChange("", "rollback", f"handler `{h}` held a secret and is not rerun: run it by hand")
        for h in (record.handlers if changes else ())
        if MASK in h
    ]
    probes = tuple(p for p in record.probes if MASK not in repr(p))
    noops += unkept_xattrs_notes(host, changes)
    sweep = tuple(sorted({posixpath.dirname(observed[f.path].real_path or f.real_path) for f in files}))
    return HostPlan(host, tuple(changes), tuple(noops), handlers=handlers, probes=probes, sweep=sweep)


def _restore(record: FileRecord, current: RemoteFile, force: bool) -> tuple[FileChange | None, str]:
    now = current.content if current.kind == FileKind.FILE else None
    now_sha = None if now is None else sha256_hex(now)
    if now_sha == record.sha256_before:
        return None, ""  # already as before (a created file: already absent)
    if current.kind not in (FileKind.FILE, FileKind.MISSING):
        return None, f"{record.path}: is no longer a regular file ({current.kind}); left alone"
    if now_sha != record.sha256_after and not force:
        return None, _conflict(record, now)
    # The host's real bytes may hold secrets the rollback does not know (the playbook's): they are shown as
    # the journal's masked copy of what the run wrote when the host still holds exactly that, else masked
    # where that copy is. They stay the diff's true side: a line the journal keeps masked in both copies
    # (a rotated password) still differs from the original's masked form, so it shows as a masked -/+ pair
    # (whether or not its secret changes: the journal cannot tell), never as a line left as it was.
    if now_sha == record.sha256_after:
        shown: bytes | None = record.written
    else:
        shown = None if now is None else shown_version(now, [record.written])
    if record.original is None:  # the run created it: undoing means removing it
        assert now is not None  # an absent file matched sha256_before (None) above
        change = FileChange(
            record.path, current.real_path or record.path, ("rollback",), now, b"", current.mode, None, None,
            before_mode=current.mode, delete=True, folders=record.folders, shown_before=shown,
        )  # fmt: skip
        return change, ""
    change = FileChange(
        record.path, current.real_path or record.real_path, ("rollback",), now, record.original,
        mode=record.mode_before if record.mode_before is not None else record.mode_after,
        uid=record.uid, gid=record.gid, before_mode=current.mode if now is not None else None,
        before_uid=current.uid if now is not None else None, before_gid=current.gid if now is not None else None,
        # The journal keeps an original that held a secret masked: its true bytes come from the host's
        # backup, checked against the sha256 the journal recorded before the run.
        source=record.backup_path if record.original_masked else None,
        source_sha256=record.sha256_before if record.original_masked else None,
        shown_before=shown,
        # The original's attributes as the journal kept them; where it does not know them (a run made
        # before they were kept, or on a host without getfattr), the file's own, which the run gave it
        # from the original.
        xattrs=record.xattrs if record.xattrs is not None else current.xattrs,
        before_xattrs=current.xattrs if now is not None else (),
    )  # fmt: skip
    return change, ""


def _conflict(record: FileRecord, now: bytes | None) -> str:
    """What changed on the host since the run wrote the file, as a diff from the run's bytes to today's."""
    if now is None:
        return f"{record.path}: removed since the run; left alone (--force restores it)"
    # The journal's copy is masked where a secret is rendered (and by value); what the host holds now is
    # masked where that copy is, as neither the playbook nor its secrets are at hand. Diffed as shown: a
    # masked line cannot tell whether its secret changed since.
    shown_now = shown_version(now, [record.written]) or now
    since = FileChange(record.path, record.real_path, (), record.written, shown_now, record.mode_after, None, None)
    diff = file_diff(since).replace(f"a{record.path}", f"{record.path} (as the run wrote it)")
    diff = diff.replace(f"b{record.path}", f"{record.path} (now)")
    return f"{record.path}: changed since the run; left alone (--force overwrites it):\n{diff.rstrip()}"


def files_by_host(files: Sequence[FileRecord]) -> Mapping[str, list[FileRecord]]:
    grouped: dict[str, list[FileRecord]] = {}
    for record in files:
        grouped.setdefault(record.host, []).append(record)
    return grouped
