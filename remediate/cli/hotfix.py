"""``remediate hotfix``: a one-step playbook made on the spot, for when there is no time to write a file.

It is an apply like any other: the same dry-run, diff, confirmation, rollout flags, journal and
``remediate rollback RUN``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from remediate.actions.sed import SedError, parse_sed
from remediate.cli.apply import apply_playbook
from remediate.errors import UserError
from remediate.model import LinePatch, Playbook, Probe, RolloutSettings, Step, sha256_hex
from remediate.probes.http import HttpProbe


def hotfix_playbook(file: str, sed: str, verify_http: str | None, validate: str | None) -> Playbook:
    try:
        operation = parse_sed(sed)
    except SedError as e:
        raise UserError(f"--sed: {e}") from None
    if not file.startswith("/"):
        raise UserError(f"--file: must be an absolute path, got {file!r}")
    step = Step(0, f"hotfix {file}", LinePatch(path=file, operation=operation), validate=validate)
    probes: tuple[Probe, ...] = (HttpProbe(url=verify_http),) if verify_http else ()
    # The journal records the hotfix's own words as its "playbook", with their checksum.
    words = json.dumps({"file": file, "sed": sed, "verify_http": verify_http, "validate": validate}, sort_keys=True)
    return Playbook(
        path=Path("hotfix"),
        name="hotfix",
        description=f"sed {sed} on {file}",
        hosts="all",
        vars={},
        steps=(step,),
        sha256=sha256_hex(words.encode()),
        verify=probes,
        rollout=RolloutSettings(),
    )


def cmd_hotfix(args: argparse.Namespace, argv: Sequence[str]) -> int:
    playbook = hotfix_playbook(args.file, args.sed, args.verify_http, args.validate)
    return apply_playbook(args, argv, playbook)
