"""A sharded rollout, as two use cases: ``queue`` (``apply --workers``: the planned run goes into a shared
journal, nothing is written) and ``work`` (``remediate work RUN``: one of any number of workers, on any
machines, claiming the run's hosts from that journal and applying each one as ``apply`` does).

The journal's work queue (journal/work.py) keeps the canary, each wave's gate and the one failure budget
across workers; each host is written by ``fleet.host_apply`` as in any run, whose compare-and-swap on
the host refuses a plan the host no longer matches.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import socket
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.console import Console

from remediate.errors import EXIT_HOST_FAILED, EXIT_INTERRUPTED, EXIT_OK, UserError
from remediate.fleet.host_apply import ApplyOptions
from remediate.fleet.rollout import parallel_map
from remediate.journal import who
from remediate.journal.work import Claim, HaltCount, HaltReason, Over, Queue
from remediate.model import (
    OK_STATUSES,
    Halt,
    HostFailure,
    HostResult,
    Plan,
    RolloutPolicy,
    SettingNames,
    Status,
)
from remediate.plan.masking import Masker
from remediate.plan.takeover import written_already
from remediate.plan.waves import allowed_failures, parse_amount, plan_waves
from remediate.report.progress import host_line
from remediate.runs.apply import fleet_for, graceful_interruption
from remediate.runs.options import ConnectionOptions, RunOptions
from remediate.runs.recorder import Recorder, WorkerRecorder
from remediate.runs.session import confirmed

DEFAULT_LEASE = 60.0  # seconds a claim lasts unless its worker renews it (three times a lease)
POLL = 0.5  # seconds between two asks while every claimable host of the wave is held by other workers


@dataclass(frozen=True)
class WorkerOptions:
    forks: int = 10  # hosts this worker works on at once
    lease: float = DEFAULT_LEASE


def queue(
    run: RunOptions,
    writing: ApplyOptions,
    console: Console,
    recorder: Recorder,
    plan: Plan,
    policy: RolloutPolicy,
    groups: Mapping[str, Sequence[str]],
    masker: Masker,
) -> int:
    """Confirms, then puts the whole plan in the journal for ``remediate work RUN``; writes no host."""
    _check_no_secret(plan, masker)
    if not confirmed(run, console, recorder, plan, "Queue changes to {count} host(s) for workers? [y/N] ", "queued"):
        return EXIT_HOST_FAILED
    waves = plan_waves([hp.host.name for hp in plan.hosts], policy, groups)
    allowed = allowed_failures(policy, len(plan.hosts))
    recorder.planned(plan)
    halted = recorder.queue(
        plan, waves, bool(policy.canary or policy.canary_group), (str(policy.max_fail), allowed),
        dataclasses.asdict(writing), halt_reason(str(policy.max_fail), allowed, len(plan.hosts), policy.names),
    )  # fmt: skip
    if run.json:  # on stdout, beside the text on stderr
        document = {"run_id": plan.run_id, "queued": len(plan.hosts), "waves": [len(w) for w in waves],
                    "allowed": allowed, "halted": halted}  # fmt: skip
        print(json.dumps(document, indent=2))
    if halted:
        console.print(f"halted: {halted}", markup=False)
        return EXIT_HOST_FAILED
    sizes = ", ".join(str(len(wave)) for wave in waves)
    console.print(
        f"run {plan.run_id}: {len(plan.hosts)} host(s) queued for workers in {len(waves)} wave(s) ({sizes}),"
        f" at most {allowed} may fail ({policy.names.max_fail} {policy.max_fail})"
    )
    console.print(f"start workers, on any machines that reach this journal: remediate work {plan.run_id}")
    return EXIT_OK


def _check_no_secret(plan: Plan, masker: Masker) -> None:
    """The journal never holds a secret, and the queue would have to: its workers write the plan's bytes."""
    for hp in plan.hosts:
        texts = [*hp.handlers, *(repr(p) for p in hp.probes)]
        contents = [c.after for c in hp.changes if not c.delete]
        if any(masker.text(t) != t for t in texts) or any(masker.holds_secret(b) for b in contents):
            raise UserError(
                f"--workers: host {hp.host.name}'s plan holds a secret value, which the journal never keeps"
                " (its workers would write it from there): apply this playbook without --workers"
            )


def halt_reason(max_fail: str, allowed: int, total: int, names: SettingNames) -> HaltReason:
    """The halt's message from the queue's counts, worded as a halt of any rollout."""

    def reason(count: HaltCount) -> str:
        return Halt(
            count.failed, count.failed_at_read, allowed, parse_amount(max_fail, names.max_fail), total,
            count.in_flight, count.skipped, names,
        ).reason  # fmt: skip

    return reason


def worker_name() -> str:
    """How a worker is named in its claims: who, on which machine, which process (and a few letters, as a
    process id is used again)."""
    return f"{who()}@{socket.gethostname()}:{os.getpid()}.{secrets.token_hex(2)}"


def work(
    recorder: WorkerRecorder, queued: Queue, connection: ConnectionOptions, options: WorkerOptions, console: Console
) -> int:
    """Claims the run's hosts one at a time (``options.forks`` at once) until none is left or the run
    halted; each is applied and its result recorded with the run's budget. Its claims are renewed a
    third of a lease apart while it works, so only a worker that stopped loses them."""
    if options.forks < 1:
        raise UserError("--forks must be at least 1")
    if options.lease <= 0:
        raise UserError("--lease must be more than 0 seconds")
    writing = ApplyOptions(**queued.options)
    stop = threading.Event()
    done = threading.Event()
    results: list[HostResult] = []

    def renew() -> None:
        while not done.wait(options.lease / 3):
            recorder.renew(options.lease)

    def loop(_: int) -> None:
        while not stop.is_set():
            claim = recorder.claim_next(options.lease)
            if isinstance(claim, Over):
                return
            if claim is None:
                stop.wait(POLL)
                continue
            result = _apply_claim(recorder, claim, connection, writing, console)
            if result is not None:
                results.append(result)

    heartbeat = threading.Thread(target=renew, name="remediate-work-lease", daemon=True)
    heartbeat.start()
    try:
        with graceful_interruption(console, stop):
            parallel_map(loop, range(options.forks), options.forks)
    finally:
        done.set()
    return _report(console, recorder, results, stop.is_set())


def _apply_claim(
    recorder: WorkerRecorder, claim: Claim, connection: ConnectionOptions, writing: ApplyOptions, console: Console
) -> HostResult | None:
    """One claimed host, written as ``apply`` writes it; its result is recorded by ``recorder``. A host
    taken over from a worker whose claim ran out is read first: that worker may have written it."""
    host_plan, name = claim.plan, claim.plan.host.name
    with fleet_for(connection, 1) as fleet:
        if claim.taken_from:
            observed = fleet.survey([(host_plan.host, tuple(c.path for c in host_plan.changes))])[name]
            if isinstance(observed, HostFailure):
                return _record(recorder, console, HostResult(name, observed.status, error=observed.error))
            if written_already(host_plan, observed):
                # Recorded once, as the write it was: the files' rows and backups are the first worker's.
                error = (
                    f"taken over from worker {claim.taken_from}, whose claim ran out: it had written the host"
                    " (every file holds the planned content); not written again"
                )
                backups = f"{writing.backup_root}/{recorder.run_id}"
                return _record(recorder, console, HostResult(name, Status.CHANGED, host_plan.changes, error, backups))
        elif problem := fleet.connect_all([host_plan.host]).get(name):
            return _record(recorder, console, HostResult(name, Status.UNREACHABLE, error=problem))
        # A host taken over keeps its backups apart, as a halt's rollback does (RUN.halt): the killed
        # worker may have made the run's own (each is created exclusively) without replacing anything.
        backups = f"{recorder.run_id}.takeover-{claim.claims}" if claim.taken_from else recorder.run_id
        plan = Plan(backups, "", "", (host_plan,))
        try:
            (result,) = fleet.apply(plan, recorder, writing, recorder)
        except UserError as e:  # the claim ran out under it: the host is another worker's now
            console.print(f"{name}: {e}")
            return None
    _show(console, result)
    return result


def _record(recorder: WorkerRecorder, console: Console, result: HostResult) -> HostResult | None:
    try:
        recorder.host_finished(result)
    except UserError as e:
        console.print(f"{result.host}: {e}")
        return None
    _show(console, result)
    return result


def _show(console: Console, result: HostResult) -> None:
    """The host's line as a rollout prints it; nothing to mask: a queued plan holds no secret."""
    console.print(host_line(result, Masker()))


def _report(console: Console, recorder: WorkerRecorder, results: Sequence[HostResult], interrupted: bool) -> int:
    counts = Counter(r.status.value for r in results)
    tally = ", ".join(f"{count} {status}" for status, count in sorted(counts.items())) or "no host"
    console.print(f"worker {recorder.worker}: {tally}")
    halted = recorder.journal.work.queued(recorder.run_id)
    if halted is not None and halted.halted:
        console.print(f"halted: {halted.halted}", markup=False)
        return EXIT_HOST_FAILED
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if all(r.status in OK_STATUSES for r in results) else EXIT_HOST_FAILED
