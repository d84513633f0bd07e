"""The shells the remote scripts are run under in the tests: a host's ``sh`` may be dash (Debian,
Ubuntu), bash (RHEL, Arch) or busybox's ash (Alpine, embedded), and the scripts are POSIX sh for all of
them. Hosts run ``sh -s``, and bash started as ``sh`` is in its POSIX mode: so ``bash --posix`` here.
busybox is only the shell here: the tools the scripts call (stat, sha256sum, timeout, ...) are
the machine's coreutils, found on PATH as on a host that has them.

Every test that runs a script with ``run_sh`` uses the ``remote_shell`` fixture (conftest.py; a whole
module through ``pytestmark``), so it runs once under every shell."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping

SHELLS = {"dash": ("dash", "-s"), "bash": ("bash", "--posix", "-s"), "busybox": ("busybox", "sh", "-s")}
_chosen = ["dash"]  # set by the remote_shell fixture for the test that runs


def use(name: str) -> None:
    _chosen[0] = name


def shell_command() -> tuple[str, ...]:
    """The command that reads a script on its stdin, in the shell of the test that runs."""
    return SHELLS[_chosen[0]]


def run_sh(script: bytes, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(shell_command(), input=script, capture_output=True, check=False, env=env)
