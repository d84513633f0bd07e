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

from .commit import DEFAULT_BACKUP_ROOT
from .errors import HostError
from .gather import DEFAULT_MAX_FILE_SIZE, gather_script, parse_gather
from .host_apply import ApplyOptions, apply_host
from .journal import Journal
from .model import Host, HostFailure, HostPlan, HostResult, Observed, Plan, Status
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

    def survey(self, targets: Iterable[tuple[Host, tuple[str, ...]]]) -> dict[str, Observed]:
        """Connects to every host and reads all its target files (host, paths) in one command."""
        targets = list(targets)
        observed = parallel_map(self._survey_host, targets, self._forks)
        return {host.name: o for (host, _), o in zip(targets, observed, strict=True)}

    def _survey_host(self, target: tuple[Host, tuple[str, ...]]) -> Observed:
        host, paths = target
        try:
            transport = self._connect(host)
        except HostError as e:
            return HostFailure(Status(e.status), str(e))
        self._transports[host.name] = transport
        try:
            result = transport.run("sh -s", gather_script(paths, self._max_file_size))
            if result.exit_status != 0:
                raise HostError(f"reading files failed (exit {result.exit_status}): {_tail(result.stderr)}")
            return parse_gather(result.stdout, paths, self._max_file_size)
        except HostError as e:
            return HostFailure(Status(e.status), str(e))

    def apply(
        self, plan: Plan, journal: Journal | None = None, options: ApplyOptions | None = None
    ) -> tuple[HostResult, ...]:
        """Writes every host's planned changes, exactly as planned, then verifies (and rolls back) each."""
        options = options or ApplyOptions(backup_root=self._backup_root)

        def one(host_plan: HostPlan) -> HostResult:
            transport = self._transports.get(host_plan.host.name)
            if transport is None:  # never connected: the plan already says why
                return HostResult(host_plan.host.name, host_plan.failure or Status.FAILED, error=host_plan.error)
            return apply_host(transport, plan.run_id, host_plan, journal, options)

        return tuple(parallel_map(one, plan.hosts, self._forks))

    def close(self) -> None:
        transports, self._transports = self._transports, {}
        for transport in transports.values():
            with contextlib.suppress(Exception):  # closing must never hide the run's own outcome
                transport.close()


def _tail(stderr: bytes, limit: int = 300) -> str:
    text = stderr.decode("utf-8", errors="replace").strip()
    return (text[-limit:] if text else "no error output").replace("\n", " | ")
