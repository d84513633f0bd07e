"""``remediate work RUN``: one worker of a run that ``apply --workers`` queued in a shared journal."""

from __future__ import annotations

import argparse

from remediate.cli.options import ROLLOUT_FLAGS, become_password
from remediate.errors import UserError
from remediate.journal import open_run_journal
from remediate.plan.masking import Masker
from remediate.report.console import make_console
from remediate.runs.options import ConnectionOptions
from remediate.runs.recorder import WorkerRecorder
from remediate.runs.work import WorkerOptions, halt_reason, work, worker_name


def cmd_work(args: argparse.Namespace) -> int:
    journal, record = open_run_journal(args.run, Masker(), args.journal)
    with journal:
        journal.require_shared("work")
        queued = journal.work.queued(record.run_id)
        if queued is None:
            raise UserError(
                f"run {record.run_id} was not queued for workers (`remediate apply ... --workers` queues one)"
            )
        # How a host is written is the run's (queued with it); how it is reached is this machine's. The
        # password is asked once here: each claimed host opens a fleet of its own, which would ask again.
        password = become_password(args.ask_become_pass)()
        connection = ConnectionOptions(
            ssh_config=args.ssh_config, become_password=lambda: password, forks=1,
            connect_timeout=args.timeout, command_timeout=float(queued.options["command_timeout"]),
            accept_new_host_keys=args.accept_new_host_keys,
        )  # fmt: skip
        reason = halt_reason(queued.max_fail, queued.allowed, queued.total, ROLLOUT_FLAGS)
        recorder = WorkerRecorder(journal, record.run_id, worker_name(), reason)
        console = make_console()
        console.print(f"worker {recorder.worker}: run {record.run_id} in the journal {journal.where}", markup=False)
        return work(recorder, queued, connection, WorkerOptions(args.forks, args.lease), console)
