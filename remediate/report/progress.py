"""Live progress of a rollout: a bar per wave on a terminal, one plain line per host otherwise.

Either way each failure is printed as it happens, with its host and reason. Called from worker threads.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from remediate.fleet.observer import RolloutObserver
from remediate.model import FAILED_STATUSES, HostResult, Status
from remediate.plan.masking import Masker
from remediate.report.text import STATUS_STYLE

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

_COUNTED = (Status.CHANGED, Status.UNCHANGED, Status.FAILED, Status.ROLLED_BACK)


def wave_label(index: int, count: int, has_canary: bool) -> str:
    if has_canary and index == 0:
        return "canary"
    number = index if has_canary else index + 1
    total = count - 1 if has_canary else count
    return f"wave {number}/{total}"


def host_line(result: HostResult, masker: Masker) -> Text:
    """A host's line when it ends: its status, and its error's first line (a validator's output from the
    host may run to many; the journal keeps all of it)."""
    line = Text(f"{result.host}: ", style="bold") + Text(result.status.value, style=STATUS_STYLE[result.status])
    if result.error:
        line += Text(f": {masker.text(result.error.splitlines()[0])}")
    return line


class RolloutProgress(RolloutObserver):
    """Use as a context manager around the rollout; it is the rollout's observer."""

    def __init__(self, console: Console, has_canary: bool, masker: Masker) -> None:
        self._console = console
        self._masker = masker
        self._has_canary = has_canary
        self._lock = threading.Lock()
        self._counts: Counter[Status] = Counter()
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        if console.is_terminal:
            # Imported only for a terminal: the plain lines of a log or a pipe need none of it.
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[counts]}"),
                TimeElapsedColumn(),
                console=console,
            )

    def __enter__(self) -> RolloutProgress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()

    def wave_started(self, index: int, count: int, hosts: Sequence[str]) -> None:
        label = wave_label(index, count, self._has_canary)
        with self._lock:
            self._counts = Counter()
            if self._bar is not None:
                self._task = self._bar.add_task(label, total=len(hosts), counts="")
            else:
                self._console.print(f"{label}: {len(hosts)} host(s)", highlight=False)

    def host_finished(self, result: HostResult) -> None:
        with self._lock:
            self._counts[result.status] += 1
            failed = result.status.value in FAILED_STATUSES
            line = host_line(result, self._masker)
            if self._bar is not None:
                if self._task is not None:  # None for a host whose plan failed: told before any wave starts
                    counts = "  ".join(f"{s.value.replace('_', ' ')} {self._counts[s]}" for s in _COUNTED)
                    self._bar.update(self._task, advance=1, counts=counts)
                if failed:
                    self._bar.console.print(line)
            else:
                # A log or a pipe gets the plain line as it is, without rich's rendering pipeline (about
                # 0.1 ms a line, in a fleet's one interpreter while the other hosts' writes wait on it).
                stream = self._console.file
                stream.write(line.plain + "\n")
                stream.flush()
