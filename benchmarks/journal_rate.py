"""How many hosts a second a sharded rollout's journal records: the database's side of `remediate work`
(issue 20) on a real PostgreSQL, with no SSH at all. docs/scale.md's ceiling for W workers comes from it.

    benchmarks/.venv-remediate/bin/python benchmarks/journal_rate.py [--hosts 2000] [--workers 1,4,16]

Run it as root (the server runs as Debian's `postgres` user) on a quiet machine. It starts a PostgreSQL
of its own (the test suite's `tests/postgres.py`: `initdb` in a temporary folder, 127.0.0.1 only,
stopped by its data folder) with the server's own durability settings: fsync on, and every commit waits
for its WAL to reach the disk. For each worker count W it queues a run of N hosts with `apply --workers`'s
code (`Recorder.queue`, each host's plan one file of about the fleet benchmark's size), then starts W
processes, each with its own connection, that do per host what a `remediate work` worker does with the
journal, minus the host itself:

1. claim the next host (`SELECT ... FOR UPDATE SKIP LOCKED`, `WorkerRecorder.claim_next`);
2. record that it is being written, with its backups (`host_writing`);
3. take and release the host's advisory lock (`claim`, `release`);
4. record its result with the run's failure budget, in one transaction (`host_finished`).

The rate is N divided by the time from the first claim to the last result. The results, with the
machine and the PostgreSQL version, go to `benchmarks/results/<date>T<time>-journal.json`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import time
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the test suite's PostgreSQL server (tests/postgres.py)

from remediate.journal import Journal  # noqa: E402
from remediate.journal.work import Claim  # noqa: E402
from remediate.model import Amount, FileChange, Host, HostPlan, HostResult, Plan, RolloutPolicy, Status  # noqa: E402
from remediate.plan.masking import Masker  # noqa: E402
from remediate.plan.waves import allowed_failures, plan_waves  # noqa: E402
from remediate.runs.recorder import Recorder, WorkerRecorder  # noqa: E402
from remediate.runs.work import halt_reason  # noqa: E402
from tests.postgres import postgres_server  # noqa: E402

LEASE = 60.0
FILE_BYTES = 30_000  # about the fleet benchmark's wp-settings.php
WAIT = 0.005  # seconds between two asks while every host of the wave is claimed by others (none here)
POLICY = RolloutPolicy(max_fail=Amount(0))


def host_plan(index: int) -> HostPlan:
    """One host's plan: one file of FILE_BYTES, one line of it changed, as the fleet benchmark's."""
    before = b"x" * (FILE_BYTES - 20) + b"\nrequire 'a.phpp';\n"
    after = before.replace(b".phpp", b".php")
    path = "/var/www/html/wp-settings.php"
    change = FileChange(path, path, ("fix the require line",), before, after, 0o644, 0, 0, before_mode=0o644)
    return HostPlan(Host(f"web{index + 1}", f"10.{index // 65536}.{index // 256 % 256}.{index % 256}"), (change,))


def queue_run(url: str, run_id: str, hosts: int) -> float:
    """The run queued as `apply --workers` queues it; the seconds that took."""
    plan = Plan(run_id, "fix-phpp-bench", "inventory.yml", tuple(host_plan(i) for i in range(hosts)))
    allowed = allowed_failures(POLICY, hosts)
    begun = time.monotonic()
    with Journal(url, Masker()) as journal:
        recorder = Recorder(journal, run_id)
        recorder.start("apply", ("fix-phpp-bench", "fix-phpp-bench.yml", "0" * 64, "inventory.yml"), ["apply"])
        recorder.planned(plan)
        waves = plan_waves([hp.host.name for hp in plan.hosts], POLICY, {})
        reason = halt_reason("0", allowed, hosts, POLICY.names)
        recorder.queue(plan, waves, False, ("0", allowed), {}, reason)
    return time.monotonic() - begun


def work(url: str, run_id: str, number: int, hosts: int, go: Event, results: Any) -> None:
    """One worker's loop over the journal, until the queue has no host left."""
    done = 0
    with Journal(url, Masker()) as journal:
        recorder = WorkerRecorder(journal, run_id, f"bench-{number}", halt_reason("0", 0, hosts, POLICY.names))
        go.wait()
        while True:
            claim = recorder.claim_next(LEASE)
            if claim is None:
                time.sleep(WAIT)
                continue
            if not isinstance(claim, Claim):
                break
            plan = claim.plan
            recorder.host_writing(plan, {c.path: f"/var/backups/remediate/{run_id}{c.path}" for c in plan.changes})
            if recorder.claim(plan.host, 0.0) is not None:
                raise SystemExit(f"worker {number}: {plan.host.name}'s advisory lock is held")
            recorder.release(plan.host)
            backups = f"/var/backups/remediate/{run_id}"
            recorder.host_finished(HostResult(plan.host.name, Status.CHANGED, plan.changes, "", backups))
            done += 1
    results.put((number, done, time.monotonic()))


def measure(url: str, run_id: str, hosts: int, workers: int) -> dict[str, Any]:
    queued_in = queue_run(url, run_id, hosts)
    context = multiprocessing.get_context("fork")
    go, results = context.Event(), context.Queue()
    processes = [context.Process(target=work, args=(url, run_id, n, hosts, go, results)) for n in range(workers)]
    for process in processes:
        process.start()
    time.sleep(1.0)  # every worker connected and waiting
    begun = time.monotonic()
    go.set()
    finished = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
    wall = max(end for _, _, end in finished) - begun
    counts = [done for _, done, _ in finished]
    with Journal(url, Masker()) as journal:
        statuses = [h.status for h in journal.hosts(run_id)]
    return {
        "workers": workers,
        "hosts": hosts,
        "queued_s": round(queued_in, 3),
        "wall_s": round(wall, 3),
        "hosts_per_s": round(hosts / wall, 1),
        "per_worker": counts,
        "recorded_changed": statuses.count("changed"),
    }


def command_output(argv: list[str]) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=2000)
    parser.add_argument("--workers", default="1,4,16", help="worker counts, comma-separated")
    parser.add_argument("--no-save", action="store_true", help="print only: no results file")
    args = parser.parse_args()
    rows = []
    with postgres_server(durable=True) as server:
        psql = ["psql", "-At", "-h", "127.0.0.1", "-p", str(server.port), "-U", "remediate", "-d", "postgres"]
        version = command_output([*psql, "-c", "SHOW server_version"])
        for workers in (int(w) for w in args.workers.split(",")):
            url = server.new_database()
            row = measure(url, f"20261207T000000Z-bench{workers:02d}", args.hosts, workers)
            rows.append(row)
            rate = f"{row['hosts']} hosts in {row['wall_s']:.2f} s = {row['hosts_per_s']:.0f} hosts/s"
            print(
                f"{workers:3d} workers: {rate} (queued in {row['queued_s']:.2f} s; per worker {row['per_worker']};"
                f" {row['recorded_changed']} recorded changed)",
                flush=True,
            )
    result = {
        "benchmark": "journal_rate",
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "postgresql": version,
        "durability": "fsync on, synchronous_commit on (server defaults)",
        "commit": command_output(["git", "-C", str(REPO), "describe", "--always", "--dirty"]),
        "rows": rows,
    }
    if not args.no_save:
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H%M")
        path = REPO / "benchmarks" / "results" / f"{stamp}-journal.json"
        path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"results: {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
