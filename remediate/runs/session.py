"""What every command that touches hosts shares: run ids, confirmation, the fleet, and the final output."""

from __future__ import annotations

import argparse
import json
import re
import secrets
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from remediate.errors import EXIT_HOST_FAILED, EXIT_INTERRUPTED, EXIT_OK, UserError
from remediate.fleet.rollout import Fleet
from remediate.fleet.transport import ConnectOptions, SshTransport
from remediate.journal import Journal
from remediate.model import Host, Plan, RunResult
from remediate.plan.masking import Masker
from remediate.remote.gather import DEFAULT_MAX_FILE_SIZE
from remediate.report.text import dry_run_result, print_notes, print_plan, print_summary, result_document


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


def parse_size(text: str) -> int:
    """``10M``, ``512K``, ``1G`` or a number of bytes (K, M and G are powers of 1024)."""
    match = re.fullmatch(r"\s*(\d+)\s*([KMG]?)(i?B)?\s*", text, re.IGNORECASE)
    if not match:
        raise UserError(f"--max-file-size: expected a size such as 10M or 500K, got {text!r}")
    multiplier = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[match.group(2).upper()]
    return int(match.group(1)) * multiplier


def open_fleet(
    forks: int,
    connect_timeout: float,
    command_timeout: float,
    accept_new_host_keys: bool = False,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    become_password: str | None = None,
    ssh_config: str | None = None,
) -> Fleet:
    if forks < 1:
        raise UserError("--forks must be at least 1")
    if connect_timeout <= 0 or command_timeout <= 0:
        raise UserError("--timeout and --command-timeout must be more than 0 seconds")
    options = ConnectOptions(connect_timeout, command_timeout, accept_new_host_keys, become_password, ssh_config)
    return Fleet(lambda host: SshTransport.connect(host, options), forks=forks, max_file_size=max_file_size)


def show_plan(args: argparse.Namespace, console: Console, journal: Journal, plan: Plan, masker: Masker) -> int | None:
    """Shows the plan (with --json only when a question follows). A dry-run is recorded and ends here:
    its exit code is returned; otherwise None, and the plan goes on to be applied."""
    if not args.json or (not args.dry_run and not args.yes):
        print_plan(console, plan, masker, args.diff)
    else:
        print_notes(console, plan, masker)  # on stderr, beside the JSON
    if not args.dry_run:
        return None
    for host_plan in plan.hosts:
        journal.record_host_plan(plan.run_id, host_plan, host_plan.status.value, {})
    return finish(console, journal, dry_run_result(plan), args.json, masker)


def confirmed(
    args: argparse.Namespace, console: Console, journal: Journal, plan: Plan, question: str, done: str
) -> bool:
    """The operator's yes (or --yes) before anything is written; a no is recorded in the journal.
    ``question`` has a ``{count}`` for the hosts with changes; ``done`` says what did not happen."""
    pending = sum(1 for hp in plan.hosts if hp.changes)
    if not pending or args.yes or confirm(question.format(count=pending)):
        return True
    console.print(f"Not confirmed: nothing was {done}.")
    journal.finish_run(plan.run_id, "not confirmed")
    return False


def finish(console: Console, journal: Journal, result: RunResult, json_mode: bool, masker: Masker) -> int:
    status = "interrupted" if result.interrupted else "halted" if result.halted else "ok" if result.ok else "failed"
    journal.finish_run(result.run_id, status)
    if json_mode:
        print(json.dumps(result_document(result, masker), indent=2))
    else:
        print_summary(console, result, masker)
    if result.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if result.ok else EXIT_HOST_FAILED
