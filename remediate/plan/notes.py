"""The plan's notes on what a host cannot keep (extended attributes it could not read). Pure."""

from __future__ import annotations

from collections.abc import Sequence

from remediate.model import FileChange, Host, NoChange


def unkept_xattrs_notes(host: Host, changes: Sequence[FileChange]) -> list[NoChange]:
    """A note on the host for each file it replaces whose extended attributes and ACL it could not read:
    the replacement will not have them, and the plan says so rather than losing them silently."""
    return [
        NoChange("", change.steps[0] if change.steps else "", _unkept(host, change.path))
        for change in changes
        if not change.delete and (change.xattrs is None or change.before_xattrs is None)
    ]


def _unkept(host: Host, path: str) -> str:
    return f"getfattr not found on {host.name}: extended attributes and ACLs of {path} cannot be kept"
