"""The layers of the package (pyproject.toml's import contracts, docs/architecture.md) hold, and would
catch a change that breaks them: each contract is run on a copy of the package with one bad import."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root, capture_output=True, text=True, check=False, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def test_the_package_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("plan/diff.py", "import remediate.fleet.transport", "Layers"),  # a pure layer reaching the SSH edge
        ("model.py", "import remediate.plan.waves", "Layers"),  # a foundation importing a layer
        ("plan/planner.py", "import subprocess", "plan/ does no I/O"),
        ("actions/lines.py", "import sqlite3", "plan/ does no I/O"),
        ("fleet/rollout.py", "import remediate.lab.fleet", "The lab is imported by nothing"),
        ("plan/masking.py", "import remediate.plan.secret_lines", "No import cycles"),
        ("runs/session.py", "import argparse", "Only the CLI sees argparse"),  # a use case reading the flags
        ("plan/waves.py", "from argparse import Namespace", "Only the CLI sees argparse"),
        ("fleet/host_apply.py", "import remediate.journal", "The journal is opened by the CLI"),  # a second writer
    ],
)
def test_a_bad_import_breaks_its_contract(tmp_path: Path, module: str, line: str, broken: str) -> None:
    shutil.copytree(ROOT / "remediate", tmp_path / "remediate", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    path = tmp_path / "remediate" / module
    text = path.read_text()
    # After the module's docstring and its __future__ import, where an import goes.
    path.write_text(
        text.replace("from __future__ import annotations\n", f"from __future__ import annotations\n{line}\n", 1)
    )
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout[-3000:]
    assert broken in broken_contracts(result.stdout), result.stdout[-3000:]
    # The copy as it was keeps them all: the one line broke it.
    path.write_text(text)
    assert lint_imports(tmp_path).returncode == 0


def broken_contracts(report: str) -> str:
    """The names of the contracts lint-imports reports broken (a name may wrap over lines there)."""
    summary = " ".join(report.split("Broken contracts")[0].split())
    verdicts = re.findall(r"([^.]*?) (KEPT|BROKEN)(?: \(\d+ ignored imports?\))?", summary.split("dependencies.")[-1])
    return " | ".join(name.strip(" -") for name, verdict in verdicts if verdict == "BROKEN")


JOURNAL_WRITES = {
    "start_run",
    "finish_run",
    "record_host",
    "record_host_plan",
    "record_plan",
    "claim_host",
    "release_host",
    "queue_work",
    "claim_work",
    "renew_claims",
    "finish_work",
}


def test_only_the_recorder_writes_the_journal() -> None:
    """Every call of a journal's writing methods in the package is in runs/recorder.py (or the store's own)."""
    writers = []
    for path in sorted((ROOT / "remediate").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in JOURNAL_WRITES:
                writers.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.func.attr}")
    assert writers and all(w.startswith(("remediate/runs/recorder.py:", "remediate/journal/")) for w in writers), (
        writers
    )
    assert {w.split()[1] for w in writers if w.startswith("remediate/runs/recorder.py")} == JOURNAL_WRITES
