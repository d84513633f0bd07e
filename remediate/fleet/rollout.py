"""Working on many hosts at once: connect and read (survey), then write the plan (apply).

One connection per host is opened by ``survey`` and reused by ``apply``. A host's failure is a value in
the results, never an exception that stops the other hosts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import TypeVar

from remediate.errors import HostError
from remediate.fleet.claims import NO_CLAIMS, HostClaims
from remediate.fleet.host_apply import ApplyOptions, apply_host
from remediate.fleet.observer import RolloutObserver
from remediate.fleet.transport import Transport
from remediate.model import (
    FAILED_STATUSES,
    Amount,
    Halt,
    Host,
    HostFailure,
    HostPlan,
    HostResult,
    Observed,
    Plan,
    RolloutPolicy,
    Status,
)
from remediate.plan.undo import reverse
from remediate.plan.waves import allowed_failures
from remediate.remote.answer import reading_limit
from remediate.remote.commit import DEFAULT_BACKUP_ROOT
from remediate.remote.gather import DEFAULT_MAX_FILE_SIZE, gather_script, lock_refusal, parse_gather
from remediate.remote.hostlock import LockRequest

T = TypeVar("T")
R = TypeVar("R")

Connector = Callable[[Host], Transport]


@dataclass(frozen=True)
class RolloutOutcome:
    results: tuple[HostResult, ...]  # in plan order, every host: the ones never started too
    halt: Halt | None  # why no more hosts were started, counted when the rollout ended; None: it did not halt
    interrupted: bool

    @property
    def halted(self) -> str:
        return self.halt.reason if self.halt else ""


def _failures(results: Iterable[HostResult]) -> int:
    return sum(1 for r in results if r.status.value in FAILED_STATUSES)


def parallel_map(function: Callable[[T], R], items: Iterable[T], forks: int) -> list[R]:
    items = list(items)
    if not items:
        return []
    pool = ThreadPoolExecutor(max_workers=max(1, min(forks, len(items))))
    try:
        results = list(pool.map(function, items))
    except KeyboardInterrupt:
        # Only outside a rollout (whose own handler turns Ctrl-C and SIGTERM into a graceful stop): while
        # hosts are connected or read, which writes nothing. No host starts after it, and the ones in
        # flight are not waited for (a host that never answers would hold the interruption up).
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    except BaseException:
        pool.shutdown(wait=True)
        raise
    pool.shutdown(wait=True)
    return results


class Fleet:
    """The open connections of one run. Use as a context manager: every connection is closed at the end."""

    def __init__(
        self,
        connect: Connector,
        forks: int = 50,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
        backup_root: str = DEFAULT_BACKUP_ROOT,
    ) -> None:
        self._connect = connect
        self._forks = forks
        self._max_file_size = max_file_size
        self._backup_root = backup_root
        self._transports: dict[str, Transport] = {}

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc: object | TracebackType) -> None:
        self.close()

    def survey(
        self, targets: Iterable[tuple[Host, tuple[str, ...]]], lock: LockRequest | None = None
    ) -> dict[str, Observed]:
        """Connects to every host and reads all its target files (host, paths) in one command; with
        ``lock``, under the host's lock, which the write that follows in the same shell keeps."""
        return self.survey_then(targets, lambda host, observed: observed, lock)

    def survey_then(
        self,
        targets: Iterable[tuple[Host, tuple[str, ...]]],
        then: Callable[[Host, Observed], R],
        lock: LockRequest | None = None,
    ) -> dict[str, R]:
        """``survey``, with ``then`` (planning, say) run on each host's answer by the worker that read it,
        while other hosts are still being read, instead of on every answer after the last one came in."""
        targets = list(targets)

        def survey_one(target: tuple[Host, tuple[str, ...]]) -> R:
            return then(target[0], self._survey_host(target, lock))

        done = parallel_map(survey_one, targets, self._forks)
        return {host.name: result for (host, _), result in zip(targets, done, strict=True)}

    def connect_all(self, hosts: Iterable[Host]) -> dict[str, str]:
        """Connects to every host without reading anything: for a plan made earlier. Maps host -> error."""

        def connect(host: Host) -> tuple[str, str]:
            try:
                self._transports[host.name] = self._connect(host)
            except HostError as e:
                return host.name, str(e)
            return host.name, ""

        return dict(parallel_map(connect, hosts, self._forks))

    def _survey_host(self, target: tuple[Host, tuple[str, ...]], lock: LockRequest | None) -> Observed:
        host, paths = target
        try:
            transport = self._connect(host)
        except HostError as e:
            return HostFailure(Status(e.status), str(e))
        self._transports[host.name] = transport
        try:
            # The shell stays open for the commit, which then needs no session of its own.
            locking = lock.shell(host.runs_as_root, datetime.now(UTC)) if lock else ""
            result = transport.run_script(
                gather_script(paths, self._max_file_size, locking),
                stay=True,
                limit=reading_limit(len(paths), self._max_file_size),
            )
            wait = lock.wait if lock else 0.0
            if result.exit_status != 0:
                refusal = lock_refusal(result.stdout, wait)
                raise HostError(refusal or f"reading files failed (exit {result.exit_status}): {result.error_tail}")
            return parse_gather(result.stdout, paths, self._max_file_size, wait)
        except HostError as e:
            return HostFailure(Status(e.status), str(e))

    def apply(
        self,
        plan: Plan,
        observer: RolloutObserver | None = None,
        options: ApplyOptions | None = None,
        claims: HostClaims = NO_CLAIMS,
    ) -> tuple[HostResult, ...]:
        """Every host at once (up to the forks), with no threshold: what a rollback of a run does."""
        policy = RolloutPolicy(forks=self._forks, max_fail=Amount(100, percent=True))
        waves = (tuple(hp.host.name for hp in plan.hosts),)
        return self.rollout(plan, waves, policy, options, observer=observer, claims=claims).results

    def rollout(
        self,
        plan: Plan,
        waves: Sequence[Sequence[str]],
        policy: RolloutPolicy,
        options: ApplyOptions | None = None,
        stop: threading.Event | None = None,
        observer: RolloutObserver | None = None,
        claims: HostClaims = NO_CLAIMS,
    ) -> RolloutOutcome:
        """Writes and verifies the plan wave by wave; a wave starts when the one before has finished.

        The hosts whose plan already failed (refused while being read, or by the planner) count against
        the policy's budget before any host is written, so the outcome never depends on when a worker
        reaches them: if they alone spend it, nothing is written. Once more hosts have failed than the
        policy allows, or ``stop`` is set (the operator's Ctrl-C), no host starts any more; the hosts in
        flight finish, rolling back if they must. Each host's write holds its ``claims`` (a journal shared
        between controllers): one another run holds fails, untouched, and counts like any failure.
        """
        options = options or ApplyOptions(backup_root=self._backup_root)
        stop = stop or threading.Event()
        observer = observer or RolloutObserver()
        by_name = {hp.host.name: hp for hp in plan.hosts}
        wave_of = {name: index for index, wave in enumerate(waves) for name in wave}
        allowed = allowed_failures(policy, len(plan.hosts))
        results: dict[str, HostResult] = {}
        for host_plan in plan.hosts:
            if host_plan.failure is not None:  # never worked on: no wave timing
                name = host_plan.host.name
                results[name] = HostResult(name, host_plan.failure, error=host_plan.error, wave=wave_of.get(name, 0))
                observer.host_finished(results[name])
        failed_at_read = tuple(results)
        counted = threading.Lock()
        halted = threading.Event()
        if len(failed_at_read) > allowed:
            halted.set()
        started: set[str] = set()
        in_flight: set[str] = set()  # started and not finished when the budget ran out

        def work(wave: int, name: str) -> None:
            with counted:  # the check and the start as one step, so the hosts in flight are exact
                if halted.is_set() or stop.is_set():
                    return
                started.add(name)
            begun = time.time()
            result = self._apply_one(plan.run_id, by_name[name], observer, options, claims)
            result = dataclasses.replace(result, wave=wave, started=begun, finished=time.time())
            with counted:
                results[name] = result
                if not halted.is_set() and _failures(results.values()) > allowed:
                    in_flight.update(started - results.keys())
                    halted.set()
            observer.host_finished(result)

        for index, wave in enumerate(waves):
            if halted.is_set() or stop.is_set():
                break
            todo = [name for name in wave if name not in results]
            if not todo:
                continue
            observer.wave_started(index, len(waves), todo)
            parallel_map(lambda name, index=index: work(index, name), todo, policy.forks)  # type: ignore[misc]

        halt = None
        if halted.is_set():
            halt = Halt(
                failed=_failures(results.values()), failed_at_read=failed_at_read, allowed=allowed,
                max_fail=policy.max_fail, total=len(plan.hosts), in_flight=len(in_flight),
                skipped=len(by_name) - len(results), names=policy.names,
            )  # fmt: skip
        for name in by_name:
            if name not in results:
                status = Status.SKIPPED if halt else Status.INTERRUPTED
                why = f"not started: the run halted: {halt.reason}" if halt else "not started: interrupted"
                results[name] = HostResult(name, status, error=why, wave=wave_of.get(name, 0))
                observer.host_not_started(results[name])
        if halt and policy.rollback_on_halt:
            results.update(self._undo_changed(plan, results, observer, options, policy, halt.reason, claims))
        ordered = tuple(results[hp.host.name] for hp in plan.hosts)
        return RolloutOutcome(ordered, halt, stop.is_set() and not halt)

    def _apply_one(
        self, run_id: str, host_plan: HostPlan, observer: RolloutObserver, options: ApplyOptions, claims: HostClaims
    ) -> HostResult:
        transport = self._transports.get(host_plan.host.name)
        if transport is None:  # never connected: the plan already says why
            return HostResult(host_plan.host.name, host_plan.failure or Status.FAILED, error=host_plan.error)
        return apply_host(transport, run_id, host_plan, observer, options, claims)

    def _undo_changed(
        self,
        plan: Plan,
        results: dict[str, HostResult],
        observer: RolloutObserver,
        options: ApplyOptions,
        policy: RolloutPolicy,
        halt_reason: str,
        claims: HostClaims,
    ) -> dict[str, HostResult]:
        """--rollback-on-halt: every host this run changed gets its files back, so the fleet is as it was."""
        changed = [hp for hp in plan.hosts if results[hp.host.name].status == Status.CHANGED]
        undo_options = dataclasses.replace(options, rollback=False, precheck=False, probes_decide=False, undoing=True)

        def undo(host_plan: HostPlan) -> HostResult:
            done = results[host_plan.host.name]
            reverse_plan = HostPlan(
                host_plan.host,
                tuple(reverse(c) for c in done.changes),
                handlers=host_plan.handlers,
                probes=host_plan.probes,
            )
            transport = self._transports[host_plan.host.name]
            # Its own backups, under RUN.halt: not the run's host row (which says how it ended, below).
            outcome = apply_host(
                transport, f"{plan.run_id}.halt", reverse_plan, RolloutObserver(), undo_options, claims
            )
            why = f"rolled back because the run halted ({halt_reason})"
            if outcome.status == Status.CHANGED:
                result = dataclasses.replace(done, status=Status.ROLLED_BACK, error=why, probes=outcome.probes)
            else:
                error = f"{why}; the rollback FAILED: {outcome.error}"
                result = dataclasses.replace(done, status=Status.ROLLBACK_FAILED, error=error)
            observer.host_undone(result)
            return result

        undone = parallel_map(undo, changed, policy.forks)
        return {r.host: r for r in undone}

    def close(self) -> None:
        transports, self._transports = self._transports, {}
        for transport in transports.values():
            with contextlib.suppress(Exception):  # closing must never hide the run's own outcome
                transport.close()
