"""What a rollout tells as it goes: one interface for the progress display and the journal's recorder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from remediate.model import HostPlan, HostResult


class RolloutObserver:
    """What a rollout tells as it goes, from its worker threads: to the progress display, and to the
    recorder (runs/recorder), the one writer of the journal's host rows. Every method does nothing here;
    an observer overrides those it needs."""

    def wave_started(self, index: int, count: int, hosts: Sequence[str]) -> None:
        """A wave's hosts are about to start."""

    def host_writing(self, plan: HostPlan, backups: Mapping[str, str]) -> None:
        """The host's files are about to be written (each original's backup path by file): said before
        anything is touched, so that a controller killed now leaves a journal to roll back from."""

    def host_finished(self, result: HostResult) -> None:
        """A host that started has its outcome (written, unchanged, failed, rolled back, ...)."""

    def host_not_started(self, result: HostResult) -> None:
        """A host the rollout never started (it halted, or was interrupted), with why."""

    def host_undone(self, result: HostResult) -> None:
        """A host changed by this run was put back because the run halted (``rollback_on_halt``)."""


class Observers(RolloutObserver):
    """Several observers told the same, in order (the progress display and the recorder)."""

    def __init__(self, *observers: RolloutObserver) -> None:
        self._observers = observers

    def wave_started(self, index: int, count: int, hosts: Sequence[str]) -> None:
        for observer in self._observers:
            observer.wave_started(index, count, hosts)

    def host_writing(self, plan: HostPlan, backups: Mapping[str, str]) -> None:
        for observer in self._observers:
            observer.host_writing(plan, backups)

    def host_finished(self, result: HostResult) -> None:
        for observer in self._observers:
            observer.host_finished(result)

    def host_not_started(self, result: HostResult) -> None:
        for observer in self._observers:
            observer.host_not_started(result)

    def host_undone(self, result: HostResult) -> None:
        for observer in self._observers:
            observer.host_undone(result)
