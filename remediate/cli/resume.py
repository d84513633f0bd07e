"""``remediate resume RUN``: go on with a run that halted or was interrupted, on exactly the hosts it never
started and with the plan it recorded for them. It is a new run in the journal, linked to the first.

Every option is the first run's (its command line is in the journal) unless the resume gives it: a resume
after a ``--max-fail`` halt may allow more failures, say. Only how this command talks to its operator
(``--yes``, ``--json``, ``--dry-run``, ``--diff``, ``--summary``) is its own. Each host is read and planned
again, and its plan must be the recorded one (``plan.resume.pinned``): a host that changed since is a
``conflict``.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import replace

from rich.console import Console

from remediate.cli.options import (
    apply_options,
    connection_options,
    expand_limit_files,
    parse_vars,
    rollout_options,
    run_options,
    target_options,
)
from remediate.cli.parser import build_parser
from remediate.errors import EXIT_OK, UserError
from remediate.journal import Journal, open_run_journal, recorded_path
from remediate.load.playbook import load_playbook
from remediate.model import Host, HostPlan, Plan, Playbook, RunRecord, Status
from remediate.plan.masking import MASK, Masker
from remediate.plan.resume import pinned, unfinished
from remediate.plan.select import select_hosts
from remediate.plan.undo import files_by_host
from remediate.report.console import make_console
from remediate.runs.apply import execute, fleet_for, prepare, rollout_policy, survey_and_plan
from remediate.runs.recorder import Recorder
from remediate.runs.session import check_can_confirm, new_run_id, show_plan

# How the resume itself talks to its operator: never taken from the first run's command line (its --yes
# answered a question about another plan).
OWN_OPTIONS = ("dry_run", "yes", "json", "diff", "summary", "retry_file")


def cmd_resume(args: argparse.Namespace, argv: Sequence[str]) -> int:
    journal, record = open_run_journal(args.run, Masker(), args.journal)
    # The resume is recorded beside the run it goes on with (an earlier version's .remediate/ included).
    with journal:
        _check_resumable(journal, record)
        rows = journal.hosts(record.run_id)
        left = unfinished(rows)
        console = make_console(stderr=args.json)
        for host, status in left.unknown:
            console.print(
                f"{host}: {status} when run {record.run_id} ended, its outcome unknown: not resumed"
                f" (`remediate show {record.run_id}`; `remediate rollback {record.run_id}` puts it back)"
            )
        if not left.hosts:
            console.print(f"run {record.run_id} left no host unstarted: nothing to resume")
            return EXIT_OK
        first = resumed_arguments(journal, record, args)
        addresses = {row.host: row.address for row in rows}
        return _resume(args, argv, journal, record, first, left.hosts, addresses, console)


def _resume(
    args: argparse.Namespace,
    argv: Sequence[str],
    journal: Journal,
    record: RunRecord,
    first: argparse.Namespace,
    hosts: Sequence[str],
    addresses: Mapping[str, str],
    console: Console,
) -> int:
    playbook = _same_playbook(record, first)
    targets, connection = target_options(first), connection_options(first)
    run, rollout, writing = run_options(first), rollout_options(first), apply_options(first)
    prepared = prepare(targets, connection.become, playbook)
    journal.masker = prepared.masker
    wanted = set(hosts)
    if args.limit:
        limit = expand_limit_files(args.limit) or ""
        wanted &= {h.name for h in select_hosts(prepared.inventory, limit, "--limit")}
        hosts = [name for name in hosts if name in wanted]
        if not hosts:
            raise UserError(f"--limit {args.limit!r} names none of the hosts run {record.run_id} never started")
    prepared = replace(prepared, targets=tuple(t for t in prepared.targets if t.host.name in wanted))
    check_can_confirm(run.dry_run, run.yes, "resume")
    names = [t.host.name for t in prepared.targets]
    policy = rollout_policy(rollout, connection.forks, playbook.rollout, names, prepared.inventory.groups)
    recorded = files_by_host(journal.files(record.run_id))
    run_id = new_run_id()
    with fleet_for(connection, policy.forks) as fleet:
        recorder = Recorder(journal, run_id)
        about = (record.playbook, record.playbook_path, record.playbook_sha256, recorded_path(prepared.inventory.path))
        recorder.start("dry-run" if run.dry_run else "apply", about, argv, resume_of=record.run_id)
        console.print(f"resuming run {record.run_id} as run {run_id}: the {len(hosts)} host(s) it never started")
        surveyed = {hp.host.name: hp for hp in survey_and_plan(fleet, prepared, run_id).hosts}
        host_plans = tuple(
            pinned(surveyed[name], recorded.get(name, ()), record.run_id)
            if name in surveyed
            else _gone(name, addresses.get(name, ""), str(prepared.inventory.path))
            for name in hosts
        )
        plan = Plan(run_id, playbook.name, str(prepared.inventory.path), host_plans)
        masker = prepared.masker
        dry_run_exit = show_plan(run, console, recorder, plan, masker)
        if dry_run_exit is not None:
            return dry_run_exit
        return execute(run, writing, console, recorder, fleet, plan, policy, prepared.inventory.groups, masker)


def _gone(name: str, address: str, inventory: str) -> HostPlan:
    return HostPlan(Host(name, address), failure=Status.FAILED, error=f"not in the inventory {inventory} any more")


def _check_resumable(journal: Journal, record: RunRecord) -> None:
    if record.kind != "apply":
        raise UserError(f"run {record.run_id} was a {record.kind}: only an apply can be resumed")
    if record.status == "running":
        raise UserError(
            f"run {record.run_id} is still running (by {record.user}), or its controller was killed:"
            " resume a run that ended; a killed one can be applied again, or rolled back"
        )
    if not record.plan_recorded:
        raise UserError(
            f"run {record.run_id} was recorded by an earlier version, which kept no plan of the hosts it did"
            " not start: apply the playbook again"
        )
    # A resume refused before its rollout (other bytes, not confirmed) recorded no plan: it does not count.
    done = [later.run_id for later in journal.resumes(record.run_id) if later.kind == "apply" and later.plan_recorded]
    if done:
        raise UserError(f"run {record.run_id} was resumed already, by run {done[-1]}: resume that one")


def resumed_arguments(journal: Journal, record: RunRecord, args: argparse.Namespace) -> argparse.Namespace:
    """The options the resume runs with: the first run's, as its command line set them (through every
    resume before, for a resume of a resume), with the resume's own given ones over them."""
    resumed = _overlay(_run_arguments(journal, record), args)
    resumed.inventory = args.inventory or record.inventory  # the journal keeps it absolute: from any folder
    _check_secrets_given(record, resumed)
    return resumed


def _run_arguments(journal: Journal, record: RunRecord) -> argparse.Namespace:
    """A recorded run's options: its command line; a resume's over those of the run it resumed."""
    try:
        parsed = build_parser().parse_args(list(record.arguments))
    except UserError as e:
        raise UserError(f"run {record.run_id}: its recorded command line does not parse any more: {e}") from None
    if getattr(parsed, "plan", None):
        raise UserError(
            f"run {record.run_id} applied the plan file {parsed.plan}: resuming a plan file's run is not"
            f" supported; `remediate show {record.run_id}` lists the hosts it did not start"
        )
    if parsed.command == "resume" and record.resume_of:
        return _overlay(_run_arguments(journal, journal.run(record.resume_of)), parsed)
    return parsed


def _overlay(first: argparse.Namespace, resume: argparse.Namespace) -> argparse.Namespace:
    """``first``'s options, with those ``resume`` gives over them; the run options are the resume's own,
    and its variables add to the first's (the later of two values wins)."""
    defaults = vars(build_parser().parse_args(["resume", resume.run]))
    merged = vars(first) | {name: getattr(resume, name) for name in OWN_OPTIONS}
    merged |= {
        name: value
        for name, value in vars(resume).items()
        if name not in ("command", "run", "limit", "var", "secret_var") and value != defaults.get(name)
    }
    merged["var"] = [*first.var, *resume.var]
    merged["secret_var"] = [*first.secret_var, *resume.secret_var]
    return argparse.Namespace(**merged)


def _check_secrets_given(record: RunRecord, first: argparse.Namespace) -> None:
    """A value the journal keeps masked cannot be given again from it: the operator gives it again."""
    given = {**parse_vars(first.var), **parse_vars(first.secret_var)}
    masked = sorted(name for name, value in given.items() if MASK in value)
    if masked:
        names = ", ".join(masked)
        again = " ".join(f"--secret-var {name}=VALUE" for name in masked)
        raise UserError(
            f"run {record.run_id} was given {names} as a secret, masked in the journal: give it again ({again})"
        )


def _same_playbook(record: RunRecord, first: argparse.Namespace) -> Playbook:
    """The first run's playbook, as it was: a changed one would make another plan."""
    if first.command == "hotfix":
        from remediate.cli.hotfix import hotfix_playbook

        playbook = hotfix_playbook(first.file, first.sed, first.verify_http, first.validate)
    else:
        playbook = load_playbook(record.playbook_path)
    if playbook.sha256 != record.playbook_sha256:
        raise UserError(
            f"{record.playbook_path}: changed since run {record.run_id} (sha256 {record.playbook_sha256[:12]} then,"
            f" {playbook.sha256[:12]} now): resume goes on with the same plan; apply the playbook as a new run"
        )
    return playbook
