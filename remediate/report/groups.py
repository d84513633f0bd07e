"""A fleet mostly gets one change: hosts whose changes are byte-identical are shown once, as a group
named by a compact host list (``web[01-46], db1``). Pure.

No tool of this field groups diffs across hosts (Ansible closed the request as "write a callback",
ansible/ansible#56773); an operator reading 50 copies of one 12-line diff misses the one host that
differs, which is the one that matters.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from remediate.model import FileChange, HostPlan
from remediate.plan.diff import file_diff
from remediate.plan.masking import Masker

T = TypeVar("T")
_NUMBERED = re.compile(r"^(.*?)(\d+)(\D*)$")


@dataclass(frozen=True)
class HostGroup:
    """Hosts shown as one: the same changes (or the same reason for none), in plan order."""

    plans: tuple[HostPlan, ...]
    digest: str  # of what the hosts share, as shown: the JSON's key for the group

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.host.name for p in self.plans)


def group_by(items: Iterable[T], key: Callable[[T], Hashable]) -> list[tuple[T, ...]]:
    """Items with equal keys together, the largest group first (ties: the group seen first first)."""
    groups: dict[Hashable, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    ordered = sorted(enumerate(groups.values()), key=lambda pair: (-len(pair[1]), pair[0]))
    return [tuple(group) for _, group in ordered]


def change_groups(plans: Sequence[HostPlan], masker: Masker) -> list[HostGroup]:
    """The hosts with changes, grouped by exactly what they will be shown: each file's masked diff, in
    order, and the host's notes. A host that differs from the rest is a group of its own."""
    with_changes = [p for p in plans if p.failure is None and p.changes]
    groups = group_by(with_changes, lambda p: shown_changes(p, masker))
    return [HostGroup(group, digest(shown_changes(group[0], masker))) for group in groups]


def shown_changes(plan: HostPlan, masker: Masker) -> tuple[str, ...]:
    """What a host's changes look like on screen: the paths and diffs, then its notes."""
    return shown_diffs(plan.changes, masker) + tuple(masker.text(n.reason) for n in plan.noops if not n.path)


def shown_diffs(changes: Sequence[FileChange], masker: Masker) -> tuple[str, ...]:
    return tuple(f"{c.path}\n{masker.text(file_diff(c))}" for c in changes)


def digest(shown: tuple[str, ...]) -> str:
    """A short name for what a group shows (16 hex digits of its sha256), the same on every run."""
    return hashlib.sha256("\0".join(shown).encode("utf-8", errors="surrogateescape")).hexdigest()[:16]


def hosts_title(names: Sequence[str], address: str) -> str:
    """How a block names its hosts: one as ``web1 (127.0.1.1)``, several as ``web[1-46] (46 hosts)``."""
    return f"{names[0]} ({address})" if len(names) == 1 else f"{compact_hosts(names)} ({len(names)} hosts)"


def compact_hosts(names: Sequence[str]) -> str:
    """Host names as a short list: runs of numbered names become ranges (``web[01-46]``), the rest stay
    as they are; in the order the names first appear."""
    families: dict[tuple[str, str, int], list[tuple[int, str]]] = {}
    order: list[tuple[str, str, int] | str] = []
    padded = {(m[1], m[3], len(m[2])) for name in names if (m := _NUMBERED.match(name)) and m[2].startswith("0")}
    for name in dict.fromkeys(names):
        match = _NUMBERED.match(name)
        if match is None:
            order.append(name)
            continue
        prefix, digits, suffix = match.groups()
        # Zero-padded numbers keep their width (web01..web46); others join across widths (web9, web10).
        width = len(digits) if (prefix, suffix, len(digits)) in padded else 0
        family = (prefix, suffix, width)
        if family not in families:
            families[family] = []
            order.append(family)
        families[family].append((int(digits), name))
    parts: list[str] = []
    for entry in order:
        if isinstance(entry, str):
            parts.append(entry)
            continue
        prefix, suffix, width = entry
        for low, high, only in _runs(sorted(families[entry])):
            if low == high:
                parts.append(only)
            else:
                parts.append(f"{prefix}[{low:0{width}d}-{high:0{width}d}]{suffix}")
    return ", ".join(parts)


def _runs(numbered: Sequence[tuple[int, str]]) -> list[tuple[int, int, str]]:
    """Consecutive numbers as (low, high, the name when it is one)."""
    runs: list[tuple[int, int, str]] = []
    for number, name in numbered:
        if runs and number == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], number, "")
        elif not runs or number != runs[-1][1]:
            runs.append((number, number, name))
    return runs
