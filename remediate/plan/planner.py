"""Pure planning: (host, rendered steps, observed files) -> HostPlan. No I/O here, by design and by test.

Steps of one host run in order over an in-memory copy of each file, so a second step on the same file
sees the first step's output; each file ends up as one ``FileChange`` holding its bytes before and after.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Mapping, Sequence
from typing import Any

from remediate.actions.base import DEFAULT_NEW_FILE_MODE, HostPlanError, WorkingFile
from remediate.actions.registry import type_of
from remediate.errors import UserError
from remediate.model import (
    FileChange,
    FileKind,
    Host,
    HostFailure,
    HostPlan,
    HostTarget,
    Inventory,
    NoChange,
    Observed,
    Plan,
    Playbook,
    RemoteFile,
    Status,
    Step,
)
from remediate.plan.masking import Masker
from remediate.plan.notes import unkept_xattrs_notes
from remediate.plan.render import render_host
from remediate.plan.secret_lines import shown_lines, shown_version
from remediate.plan.select import select_hosts
from remediate.yamlnode import display_path


def plan_host(
    playbook: Playbook,
    host: Host,
    steps: tuple[Step, ...],
    observed: Mapping[str, RemoteFile],
    secrets: frozenset[str] = frozenset(),
) -> HostPlan:
    files: dict[str, WorkingFile] = {}
    noops: list[NoChange] = []
    try:
        for step in steps:
            remote = observed[step.target]
            # By the file the bytes live in: two steps reaching one file through a symlink and its target
            # chain like two steps on one path, instead of two diffs of the same bytes.
            real = remote.real_path or remote.path
            working = files.get(real)
            if working is None:
                working = files[real] = _open(step, remote)
            reason = type_of(step.action).apply(step.action, working, step, playbook, host)
            if reason:
                noops.append(NoChange(step.target, step.name, reason))
            else:
                working.steps.append(step)
    except HostPlanError as e:
        return HostPlan(host, failure=Status.FAILED, error=str(e))
    masker = Masker(secrets)
    changed = [(working, change) for working in files.values() if (change := _change(working, masker)) is not None]
    changed_steps = sorted(
        {s.index: s for working, _ in changed for s in working.steps}.values(), key=lambda s: s.index
    )
    handlers = tuple(dict.fromkeys(s.on_change for s in changed_steps if s.on_change))
    changes = tuple(c for _, c in changed)
    noops += unkept_xattrs_notes(host, changes)
    return HostPlan(host, changes=changes, noops=tuple(noops), handlers=handlers)


def _open(step: Step, remote: RemoteFile) -> WorkingFile:
    """The working copy of a step's target. What a missing target starts as is the step type's; every
    other check is the same for every step type: a file the tool must not edit fails the host."""
    where = f"{step.key_path} ({step.name}): {step.target}"
    if remote.kind == FileKind.MISSING:
        # Creating it would fail at apply, after other hosts were written: say so in the dry-run.
        if remote.not_a_folder:
            raise HostPlanError(f"{where}: cannot create it: {remote.not_a_folder} is not a folder")
        if remote.missing_folders and not step.parents:
            raise HostPlanError(
                f"{where}: cannot create it: its folder {posixpath.dirname(step.target)} does not exist"
                " (parents: true makes it)"
            )
        return WorkingFile(remote, type_of(step.action).missing_text(step.action, where), DEFAULT_NEW_FILE_MODE)
    if remote.kind != FileKind.FILE:
        detail = f" ({remote.error})" if remote.error else ""
        raise HostPlanError(f"{where}: refusing to edit: {_kind_description(remote.kind)}{detail}")
    if remote.content is None:
        raise HostPlanError(f"{where}: refusing to edit: {remote.error or 'content could not be read'}")
    if b"\0" in remote.content:
        raise HostPlanError(f"{where}: refusing to edit a binary file (it holds NUL bytes)")
    try:
        text = remote.content.decode("utf-8")
    except UnicodeDecodeError as e:
        raise HostPlanError(f"{where}: refusing to edit: not valid UTF-8 (byte {e.start})") from None
    return WorkingFile(remote, text, remote.mode, remote.owner, remote.group)


def _kind_description(kind: FileKind) -> str:
    return {
        FileKind.DIRECTORY: "it is a directory",
        FileKind.OTHER: "it is not a regular file (device, fifo or socket)",
        FileKind.DANGLING: "it is a symlink to a file that does not exist",
        FileKind.UNREADABLE: "it cannot be read",
    }.get(kind, str(kind))


def _change(working: WorkingFile, masker: Masker) -> FileChange | None:
    remote = working.remote
    if not working.steps or working.text is None:
        return None
    after = working.text.encode("utf-8")
    exists = remote.kind == FileKind.FILE
    if exists and (after, working.mode, working.owner, working.group) == (
        remote.content, remote.mode, remote.owner, remote.group,
    ):  # fmt: skip
        return None  # steps that undo each other leave nothing to write
    before = remote.content if exists else None
    shown_before, shown_after = _shown(before, working.text, working.secret_lines, masker)
    return FileChange(
        path=remote.path,
        real_path=remote.real_path or remote.path,
        steps=tuple(s.name for s in working.steps),
        before=remote.content if exists else None,
        after=after,
        mode=working.mode,
        uid=remote.uid if exists else None,
        gid=remote.gid if exists else None,
        owner=working.owner if working.owner != (remote.owner if exists else None) else None,
        group=working.group if working.group != (remote.group if exists else None) else None,
        before_mode=remote.mode if exists else None,
        validators=tuple(dict.fromkeys(s.validate for s in working.steps if s.validate)),
        before_uid=remote.uid if exists else None,
        before_gid=remote.gid if exists else None,
        # The replacement keeps the original's attributes; a new file has none of its own to keep.
        xattrs=remote.xattrs if exists else (),
        before_xattrs=remote.xattrs if exists else (),
        folders=remote.missing_folders,
        shown_before=shown_before,
        shown_after=shown_after,
    )


def _shown(
    before: bytes | None, after: str, secret_lines: Mapping[str, str], masker: Masker
) -> tuple[bytes | None, bytes | None]:
    """The original and the new text as shown, where some lines hold a secret (None: as they are)."""
    if not secret_lines and not masker:
        return None, None  # no secret anywhere: line by line, every line would come out as it is
    lines = after.split("\n")
    shown = shown_lines(lines, secret_lines, masker)
    if shown == lines:
        return None, None
    shown_after = "\n".join(shown).encode()
    # _open refused an original that is not UTF-8: nothing of it is replaced in decoding.
    shown_before = None if before is None else shown_version(before, [shown_after], masker)
    return shown_before, shown_after


def build_plan(
    run_id: str,
    playbook: Playbook,
    inventory: Inventory,
    targets: Sequence[HostTarget],
    observed: Mapping[str, Observed],
) -> Plan:
    hosts = tuple(plan_target(playbook, target, observed[target.host.name]) for target in targets)
    return Plan(run_id, playbook.name, str(inventory.path), hosts)


def plan_target(playbook: Playbook, target: HostTarget, seen: Observed) -> HostPlan:
    """One host's plan from what was read on it (or why it could not be read)."""
    if isinstance(seen, HostFailure):
        return HostPlan(target.host, failure=seen.status, error=seen.error, probes=target.probes)
    planned = plan_host(playbook, target.host, target.steps, seen, target.secrets)
    return dataclasses.replace(planned, probes=target.probes)


def render_targets(
    playbook: Playbook,
    inventory: Inventory,
    limit: str | None,
    cli_vars: Mapping[str, Any],
    secrets: frozenset[str] = frozenset(),
) -> tuple[HostTarget, ...]:
    """The playbook's hosts (narrowed by ``--limit``), each with its steps rendered. Bad input raises here,
    before any host is contacted."""
    hosts = select_hosts(inventory, playbook.hosts, f"{display_path(playbook.path)}: hosts")
    if limit:
        limited = {h.name for h in select_hosts(inventory, limit, "--limit")}
        hosts = tuple(h for h in hosts if h.name in limited)
        if not hosts:
            raise UserError(f"--limit '{limit}' leaves none of the playbook's hosts ({playbook.hosts})")
    return tuple(render_host(playbook, host, cli_vars, secrets) for host in hosts)
