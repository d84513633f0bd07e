"""The parsed command line, converted once into the typed options the use cases take (``runs.options``):
the flags' values read and checked here, in the flags' own words, and nothing of argparse goes further."""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from remediate.errors import UserError
from remediate.fleet.host_apply import ApplyOptions
from remediate.model import SettingNames
from remediate.plan.select import split_pattern
from remediate.report.files import check_writable_folder
from remediate.runs.options import ConnectionOptions, RolloutOptions, RunOptions, TargetOptions

# What the rollout's settings are called here, for their errors: "--batch: expected sizes such as ...".
ROLLOUT_FLAGS = SettingNames(
    canary="--canary",
    canary_group="--canary-group",
    batches="--batch",
    max_fail="--max-fail",
    forks="--forks",
    limit="--limit",
)


def target_options(args: argparse.Namespace) -> TargetOptions:
    return TargetOptions(
        inventory=args.inventory,
        limit=expand_limit_files(args.limit),
        vars=parse_vars(args.var),
        secret_vars=parse_vars(args.secret_var),
    )


def connection_options(args: argparse.Namespace) -> ConnectionOptions:
    return ConnectionOptions(
        ssh_config=args.ssh_config,
        become=args.become,
        become_password=become_password(args.ask_become_pass),
        forks=args.forks,
        connect_timeout=args.timeout,
        command_timeout=args.command_timeout,
        accept_new_host_keys=args.accept_new_host_keys,
        max_file_size=parse_size(args.max_file_size),
        names=ROLLOUT_FLAGS,
    )


def run_options(args: argparse.Namespace) -> RunOptions:
    if args.retry_file:  # refused before any host is touched, not after the run
        check_writable_folder(Path(args.retry_file), "--retry-file")
    return RunOptions(
        dry_run=args.dry_run, yes=args.yes, json=args.json, diff=args.diff, full_summary=args.summary == "full",
        retry_file=args.retry_file,
    )  # fmt: skip


def rollout_options(args: argparse.Namespace) -> RolloutOptions:
    return RolloutOptions(
        canary=args.canary, canary_group=args.canary_group, batches=args.batch, max_fail=args.max_fail,
        rollback_on_halt=args.rollback_on_halt, names=ROLLOUT_FLAGS,
    )  # fmt: skip


def apply_options(args: argparse.Namespace) -> ApplyOptions:
    """How ``apply`` and ``hotfix`` write a host: its rollback on failure, its precheck, its waits."""
    return ApplyOptions(
        rollback=not args.no_rollback, precheck=args.precheck, command_timeout=args.command_timeout,
        lock_wait=args.lock_wait,
    )  # fmt: skip


# A retry file lists a fleet's hosts: a megabyte is some 50,000 names.
LIMIT_FILE_MAX_BYTES = 1_000_000


def expand_limit_files(pattern: str | None) -> str | None:
    """``--limit`` with each ``@FILE`` item replaced by the hosts the file lists, one per line (Ansible's
    retry files, and ``--retry-file``'s): a pattern for ``plan.select`` with nothing left to read."""
    if pattern is None:
        return None
    items = []
    for item in split_pattern(pattern):
        items += _limit_file_items(item[1:]) if item.startswith("@") else [item]
    return ",".join(items)


def _limit_file_items(name: str) -> list[str]:
    where = f"--limit @{name}"
    try:
        with open(name, "rb") as file:
            data = file.read(LIMIT_FILE_MAX_BYTES + 1)
    except OSError as e:
        raise UserError(f"{where}: cannot read: {e.strerror}") from None
    if len(data) > LIMIT_FILE_MAX_BYTES:
        raise UserError(f"{where}: larger than {LIMIT_FILE_MAX_BYTES} bytes")
    try:
        lines = [line.strip() for line in data.decode("utf-8").splitlines()]
    except UnicodeDecodeError:
        raise UserError(f"{where}: not UTF-8 text") from None
    for number, line in enumerate(lines, 1):
        if "," in line or any(ch.isspace() for ch in line):
            raise UserError(f"{where}: line {number}: {line!r} is not a host name")
    hosts = [line for line in lines if line]
    if not hosts:
        raise UserError(f"{where}: lists no host")
    return hosts


def parse_vars(items: Sequence[str]) -> dict[str, str]:
    result = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise UserError(f"--var {item!r}: expected NAME=VALUE with NAME a variable name")
        result[name.strip()] = value
    return result


def parse_size(text: str) -> int:
    """``10M``, ``512K``, ``1G`` or a number of bytes (K, M and G are powers of 1024)."""
    match = re.fullmatch(r"\s*(\d+)\s*([KMG]?)(i?B)?\s*", text, re.IGNORECASE)
    if not match:
        raise UserError(f"--max-file-size: expected a size such as 10M or 500K, got {text!r}")
    multiplier = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[match.group(2).upper()]
    return int(match.group(1)) * multiplier


def become_password(ask: bool) -> Callable[[], str | None]:
    """--ask-become-pass asks once, without echo, for every host; REMEDIATE_BECOME_PASSWORD for scripts.
    Asked when the fleet opens: a run refused before then (a bad playbook, no terminal) asks nothing."""

    def password() -> str | None:
        if ask:
            if not sys.stdin.isatty():
                raise UserError("--ask-become-pass needs a terminal; set REMEDIATE_BECOME_PASSWORD instead")
            return getpass.getpass("BECOME password: ", stream=sys.stderr)
        return os.environ.get("REMEDIATE_BECOME_PASSWORD")

    return password
