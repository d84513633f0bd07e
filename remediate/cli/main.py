"""Command line: arguments -> a command -> exit code (every one is in ``errors``). The one error
boundary of the tool.

Only this module and its grammar (``parser``) are imported for ``--help``: the commands, and with them
paramiko, load when chosen.
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

from remediate.cli.parser import build_parser
from remediate.errors import EXIT_HOST_FAILED, EXIT_INTERRUPTED, EXIT_OK, RemediateError


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
    if args.command == "resume":
        from remediate.cli.resume import cmd_resume

        return cmd_resume(args, arguments)
    if args.command == "work":
        from remediate.cli.work import cmd_work

        return cmd_work(args)
    if args.command == "inventory":
        from remediate.cli.inventory import cmd_inventory

        return cmd_inventory(args)
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
