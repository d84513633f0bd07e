"""The work queue of a sharded run (``apply --workers``, then ``remediate work RUN`` on any machines) in a
PostgreSQL journal: the run's whole plan, claimed host by host.

``apply --workers`` queues every host's plan with its wave and whether that wave is the canary. Each
worker claims one host at a time with ``SELECT ... FOR UPDATE SKIP LOCKED``: workers never wait on one
another's rows and never both get a host. The queue, not a worker, decides what may start, so the
rollout's gates hold across workers:

- a host is claimable only in the lowest wave that still has a host not done: no host of wave k+1 starts
  until every host of wave k has its result (the canary is wave 0);
- the run's one failure budget is counted in the transaction that records a host's result, with the
  run's queue row locked FOR UPDATE; a claim reads that row FOR SHARE, so no claim starts after a halt,
  and the hosts in flight at the halt are exactly the ones claimed then.

A claim is a lease on the database's clock (the controllers' clocks need not agree): its worker renews
it while it works; a worker that is killed stops renewing it, and once it is over another worker takes
the host over.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from remediate.errors import UserError
from remediate.journal.backends import Database
from remediate.journal.rows import HOST_RESULT
from remediate.load.planfile import host_plan_document, host_plan_from_document
from remediate.model import HostPlan, Status
from remediate.plan.masking import Masker

TODO, CLAIMED, DONE, SKIPPED = "todo", "claimed", "done", "skipped"


@dataclass(frozen=True)
class QueuedHost:
    plan: HostPlan
    wave: int
    canary: bool


@dataclass(frozen=True)
class Queue:
    """A queued run as its workers need it: its budget, how its hosts are written, whether it halted."""

    max_fail: str
    allowed: int
    total: int
    options: Mapping[str, Any]
    halted: str  # '' while it has not


@dataclass(frozen=True)
class Claim:
    """A host a worker now holds: its plan, its wave, and the worker that held it before ('' when none:
    a host that is taken over was left by a worker whose lease ran out, killed or cut off)."""

    plan: HostPlan
    wave: int
    canary: bool
    taken_from: str
    claims: int  # how many times the host was claimed, this claim included


@dataclass(frozen=True)
class Over:
    """No host will be claimed any more: every host is done, or the run halted (why, else '')."""

    halted: str


@dataclass(frozen=True)
class HaltCount:
    """The run's counts for its halt's message, as the hosts' rows say them at the time."""

    failed: int
    failed_at_read: tuple[str, ...]
    in_flight: int  # claimed when the budget ran out
    skipped: int  # never started


HaltReason = Callable[[HaltCount], str]


class WorkQueue:
    """The queue's statements, on the journal's connection and under its lock (``write``: one transaction)."""

    def __init__(self, write: Callable[[], AbstractContextManager[Database]], masker: Callable[[], Masker]) -> None:
        self._write = write
        self._masker = masker

    def queue_work(
        self,
        run_id: str,
        hosts: Sequence[QueuedHost],
        max_fail: str,
        allowed: int,
        options: Mapping[str, Any],
        halt_reason: HaltReason,
    ) -> str:
        """Queues the run's plan, in one transaction. A host whose plan failed (refused while being read)
        is done already and counts against the budget; should those alone spend it, the run halts here,
        before any host is claimed: the reason is returned ('' when it did not halt)."""
        masker = self._masker()
        with self._write() as db:
            failed = sum(1 for q in hosts if q.plan.failure is not None)
            db.execute(
                "INSERT INTO work_runs (run_id, max_fail, allowed, total, options, failed, unfinished)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run_id, max_fail, allowed, len(hosts), json.dumps(dict(options)), failed, len(hosts) - failed),
            )
            db.executemany(
                "INSERT INTO work (run_id, host, wave, canary, plan, state, failed) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (run_id, q.plan.host.name, q.wave, int(q.canary), _packed(q.plan, masker),
                     TODO if q.plan.failure is None else DONE, int(q.plan.failure is not None))
                    for q in hosts
                ],
            )  # fmt: skip
            now = time.time()
            for q in hosts:
                if q.plan.failure is not None:
                    row = (q.plan.host.name, q.plan.host.address, q.plan.failure.value, masker.text(q.plan.error))
                    db.execute(HOST_RESULT, (run_id, *row, "", now, now))
            return _count(db, run_id, halt_reason, masker, 0)

    def queued(self, run_id: str) -> Queue | None:
        """The run's queue, or None: the run was not queued for workers."""
        with self._write() as db:
            rows = db.execute(
                "SELECT max_fail, allowed, total, options, halted FROM work_runs WHERE run_id = ?", (run_id,)
            )
        if not rows:
            return None
        max_fail, allowed, total, options, halted = rows[0]
        return Queue(max_fail, int(allowed), int(total), json.loads(options), halted)

    def claim_work(self, run_id: str, worker: str, lease: float) -> Claim | Over | None:
        """The next host ``worker`` may work on, held for ``lease`` seconds; None: none may start now (the
        wave's other hosts are held by other workers), ask again; Over: none ever will."""
        with self._write() as db:
            run = db.execute("SELECT halted FROM work_runs WHERE run_id = ? FOR SHARE", (run_id,))
            if not run:
                raise UserError(f"run {run_id} was not queued for workers (`remediate apply ... --workers`)")
            if run[0][0]:
                return Over(run[0][0])
            wave = db.execute("SELECT min(wave) FROM work WHERE run_id = ? AND state IN ('todo', 'claimed')", (run_id,))
            if wave[0][0] is None:
                return Over("")
            rows = db.execute(
                "SELECT host, plan, canary, state, claimed_by, claims FROM work WHERE run_id = ? AND wave = ?"
                " AND (state = 'todo' OR (state = 'claimed' AND claimed_until < extract(epoch FROM clock_timestamp())))"
                " ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED",
                (run_id, wave[0][0]),
            )
            if not rows:
                return None
            host, plan, canary, state, claimed_by, claims = rows[0]
            db.execute(
                "UPDATE work SET state = 'claimed', claimed_by = ?, claims = claims + 1,"
                " claimed_until = extract(epoch FROM clock_timestamp())::float8 + ?::float8"
                " WHERE run_id = ? AND host = ?",
                (worker, lease, run_id, host),
            )
        taken_from = claimed_by if state == CLAIMED else ""
        return Claim(_unpacked(plan, run_id), int(wave[0][0]), bool(canary), taken_from, int(claims) + 1)

    def renew_claims(self, run_id: str, worker: str, lease: float) -> None:
        """The worker is alive: every host it holds is held ``lease`` seconds more."""
        with self._write() as db:
            db.execute(
                "UPDATE work SET claimed_until = extract(epoch FROM clock_timestamp())::float8 + ?::float8"
                " WHERE run_id = ? AND claimed_by = ? AND state = 'claimed'",
                (lease, run_id, worker),
            )

    def finish_work(
        self,
        run_id: str,
        worker: str,
        row: tuple[str, str, str, str, str],
        failed: bool,
        halt_reason: HaltReason,
    ) -> Over | None:
        """The host's result (``row``: host, address, status, error, backup folder) and the run's budget, in
        one transaction: Over (halted: why) when the run halted, at this host or before; None when it
        goes on. A worker whose claim was taken over (its lease ran out) records nothing: the host is the
        other worker's now."""
        host, address, status, error, backup_dir = row
        masker = self._masker()
        with self._write() as db:
            db.execute("SELECT run_id FROM work_runs WHERE run_id = ? FOR UPDATE", (run_id,))
            held = db.execute(
                "UPDATE work SET state = 'done', failed = ?, claimed_until = NULL"
                " WHERE run_id = ? AND host = ? AND claimed_by = ? AND state = 'claimed' RETURNING host",
                (int(failed), run_id, host, worker),
            )
            if not held:
                raise ClaimLost(f"{host}: the claim of worker {worker} ran out and another worker took it over")
            now = time.time()
            db.execute(HOST_RESULT, (run_id, host, address, status, masker.text(error), backup_dir, now, now))
            halted = _count(db, run_id, halt_reason, masker, 1, failed)
        return Over(halted) if halted else None


class ClaimLost(UserError):
    """A worker's lease on a host ran out before its result: the host was taken over by another worker."""


def _count(db: Database, run_id: str, halt_reason: HaltReason, masker: Masker, done: int, failed: bool = False) -> str:
    """The budget, counted in the caller's transaction after ``done`` hosts finished (``failed``: the one
    that did counts against it): the run halts once more hosts failed than it allows (its hosts not
    started are skipped), and ends once every host is done. Returns why it halted ('': it did not)."""
    db.execute(
        "UPDATE work_runs SET failed = failed + ?, unfinished = unfinished - ? WHERE run_id = ?",
        (int(failed), done, run_id),
    )
    rows = db.execute(
        "SELECT allowed, halted, failed, unfinished, in_flight, skipped FROM work_runs WHERE run_id = ?", (run_id,)
    )
    allowed, halted, failures, unfinished, in_flight, skipped = rows[0]
    now = time.time()
    if not halted and failures <= allowed:
        if not unfinished:
            status = "failed" if failures else "ok"
            db.execute("UPDATE runs SET finished = ?, status = ? WHERE run_id = ?", (now, status, run_id))
        return ""
    if not halted:
        skipped = len(
            db.execute(
                "UPDATE work SET state = 'skipped' WHERE run_id = ? AND state = 'todo' RETURNING host", (run_id,)
            )
        )
        in_flight = unfinished - skipped
        db.execute(
            "UPDATE work_runs SET in_flight = ?, skipped = ?, unfinished = ? WHERE run_id = ?",
            (in_flight, skipped, in_flight, run_id),
        )
        db.execute("UPDATE runs SET finished = ?, status = 'halted' WHERE run_id = ?", (now, run_id))
    read = db.execute("SELECT host FROM work WHERE run_id = ? AND failed = 1 AND claims = 0 ORDER BY seq", (run_id,))
    # Counted again at each host's result after the halt, so the message says what the statuses say in the
    # end (the hosts in flight at the halt may fail after it).
    reason = halt_reason(HaltCount(int(failures), tuple(r[0] for r in read), int(in_flight), int(skipped)))
    db.execute("UPDATE work_runs SET halted = ? WHERE run_id = ?", (reason, run_id))
    db.execute(
        "UPDATE hosts SET status = ?, error = ?, finished = ? WHERE run_id = ?"
        " AND host IN (SELECT host FROM work WHERE run_id = ? AND state = 'skipped')",
        (Status.SKIPPED.value, masker.text(f"not started: the run halted: {reason}"), now, run_id, run_id),
    )
    return reason


def _packed(plan: HostPlan, masker: Masker) -> bytes:
    return zlib.compress(json.dumps(host_plan_document(plan, masker)).encode())


def _unpacked(data: bytes, run_id: str) -> HostPlan:
    return host_plan_from_document(json.loads(zlib.decompress(data)), f"run {run_id}'s queued plan")
