"""What an inventory resolves to, for ``remediate inventory``: ``--list`` JSON and ``--graph`` text shaped
as ansible-core 2.19's ``ansible-inventory`` shapes them (so tools reading those read these), and one
host's connection and variables with where each came from. Pure; secrets masked."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from remediate.model import Host, Inventory, InventoryLayout
from remediate.plan.masking import Masker

SETTINGS = ("address", "port", "user", "identity_file", "known_hosts", "become")
# What a setting is when nothing set it (the Host model's defaults, and where paramiko looks for keys).
DEFAULT_SOURCES = {
    "address": "the inventory name",
    "port": "default",
    "user": "default",
    "identity_file": "none: ssh-agent and ~/.ssh keys",
    "known_hosts": "default",
    "become": "default",
}


@dataclass(frozen=True)
class Reach:
    """How one host will be reached: after ssh_config, with its ProxyJump hops, and what set each setting."""

    host: Host
    jumps: tuple[Host, ...]
    sources: Mapping[str, str]  # setting -> what set it; a setting left at its default is absent


def inventory_list(inventory: Inventory, reaches: Mapping[str, Reach], with_sources: bool) -> dict[str, Any]:
    """``ansible-inventory --list``'s document: every group reachable from ``all`` with its ``hosts`` and
    ``children`` (empty keys and empty groups left out, as there), and ``_meta.hostvars``. remediate's own
    additions are under ``_meta.remediate``: each host's connection, and with ``with_sources`` where each
    variable and setting came from."""
    layout = _layout(inventory)
    document: dict[str, Any] = {}
    for name in _groups_from_all(layout):
        entry: dict[str, Any] = {}
        if name != "all" and layout.hosts.get(name):
            entry["hosts"] = list(layout.hosts[name])
        if layout.children.get(name):
            entry["children"] = list(layout.children[name])
        if entry:
            document[name] = entry
    meta: dict[str, Any] = {
        "hostvars": {host: dict(variables) for host, variables in layout.variables.items() if variables},
        "remediate": {"hosts": {name: _connection(reach) for name, reach in reaches.items()}},
    }
    if with_sources:
        meta["remediate"]["sources"] = {
            name: {"vars": dict(layout.sources[name]), "connection": dict(reach.sources)}
            for name, reach in reaches.items()
        }
    document["_meta"] = meta
    masked: dict[str, Any] = Masker(inventory.secrets).document(document)
    return masked


def inventory_graph(inventory: Inventory) -> str:
    """``ansible-inventory --graph``: ``@group:`` lines, child groups before hosts, ``  |`` per level."""
    layout = _layout(inventory)
    lines: list[str] = []

    def walk(group: str, depth: int) -> None:
        lines.append(_graph_line(f"@{group}:", depth))
        for child in layout.children.get(group, ()):
            walk(child, depth + 1)
        if group != "all":
            lines.extend(_graph_line(host, depth + 1) for host in layout.hosts.get(group, ()))

    walk("all", 0)
    return Masker(inventory.secrets).text("\n".join(lines) + "\n")


def host_report(inventory: Inventory, reach: Reach) -> str:
    """One host: its groups, how it will be reached (each setting with what set it), then each variable
    with the file and place that set it; values as JSON, so a string and a number read apart."""
    layout = _layout(inventory)
    host = reach.host
    values = _connection(reach)
    rows = [
        (setting, json.dumps(values[setting]), reach.sources.get(setting, DEFAULT_SOURCES[setting]))
        for setting in SETTINGS
    ]
    if reach.jumps:
        hops = ", ".join(f"{hop.user}@{hop.address}:{hop.port}" for hop in reach.jumps)
        rows.append(("proxy_jump", hops, "ssh_config"))
    lines = [f"{host.name}", f"  groups: {', '.join(host.groups) or '(ungrouped)'}", "connection:"]
    lines.extend(_aligned(rows))
    variables = layout.variables.get(host.name, {})
    lines.append("vars:" if variables else "vars: (none)")
    lines.extend(
        _aligned(
            [
                (key, json.dumps(value, default=str), layout.sources[host.name][key])
                for key, value in sorted(variables.items())
            ]
        )
    )
    return Masker(inventory.secrets).text("\n".join(lines) + "\n")


def _layout(inventory: Inventory) -> InventoryLayout:
    if inventory.layout is None:  # every loader sets it; a hand-made Inventory (a test's) may not
        raise ValueError(f"{inventory.path}: inventory has no layout")
    return inventory.layout


def _groups_from_all(layout: InventoryLayout) -> list[str]:
    """Every group below ``all``, depth first in the order they are listed, each once (as Ansible's)."""
    seen: list[str] = []
    pending = ["all"]
    while pending:
        name = pending.pop(0)
        if name not in seen:
            seen.append(name)
            pending[:0] = list(layout.children.get(name, ()))
    return seen


def _connection(reach: Reach) -> dict[str, Any]:
    host = reach.host
    connection: dict[str, Any] = {
        "address": host.address,
        "port": host.port,
        "user": host.user,
        "identity_file": host.identity_file,
        "known_hosts": host.known_hosts,
        "become": host.become,
    }
    if reach.jumps:
        connection["proxy_jump"] = [{"address": h.address, "port": h.port, "user": h.user} for h in reach.jumps]
    return connection


def _graph_line(name: str, depth: int) -> str:
    return "  |" * depth + "--" + name if depth else name


def _aligned(rows: list[tuple[str, str, str]]) -> list[str]:
    if not rows:
        return []
    width = max(len(key) + len(value) for key, value, _ in rows) + 2
    return [f"  {f'{key}: {value}'.ljust(width)}  {source}" for key, value, source in rows]
