"""A sharded run's work queue on a PostgreSQL journal (issue 20): each Journal here is one worker, a
connection of its own to one database of the test server. No host is written: the queue alone is tested
(tests/acceptance/test_workers.py runs workers on a lab)."""

from __future__ import annotations

import threading
import time
from collections import Counter

import psycopg
import pytest
from postgres import Server

from remediate.journal import Journal
from remediate.journal.work import Claim, HaltCount, Over, QueuedHost
from remediate.model import Host, HostPlan, Status
from remediate.plan.masking import Masker

RUN = "R-sharded"


@pytest.fixture
def url(postgres: Server) -> str:
    return postgres.new_database()


def _reason(count: HaltCount) -> str:
    return f"{count.failed} failed; {count.in_flight} in flight; {count.skipped} skipped"


def _queue(url: str, waves: list[int], allowed: int = 0, failed_at_read: tuple[int, ...] = ()) -> str:
    """Queues one host per item of ``waves`` (its wave), web1 .. webN; returns why it halted, if it did."""
    hosts = []
    for index, wave in enumerate(waves):
        failure = Status.UNREACHABLE if index in failed_at_read else None
        hosts.append(
            QueuedHost(HostPlan(Host(f"web{index + 1}", f"10.0.0.{index + 1}"), failure=failure), wave, wave == 0)
        )
    with Journal(url, Masker()) as journal:
        journal.start_run(RUN, "apply", "pb", "/pb.yml", "0" * 64, "/inv.yml", ["apply", "--workers"])
        journal.record_plan(RUN, [h.plan for h in hosts], ["planned"] * len(hosts))  # as `apply --workers` does
        return journal.work.queue_work(RUN, hosts, str(allowed), allowed, {"rollback": True}, _reason)


def _finish(journal: Journal, worker: str, host: str, failed: bool = False) -> Over | None:
    status = "failed" if failed else "changed"
    return journal.work.finish_work(RUN, worker, (host, "", status, "", ""), failed, _reason)


def test_workers_claiming_at_once_take_every_host_exactly_once(url: str) -> None:
    """Six workers claim a 120-host wave as fast as they can: each host is claimed by one, once. Without
    the claim's row lock two workers would both take a host they read as 'todo' at the same moment."""
    _queue(url, [0] * 120)
    taken: list[str] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        with Journal(url, Masker()) as journal:
            while True:
                claim = journal.work.claim_work(RUN, name, 60)
                if isinstance(claim, Over):
                    return
                if claim is None:
                    time.sleep(0.005)
                    continue
                with lock:
                    taken.append(claim.plan.host.name)
                _finish(journal, name, claim.plan.host.name)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert Counter(taken) == Counter(f"web{i}" for i in range(1, 121))
    with Journal(url, Masker()) as journal:
        assert journal._read("SELECT DISTINCT claims, state FROM work") == [(1, "done")]
        assert journal._read("SELECT status FROM runs") == [("ok",)]


def test_no_host_of_a_wave_is_claimed_before_the_wave_before_is_done(url: str) -> None:
    _queue(url, [0, 1, 1])
    with Journal(url, Masker()) as a, Journal(url, Masker()) as b:
        canary = a.work.claim_work(RUN, "a", 60)
        assert isinstance(canary, Claim) and (canary.plan.host.name, canary.wave, canary.canary) == ("web1", 0, True)
        assert b.work.claim_work(RUN, "b", 60) is None  # the canary is in flight: wave 1 waits
        assert _finish(a, "a", "web1") is None
        second = b.work.claim_work(RUN, "b", 60)
        assert isinstance(second, Claim) and (second.plan.host.name, second.wave, second.canary) == ("web2", 1, False)


def test_one_budget_halts_the_run_in_the_transaction_of_the_result(url: str) -> None:
    """Budget 1 of 5 hosts, one already failed while being read: the next failure halts the run; the host
    in flight then finishes and is counted; the hosts not started are skipped; nothing is claimed after."""
    assert _queue(url, [0] * 5, allowed=1, failed_at_read=(0,)) == ""
    with Journal(url, Masker()) as a, Journal(url, Masker()) as b:
        first, second = a.work.claim_work(RUN, "a", 60), b.work.claim_work(RUN, "b", 60)
        assert isinstance(first, Claim) and isinstance(second, Claim)
        halted = _finish(a, "a", first.plan.host.name, failed=True)
        assert halted == Over("2 failed; 1 in flight; 2 skipped")
        assert b.work.claim_work(RUN, "b", 60) == Over("2 failed; 1 in flight; 2 skipped")
        assert _finish(b, "b", second.plan.host.name, failed=True) == Over("3 failed; 1 in flight; 2 skipped")
        statuses = dict(a._read("SELECT host, status FROM hosts"))
        assert statuses == {
            "web1": "unreachable",
            "web2": "failed",
            "web3": "failed",
            "web4": "skipped",
            "web5": "skipped",
        }
        assert a._read("SELECT status FROM runs") == [("halted",)]


def test_hosts_read_as_failed_that_spend_the_budget_halt_the_run_before_any_claim(url: str) -> None:
    assert _queue(url, [0, 0, 0], allowed=1, failed_at_read=(0, 1)) == "2 failed; 0 in flight; 1 skipped"
    with Journal(url, Masker()) as journal:
        assert journal.work.claim_work(RUN, "a", 60) == Over("2 failed; 0 in flight; 1 skipped")


def test_a_claim_whose_lease_ran_out_is_taken_over_and_the_first_worker_records_nothing(url: str) -> None:
    _queue(url, [0])
    with Journal(url, Masker()) as a, Journal(url, Masker()) as b:
        first = a.work.claim_work(RUN, "a", 0.3)
        assert isinstance(first, Claim) and first.taken_from == "" and first.claims == 1
        assert b.work.claim_work(RUN, "b", 60) is None  # still a's
        a.work.renew_claims(RUN, "a", 0.3)  # alive: a's for 0.3 s more
        assert b.work.claim_work(RUN, "b", 60) is None
        time.sleep(0.5)
        again = b.work.claim_work(RUN, "b", 60)
        assert isinstance(again, Claim) and (again.taken_from, again.claims) == ("a", 2)
        with pytest.raises(Exception, match="ran out and another worker took it over"):
            _finish(a, "a", "web1")
        assert _finish(b, "b", "web1") is None
        assert a._read("SELECT status FROM hosts") == [("changed",)]


def test_a_claim_skips_a_host_another_worker_is_claiming_instead_of_waiting(url: str) -> None:
    """SKIP LOCKED: a row locked by another worker's claim in progress (here a transaction of the test's
    own, held open) is passed over at once for the next host, not waited for."""
    _queue(url, [0, 0])
    with psycopg.connect(url) as other, Journal(url, Masker()) as journal:
        other.execute("SELECT host FROM work WHERE host = 'web1' FOR UPDATE")  # its transaction stays open
        got: list[Claim | Over | None] = []
        claiming = threading.Thread(target=lambda: got.append(journal.work.claim_work(RUN, "b", 60)), daemon=True)
        claiming.start()
        claiming.join(timeout=5)
        alive = claiming.is_alive()
        other.rollback()
        claiming.join()
    assert not alive, "the claim waited for the row another worker holds"
    assert isinstance(got[0], Claim) and got[0].plan.host.name == "web2"
