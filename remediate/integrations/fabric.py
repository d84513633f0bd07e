"""remediate as a Fabric task collection, for teams whose fabfile and Fabric settings already know the fleet.

In a fabfile::

    from remediate.integrations.fabric import remediate  # the collection
    ns = Collection(remediate)                            # or add it beside the team's own tasks

then ``fab -H web1,web2 remediate.apply --playbook fix-phpp --dry-run``. Fabric gives the hosts and how to
reach each (``-H``, ``-i``, its ssh_config, ``user``/``port`` in its config); remediate does the rest as
its own command line would: one plan for the whole fleet, the exact diff, confirmation, waves and
thresholds, the journal, verification and rollback.

Fabric calls a task once per host with that host's ``Connection``. A rollout is one decision over all its
hosts (one plan, one confirmation, waves, a failure budget), so each per-host call only collects its
Connection, and the rollout runs once, in the post-task Fabric runs after the last host. The hosts are
written to an inventory in the operator's state folder, which the run's journal names: ``remediate
rollback RUN`` (or ``fab remediate.rollback --run RUN``) works later without Fabric's command line.
SSH itself stays remediate's own transport (the one the benchmark measures), set up from what each
Connection resolved.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from fabric import Connection, task
from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit

from remediate.cli.main import main
from remediate.errors import EXIT_BAD_INPUT
from remediate.journal import state_dir


@dataclass(frozen=True)
class FabricHost:
    """What one Fabric Connection resolved: its name as given to -H, and how remediate reaches it."""

    name: str
    address: str
    port: int
    user: str
    identity_file: str | None


# The Connections the per-host calls of the task running now collected, for its post-task.
_collected: list[FabricHost] = []
_arguments: list[tuple[tuple[str, ...], str | None]] = []  # remediate's argv, the known_hosts file
_rolled_back: set[str] = set()  # runs this fab process rolled back: once, however many hosts -H gave


def fabric_host(connection: Connection) -> FabricHost:
    """The host as remediate reaches it; what remediate's transport cannot do the same way is refused."""
    name = str(connection.original_host)
    if connection.gateway:
        raise Exit(f"remediate: error: {name}: a Fabric gateway (ProxyJump/ProxyCommand) is not supported", 2)
    kwargs = dict(connection.connect_kwargs or {})
    if kwargs.get("password"):
        raise Exit(f"remediate: error: {name}: password logins are not supported: use a key (-i)", 2)
    keys = kwargs.get("key_filename") or []  # Fabric puts ssh_config's IdentityFile here too
    keys = [keys] if isinstance(keys, str) else list(keys)
    if len(keys) > 1:
        raise Exit(f"remediate: error: {name}: {len(keys)} identity files given: remediate takes one per host", 2)
    return FabricHost(name, str(connection.host), int(connection.port), str(connection.user), keys[0] if keys else None)


def write_inventory(hosts: Sequence[FabricHost], known_hosts: str | None, variables: dict[str, str]) -> Path:
    """The hosts as a remediate inventory in the state folder (private: it may name identity files)."""
    folder = state_dir() / "fabric"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{secrets.token_hex(3)}.yml"
    document: dict[str, Any] = {
        "hosts": {
            h.name: {"address": h.address, "port": h.port, "user": h.user}
            | ({"identity_file": h.identity_file} if h.identity_file else {})
            for h in hosts
        },
    }
    if known_hosts:
        document["defaults"] = {"known_hosts": os.path.abspath(os.path.expanduser(known_hosts))}
    if variables:
        document["vars"] = variables
    header = "# Written by remediate's Fabric tasks: the hosts of one `fab` run, for its journal and rollback.\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(header + yaml.safe_dump(document, sort_keys=False))
    return path


def _flags(**options: Any) -> list[str]:
    """Task options as remediate's command-line flags: a True switch, or a value that was given."""
    argv: list[str] = []
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif value not in (None, False, "", []):
            argv += [flag, str(value)]
    return argv


def _settings(c: Context) -> dict[str, Any]:
    """The fabfile's or Fabric config's ``remediate:`` section: known_hosts, vars."""
    section = c.config.get("remediate") or {}
    return dict(section)


def _run_collected(c: Context) -> None:
    """The post-task: the one rollout over every host the per-host calls collected."""
    hosts, arguments = list(_collected), list(_arguments)
    _collected.clear()
    _arguments.clear()
    if not hosts:
        raise Exit("remediate: error: no hosts: give them to fab with -H (or a task's hosts=)", EXIT_BAD_INPUT)
    if len(set(arguments)) != 1:
        raise Exit("remediate: error: every host's call of the task must have the same options", EXIT_BAD_INPUT)
    settings = _settings(c)
    argv, known_hosts = arguments[0]
    known_hosts = known_hosts or settings.get("known_hosts")
    variables = {str(k): str(v) for k, v in (settings.get("vars") or {}).items()}
    inventory = write_inventory(_unique(hosts), known_hosts, variables)
    code = main([*argv, "-i", str(inventory)])
    if code:
        raise Exit(code=code)


def _unique(hosts: Iterable[FabricHost]) -> list[FabricHost]:
    seen: dict[str, FabricHost] = {}
    for host in hosts:
        if seen.setdefault(host.name, host) != host:
            raise Exit(f"remediate: error: {host.name} is given twice, reached two ways", EXIT_BAD_INPUT)
    return list(seen.values())


def _collect(c: Context, argv: list[str], known_hosts: str | None) -> None:
    if not isinstance(c, Connection):
        raise Exit("remediate: error: no hosts: give them to fab with -H (or a task's hosts=)", EXIT_BAD_INPUT)
    _collected.append(fabric_host(c))
    _arguments.append((tuple(argv), known_hosts))


_run_collected_task = task(_run_collected)


@task(  # type: ignore[untyped-decorator]  # Fabric ships no type hints
    post=[_run_collected_task],
    iterable=["var"],
    help={
        "playbook": "playbook name (playbooks/NAME.yml) or path",
        "dry_run": "show the diff per host and file; change nothing",
        "yes": "do it without asking for confirmation",
        "var": "set a variable NAME=VALUE (repeatable)",
        "known_hosts": "the known_hosts file that vouches for the hosts (default ~/.ssh/known_hosts)",
        "canary": "apply to the first N hosts first, verify them, then go on",
        "batch": "waves after the canary, e.g. 10%,50%,100%",
        "max_fail": "halt once more hosts than this failed (default 0)",
        "forks": "hosts worked on at once (default 50)",
        "json": "print one JSON document on stdout",
    },
)
def apply(
    c: Context,
    playbook: str,
    dry_run: bool = False,
    yes: bool = False,
    var: list[str] | None = None,
    known_hosts: str | None = None,
    canary: int | None = None,
    batch: str | None = None,
    max_fail: str | None = None,
    forks: int | None = None,
    json: bool = False,
) -> None:
    """Plan a playbook on Fabric's hosts, show the diff, and apply it: `remediate apply` on them."""
    argv = ["apply", playbook, *_flags(dry_run=dry_run, yes=yes, canary=canary, batch=batch)]
    argv += _flags(max_fail=max_fail, forks=forks, json=json)
    for item in var or []:
        argv += ["-e", item]
    _collect(c, argv, known_hosts)


@task(help={"run": "the run id", "dry_run": "show what would be put back", "yes": "do it without asking"})  # type: ignore[untyped-decorator]
def rollback(c: Context, run: str, dry_run: bool = False, yes: bool = False) -> None:
    """Put back every file a run changed: `remediate rollback RUN`, with the hosts its journal names."""
    # The run's own inventory (in the state folder) reaches its hosts: Fabric's hosts are not needed.
    if run in _rolled_back:
        return
    _rolled_back.add(run)
    code = main(["rollback", run, *_flags(dry_run=dry_run, yes=yes)])
    if code:
        raise Exit(code=code)


remediate = Collection("remediate", apply, rollback)
