"""What the command line costs before it does anything: ``--help`` loads no SSH or PostgreSQL library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# Runs the parser as the console script does, then says which heavy libraries got imported.
PROBE = """
import sys
from remediate.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(",".join(sorted(name for name in ("paramiko", "cryptography", "jinja2", "rich", "psycopg") if name in sys.modules)))
"""


@pytest.mark.parametrize(
    "argv", [["--help"], ["apply", "--help"], ["rollback", "--help"], ["runs", "--help"], ["--version"]]
)
def test_help_imports_no_ssh_library(argv: list[str]) -> None:
    result = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True)
    assert "usage:" in result.stdout or "remediate" in result.stdout
    loaded = result.stdout.strip().splitlines()[-1]
    assert "paramiko" not in loaded and "cryptography" not in loaded and "psycopg" not in loaded, loaded


# What a run loads to connect, and what an ssh_config with `Match exec` gets, in a process of its own (the
# test process has imported paramiko, with invoke, long before).
RUN_PROBE = """
import sys
import remediate.cli.apply, remediate.fleet.transport
print("invoke" in sys.modules)
if len(sys.argv) > 1:
    from remediate.fleet.sshconfig import read_ssh_config
    print(read_ssh_config(sys.argv[1]).lookup("web1").get("user", "-"))
"""


def test_a_run_imports_no_invoke_from_paramiko() -> None:
    """paramiko imports Fabric's invoke where it is installed (here: the test extra has Fabric), ~60 ms a start."""
    pytest.importorskip("invoke")  # without it there is nothing to hide
    result = subprocess.run([sys.executable, "-c", RUN_PROBE], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False"]


@pytest.mark.parametrize(("command", "user"), [("true", "matched"), ("false", "-")])
def test_match_exec_still_runs_its_command(tmp_path: Path, command: str, user: str) -> None:
    pytest.importorskip("invoke")
    config = tmp_path / "ssh_config"
    config.write_text(f'Match exec "{command}"\n  User matched\n')
    result = subprocess.run([sys.executable, "-c", RUN_PROBE, str(config)], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", user]  # invoke loaded only for the Match exec
