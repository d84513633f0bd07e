"""The command line's grammar: every command, its arguments and their help. Building it imports nothing
heavy, so that ``--help`` and shell completion stay instant."""

from __future__ import annotations

import argparse

from remediate import __version__
from remediate.errors import UserError


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are UserErrors: one line, exit 2, through the same boundary."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{self.prog}: {message} (see {self.prog} --help)")


def _add_target_options(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("-i", "--inventory", required=required, help="inventory name (inventory/NAME.yml) or path")
    parser.add_argument(
        "-l",
        "--limit",
        help="Ansible host patterns: names, groups, globs, ~regex, comma- (or colon-) separated; &PATTERN: also in"
        " it; !PATTERN: not in it; @FILE: the hosts listed in FILE",
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
    parser.add_argument(
        "--retry-file", metavar="FILE",
        help="write the hosts that did not end ok, one per line, for --limit @FILE (empty when all are ok)",
    )  # fmt: skip
    _add_diff_option(parser)


# How the diffs are printed (report.text.print_plan says what each shows).
DIFF_MODES = ("grouped", "per-host", "none")


def _add_journal_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--journal",
        metavar="URL",
        help="the journal: postgresql://USER@HOST/DB for one shared between controllers"
        " (default $REMEDIATE_JOURNAL, else the configuration file's journal:, else SQLite in the state folder)",
    )


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
    _add_journal_option(apply)
    apply.add_argument(
        "--workers", action="store_true",
        help="plan, then queue the plan in the (PostgreSQL) journal for `remediate work RUN` processes to apply;"
        " writes no host itself",
    )  # fmt: skip
    _add_run_options(apply, "change")
    _add_apply_options(apply)

    hotfix = commands.add_parser("hotfix", help="a one-line sed fix on a file of every host, no playbook needed")
    _add_target_options(hotfix, required=True)
    hotfix.add_argument("--file", required=True, help="the absolute path of the file to fix on each host")
    hotfix.add_argument("--sed", required=True, metavar="EXPR", help="the fix, e.g. 's/\\.phpp/.php/'")
    hotfix.add_argument("--verify-http", metavar="URL", help="probe after the fix, e.g. http://{{ host.address }}/")
    hotfix.add_argument("--validate", metavar="CMD", help="check the new file before it goes live ({path} for it)")
    _add_journal_option(hotfix)
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
    audit.add_argument(
        "--probes", action="store_true", help="also run the playbook's verify probes (they change nothing)"
    )
    audit.add_argument(
        "--prometheus", metavar="FILE", help="also write node_exporter textfile metrics to FILE (replaced atomically)"
    )
    audit.add_argument(
        "--junit", metavar="FILE", help="also write JUnit XML to FILE: a test case per host and step (atomically)"
    )
    _add_connection_options(audit)

    rollback = commands.add_parser("rollback", help="put back every file a run changed, on every host")
    rollback.add_argument("run", help="the run id (as printed by apply and listed by `remediate runs`)")
    rollback.add_argument("-i", "--inventory", help="inventory to reach the hosts (default: the run's own)")
    rollback.add_argument(
        "--force", action="store_true", help="also overwrite files changed since the run (default: conflict)"
    )
    _add_journal_option(rollback)
    _add_run_options(rollback, "restore")
    _add_connection_options(rollback)
    _add_lock_wait(rollback, 60, "a run that has just failed may still be putting its host back")

    resume = commands.add_parser(
        "resume", help="go on with a halted or interrupted run: the hosts it never started, with the same plan"
    )
    resume.add_argument("run", help="the run id (as printed by apply and listed by `remediate runs`)")
    # Every other option is the first run's unless given here: -e and --secret-var add to its variables
    # (a secret one is masked in the journal and must be given again), --limit narrows its hosts.
    _add_target_options(resume, required=False)
    _add_journal_option(resume)
    _add_run_options(resume, "change")
    _add_apply_options(resume)

    work = commands.add_parser(
        "work",
        help="a worker of a run queued by `apply --workers`: claim its hosts and apply them (any number, anywhere)",
    )
    work.add_argument("run", help="the run id, as `apply --workers` printed it")
    _add_journal_option(work)
    work.add_argument("--forks", type=int, default=10, help="hosts this worker works on at once (default 10)")
    work.add_argument(
        "--lease", type=_seconds, default=60.0, metavar="SECONDS",
        help="how long a claimed host stays this worker's without a renewal (renewed every third of it; default 60):"
        " a worker killed loses its hosts to the others after it",
    )  # fmt: skip
    work.add_argument(
        "--ssh-config", metavar="FILE", help="OpenSSH client config to honour (default ~/.ssh/config if it exists)"
    )
    work.add_argument(
        "--ask-become-pass", action="store_true", help="ask once (no echo) for the sudo password of the hosts"
    )
    work.add_argument("--timeout", type=float, default=10.0, help="SSH connect timeout in seconds (default 10)")
    work.add_argument(
        "--accept-new-host-keys", action="store_true",
        help="add unknown host keys to the inventory's known_hosts (a changed key is always refused)",
    )  # fmt: skip

    inventory = commands.add_parser(
        "inventory",
        help="show what an inventory resolves to: hosts, groups, variables and their sources; never connects",
    )
    inventory.add_argument("-i", "--inventory", required=True, help="inventory name (inventory/NAME.yml) or path")
    shown = inventory.add_mutually_exclusive_group(required=True)
    shown.add_argument(
        "--list", action="store_true", help="JSON like ansible-inventory --list, with each host's connection"
    )
    shown.add_argument("--graph", action="store_true", help="the group tree, like ansible-inventory --graph")
    shown.add_argument("--host", metavar="NAME", help="one host: its connection and variables, each with what set it")
    inventory.add_argument(
        "--sources", action="store_true", help="with --list: add where each variable and connection setting came from"
    )
    inventory.add_argument(
        "--ssh-config", metavar="FILE", help="OpenSSH client config to honour (default ~/.ssh/config if it exists)"
    )

    runs = commands.add_parser("runs", help="list recent runs from the journal")
    runs.add_argument("--last", type=int, default=20, help="how many runs (default 20)")
    runs.add_argument("--json", action="store_true", help="print JSON")
    _add_journal_option(runs)
    show = commands.add_parser("show", help="show one run from the journal, with its diffs")
    show.add_argument("run", help="the run id, or a unique part of it")
    _add_journal_option(show)
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
