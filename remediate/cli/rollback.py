"""``remediate rollback RUN``: put back every file a run changed, from the journal, as a plan of its own."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace

from remediate.cli.options import connection_options, run_options
from remediate.errors import EXIT_HOST_FAILED, EXIT_OK, UserError
from remediate.fleet.host_apply import ApplyOptions
from remediate.journal import open_run_journal, recorded_path
from remediate.load.inventory import load_inventory
from remediate.model import Plan, RunResult
from remediate.plan.masking import Masker
from remediate.plan.undo import files_by_host, rollback_host_plan
from remediate.remote.hostlock import LockRequest
from remediate.report.console import make_console
from remediate.runs.apply import fleet_for
from remediate.runs.recorder import Recorder
from remediate.runs.session import check_can_confirm, check_identity_files, confirmed, finish, new_run_id, show_plan


def cmd_rollback(args: argparse.Namespace, argv: Sequence[str]) -> int:
    run = run_options(args)
    console = make_console(stderr=run.json)
    journal, record = open_run_journal(args.run, Masker(), args.journal)
    # The rollback is recorded beside the run it undoes (an earlier version's .remediate/ included).
    with journal:
        if record.kind not in ("apply", "rollback"):
            raise UserError(f"run {record.run_id} was a {record.kind}: it changed nothing to roll back")
        files = files_by_host(journal.files(record.run_id))
        # A host the run never started has its planned files in the journal, but nothing to put back.
        touched = [h for h in journal.hosts(record.run_id) if files.get(h.host) and not h.never_started]
        if not touched:
            console.print(f"run {record.run_id} changed no file: nothing to roll back")
            return EXIT_OK
        connection = connection_options(args)  # here: a run with nothing to roll back never needed them
        inventory = load_inventory(args.inventory or record.inventory)
        masker = Masker(inventory.secrets)
        journal.masker = masker
        known = {h.name: replace(h, become=h.become or connection.become) for h in inventory.hosts}
        reachable = [known[h.host] for h in touched if h.host in known]
        check_identity_files(reachable, str(inventory.path))
        check_can_confirm(run.dry_run, run.yes, "roll back")
        fleet = fleet_for(connection, connection.forks or 50)

        run_id = new_run_id()
        kind = "rollback-dry-run" if run.dry_run else "rollback"
        recorder = Recorder(journal, run_id)
        about = (record.playbook, record.playbook_path, record.playbook_sha256, recorded_path(inventory.path))
        recorder.start(kind, about, argv, rollback_of=record.run_id)
        with fleet:
            # Read under each host's lock (waiting for a run that may still be putting it back), which the
            # write keeps: the plan is made from files no other run is changing.
            targets = ((host, tuple(f.path for f in files[host.name])) for host in reachable)
            observed = fleet.survey(targets, LockRequest(run_id, args.lock_wait))
            plan = Plan(
                run_id,
                f"rollback of {record.run_id} ({record.playbook})",
                str(inventory.path),
                tuple(
                    rollback_host_plan(
                        known.get(h.host), h, files[h.host], observed.get(h.host), args.force, str(inventory.path)
                    )
                    for h in touched
                ),
            )
            dry_run_exit = show_plan(run, console, recorder, plan, masker)
            if dry_run_exit is not None:
                return dry_run_exit
            if not confirmed(run, console, recorder, plan, "Roll back {count} host(s)? [y/N] ", "rolled back"):
                return EXIT_HOST_FAILED
            # The probes report health after the rollback without judging it: what it puts back may be the
            # outage itself. And a rollback is never undone in turn: that would re-apply the change.
            options = ApplyOptions(
                rollback=False, probes_decide=False, command_timeout=connection.command_timeout,
                lock_wait=args.lock_wait, undoing=True,
            )  # fmt: skip
            recorder.planned(plan)
            result = RunResult(
                run_id, plan.playbook, plan.inventory, False, fleet.apply(plan, recorder, options, recorder)
            )
            return finish(console, recorder, result, run, masker)
