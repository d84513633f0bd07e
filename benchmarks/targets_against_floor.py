"""Issue 19's apply targets, from every committed fleet round, as times against the round's own OpenSSH
floor: what the apply would have had to take to be 0.8x pyinfra's and 10x faster than Ansible's, divided
by the floor's time (one ``ssh`` and one ``sed -i`` a host: no lock, no backup, no check, no sync); beside
them remediate's apply, and its apply with the write's safety steps stubbed where the round ran it.

    .venv/bin/python benchmarks/targets_against_floor.py [RESULTS_DIR]

A target at or under 1.0x the floor asks remediate's apply, with its safety steps, to take no longer
than the floor's connection and single command, measured on the same machine in the same round. It reads
only committed results (``results/*-<N>hosts.json`` written by bench.py); it measures nothing.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
sys.path.insert(0, str(RESULTS.parent))

from bench import ASKED_OF_THE_APPLY, results_document, table  # noqa: E402


@dataclass(frozen=True)
class Round:
    """One results file's medians (seconds) of the apply of each tool that ran."""

    name: str
    hosts: int
    repeat: int
    remediate: str  # git describe of the remediate measured
    floor: float
    ours: float
    asked: tuple[float | None, ...]  # what each of bench.ASKED_OF_THE_APPLY asks (None: its tool did not run)
    bound: float | None  # remediate-bare: the apply with its write's safety steps stubbed (bare_write.py)


def read_round(path: Path) -> Round | None:
    """The round of one results file; None for another benchmark's file or a round without the floor."""
    document = results_document(path)
    if document is None:
        return None
    applies = {s["tool"]: float(s["median_s"]) for s in document["summary"] if s["job"] == "apply"}
    if "openssh" not in applies or "remediate" not in applies:
        return None
    return Round(
        path.name, int(document["hosts"]), int(document["repeat"]), str(document["remediate"]["describe"]),
        applies["openssh"], applies["remediate"],
        tuple(None if tool not in applies else factor * applies[tool] for tool, factor, _ in ASKED_OF_THE_APPLY),
        applies.get("remediate-bare"),
    )  # fmt: skip


def rows(rounds: list[Round]) -> list[list[str]]:
    def against_floor(seconds: float | None, floor: float) -> str:
        return "" if seconds is None else f"{seconds:.2f} s ({seconds / floor:.2f}x)"

    return [
        [
            r.name, str(r.hosts), str(r.repeat), r.remediate, f"{r.floor:.2f} s",
            *(against_floor(seconds, r.floor) for seconds in r.asked),
            against_floor(r.ours, r.floor),
            against_floor(r.bound, r.floor),
        ]
        for r in rounds
    ]  # fmt: skip


HEADERS = [
    "results file", "hosts", "reps", "remediate", "floor apply",
    *(label for _, _, label in ASKED_OF_THE_APPLY), "remediate apply", "safety stubbed",
]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="?", type=Path, default=RESULTS, help="results folder (default: committed)")
    args = parser.parse_args()
    rounds = [r for path in sorted(args.results.glob("*hosts.json")) if (r := read_round(path)) is not None]
    if not rounds:
        print(f"targets_against_floor: no fleet round with the OpenSSH floor in {args.results}", file=sys.stderr)
        return 1
    print(table(HEADERS, rows(rounds), set(range(1, len(HEADERS))) - {3}))
    print(
        "(x: times the round's OpenSSH floor. The two columns after the floor: what the apply targets ask for."
        " Safety stubbed: remediate's apply with its write's lock, checks and syncs stubbed, when it ran.)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
