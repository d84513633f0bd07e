"""Reviewed plans: ``remediate plan -o FILE``, ``remediate show-plan FILE``, ``remediate apply --plan FILE``."""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from remediate.cli.options import apply_options, connection_options, rollout_options, run_options, target_options
from remediate.errors import EXIT_HOST_FAILED, EXIT_OK, UserError
from remediate.journal import Journal, journal_target, who
from remediate.load.planfile import plan_document, plan_from_document, plan_masker
from remediate.load.playbook import load_playbook
from remediate.model import Plan, RolloutSettings, Status
from remediate.report.console import make_console
from remediate.report.text import dry_run_result, print_notes, print_plan, print_summary
from remediate.runs.apply import execute, fleet_for, prepare, rollout_policy, survey_and_plan
from remediate.runs.recorder import Recorder
from remediate.runs.session import check_can_confirm, new_run_id
from remediate.yamlnode import display_path


def cmd_plan(args: argparse.Namespace) -> int:
    console = make_console()
    playbook = load_playbook(args.playbook)
    targets, connection = target_options(args), connection_options(args)
    prepared = prepare(targets, connection.become, playbook)
    output = Path(args.output or f"{playbook.name}.plan")
    with fleet_for(connection, connection.forks or 50) as fleet:
        plan = survey_and_plan(fleet, prepared, new_run_id())
    print_plan(console, plan, prepared.masker, args.diff)
    document = plan_document(plan, str(playbook.path), playbook.sha256, time.time(), who(), prepared.masker)
    # The plan holds the new contents of every file, secrets included: private, like the journal.
    descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(document, file, indent=1)
    os.chmod(output, 0o600)
    print_summary(console, dry_run_result(plan), prepared.masker, args.summary == "full")
    console.print(f"plan {plan.run_id} written to {output}: review it with `remediate show-plan {output}`,")
    console.print(f"apply exactly it with `remediate apply --plan {output}`")
    return EXIT_OK if all(hp.failure is None for hp in plan.hosts) else EXIT_HOST_FAILED


def read_plan_file(path: str) -> tuple[Plan, dict[str, object]]:
    where = display_path(Path(path))
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{where}: file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UserError(f"{where}: not a readable plan file: {e}") from None
    plan, header = plan_from_document(document, where)
    return plan, dict(header)


def cmd_show_plan(args: argparse.Namespace) -> int:
    plan, header = read_plan_file(args.file)
    console = make_console()
    console.print(
        f"plan {plan.run_id} of {plan.playbook} ({header.get('playbook_path')}, sha256 {header.get('playbook_sha256')})"
        f" on {plan.inventory}, made by {header.get('user')} at {time.ctime(float(str(header.get('created'))))}"
    )
    masker = plan_masker(header)
    print_plan(console, plan, masker, args.diff)
    print_summary(console, dry_run_result(plan), masker, args.summary == "full")
    return EXIT_OK


def apply_plan_file(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Applies exactly the reviewed plan: its bytes, its hosts, nothing re-computed."""
    if args.playbook is not None:
        raise UserError("apply --plan takes no PLAYBOOK: the plan file says what to do")
    if args.dry_run:
        raise UserError("apply --plan has no --dry-run: `remediate show-plan FILE` shows what it would do")
    run, connection = run_options(args), connection_options(args)
    rollout, writing = rollout_options(args), apply_options(args)
    reviewed, header = read_plan_file(args.plan)
    check_can_confirm(False, run.yes, "apply")
    groups: dict[str, list[str]] = {}
    for host_plan in reviewed.hosts:
        for group in host_plan.host.groups:
            groups.setdefault(group, []).append(host_plan.host.name)
    names = [hp.host.name for hp in reviewed.hosts]
    policy = rollout_policy(rollout, connection.forks, RolloutSettings(), names, groups)
    console = make_console(stderr=run.json)
    masker = plan_masker(header)
    run_id = new_run_id()
    plan = Plan(run_id, reviewed.playbook, reviewed.inventory, reviewed.hosts)
    with Journal(journal_target(args.journal), masker) as journal, fleet_for(connection, policy.forks) as fleet:
        recorder = Recorder(journal, run_id)
        about = (plan.playbook, str(header.get("playbook_path")), str(header.get("playbook_sha256")), plan.inventory)
        recorder.start("apply", about, argv)
        connected = fleet.connect_all(hp.host for hp in plan.hosts)
        plan = _with_unreachable(plan, connected)
        if not run.json or not run.yes:
            console.print(f"applying plan {reviewed.run_id} as run {run_id}")
            print_plan(console, plan, masker, args.diff)
        else:
            print_notes(console, plan, masker)  # on stderr, beside the JSON
        return execute(run, writing, console, recorder, fleet, plan, policy, groups, masker)


def _with_unreachable(plan: Plan, connected: dict[str, str]) -> Plan:
    """Hosts that could not be reached are failures of this run, whatever the plan said."""
    hosts = tuple(
        replace(hp, failure=Status.UNREACHABLE, error=connected[hp.host.name]) if connected.get(hp.host.name) else hp
        for hp in plan.hosts
    )
    return replace(plan, hosts=hosts)
