"""What every command that touches hosts shares: run ids, confirmation, the fleet, and the final output."""

from __future__ import annotations

import json
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console

from remediate.errors import EXIT_HOST_FAILED, EXIT_INTERRUPTED, EXIT_OK, UserError
from remediate.fleet.rollout import Fleet
from remediate.fleet.transport import ConnectOptions, SshTransport, Transport
from remediate.model import OK_STATUSES, Host, Plan, RunResult
from remediate.plan.masking import Masker
from remediate.remote.gather import DEFAULT_MAX_FILE_SIZE
from remediate.report.files import replace_file
from remediate.report.text import dry_run_result, print_notes, print_plan, print_summary, result_document
from remediate.runs.options import RunOptions
from remediate.runs.recorder import Recorder


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


def check_can_confirm(dry_run: bool, yes: bool, what: str) -> None:
    """Refuses, before any host is touched, a run that would need an answer nobody can give."""
    if not dry_run and not yes and not sys.stdin.isatty():
        raise UserError(f"refusing to {what} without confirmation: standard input is not a terminal; pass --yes")


def confirm(question: str) -> bool:
    # The question goes to stderr so that stdout stays one JSON document under --json.
    print(question, end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def check_identity_files(hosts: Sequence[Host], inventory: str) -> None:
    for host in hosts:
        if host.identity_file and not Path(host.identity_file).is_file():
            raise UserError(f"{inventory}: identity_file {host.identity_file} of host {host.name} not found")


def open_fleet(
    forks: int,
    connect_timeout: float,
    command_timeout: float,
    accept_new_host_keys: bool = False,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    become_password: str | None = None,
    ssh_config: str | None = None,
    on_connect: Callable[[Host, Transport], None] | None = None,
    forks_name: str = "forks",  # what the operator calls it
) -> Fleet:
    """``on_connect``: told of each host's connection as it opens (an audit's probes reuse it)."""
    if forks < 1:
        raise UserError(f"{forks_name} must be at least 1")
    if connect_timeout <= 0 or command_timeout <= 0:
        raise UserError("--timeout and --command-timeout must be more than 0 seconds")
    options = ConnectOptions(connect_timeout, command_timeout, accept_new_host_keys, become_password, ssh_config)

    def connect(host: Host) -> Transport:
        transport = SshTransport.connect(host, options)
        if on_connect is not None:
            on_connect(host, transport)
        return transport

    return Fleet(connect, forks=forks, max_file_size=max_file_size)


def show_plan(run: RunOptions, console: Console, recorder: Recorder, plan: Plan, masker: Masker) -> int | None:
    """Shows the plan (under JSON only when a question follows). A dry-run is recorded and ends here:
    its exit code is returned; otherwise None, and the plan goes on to be applied."""
    if not run.json or (not run.dry_run and not run.yes):
        print_plan(console, plan, masker, run.diff)
    else:
        print_notes(console, plan, masker)  # on stderr, beside the JSON
    if not run.dry_run:
        return None
    recorder.dry_run(plan)
    return finish(console, recorder, dry_run_result(plan), run, masker)


def confirmed(run: RunOptions, console: Console, recorder: Recorder, plan: Plan, question: str, done: str) -> bool:
    """The operator's yes (asked, or given up front) before anything is written; a no is recorded in the
    journal. ``question`` has a ``{count}`` for the hosts with changes; ``done`` says what did not happen."""
    pending = sum(1 for hp in plan.hosts if hp.changes)
    if not pending or run.yes or confirm(question.format(count=pending)):
        return True
    console.print(f"Not confirmed: nothing was {done}.")
    recorder.finish("not confirmed")
    return False


def finish(console: Console, recorder: Recorder, result: RunResult, run: RunOptions, masker: Masker) -> int:
    status = "interrupted" if result.interrupted else "halted" if result.halted else "ok" if result.ok else "failed"
    recorder.finish(status)
    if run.retry_file:
        # Ansible's retry file: the hosts to go again for, for `--limit @FILE`. Empty when every host is
        # ok, so that an earlier run's list never looks like this one's.
        retry = "".join(f"{h.host}\n" for h in result.hosts if h.status not in OK_STATUSES)
        replace_file(Path(run.retry_file), retry.encode(), "--retry-file")
    if run.json:
        print(json.dumps(result_document(result, masker), indent=2))
    else:
        print_summary(console, result, masker, run.full_summary)
    if result.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if result.ok else EXIT_HOST_FAILED
