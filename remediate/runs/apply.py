"""Applying a playbook to a fleet, as a use case: prepare (load, render), survey and plan, then execute
(confirm, waves, signals, the journal)."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from types import FrameType

from rich.console import Console

from remediate.errors import EXIT_HOST_FAILED, EXIT_INTERRUPTED, UserError
from remediate.fleet.host_apply import ApplyOptions
from remediate.fleet.observer import Observers
from remediate.fleet.rollout import Fleet
from remediate.fleet.sshconfig import ssh_config_path
from remediate.fleet.transport import Transport
from remediate.load.inventory import load_inventory
from remediate.model import Host, HostTarget, Inventory, Plan, Playbook, RolloutPolicy, RolloutSettings, RunResult
from remediate.plan.masking import Masker
from remediate.plan.planner import plan_target, render_targets
from remediate.plan.waves import plan_waves, resolve_policy
from remediate.report.progress import RolloutProgress
from remediate.runs.options import ConnectionOptions, RolloutOptions, RunOptions, TargetOptions
from remediate.runs.recorder import Recorder
from remediate.runs.session import (
    check_identity_files,
    confirmed,
    finish,
    open_fleet,
)


@dataclass(frozen=True)
class Prepared:
    """A playbook rendered for its hosts, with everything checked that can be checked before connecting."""

    playbook: Playbook
    inventory: Inventory
    targets: tuple[HostTarget, ...]
    masker: Masker


def prepare(target: TargetOptions, become: bool, playbook: Playbook) -> Prepared:
    """``become``: every host works through sudo, whatever the inventory and the playbook say."""
    inventory = load_inventory(target.inventory)
    run_vars, secret_vars = target.vars, target.secret_vars
    secrets = inventory.secrets | playbook.secrets | _given_secrets(inventory, playbook, run_vars, secret_vars)
    masker = Masker(secrets)
    try:
        targets = render_targets(playbook, inventory, target.limit, {**run_vars, **secret_vars}, secrets)
    except UserError as e:  # a rendered field quoted in the message (an invalid regex) may hold a secret
        raise UserError(masker.text(str(e))) from None
    if playbook.become or become:
        targets = tuple(replace(t, host=replace(t.host, become=True)) for t in targets)
    check_identity_files([t.host for t in targets], str(inventory.path))
    return Prepared(playbook, inventory, targets, masker)


def _given_secrets(
    inventory: Inventory, playbook: Playbook, run_vars: Mapping[str, str], secret_vars: Mapping[str, str]
) -> frozenset[str]:
    """The run's secret values, and its other values of variables the inventory or the playbook declares secret."""
    known = inventory.secrets | playbook.secrets
    declared = {n for n, v in playbook.vars.items() if str(v) in known}
    declared |= {n for host in inventory.hosts for n, v in host.vars.items() if str(v) in known}
    return frozenset(secret_vars.values()) | {v for n, v in run_vars.items() if n in declared}


def survey_and_plan(fleet: Fleet, prepared: Prepared, run_id: str) -> Plan:
    # Each host is planned by the worker that read it, while the others are still being read.
    by_name = {t.host.name: t for t in prepared.targets}
    planned = fleet.survey_then(
        ((t.host, t.paths) for t in prepared.targets),
        lambda host, seen: plan_target(prepared.playbook, by_name[host.name], seen),
    )
    hosts = tuple(planned[t.host.name] for t in prepared.targets)
    return Plan(run_id, prepared.playbook.name, str(prepared.inventory.path), hosts)


def rollout_policy(
    rollout: RolloutOptions, forks: int | None, settings: RolloutSettings, hosts: Sequence[str], groups: Groups
) -> RolloutPolicy:
    """The run's rollout over the playbook's ``settings``, checked against its hosts and groups."""
    policy = resolve_policy(
        settings, rollout.canary, rollout.canary_group, rollout.batches, rollout.max_fail, forks,
        rollout.rollback_on_halt, rollout.names,
    )  # fmt: skip
    plan_waves(hosts, policy, groups, rollout.names)  # a bad canary group fails here, before any host is touched
    return policy


def fleet_for(
    connection: ConnectionOptions, forks: int, on_connect: Callable[[Host, Transport], None] | None = None
) -> Fleet:
    password = connection.become_password()
    ssh_config = ssh_config_path(connection.ssh_config)
    return open_fleet(
        forks, connection.connect_timeout, connection.command_timeout, connection.accept_new_host_keys,
        connection.max_file_size, password, ssh_config, on_connect, connection.names.forks,
    )  # fmt: skip


def execute(
    run: RunOptions,
    writing: ApplyOptions,
    console: Console,
    recorder: Recorder,
    fleet: Fleet,
    plan: Plan,
    policy: RolloutPolicy,
    groups: Groups,
    masker: Masker,
) -> int:
    """Confirms, then writes and verifies the plan wave by wave, and reports: the one way a plan is applied."""
    if not confirmed(run, console, recorder, plan, "Apply these changes to {count} host(s)? [y/N] ", "applied"):
        return EXIT_HOST_FAILED
    waves = plan_waves([hp.host.name for hp in plan.hosts], policy, groups)
    stop = threading.Event()
    with (
        graceful_interruption(console, stop),
        RolloutProgress(console, bool(policy.canary or policy.canary_group), masker) as progress,
    ):
        recorder.planned(plan)
        # The journal first: a host's row must not wait on (or be lost to) the display.
        outcome = fleet.rollout(plan, waves, policy, writing, stop, Observers(recorder, progress), claims=recorder)
    result = RunResult(
        plan.run_id, plan.playbook, plan.inventory, False, outcome.results, outcome.halt, outcome.interrupted
    )
    return finish(console, recorder, result, run, masker)


@contextlib.contextmanager
def graceful_interruption(console: Console, stop: threading.Event) -> Iterator[None]:
    """The first Ctrl-C (or SIGTERM) stops starting hosts and lets the ones in flight finish; the second
    ends the process at once. Even then no file is half-written (every replacement is a rename) and the
    journal already says which hosts were being written, for `remediate rollback RUN`."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            console.print("remediate: aborted; `remediate runs` and `remediate rollback RUN` know what was touched")
            os._exit(EXIT_INTERRUPTED)
        stop.set()
        console.print(
            "remediate: interrupted: no new host starts; the hosts in flight finish (interrupt again to abort at once)"
        )

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


Groups = Mapping[str, Sequence[str]]
