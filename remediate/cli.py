"""Command line: arguments -> calls -> exit code. The only module that prints to the operator or exits.

Exit codes: 0 every host ok (changed or unchanged; a dry-run with pending changes included), 1 some host
not ok, 2 bad input detected before any host is touched, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from . import __version__
from .errors import RemediateError, UserError
from .inventory import load_inventory
from .model import Host, RunResult
from .planner import build_plan, render_targets
from .playbook import load_playbook
from .report import dry_run_result, print_plan, print_summary, result_document
from .rollout import Fleet
from .transport import ConnectOptions, SshTransport

EXIT_OK, EXIT_HOST_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are UserErrors: one line, exit 2, through the same boundary."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{self.prog}: {message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="remediate", description="Configuration remediation and fleet rollout over SSH.")
    parser.add_argument("--version", action="version", version=f"remediate {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    apply = commands.add_parser("apply", help="plan a playbook on an inventory, show the diff, and apply it")
    apply.add_argument("playbook", help="playbook name (playbooks/NAME.yml) or path")
    apply.add_argument("-i", "--inventory", required=True, help="inventory name (inventory/NAME.yml) or path")
    apply.add_argument("-l", "--limit", help="host names, group names or globs, comma-separated")
    apply.add_argument(
        "-e", "--var", action="append", default=[], metavar="NAME=VALUE", help="set a variable (highest precedence)"
    )
    apply.add_argument("--dry-run", action="store_true", help="show the diff per host and file; change nothing")
    apply.add_argument("-y", "--yes", action="store_true", help="apply without asking for confirmation")
    apply.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    apply.add_argument("--forks", type=int, default=50, help="hosts worked on at once (default 50)")
    apply.add_argument("--timeout", type=float, default=10.0, help="SSH connect timeout in seconds (default 10)")
    apply.add_argument(
        "--command-timeout", type=float, default=120.0, help="time limit of one remote command (default 120)"
    )

    lab = commands.add_parser("lab", help="a disposable local fleet of real sshd hosts for rehearsing fixes")
    lab_commands = lab.add_subparsers(dest="lab_command", required=True, parser_class=_Parser)
    up = lab_commands.add_parser("up", help="start N lab hosts and write inventory/lab.yml")
    up.add_argument("--hosts", type=int, default=3, help="how many hosts (default 3)")
    up.add_argument("--inventory-file", default="inventory/lab.yml", help="where to write the lab's inventory")
    for sub in (up, lab_commands.add_parser("down", help="stop the lab and remove its files"),
                lab_commands.add_parser("status", help="show the lab's hosts")):  # fmt: skip
        sub.add_argument("--dir", help="lab folder (default $REMEDIATE_LAB_DIR or /var/lib/remediate/lab)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "apply":
            return cmd_apply(args)
        return cmd_lab(args)
    except RemediateError as e:
        print(f"remediate: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("remediate: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:
        log = _write_crash_log()
        print(f"remediate: internal error ({sys.exc_info()[1]!r}); details in {log}", file=sys.stderr)
        return EXIT_HOST_FAILED


def _write_crash_log() -> str:
    fd, path = tempfile.mkstemp(prefix="remediate-crash-", suffix=".log")
    with os.fdopen(fd, "w") as log:
        log.write(traceback.format_exc())
    return path


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


def parse_vars(items: Sequence[str]) -> dict[str, str]:
    result = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise UserError(f"--var {item!r}: expected NAME=VALUE with NAME a variable name")
        result[name.strip()] = value
    return result


def _check_identity_files(hosts: Sequence[Host], inventory_path: Path) -> None:
    for host in hosts:
        if host.identity_file and not Path(host.identity_file).is_file():
            raise UserError(f"{inventory_path}: identity_file {host.identity_file} of host {host.name} not found")


def cmd_apply(args: argparse.Namespace) -> int:
    if args.forks < 1:
        raise UserError("--forks must be at least 1")
    json_mode: bool = args.json
    console = Console(stderr=json_mode, highlight=False)
    playbook = load_playbook(args.playbook)
    inventory = load_inventory(args.inventory)
    targets = render_targets(playbook, inventory, args.limit, parse_vars(args.var))
    _check_identity_files([t.host for t in targets], inventory.path)
    interactive = sys.stdin.isatty()
    if not args.dry_run and not args.yes and not interactive:
        raise UserError("refusing to apply without confirmation: standard input is not a terminal; pass --yes")

    run_id = new_run_id()
    options = ConnectOptions(connect_timeout=args.timeout, command_timeout=args.command_timeout)
    with Fleet(lambda host: SshTransport.connect(host, options), forks=args.forks) as fleet:
        observed = fleet.survey(targets)
        plan = build_plan(run_id, playbook, inventory, targets, observed)
        if not json_mode or (not args.dry_run and not args.yes):
            print_plan(console, plan)
        if args.dry_run:
            result = dry_run_result(plan)
        else:
            pending = sum(1 for hp in plan.hosts if hp.changes)
            if pending and not args.yes and not _confirm(f"Apply these changes to {pending} host(s)? [y/N] "):
                console.print("Not confirmed: nothing was applied.")
                return EXIT_HOST_FAILED
            result = RunResult(run_id, plan.playbook, plan.inventory, False, fleet.apply(plan))
    return _finish(console, result, json_mode)


def _confirm(question: str) -> bool:
    # The question goes to stderr so that stdout stays one JSON document under --json.
    print(question, end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def _finish(console: Console, result: RunResult, json_mode: bool) -> int:
    if json_mode:
        print(json.dumps(result_document(result), indent=2))
    else:
        print_summary(console, result)
    return EXIT_OK if result.ok else EXIT_HOST_FAILED


def _http_answer(url: str) -> str:
    """What the lab host's site answers, e.g. "HTTP 500": the outage made visible."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return f"HTTP {response.status}"
    except urllib.error.HTTPError as e:
        return f"HTTP {e.code}"
    except (urllib.error.URLError, OSError) as e:
        return f"no answer ({getattr(e, 'reason', e)})"


def cmd_lab(args: argparse.Namespace) -> int:
    from . import lab  # the lab is a rehearsal tool; apply does not need it loaded

    lab_dir = Path(args.dir) if args.dir else lab.DEFAULT_LAB_DIR
    console = Console(highlight=False)
    if args.lab_command == "up":
        started = lab.lab_up(args.hosts, lab_dir=lab_dir, inventory_path=Path(args.inventory_file))
        for host in started.hosts:
            console.print(f"{host.name}  ssh {host.address}:{host.ssh_port}  http {host.url}")
        console.print(
            f"lab of {len(started.hosts)} host(s) up in {started.directory}; inventory: {started.inventory_path}"
        )
        return EXIT_OK
    if args.lab_command == "down":
        stopped = lab.lab_down(lab_dir)
        console.print(f"lab down: {stopped} host(s) stopped")
        return EXIT_OK
    statuses = lab.lab_status(lab_dir)
    if not statuses:
        console.print(f"no lab in {lab_dir}")
        return EXIT_OK
    hosts = {h.name: h for h in lab.load_lab(lab_dir).hosts}
    for s in statuses:
        sshd = "up" if s.sshd_running else "DOWN"
        http = _http_answer(hosts[s.name].url) if s.http_running else "DOWN"
        console.print(f"{s.name}  {s.address}  sshd {sshd}  {hosts[s.name].url} {http}")
    return EXIT_OK if all(s.sshd_running for s in statuses) else EXIT_HOST_FAILED


if __name__ == "__main__":
    sys.exit(main())
