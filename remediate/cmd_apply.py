"""``remediate apply``: plan, show, confirm, write, verify, roll back; every step in the journal."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import threading
from collections.abc import Iterator, Sequence
from types import FrameType

from rich.console import Console

from .errors import UserError
from .host_apply import ApplyOptions
from .inventory import load_inventory
from .journal import Journal, state_dir
from .model import RunResult
from .planner import build_plan, render_targets
from .playbook import load_playbook
from .progress import RolloutProgress
from .report import dry_run_result, print_plan
from .secret_vars import Masker
from .session import (
    EXIT_HOST_FAILED,
    EXIT_INTERRUPTED,
    check_can_confirm,
    check_identity_files,
    confirm,
    finish,
    make_console,
    new_run_id,
    open_fleet,
    parse_size,
)
from .waves import plan_waves, resolve_policy


def parse_vars(items: Sequence[str]) -> dict[str, str]:
    result = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise UserError(f"--var {item!r}: expected NAME=VALUE with NAME a variable name")
        result[name.strip()] = value
    return result


def cmd_apply(args: argparse.Namespace, argv: Sequence[str]) -> int:
    json_mode: bool = args.json
    console = make_console(stderr=json_mode)
    playbook = load_playbook(args.playbook)
    inventory = load_inventory(args.inventory)
    targets = render_targets(playbook, inventory, args.limit, parse_vars(args.var))
    check_identity_files([t.host for t in targets], str(inventory.path))
    check_can_confirm(args.dry_run, args.yes, "apply")
    policy = resolve_policy(
        playbook.rollout, args.canary, args.canary_group, args.batch, args.max_fail, args.forks, args.rollback_on_halt
    )
    plan_waves([t.host.name for t in targets], policy, inventory.groups)  # a bad --canary-group fails here
    fleet = open_fleet(
        policy.forks, args.timeout, args.command_timeout, args.accept_new_host_keys, parse_size(args.max_file_size)
    )

    masker = Masker(inventory.secrets | playbook.secrets)
    run_id = new_run_id()
    with Journal(state_dir(), masker) as journal, fleet:
        journal.start_run(
            run_id, "dry-run" if args.dry_run else "apply", playbook.name, str(playbook.path), playbook.sha256,
            str(inventory.path), argv,
        )  # fmt: skip
        observed = fleet.survey((t.host, t.paths) for t in targets)
        plan = build_plan(run_id, playbook, inventory, targets, observed)
        if not json_mode or (not args.dry_run and not args.yes):
            print_plan(console, plan, masker)
        if args.dry_run:
            for host_plan in plan.hosts:
                journal.record_host_plan(run_id, host_plan, host_plan.status.value, {})
            return finish(console, journal, dry_run_result(plan), json_mode, masker)
        pending = sum(1 for hp in plan.hosts if hp.changes)
        if pending and not args.yes and not confirm(f"Apply these changes to {pending} host(s)? [y/N] "):
            console.print("Not confirmed: nothing was applied.")
            journal.finish_run(run_id, "not confirmed")
            return EXIT_HOST_FAILED
        options = ApplyOptions(rollback=not args.no_rollback, precheck=args.precheck)
        waves = plan_waves([hp.host.name for hp in plan.hosts], policy, inventory.groups)
        stop = threading.Event()
        with (
            _graceful_interruption(console, stop),
            RolloutProgress(console, bool(policy.canary or policy.canary_group), masker) as progress,
        ):
            outcome = fleet.rollout(plan, waves, policy, journal, options, stop, progress)
        result = RunResult(
            run_id, plan.playbook, plan.inventory, False, outcome.results, outcome.halted, outcome.interrupted
        )
        return finish(console, journal, result, json_mode, masker)


@contextlib.contextmanager
def _graceful_interruption(console: Console, stop: threading.Event) -> Iterator[None]:
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
