"""What remediate's scripts cost a host's CPU, without SSH: the read and the write of the benchmark's fix,
run by ``sh -s`` on this machine as sshd would run them, beside reference points. A fleet run here is
bound by CPU that the controller and every host share, so what a script costs a host is most of what a
change to it can win or lose; and this measures that to a fraction of a millisecond, where a fleet run
(bench.py) cannot tell 5% from the machine's own drift.

    .venv/bin/python benchmarks/host_script_cost.py [--runs 60]

With the project's own venv (an editable install), the scripts measured are the checkout's.

Run it as root on a quiet machine (the write runs as root's would: no ``chown``). The file is the lab's
pristine ``wp-settings.php`` with the outage typo, in a folder on tmpfs as the lab hosts' files are; the
lock folder and the backups are in that folder too. Each run, in turn for every case (interleaved, so
that the machine's drift hits all alike), the file is reset, the script runs, and its answer is parsed
as the controller would parse it (a run that did not do its work stops the benchmark). Reported per
case: the mean CPU of the processes (user and system, the shell and everything it started), the median
wall time, and the processes started (pids made on the whole machine, so only exact on a quiet one).

The cases:
- ``sh alone``: the shell, given nothing to do (what every command pays before any of its own work);
- ``one process``: the shell starting ``/bin/true`` (the price of each process a script starts);
- ``read``: the read of a dry-run and of an apply (``gather.gather_script``);
- ``write``: the apply's write (``commit.commit_script``): lock, checks, temporary file, backup, syncs,
  rename, read-back;
- ``perl``, ``perl with modules``: ``perl -e 1``, and perl loading Digest::SHA, Fcntl and IO::Handle,
  what a write done by one perl process would load first (where perl is installed).

The results, with the machine, go to ``benchmarks/results/<date>T<time>-host-script.json``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

from bench import WP_SETTINGS, children_cpu_seconds, fleet_files, last_pid, pids_since  # noqa: E402
from results_file import add_results_options, write_results  # noqa: E402

import remediate  # noqa: E402
from remediate.model import FileChange  # noqa: E402
from remediate.remote.commit import commit_script, parse_commit, random_letters  # noqa: E402
from remediate.remote.gather import gather_script, parse_gather  # noqa: E402

RUN_ID = "20261207T000000Z-bench0"


@dataclass(frozen=True)
class Case:
    name: str
    command: list[str]
    script: bytes  # fed to the command's standard input
    works: Callable[[bytes], bool]  # the answer says the script did its work


def cases(folder: Path, before: bytes, after: bytes, mode: int) -> list[Case]:
    target = str(folder / "www" / "wp-settings.php")
    change = FileChange(
        target, target, ("fix the require line",), before, after, mode, 0, 0,
        before_mode=mode, before_uid=0, before_gid=0,
    )  # fmt: skip
    write = commit_script(
        RUN_ID, [change], backup_root=str(folder / "backups"), lock_dir=str(folder / "lock"), as_root=True,
        now=datetime.datetime.now(datetime.UTC), names=random_letters,
    )  # fmt: skip
    found = [
        Case("sh alone", ["sh", "-s"], b":\n", lambda out: out == b""),
        Case("one process", ["sh", "-s"], b"/bin/true\n", lambda out: out == b""),
        Case(
            "read",
            ["sh", "-s"],
            gather_script([target]),
            lambda out: parse_gather(out, [target])[target].content == before,
        ),
        Case("write", ["sh", "-s"], write, lambda out: parse_commit(out).completed),
    ]
    if shutil.which("perl"):
        found += [
            Case("perl", ["perl", "-e", "1"], b"", lambda out: out == b""),
            Case(
                "perl with modules",
                ["perl", "-MDigest::SHA", "-MFcntl", "-MIO::Handle", "-e", "1"],
                b"",
                lambda out: out == b"",
            ),
        ]
    return found


def reset(folder: Path, data: bytes, mode: int) -> None:
    """The file as the lab has it, and no backup or lock holder of an earlier run."""
    shutil.rmtree(folder / "backups", ignore_errors=True)
    target = folder / "www" / "wp-settings.php"
    target.write_bytes(data)
    os.chown(target, 0, 0)
    os.chmod(target, mode)


def measure(case: Case, folder: Path, data: bytes, mode: int) -> dict[str, float]:
    reset(folder, data, mode)
    pid, cpu, started = last_pid(), children_cpu_seconds(), time.perf_counter()
    done = subprocess.run(case.command, input=case.script, capture_output=True, check=False)
    wall, used, forked = time.perf_counter() - started, children_cpu_seconds() - cpu, pids_since(pid)
    if done.returncode != 0 or not case.works(done.stdout):
        raise SystemExit(
            f"host_script_cost: {case.name} did not do its work (exit {done.returncode}):"
            f" {done.stdout[-300:]!r} {done.stderr[-300:]!r}"
        )
    return {"cpu_s": used, "wall_s": wall, "processes": forked - 1}  # less the command itself, forked by us


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=60, help="runs of each case (default 60)")
    add_results_options(parser)
    args = parser.parse_args()
    if os.geteuid() != 0:
        parser.error("run it as root: the write is measured as a root run's")

    files = fleet_files()
    mode = files.entry.mode
    shm = Path("/dev/shm")  # tmpfs, as the lab hosts' files are: a sync there costs what it costs them
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as scratch:
        folder = Path(scratch)
        (folder / "www").mkdir()
        chosen = cases(folder, files.broken, files.fixed, mode)
        for case in chosen:
            measure(case, folder, files.broken, mode)  # unmeasured: the page cache, the first exec
        runs: dict[str, list[dict[str, float]]] = {case.name: [] for case in chosen}
        for _ in range(args.runs):
            for case in chosen:
                runs[case.name].append(measure(case, folder, files.broken, mode))

    summary = {
        name: {
            "cpu_ms": 1000 * statistics.mean(r["cpu_s"] for r in measured),
            "wall_ms": 1000 * statistics.median(r["wall_s"] for r in measured),
            "processes": statistics.median(r["processes"] for r in measured),
        }
        for name, measured in runs.items()
    }
    for name, values in summary.items():
        print(
            f"{name:18s} cpu {values['cpu_ms']:6.2f} ms  wall {values['wall_ms']:6.2f} ms"
            f"  processes {values['processes']:g}"
        )
    if not args.no_save:
        write_results(
            args.results_dir, "host-script", "host-script-cost",
            {
                "package": str(Path(remediate.__file__).parent),  # the scripts measured are this checkout's
                "file": WP_SETTINGS, "bytes": len(files.broken), "runs_per_case": args.runs,
                "summary": summary, "runs": runs,
            },
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
