"""Resuming a run: which of its hosts it never started, and whether the plan a host gets now is exactly
the one that run recorded for it. Pure.

A resume re-reads each host and plans it again, then holds the new plan to the recorded one file by file
(sha256 before and after, mode, owner): the journal keeps a file that holds a secret masked, so the bytes
themselves come from the playbook again, and the checksums prove they are the same bytes. A host that
changed since (someone edited the file) is a ``conflict`` and is not written; a plan that renders other
bytes from the same files (a variable or a secret given otherwise) refuses the whole resume, before
anything is written: it would not be the run's plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from remediate.errors import UserError
from remediate.model import FileChange, FileRecord, HostPlan, HostRecord, Status


@dataclass(frozen=True)
class Unfinished:
    """What a run left undone: the hosts to resume, and those whose outcome nobody saw (left to a human)."""

    hosts: tuple[str, ...]  # never started (planned, skipped, interrupted), in the run's order
    unknown: tuple[tuple[str, str], ...]  # (host, its status): being written when the run ended


# Rows of hosts the run began to write and never saw finish: the host's own script puts the originals
# back when the controller goes, but whether it could is not known here.
_OUTCOME_UNKNOWN = frozenset({"writing", Status.UNKNOWN.value})


def unfinished(hosts: Sequence[HostRecord]) -> Unfinished:
    return Unfinished(
        tuple(h.host for h in hosts if h.never_started),
        tuple((h.host, h.status) for h in hosts if h.status in _OUTCOME_UNKNOWN),
    )


def pinned(plan: HostPlan, recorded: Sequence[FileRecord], run_id: str) -> HostPlan:
    """``plan``, made now, when it is the plan run ``run_id`` recorded for the host; else a conflict that
    says what changed on the host, and nothing is written to it. Other bytes from the same original are
    a UserError."""
    if plan.failure is not None:
        return plan
    now = {change.path: change for change in plan.changes}
    problems = [_difference(now.get(record.path), record, run_id) for record in recorded]
    problems += [
        f"{path}: run {run_id} planned no change to it, and it needs one now: the host changed since"
        for path in now.keys() - {record.path for record in recorded}
    ]
    problems = [problem for problem in problems if problem]
    if problems:
        return HostPlan(plan.host, failure=Status.CONFLICT, error="; ".join(sorted(problems)))
    return plan


def _difference(change: FileChange | None, record: FileRecord, run_id: str) -> str:
    if change is None:
        return f"{record.path}: needs no change now, but run {run_id} planned one: the host changed since"
    if change.before_sha256 != record.sha256_before:
        return (
            f"{record.path}: changed on the host since run {run_id} planned it"
            f" (sha256 {_short(record.sha256_before)} then, {_short(change.before_sha256)} now)"
        )
    if (change.after_sha256, change.mode, change.uid, change.gid) != (
        record.sha256_after, record.mode_after, record.uid, record.gid,
    ):  # fmt: skip
        raise UserError(
            f"{record.host}: {record.path}: the playbook now makes other content, mode or owner than run {run_id}"
            " planned (were its variables or secrets given otherwise?); nothing was written"
        )
    return ""


def _short(sha256: str | None) -> str:
    return "none (absent)" if sha256 is None else sha256[:12]
