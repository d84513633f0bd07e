"""Helpers for tests of rollouts on the lab fleet: the fix as a playbook, a controller in its own process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from labtools import BROKEN, FIXED, WP

from remediate.lab.fleet import Lab


def fix_playbook(tmp_path: Path, handler: str = "", verify: bool = False, name: str = "fix.yml") -> str:
    """fix-phpp, with an optional handler and an optional probe that the site answers 200."""
    text = textwrap.dedent("""\
        name: fix-phpp
        steps:
          - name: fix the require line
            line_patch: {path: /var/www/html/wp-settings.php, regex: '\\.phpp\\b', replace: '.php'}
        """)
    if handler:
        text += f"    on_change: {json.dumps(handler)}\n"
    if verify:
        text += "verify:\n  - http: {url: 'http://{{ host.address }}:8080/', expect_status: 200, retries: 1}\n"
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def start_apply(lab: Lab, playbook: str, *flags: str) -> subprocess.Popen[str]:
    """``remediate apply PLAYBOOK -i LAB --yes FLAGS`` in a process of its own, to be signalled."""
    argv = [
        sys.executable,
        "-m",
        "remediate.cli.main",
        "apply",
        playbook,
        "-i",
        str(lab.inventory_path),
        "--yes",
        *flags,
    ]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until_fixed(lab: Lab, controller: subprocess.Popen[str], hosts: int, poll: float) -> None:
    """Until at least ``hosts`` hosts hold the fix (the run still going), for at most 30 s."""
    deadline = time.monotonic() + 30
    while sum(FIXED in h.local_path(WP).read_bytes() for h in lab.hosts) < hosts:
        assert time.monotonic() < deadline and controller.poll() is None
        time.sleep(poll)


def untouched(lab: Lab, name: str) -> bool:
    host = lab.host(name)
    return BROKEN in host.local_path(WP).read_bytes() and not any(host.local_path("/var/backups").iterdir())
