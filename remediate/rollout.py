"""Working on many hosts at once: connect and read (survey), then write the plan (apply).

One connection per host is opened by ``survey`` and reused by ``apply``. A host's failure is a value in
the results, never an exception that stops the other hosts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import TypeVar

from .commit import DEFAULT_BACKUP_ROOT, commit_script, parse_commit
from .errors import HostError
from .gather import DEFAULT_MAX_FILE_SIZE, gather_script, parse_gather
from .model import Host, HostFailure, HostPlan, HostResult, HostTarget, Observed, Plan, Status
from .transport import Transport

T = TypeVar("T")
R = TypeVar("R")

Connector = Callable[[Host], Transport]


def parallel_map(function: Callable[[T], R], items: Iterable[T], forks: int) -> list[R]:
    items = list(items)
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(forks, len(items)))) as pool:
        return list(pool.map(function, items))


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

    def survey(self, targets: Iterable[HostTarget]) -> dict[str, Observed]:
        """Connects to every host and reads all its target files in one command."""
        targets = list(targets)
        observed = parallel_map(self._survey_host, targets, self._forks)
        return {t.host.name: o for t, o in zip(targets, observed, strict=True)}

    def _survey_host(self, target: HostTarget) -> Observed:
        try:
            transport = self._connect(target.host)
        except HostError as e:
            return HostFailure(Status(e.status), str(e))
        self._transports[target.host.name] = transport
        paths = target.paths
        try:
            result = transport.run("sh -s", gather_script(paths, self._max_file_size))
            if result.exit_status != 0:
                raise HostError(f"reading files failed (exit {result.exit_status}): {_tail(result.stderr)}")
            return parse_gather(result.stdout, paths, self._max_file_size)
        except HostError as e:
            return HostFailure(Status(e.status), str(e))

    def apply(self, plan: Plan) -> tuple[HostResult, ...]:
        """Writes every host's planned changes, exactly as planned."""
        return tuple(parallel_map(lambda hp: self._apply_host(plan.run_id, hp), plan.hosts, self._forks))

    def _apply_host(self, run_id: str, host_plan: HostPlan) -> HostResult:
        name = host_plan.host.name
        if host_plan.failure is not None:
            return HostResult(name, host_plan.failure, error=host_plan.error)
        if not host_plan.changes:
            return HostResult(name, Status.UNCHANGED)
        transport = self._transports[name]
        try:
            result = transport.run("sh -s", commit_script(run_id, host_plan.changes, self._backup_root))
        except HostError as e:
            return HostResult(name, Status(e.status), error=str(e))
        outcome = parse_commit(result.stdout)
        backup_dir = f"{self._backup_root}/{run_id}" if outcome.backups else ""
        if outcome.completed and result.exit_status == 0:
            return HostResult(name, Status.CHANGED, host_plan.changes, backup_dir=backup_dir)
        replaced = [host_plan.changes[i].path for i in outcome.replaced]
        already = f" (already replaced: {', '.join(replaced)})" if replaced else ""
        if outcome.conflict is not None:
            index, now = outcome.conflict
            change = host_plan.changes[index]
            return HostResult(
                name,
                Status.CONFLICT,
                error=f"{change.path} changed since the plan was made (sha256 {change.before_sha256} "
                f"planned, now {now}); nothing written",
            )
        if outcome.error is not None:
            index, message = outcome.error
            return HostResult(
                name,
                Status.FAILED,
                error=f"{host_plan.changes[index].path}: {message}{already}",
                backup_dir=backup_dir,
            )
        return HostResult(
            name,
            Status.FAILED,
            error=f"writing stopped (exit {result.exit_status}): {_tail(result.stderr)}{already}",
            backup_dir=backup_dir,
        )

    def close(self) -> None:
        transports, self._transports = self._transports, {}
        for transport in transports.values():
            with contextlib.suppress(Exception):  # closing must never hide the run's own outcome
                transport.close()


def _tail(stderr: bytes, limit: int = 300) -> str:
    text = stderr.decode("utf-8", errors="replace").strip()
    return (text[-limit:] if text else "no error output").replace("\n", " | ")
