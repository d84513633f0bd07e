"""A plan as a file a colleague can review (``remediate plan -o``) and apply exactly (``apply --plan``). Pure.

The file is JSON: for every host its connection, every file's bytes before and after (base64) with their
sha256, mode and owner, the handlers and the probes, and a readable diff. Applying it writes exactly
these bytes; a host where a file no longer has the sha256 the plan was made from is a ``conflict``.
"""

from __future__ import annotations

import base64
import dataclasses
import posixpath
from collections.abc import Mapping
from typing import Any

from remediate.errors import UserError
from remediate.model import (
    FileChange,
    Host,
    HostPlan,
    NoChange,
    Plan,
    Status,
    path_components,
    xattrs_from_json,
    xattrs_to_json,
)
from remediate.plan.diff import file_diff
from remediate.plan.masking import Masker
from remediate.probes.codec import probe_from_json, probe_to_json

FORMAT = "remediate-plan/1"


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text, validate=True)


def plan_document(
    plan: Plan, playbook_path: str, playbook_sha256: str, created: float, user: str, masker: Masker
) -> dict[str, Any]:
    """The plan file's document. It lists the run's secret values: its contents and handlers hold them
    anyway (the file is private, like the journal), and with them ``show-plan`` and ``apply --plan``
    mask what they print and journal without the playbook's environment."""
    return {
        "format": FORMAT,
        "plan_id": plan.run_id,
        "created": created,
        "user": user,
        "playbook": plan.playbook,
        "playbook_path": playbook_path,
        "playbook_sha256": playbook_sha256,
        "inventory": plan.inventory,
        "secrets": sorted(masker.values),
        "hosts": [host_plan_document(hp, masker) for hp in plan.hosts],
    }


def plan_masker(header: Mapping[str, Any]) -> Masker:
    """What masks a plan file's secrets, from its header (a plan made before it listed them: nothing)."""
    return Masker(str(secret) for secret in header.get("secrets") or ())


def host_plan_document(host_plan: HostPlan, masker: Masker) -> dict[str, Any]:
    """One host's plan as the file holds it; a sharded run's queue in the journal keeps the same."""
    host = host_plan.host
    return {
        "host": {f.name: getattr(host, f.name) for f in dataclasses.fields(host) if f.name != "vars"}
        | {"groups": list(host.groups), "explicit": sorted(host.explicit)},
        "status": host_plan.status.value,
        "error": host_plan.error,
        "handlers": list(host_plan.handlers),
        "probes": [probe_to_json(p) for p in host_plan.probes],
        "noops": [{"path": n.path, "step": n.step, "reason": n.reason} for n in host_plan.noops],
        "changes": [
            {
                "path": c.path,
                "real_path": c.real_path,
                "steps": list(c.steps),
                "sha256_before": c.before_sha256,
                "sha256_after": c.after_sha256,
                "before": _b64(c.before),
                "after": _b64(c.after),
                "mode": c.mode,
                "before_mode": c.before_mode,
                "uid": c.uid,
                "gid": c.gid,
                "before_uid": c.before_uid,
                "before_gid": c.before_gid,
                "owner": c.owner,
                "group": c.group,
                "validators": list(c.validators),
                "xattrs": xattrs_to_json(c.xattrs),
                "before_xattrs": xattrs_to_json(c.before_xattrs),
                "folders": list(c.folders),
                # The lines a secret is rendered into, masked (None: shown as they are).
                "shown_before": _b64(c.shown_before),
                "shown_after": _b64(c.shown_after),
                "diff": masker.text(file_diff(c)),
            }
            for c in host_plan.changes
        ],
    }


def plan_from_document(document: Any, where: str) -> tuple[Plan, Mapping[str, Any]]:
    """The plan and its header; anything malformed, or a sha256 that does not match its bytes, is refused."""
    try:
        if document.get("format") != FORMAT:
            raise UserError(f"{where}: not a remediate plan (format {document.get('format')!r}, expected {FORMAT})")
        hosts = tuple(host_plan_from_document(h, where) for h in document["hosts"])
        plan = Plan(str(document["plan_id"]), str(document["playbook"]), str(document["inventory"]), hosts)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise UserError(f"{where}: malformed plan file: {type(e).__name__}: {e}") from None
    return plan, {k: v for k, v in document.items() if k != "hosts"}


def host_plan_from_document(data: Mapping[str, Any], where: str) -> HostPlan:
    """``host_plan_document``'s host plan again."""
    fields = dict(data["host"])
    fields["groups"] = tuple(fields.get("groups", ()))
    fields["explicit"] = frozenset(fields.get("explicit", ()))
    host = Host(**fields)
    changes = tuple(_change(c, f"{where}: host {host.name}") for c in data["changes"])
    status = Status(data["status"])
    failure = status if status not in (Status.CHANGED, Status.UNCHANGED) else None
    return HostPlan(
        host,
        changes,
        tuple(NoChange(n["path"], n["step"], n["reason"]) for n in data["noops"]),
        failure,
        data["error"],
        tuple(data["handlers"]),
        tuple(probe_from_json(p) for p in data["probes"]),
    )


def _change(data: Mapping[str, Any], where: str) -> FileChange:
    before = None if data["before"] is None else base64.b64decode(data["before"], validate=True)
    change = FileChange(
        data["path"], data["real_path"], tuple(data["steps"]), before, base64.b64decode(data["after"], validate=True),
        data["mode"], data["uid"], data["gid"], data["owner"], data["group"], data["before_mode"],
        tuple(data["validators"]), before_uid=data.get("before_uid"), before_gid=data.get("before_gid"),
        # A plan file made before attributes were kept does not know them (None): none are set, as then.
        xattrs=xattrs_from_json(data.get("xattrs")), before_xattrs=xattrs_from_json(data.get("before_xattrs")),
        shown_before=_unb64(data.get("shown_before")), shown_after=_unb64(data.get("shown_after")),
        folders=tuple(data.get("folders", ())),
    )  # fmt: skip
    ancestors = path_components(posixpath.dirname(change.real_path))
    if not all(isinstance(folder, str) and folder in ancestors for folder in change.folders):
        raise UserError(f"{where}: {change.path}: a folder to make is not one of its path: the plan file was altered")
    if (change.before_sha256, change.after_sha256) != (data["sha256_before"], data["sha256_after"]):
        raise UserError(f"{where}: {change.path}: the content does not match its sha256: the plan file was altered")
    return change
