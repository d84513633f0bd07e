"""The shells the remote scripts are run under in the tests: a host's ``sh`` may be dash (Debian,
Ubuntu), bash (RHEL, Arch) or busybox's ash (Alpine, embedded), and the scripts are POSIX sh for all of
them. Hosts run ``sh -s``, and bash started as ``sh`` is in its POSIX mode: so ``bash --posix`` here.
busybox is only the shell here: the tools the scripts call (stat, sha256sum, timeout, ...) are
the machine's coreutils, found on PATH as on a host that has them.

Every test that runs a script with ``run_sh`` uses the ``remote_shell`` fixture (conftest.py; a whole
module through ``pytestmark``), so it runs once under every shell."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from remediate.model import FileChange
from remediate.remote import commit as remote_commit
from remediate.remote.commit import NameSource, random_letters
from remediate.remote.gather import gather_script, parse_gather

SHELLS = {"dash": ("dash", "-s"), "bash": ("bash", "--posix", "-s"), "busybox": ("busybox", "sh", "-s")}
_chosen = ["dash"]  # set by the remote_shell fixture for the test that runs


def use(name: str) -> None:
    _chosen[0] = name


def shell_command() -> tuple[str, ...]:
    """The command that reads a script on its stdin, in the shell of the test that runs."""
    return SHELLS[_chosen[0]]


def run_sh(script: bytes, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(shell_command(), input=script, capture_output=True, check=False, env=env)


LOCK_DIR = str(Path(tempfile.gettempdir()) / "remediate-test-commit-lock")  # made 0700 by the script
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)  # the run's start time, shown by the lock's holder text


def commit_script(
    run_id: str, changes: Sequence[FileChange], *args: object, names: NameSource = random_letters, **kwargs: object
) -> bytes:
    """The production builder, with a fixed clock and the real random source unless told."""
    return remote_commit.commit_script(run_id, changes, *args, now=NOW, names=names, **kwargs)  # type: ignore[arg-type]


def sweep_script(run_id: str, folders: Sequence[str], **kwargs: object) -> bytes:
    return remote_commit.sweep_script(run_id, folders, now=NOW, **kwargs)  # type: ignore[arg-type]


def gather(paths: list[str], limit: int = 10 * 1024 * 1024):  # type: ignore[no-untyped-def]
    result = run_sh(gather_script(paths, limit))
    assert result.returncode == 0, result.stderr
    return parse_gather(result.stdout, paths, limit)
