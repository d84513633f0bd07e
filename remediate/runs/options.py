"""What an operator asked of a run, typed and grouped by meaning: the use cases take these, never the
command line's own objects, so that a run can be started by anything that can fill them in.

Each value is already converted (a size in bytes, variables as a mapping); what can only be known when a
run gets there (the sudo password, asked for once the hosts are about to be reached) is a function to call.
How a host is written (rollback, precheck, lock wait) is ``fleet.host_apply.ApplyOptions``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from remediate.model import SettingNames
from remediate.remote.gather import DEFAULT_MAX_FILE_SIZE


def no_password() -> str | None:
    return None


@dataclass(frozen=True)
class TargetOptions:
    """Which hosts, and with which variables: the inventory, a limit over it, the run's own values."""

    inventory: str  # an inventory name (inventory/NAME.yml) or path
    limit: str | None = None  # names, groups or globs, comma-separated (!PATTERN: out); None: the playbook's hosts
    vars: Mapping[str, str] = field(default_factory=dict)  # the highest precedence of all
    secret_vars: Mapping[str, str] = field(default_factory=dict)  # the same, and masked in every output


@dataclass(frozen=True)
class ConnectionOptions:
    """How the hosts are reached and worked on: SSH, sudo, how many at once, how long to wait for them."""

    ssh_config: str | None = None  # an OpenSSH client config to honour; None: ~/.ssh/config if it exists
    become: bool = False  # every host works as root through sudo, whatever the inventory says
    # Called once, when the fleet is opened: a prompt comes after every check that needs no host.
    become_password: Callable[[], str | None] = no_password
    forks: int | None = None  # hosts worked on at once; None: the playbook's, else the default
    connect_timeout: float = 10.0
    command_timeout: float = 120.0  # the limit of one remote command
    accept_new_host_keys: bool = False  # learn unknown host keys (a changed key is always refused)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE  # bytes: a larger target file is refused, not edited
    names: SettingNames = SettingNames()  # what the operator calls ``forks``, for its error


@dataclass(frozen=True)
class RunOptions:
    """How the run deals with its operator: only show, or ask first, or just do it; text or JSON."""

    dry_run: bool = False  # show the diff and record it; change nothing
    yes: bool = False  # no question before writing
    json: bool = False  # one JSON document on stdout (the rest on stderr)
    diff: str = "grouped"  # how the plan's diffs are shown: grouped, per-host or none (report.text.print_plan)
    full_summary: bool = False  # a summary row for every host, not only those that are not ok
    retry_file: str | None = None  # where to write the hosts that did not end ok, one per line (--limit @FILE)


@dataclass(frozen=True)
class RolloutOptions:
    """The rollout as the operator set it for this run; each None is left to the playbook's ``rollout:``,
    then to the defaults. The sizes stay the operator's words: ``plan.waves.resolve_policy`` reads them,
    and says what is wrong with one in the terms of ``names``."""

    canary: int | None = None  # the first N hosts go first, alone
    canary_group: str | None = None  # the canary is this group's hosts (at most ``canary`` of them)
    batches: str | None = None  # the waves after the canary, e.g. "10%,50%,100%"
    max_fail: str | None = None  # how many hosts may fail, e.g. "2" or "10%", before the run halts
    rollback_on_halt: bool = False  # a halted run also puts back every host it changed
    names: SettingNames = field(
        default_factory=SettingNames
    )  # what the operator calls each setting, for the error messages
