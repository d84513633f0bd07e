"""What the command line costs before it does anything: ``--help`` loads no SSH library."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Runs the parser as the console script does, then says which heavy libraries got imported.
PROBE = """
import sys
from remediate.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(",".join(sorted(name for name in ("paramiko", "cryptography", "jinja2", "rich") if name in sys.modules)))
"""


@pytest.mark.parametrize("argv", [["--help"], ["apply", "--help"], ["rollback", "--help"], ["--version"]])
def test_help_imports_no_ssh_library(argv: list[str]) -> None:
    result = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True)
    assert "usage:" in result.stdout or "remediate" in result.stdout
    loaded = result.stdout.strip().splitlines()[-1]
    assert "paramiko" not in loaded and "cryptography" not in loaded, loaded
