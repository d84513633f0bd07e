"""``remediate apply``: plan, show, confirm, write, verify, roll back; every step in the journal."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from remediate.cli.options import apply_options, connection_options, rollout_options, run_options, target_options
from remediate.errors import UserError
from remediate.journal import Journal, journal_target, recorded_path
from remediate.load.playbook import load_playbook
from remediate.model import Playbook
from remediate.report.console import make_console
from remediate.runs.apply import execute, fleet_for, prepare, rollout_policy, survey_and_plan
from remediate.runs.options import RolloutOptions, RunOptions
from remediate.runs.recorder import Recorder
from remediate.runs.session import (
    check_can_confirm,
    new_run_id,
    show_plan,
)


def cmd_apply(args: argparse.Namespace, argv: Sequence[str]) -> int:
    if args.plan is not None:
        if args.workers:
            raise UserError("--workers with --plan is not supported: apply the playbook with --workers")
        from remediate.cli.plan import apply_plan_file

        return apply_plan_file(args, argv)
    if args.playbook is None or args.inventory is None:
        raise UserError("apply needs a PLAYBOOK and --inventory (or --plan FILE)")
    return apply_playbook(args, argv, load_playbook(args.playbook))


def apply_playbook(args: argparse.Namespace, argv: Sequence[str], playbook: Playbook) -> int:
    run, connection = run_options(args), connection_options(args)
    targets, rollout, writing = target_options(args), rollout_options(args), apply_options(args)
    workers = getattr(args, "workers", False)  # apply's own: hotfix has no --workers
    if workers:
        _check_workers(run, rollout)
    console = make_console(stderr=run.json)
    prepared = prepare(targets, connection.become, playbook)
    check_can_confirm(run.dry_run, run.yes, "apply")
    names = [t.host.name for t in prepared.targets]
    policy = rollout_policy(rollout, connection.forks, playbook.rollout, names, prepared.inventory.groups)
    fleet = fleet_for(connection, policy.forks)
    masker = prepared.masker
    run_id = new_run_id()
    with Journal(journal_target(args.journal), masker) as journal, fleet:
        if workers:
            journal.require_shared("--workers")
        recorder = Recorder(journal, run_id)
        about = (playbook.name, recorded_path(playbook.path), playbook.sha256, recorded_path(prepared.inventory.path))
        recorder.start("dry-run" if run.dry_run else "apply", about, argv)
        plan = survey_and_plan(fleet, prepared, run_id)
        dry_run_exit = show_plan(run, console, recorder, plan, masker)
        if dry_run_exit is not None:
            return dry_run_exit
        if workers:
            from remediate.runs.work import queue  # here: a run that is not queued need not import it

            return queue(run, writing, console, recorder, plan, policy, prepared.inventory.groups, masker)
        return execute(run, writing, console, recorder, fleet, plan, policy, prepared.inventory.groups, masker)


def _check_workers(run: RunOptions, rollout: RolloutOptions) -> None:
    """What a run queued for workers cannot do, refused before any host is touched."""
    if run.dry_run:
        raise UserError("--workers with --dry-run: a dry-run writes nothing, so it queues nothing for workers")
    if rollout.rollback_on_halt:
        raise UserError(
            "--workers with --rollback-on-halt is not supported: after a halt, `remediate rollback RUN` puts"
            " back every host the workers changed"
        )
    if run.retry_file:
        raise UserError(
            "--workers with --retry-file: the hosts' outcomes are the workers'; `remediate show RUN` lists them"
        )
