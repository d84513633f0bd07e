"""Choosing hosts: ``--limit`` and a playbook's ``hosts:`` as names, groups and globs over an inventory. Pure."""

from __future__ import annotations

import fnmatch

from remediate.errors import UserError
from remediate.model import Host, Inventory
from remediate.yamlnode import display_path


def select_hosts(inventory: Inventory, patterns: str, what: str) -> tuple[Host, ...]:
    """Hosts named by comma-separated host names, group names or shell-style globs, in inventory order.
    An item that starts with ``!`` takes its matches out (as in Ansible: ``web*,!web7``); items of only
    that kind take them out of every host, so that a playbook's ``hosts:`` narrowed by ``--limit '!web7'``
    is its hosts but web7.

    Every item must match at least one host: a typo in ``--limit`` must not silently shrink a rollout,
    nor an exclusion silently leave in the host it was meant to keep out.
    """
    chosen: set[str] = set()
    excluded: set[str] = set()
    included = False
    for raw in patterns.split(","):
        item = raw.strip()
        if not item:
            continue
        exclusion = item.startswith("!")
        matched = _match(inventory, item[1:].strip() if exclusion else item)
        if not matched:
            raise UserError(f"{what}: '{item}' matches no host or group in {display_path(inventory.path)}")
        (excluded if exclusion else chosen).update(matched)
        included = included or not exclusion
    if excluded and not included:
        chosen = {h.name for h in inventory.hosts}
    chosen -= excluded
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
