"""A small benchmark's results file: ``results/<date>T<time>-<suffix>.json``, starting with what every such
file records (the benchmark, the checkout, Python and the kernel), then the benchmark's own fields."""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "benchmarks" / "results"


def add_results_options(parser: argparse.ArgumentParser) -> None:
    """--results-dir and --no-save."""
    parser.add_argument("--results-dir", default=str(RESULTS_DIR))
    parser.add_argument("--no-save", action="store_true", help="do not write the JSON results")


def git_describe() -> str:
    done = subprocess.run(
        ["git", "-C", str(REPO), "describe", "--always", "--dirty"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip()


def write_results(results_dir: str, suffix: str, benchmark: str, fields: dict[str, Any]) -> Path:
    now = datetime.datetime.now(datetime.UTC)
    results = {
        "benchmark": benchmark,
        "remediate": git_describe(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        **fields,
    }
    path = Path(results_dir) / f"{now:%Y-%m-%dT%H%M}-{suffix}.json"
    path.write_text(json.dumps(results, indent=1) + "\n")
    print(f"results: {path}")
    return path
