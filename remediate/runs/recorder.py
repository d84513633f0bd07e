"""The journal's one writer: a run's start, each host's row as the rollout tells it, the run's end.

Every other module reads the journal (``runs``, ``show``, a rollback's plan) or tells this recorder what
happened: the rollout and each host's write through the ``RolloutObserver`` interface, the use cases
through the methods below. So a host's row is written at one point per event, whichever path the run
took (a dry-run, an apply, an apply of a plan file, a rollback), and ``tests/test_architecture.py``
checks that nothing else calls the journal's writing methods.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from remediate.fleet.claims import HostClaims
from remediate.fleet.observer import RolloutObserver
from remediate.journal import Journal
from remediate.journal.work import Claim, HaltReason, Over, QueuedHost
from remediate.model import FAILED_STATUSES, Host, HostPlan, HostResult, Plan

CLAIM_POLL = 0.5  # seconds between two tries for a host another run holds, while --lock-wait lasts


class Recorder(RolloutObserver, HostClaims):
    """Records one run in ``journal``. The run is finished there whatever ends it: by ``finish``, or, when
    an error or an interruption ends it first, as ``failed`` or ``interrupted`` by the journal's own exit.

    It is also the run's claims on its hosts (``HostClaims``): with a journal shared between controllers
    (PostgreSQL) each host written is held there, with its holder's row; with SQLite, nothing at all."""

    def __init__(self, journal: Journal, run_id: str) -> None:
        self.journal = journal
        self.run_id = run_id
        self._addresses: dict[str, str] = {}  # host name -> address, from the plan: a result names the host only

    def start(
        self,
        kind: str,
        about: tuple[str, str, str, str],
        arguments: Sequence[str],
        rollback_of: str | None = None,
        resume_of: str | None = None,
    ) -> None:
        """``about``: the playbook's name, path and sha256, and the inventory, as the journal keeps them."""
        self.journal.start_run(self.run_id, kind, *about, arguments, rollback_of, resume_of)

    def planned(self, plan: Plan) -> None:
        """The plan the run works from, before any host is written: every host's row ("planned") with the
        files it is to get, so a host the run never starts can be resumed with exactly this plan."""
        self._addresses.update({hp.host.name: hp.host.address for hp in plan.hosts})
        self.journal.record_plan(self.run_id, plan.hosts, ["planned"] * len(plan.hosts))

    def dry_run(self, plan: Plan) -> None:
        """A dry-run's rows: each host as its plan left it, with the files it would change."""
        self._addresses.update({hp.host.name: hp.host.address for hp in plan.hosts})
        self.journal.record_plan(self.run_id, plan.hosts, [hp.status.value for hp in plan.hosts])

    def finish(self, status: str) -> None:
        self.journal.finish_run(self.run_id, status)

    def queue(
        self,
        plan: Plan,
        waves: Sequence[Sequence[str]],
        canary: bool,
        budget: tuple[str, int],
        options: Mapping[str, Any],
        halt_reason: HaltReason,
    ) -> str:
        """``apply --workers``: the planned run goes to its workers, each host with its wave (the first is
        the canary when ``canary``), the run's ``budget`` (max_fail as given, the hosts it allows to
        fail) and how a host is written. Returns why it halted already ('' when it did not)."""
        wave_of = {name: index for index, wave in enumerate(waves) for name in wave}
        queued = [QueuedHost(hp, wave_of[hp.host.name], canary and wave_of[hp.host.name] == 0) for hp in plan.hosts]
        return self.journal.work.queue_work(self.run_id, queued, *budget, options, halt_reason)

    # --- what the rollout tells -------------------------------------------------------------------------

    def host_writing(self, plan: HostPlan, backups: Mapping[str, str]) -> None:
        self._addresses[plan.host.name] = plan.host.address
        self.journal.record_host_plan(self.run_id, plan, "writing", backups)

    def host_finished(self, result: HostResult) -> None:
        self._row(result)

    def host_not_started(self, result: HostResult) -> None:
        self._row(result)

    def host_undone(self, result: HostResult) -> None:
        self._row(result)

    def _row(self, result: HostResult) -> None:
        address = self._addresses.get(result.host, "")
        self.journal.record_host(self.run_id, result.host, address, result.status, result.error, result.backup_dir)

    # --- holding each host while it is written (HostClaims) ---------------------------------------------

    def claim(self, host: Host, wait: float) -> str | None:
        if not self.journal.shared:
            return None
        deadline = time.monotonic() + max(wait, 0.0)
        while (holder := self.journal.claim_host(self.run_id, host.address, host.port)) is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                return holder
            time.sleep(min(CLAIM_POLL, left))
        return None

    def release(self, host: Host) -> None:
        if self.journal.shared:
            self.journal.release_host(self.run_id, host.address, host.port)


class WorkerRecorder(Recorder):
    """A worker's recorder (``remediate work RUN``): the hosts it claims from the run's queue, and each one's
    result recorded with the run's failure budget in one transaction (the journal's work queue)."""

    def __init__(self, journal: Journal, run_id: str, worker: str, halt_reason: HaltReason) -> None:
        super().__init__(journal, run_id)
        self.worker = worker  # user@machine:pid, as the queue's claims name it
        self._halt_reason = halt_reason
        self.halted = ""  # why the run halted, once a result of this worker's found it halted

    def claim_next(self, lease: float) -> Claim | Over | None:
        claim = self.journal.work.claim_work(self.run_id, self.worker, lease)
        if isinstance(claim, Claim):
            self._addresses[claim.plan.host.name] = claim.plan.host.address
        return claim

    def renew(self, lease: float) -> None:
        self.journal.work.renew_claims(self.run_id, self.worker, lease)

    def host_finished(self, result: HostResult) -> None:
        row = (result.host, self._addresses.get(result.host, ""), result.status.value, result.error, result.backup_dir)
        failed = result.status.value in FAILED_STATUSES
        over = self.journal.work.finish_work(self.run_id, self.worker, row, failed, self._halt_reason)
        if over is not None:
            self.halted = over.halted
