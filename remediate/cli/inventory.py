"""``remediate inventory -i INV --list | --graph | --host NAME``: what an inventory resolves to (hosts,
groups, variables and their sources, the address, port and user that will be used), without connecting."""

from __future__ import annotations

import argparse
import json

from remediate.errors import EXIT_OK, UserError
from remediate.fleet.sshconfig import read_ssh_config, resolve, ssh_config_path
from remediate.load.inventory import load_inventory
from remediate.model import Inventory
from remediate.report.inventory import SETTINGS, Reach, host_report, inventory_graph, inventory_list


def cmd_inventory(args: argparse.Namespace) -> int:
    inventory = load_inventory(args.inventory)
    if args.graph:
        print(inventory_graph(inventory), end="")
        return EXIT_OK
    reaches = _reaches(inventory, args.ssh_config)
    if args.host is not None:
        if args.host not in reaches:
            raise UserError(f"--host: no host '{args.host}' in {args.inventory}")
        print(host_report(inventory, reaches[args.host]), end="")
        return EXIT_OK
    print(json.dumps(inventory_list(inventory, reaches, args.sources), indent=2, default=str))
    return EXIT_OK


def _reaches(inventory: Inventory, ssh_config_option: str | None) -> dict[str, Reach]:
    """Each host as a run would reach it: ssh_config (as a run reads it) fills what the inventory left unset."""
    layout_sources = inventory.layout.connection_sources if inventory.layout else {}
    config_path = ssh_config_path(ssh_config_option)
    config = read_ssh_config(config_path) if config_path else None
    reaches = {}
    for host in inventory.hosts:
        sources = dict(layout_sources.get(host.name, {}))
        resolved, jumps = resolve(host, config) if config is not None else (host, ())
        for setting in SETTINGS:
            if getattr(resolved, setting) != getattr(host, setting):
                sources[setting] = f"ssh_config ({config_path})"
        reaches[host.name] = Reach(resolved, jumps, sources)
    return reaches
