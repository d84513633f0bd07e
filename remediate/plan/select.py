"""Choosing hosts: ``--limit`` and a playbook's ``hosts:`` as names, groups and globs over an inventory. Pure."""

from __future__ import annotations

import fnmatch

from remediate.errors import UserError
from remediate.model import Host, Inventory
from remediate.yamlnode import display_path


def select_hosts(inventory: Inventory, patterns: str, what: str) -> tuple[Host, ...]:
    """Hosts named by comma-separated host names, group names or shell-style globs, in inventory order.

    Every item must match at least one host: a typo in ``--limit`` must not silently shrink a rollout.
    """
    chosen: set[str] = set()
    for raw in patterns.split(","):
        item = raw.strip()
        if not item:
            continue
        matched = _match(inventory, item)
        if not matched:
            raise UserError(f"{what}: '{item}' matches no host or group in {display_path(inventory.path)}")
        chosen.update(matched)
    if not chosen:
        raise UserError(f"{what}: '{patterns}' names no host")
    return tuple(h for h in inventory.hosts if h.name in chosen)


def _match(inventory: Inventory, item: str) -> set[str]:
    names = [h.name for h in inventory.hosts]
    if item == "all":
        return set(names)
    if item in inventory.groups:
        return set(inventory.groups[item])
    matched = {n for n in names if fnmatch.fnmatchcase(n, item)}
    for group, members in inventory.groups.items():
        if fnmatch.fnmatchcase(group, item):
            matched.update(members)
    return matched
