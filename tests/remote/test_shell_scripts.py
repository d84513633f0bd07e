"""The remote scripts as text: their shell libraries (remediate/remote/sh/*.sh, package data) and the
whole scripts built for a representative plan are shellcheck-clean POSIX sh, and a write's script for a
fixed plan, clock and name source is exactly the committed golden file.

The golden file changes whenever the script does, on purpose: read its diff as the change a host will
run. To write it again after a deliberate change:

    REMEDIATE_REGEN_GOLDEN=1 .venv/bin/python -m pytest -q tests/remote/test_shell_scripts.py

The scripts are run (under dash, bash and busybox sh) by tests/remote/test_remote_scripts.py.
"""

from __future__ import annotations

import fnmatch
import itertools
import os
import shutil
import subprocess
import tomllib
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import pytest

from remediate.model import FileChange, Probe
from remediate.plan.undo import reverse
from remediate.probes.command import CommandProbe
from remediate.probes.file import FileProbe
from remediate.remote.commit import NameSource, commit_script, host_budget, sweep_script
from remediate.remote.gather import gather_script
from remediate.remote.hostlock import LockRequest
from remediate.remote.probe import host_probe_script
from remediate.remote.shell import LIBRARIES, library
from remediate.remote.xattrs import NO_GETFATTR_RECORD, REGULAR_SEEN, XATTRS_RECORD

GOLDEN = Path(__file__).parents[1] / "golden" / "commit_script.sh"
NOW = datetime(2026, 12, 3, 12, 34, 56, tzinfo=UTC)
SHELLCHECK = shutil.which("shellcheck")
needs_shellcheck = pytest.mark.skipif(SHELLCHECK is None, reason="shellcheck is not installed (scripts/setup.sh)")


def fixed_names() -> NameSource:
    """A name source that gives the same names in the same order every time: aaaaa0, aaaaa1, ..."""
    counter = itertools.count()
    return lambda: f"aaaaa{next(counter)}"


def representative_plan() -> tuple[list[FileChange], list[str]]:
    """A replaced file with a validator of its own and extended attributes, a binary file replaced, a
    file created in two new folders with a named owner, a whole-service validator and two handlers."""
    replaced = FileChange(
        "/etc/app/app.conf", "/etc/app/app.conf", ("fix",), b"old = 1\n", b"new = 'two' $(not run)\n",
        0o640, 0, 33, before_mode=0o640, validators=("app --check {path}", "app configtest"),
        before_uid=0, before_gid=33, xattrs=(("user.tag", b"x"),), before_xattrs=(("user.tag", b"x"),),
    )  # fmt: skip
    binary = FileChange(
        "/etc/app/blob", "/srv/real/blob", ("fix",), b"\x00\x01", b"\xff\x00new", 0o600, 0, 0, before_mode=0o600
    )
    created = FileChange(
        "/etc/app/new/sub/extra.conf", "/etc/app/new/sub/extra.conf", ("add",), None, b"extra\n", 0o644,
        None, None, owner="www-data", group="www-data", folders=("/etc/app/new", "/etc/app/new/sub"),
    )  # fmt: skip
    return [replaced, binary, created], ["systemctl reload app", "touch /run/app.reloaded"]


def golden_script() -> str:
    changes, handlers = representative_plan()
    script = commit_script(
        "20261203T123456Z-golden", changes, handlers, as_root=True, sweep=("/etc/app/old",),
        budget=host_budget(120), lock_wait=5, now=NOW, names=fixed_names(),
    )  # fmt: skip
    return script.decode("utf-8")


def shellcheck(path: Path) -> subprocess.CompletedProcess[str]:
    assert SHELLCHECK is not None
    return subprocess.run([SHELLCHECK, "-s", "sh", str(path)], capture_output=True, text=True, check=False)


def test_every_library_is_shipped_and_named() -> None:
    folder = files("remediate.remote").joinpath("sh")
    assert sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".sh")) == sorted(LIBRARIES)
    assert all(library(name).strip() for name in LIBRARIES)
    with pytest.raises(ValueError, match="no shell library"):
        library("../gather.py")


def test_the_libraries_spell_the_names_the_parsers_read() -> None:
    """What sh/reader.sh and sh/xattrs.sh write is what gather and xattrs parse (the names are in the
    shell files, not substituted into them)."""
    assert f"    {REGULAR_SEEN}=1\n" in library("reader.sh")
    reading = library("xattrs.sh")
    assert f'[ -n "${REGULAR_SEEN}" ]' in reading
    assert f"printf '{XATTRS_RECORD} '" in reading and f"echo {NO_GETFATTR_RECORD}\n" in reading


def test_the_package_data_ships_every_library() -> None:
    """setuptools puts in the wheel (and the sdist) what [tool.setuptools.package-data] names: each
    library must match it. (Checked by hand too: ``pip wheel . -w /tmp/w --no-deps`` and ``unzip -l``.)"""
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["remediate.remote"]
    assert all(any(fnmatch.fnmatch(f"sh/{name}", pattern) for pattern in patterns) for name in LIBRARIES)


@needs_shellcheck
@pytest.mark.parametrize("name", LIBRARIES)
def test_each_shell_library_is_shellcheck_clean(name: str) -> None:
    path = files("remediate.remote").joinpath("sh", name)
    assert isinstance(path, Path)  # an installed package's own file, editable or not
    done = shellcheck(path)
    assert done.returncode == 0, done.stdout


@needs_shellcheck
def test_the_whole_scripts_for_a_representative_plan_are_shellcheck_clean(tmp_path: Path) -> None:
    changes, _ = representative_plan()
    paths = [c.path for c in changes] + ["/etc/it's a $(name)"]
    lock = LockRequest("RUN", wait=2).shell(as_root=False, now=NOW)
    probes: list[Probe] = [
        CommandProbe("curl -fsS http://localhost/ | grep -q ok", timeout=5),
        FileProbe("/var/log/app.log"),
    ]
    undo = [reverse(change) for change in changes]  # a rollback: originals put back, the new file removed
    scripts = {
        "commit.sh": golden_script().encode(),
        "undo.sh": commit_script("RUN.undo", undo, ["reload"], undoing=True, now=NOW, names=fixed_names()),
        "sweep.sh": sweep_script("RUN", ["/etc/app", "/etc/it's"], now=NOW),
        "gather.sh": gather_script(paths),
        "gather-locked.sh": gather_script(paths, lock=lock),
        "probe.sh": host_probe_script(probes),
    }
    for name, script in scripts.items():
        (tmp_path / name).write_bytes(script)
        done = shellcheck(tmp_path / name)
        assert done.returncode == 0, f"{name}:\n{done.stdout}"


def test_the_commit_script_for_a_fixed_plan_is_the_golden_file() -> None:
    script = golden_script()
    if os.environ.get("REMEDIATE_REGEN_GOLDEN") == "1":
        GOLDEN.write_text(script, encoding="utf-8")
    assert script == GOLDEN.read_text(encoding="utf-8"), (
        "the write's script changed: if on purpose, REMEDIATE_REGEN_GOLDEN=1 writes the golden file again"
    )


def test_the_same_arguments_give_the_same_script() -> None:
    """Nothing in it comes from the clock or the random source but what the caller passes."""
    assert golden_script() == golden_script()
    changes, _ = representative_plan()
    later = commit_script("R", changes, now=datetime(2027, 1, 1, tzinfo=UTC), names=lambda: "zzzzzz").decode()
    assert "R 2027-01-01T00:00:00Z" in later and "/etc/app/.remediate-zzzzzz" in later
