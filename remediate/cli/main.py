"""Command line: arguments -> a command -> exit code (every one is in ``errors``). The one error
boundary of the tool.

Only this module is imported for ``--help``: the commands, and with them paramiko, load when chosen.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import NoReturn

from remediate import __version__
from remediate.errors import EXIT_HOST_FAILED, EXIT_INTERRUPTED, EXIT_OK, RemediateError, UserError


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are UserErrors: one line, exit 2, through the same boundary."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{self.prog}: {message} (see {self.prog} --help)")


def _add_target_options(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("-i", "--inventory", required=required, help="inventory name (inventory/NAME.yml) or path")
    parser.add_argument(
        "-l", "--limit", help="host names, group names or globs, comma-separated; !PATTERN leaves its hosts out"
    )
    parser.add_argument(
        "-e", "--var", action="append", default=[], metavar="NAME=VALUE", help="set a variable (highest precedence)"
    )
    parser.add_argument(
        "--secret-var", action="append", default=[], metavar="NAME=VALUE",
        help="set a secret variable: masked in every output and in the journal",
    )  # fmt: skip


def _add_run_options(parser: argparse.ArgumentParser, verb: str) -> None:
    parser.add_argument("--dry-run", action="store_true", help=f"show the diff per host and file; {verb} nothing")
    parser.add_argument("-y", "--yes", action="store_true", help="do it without asking for confirmation")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    _add_diff_option(parser)


# How the diffs are printed (report.text.print_plan says what each shows).
DIFF_MODES = ("grouped", "per-host", "none")


def _add_diff_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--diff", choices=DIFF_MODES, default="grouped",
        help="grouped (default): hosts with identical changes share one diff; per-host: every host's own; none",
    )  # fmt: skip
    parser.add_argument(
        "--summary", choices=("short", "full"), default="short",
        help="short (default): the counts and only the hosts that are not ok; full: a row for every host",
    )  # fmt: skip


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ssh-config", metavar="FILE", help="OpenSSH client config to honour (default ~/.ssh/config if it exists)"
    )
    parser.add_argument("--become", action="store_true", help="work as root through sudo on every host")
    parser.add_argument(
        "--ask-become-pass", action="store_true", help="ask once (no echo) for the sudo password of the hosts"
    )
    parser.add_argument("--forks", type=int, default=None, help="hosts worked on at once (default 50)")
    parser.add_argument("--timeout", type=float, default=10.0, help="SSH connect timeout in seconds (default 10)")
    parser.add_argument(
        "--command-timeout", type=float, default=120.0, help="time limit of one remote command (default 120)"
    )
    parser.add_argument(
        "--accept-new-host-keys",
        action="store_true",
        help="add unknown host keys to the inventory's known_hosts (a changed key is always refused)",
    )
    parser.add_argument(
        "--max-file-size", default="10M", help="refuse to edit target files larger than this (default 10M)"
    )


def _seconds(text: str) -> float:
    """A number of seconds, 0 or more (argparse makes the error a usage error)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also NaN
        raise argparse.ArgumentTypeError(f"not a number of seconds (0 or more): {text!r}")
    return value


def _add_lock_wait(parser: argparse.ArgumentParser, default: float, why: str) -> None:
    parser.add_argument(
        "--lock-wait", type=_seconds, default=default, metavar="SECONDS",
        help=f"wait this long for a host's lock held by another run (default {default:g}: {why})",
    )  # fmt: skip


def _add_apply_options(apply: argparse.ArgumentParser) -> None:
    _add_connection_options(apply)
    _add_lock_wait(apply, 0, "refuse such a host at once")
    apply.add_argument("--precheck", action="store_true", help="also run the verify probes before changing anything")
    apply.add_argument(
        "--no-rollback", action="store_true", help="keep a host's changes when its verification fails (debugging)"
    )
    rollout = apply.add_argument_group("rollout (each also settable in the playbook's rollout:, which flags override)")
    rollout.add_argument("--canary", type=int, help="apply to the first N hosts first, verify them, then go on")
    rollout.add_argument("--canary-group", help="the canary is this group's hosts (at most --canary of them)")
    rollout.add_argument("--batch", metavar="SIZES", help="waves after the canary, e.g. 10%%,50%%,100%% or 1,5,10")
    rollout.add_argument(
        "--max-fail", metavar="N|N%", help="halt once more hosts than this failed (default 0: the first failure)"
    )
    rollout.add_argument(
        "--rollback-on-halt", action="store_true", help="when the run halts, also roll back every host it changed"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="remediate", description="Configuration remediation and fleet rollout over SSH.")
    parser.add_argument("--version", action="version", version=f"remediate {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    apply = commands.add_parser("apply", help="plan a playbook on an inventory, show the diff, and apply it")
    apply.add_argument("playbook", nargs="?", help="playbook name (playbooks/NAME.yml) or path")
    _add_target_options(apply, required=False)
    apply.add_argument("--plan", metavar="FILE", help="apply exactly this reviewed plan (from `remediate plan`)")
    _add_run_options(apply, "change")
    _add_apply_options(apply)

    hotfix = commands.add_parser("hotfix", help="a one-line sed fix on a file of every host, no playbook needed")
    _add_target_options(hotfix, required=True)
    hotfix.add_argument("--file", required=True, help="the absolute path of the file to fix on each host")
    hotfix.add_argument("--sed", required=True, metavar="EXPR", help="the fix, e.g. 's/\\.phpp/.php/'")
    hotfix.add_argument("--verify-http", metavar="URL", help="probe after the fix, e.g. http://{{ host.address }}/")
    hotfix.add_argument("--validate", metavar="CMD", help="check the new file before it goes live ({path} for it)")
    _add_run_options(hotfix, "change")
    _add_apply_options(hotfix)

    plan = commands.add_parser("plan", help="write the exact plan of a playbook to a file, for review")
    plan.add_argument("playbook", help="playbook name (playbooks/NAME.yml) or path")
    _add_target_options(plan, required=True)
    plan.add_argument("-o", "--output", metavar="FILE", help="where to write the plan (default PLAYBOOK.plan)")
    _add_connection_options(plan)
    _add_diff_option(plan)
    show_plan = commands.add_parser("show-plan", help="print a plan file: hosts, files, diffs")
    show_plan.add_argument("file", help="the plan file")
    _add_diff_option(show_plan)

    audit = commands.add_parser("audit", help="report drift from a playbook's desired state (exit 0, or 3 on drift)")
    audit.add_argument("playbook", help="playbook name (playbooks/NAME.yml) or path")
    _add_target_options(audit, required=True)
    audit.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    _add_connection_options(audit)

    rollback = commands.add_parser("rollback", help="put back every file a run changed, on every host")
    rollback.add_argument("run", help="the run id (as printed by apply and listed by `remediate runs`)")
    rollback.add_argument("-i", "--inventory", help="inventory to reach the hosts (default: the run's own)")
    rollback.add_argument(
        "--force", action="store_true", help="also overwrite files changed since the run (default: conflict)"
    )
    _add_run_options(rollback, "restore")
    _add_connection_options(rollback)
    _add_lock_wait(rollback, 60, "a run that has just failed may still be putting its host back")

    runs = commands.add_parser("runs", help="list recent runs from the journal")
    runs.add_argument("--last", type=int, default=20, help="how many runs (default 20)")
    runs.add_argument("--json", action="store_true", help="print JSON")
    show = commands.add_parser("show", help="show one run from the journal, with its diffs")
    show.add_argument("run", help="the run id, or a unique part of it")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.add_argument(
        "--diff", choices=DIFF_MODES, default="grouped", help="grouped (default), per-host or none, as for apply"
    )

    completion = commands.add_parser("completion", help='print shell completion: eval "$(remediate completion bash)"')
    completion.add_argument("shell", choices=("bash", "zsh"), help="the shell to complete for")

    lab = commands.add_parser("lab", help="a disposable local fleet of real sshd hosts for rehearsing fixes")
    lab_commands = lab.add_subparsers(dest="lab_command", required=True, parser_class=_Parser)
    up = lab_commands.add_parser("up", help="start N lab hosts and write inventory/lab.yml")
    up.add_argument("--hosts", type=int, default=3, help="how many hosts (default 3)")
    up.add_argument("--inventory-file", default="inventory/lab.yml", help="where to write the lab's inventory")
    up.add_argument(
        "--apache", action="store_true", help="also run a real Apache with mod_php on port 80 of every host"
    )
    for sub in (up, lab_commands.add_parser("down", help="stop the lab and remove its files"),
                lab_commands.add_parser("status", help="show the lab's hosts")):  # fmt: skip
        sub.add_argument("--dir", help="lab folder (default $REMEDIATE_LAB_DIR or /var/lib/remediate/lab)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        with _sigterm_as_interrupt():
            args = build_parser().parse_args(arguments)
            return _dispatch(args, arguments)
    except RemediateError as e:
        # One line whatever a message quotes (a host name or path with a newline in it)
        message = str(e).replace("\r", "\\r").replace("\n", "\\n")
        print(f"remediate: error: {message}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("remediate: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:
        log = _write_crash_log()
        print(f"remediate: internal error ({sys.exc_info()[1]!r}); details in {log}", file=sys.stderr)
        return EXIT_HOST_FAILED


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM is a Ctrl-C in every phase: the run ends in the journal as interrupted, exit 130 (during a
    rollout, its own handler lets the hosts in flight finish first). Only the main thread may set it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run() -> NoReturn:
    """The console script: ``main``, then the process ends at once with its exit status. By then every
    file is written and closed (the journal, a plan, a crash log) and every connection closed; what is
    skipped is the interpreter tearing down a run's objects one by one (for a fleet, many thousands of
    SSH objects: about 0.1 s of CPU at 100 hosts), which no one waits for gladly in an outage."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe (`| head`): nothing more can be said on it.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def _dispatch(args: argparse.Namespace, arguments: Sequence[str]) -> int:
    # Commands are imported when chosen: `remediate --help` should not pay for paramiko.
    if args.command == "apply":
        from remediate.cli.apply import cmd_apply

        return cmd_apply(args, arguments)
    if args.command == "completion":
        from remediate.cli.completion import bash_script, zsh_script

        print((bash_script if args.shell == "bash" else zsh_script)(build_parser()), end="")
        return EXIT_OK
    if args.command == "hotfix":
        from remediate.cli.hotfix import cmd_hotfix

        return cmd_hotfix(args, arguments)
    if args.command == "plan":
        from remediate.cli.plan import cmd_plan

        return cmd_plan(args)
    if args.command == "show-plan":
        from remediate.cli.plan import cmd_show_plan

        return cmd_show_plan(args)
    if args.command == "audit":
        from remediate.cli.audit import cmd_audit

        return cmd_audit(args)
    if args.command == "rollback":
        from remediate.cli.rollback import cmd_rollback

        return cmd_rollback(args, arguments)
    if args.command == "runs":
        from remediate.cli.journal import cmd_runs

        return cmd_runs(args)
    if args.command == "show":
        from remediate.cli.journal import cmd_show

        return cmd_show(args)
    from remediate.cli.lab import cmd_lab

    return cmd_lab(args)


def _write_crash_log() -> str:
    fd, path = tempfile.mkstemp(prefix="remediate-crash-", suffix=".log")
    with os.fdopen(fd, "w") as log:
        log.write(traceback.format_exc())
    return path


if __name__ == "__main__":
    run()
