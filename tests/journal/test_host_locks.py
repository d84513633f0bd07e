"""Hosts held across controllers (issue 20): on a PostgreSQL journal a run's claim on a host is a
session-level advisory lock of the journal's connection, with a row naming its holder. Each Journal here is
one controller: a connection of its own to one database of the test server."""

from __future__ import annotations

import getpass
import socket
import threading
import time
from pathlib import Path

import pytest
from postgres import Server

from remediate.journal import Journal, host_key
from remediate.model import Host
from remediate.plan.masking import Masker
from remediate.runs.recorder import Recorder

ME = f"{getpass.getuser()}@{socket.gethostname()}"


@pytest.fixture
def url(postgres: Server) -> str:
    return postgres.new_database()


def test_a_host_one_controller_holds_is_refused_to_another_with_its_holder(url: str) -> None:
    with Journal(url, Masker()) as first, Journal(url, Masker()) as second:
        assert first.shared and second.shared
        assert first.claim_host("R-first", "10.0.0.1", 22) is None
        assert second.claim_host("R-second", "10.0.0.1", 22) == f"R-first ({ME})"
        # The host is its address and port, however an inventory names or writes it.
        assert second.claim_host("R-second", "10.0.0.1.", 22) == f"R-first ({ME})"
        assert second.claim_host("R-second", "10.0.0.1", 2222) is None  # another sshd: another host
        rows = first._read('SELECT host_key, address, run_id, "user", machine FROM host_locks ORDER BY address')
        assert rows == [
            (host_key("10.0.0.1", 22), "10.0.0.1:22", "R-first", getpass.getuser(), socket.gethostname()),
            (host_key("10.0.0.1", 2222), "10.0.0.1:2222", "R-second", getpass.getuser(), socket.gethostname()),
        ]


def test_a_released_host_is_free_and_named_by_no_row(url: str) -> None:
    with Journal(url, Masker()) as first, Journal(url, Masker()) as second:
        assert first.claim_host("R-first", "web.example", 22) is None
        first.release_host("R-first", "web.example", 22)
        assert first._read("SELECT run_id FROM host_locks") == []
        assert second.claim_host("R-second", "WEB.example", 22) is None
        assert first.claim_host("R-first", "web.example", 22) == f"R-second ({ME})"


def test_a_controller_gone_holds_nothing(url: str) -> None:
    """Its connection's end lets go of its locks (a killed controller's too); its row names nobody."""
    first = Journal(url, Masker())
    assert first.claim_host("R-first", "10.0.0.7", 22) is None
    with Journal(url, Masker()) as second:
        assert second.claim_host("R-second", "10.0.0.7", 22) == f"R-first ({ME})"
        first.close()
        assert second.claim_host("R-second", "10.0.0.7", 22) is None
        assert second._read("SELECT run_id FROM host_locks") == [("R-second",)]


def test_a_run_waits_for_a_host_as_long_as_lock_wait_says(url: str) -> None:
    host = Host("web1", "10.0.0.9")
    with Journal(url, Masker()) as first, Journal(url, Masker()) as second:
        holder, waiter = Recorder(first, "R-first"), Recorder(second, "R-second")
        assert holder.claim(host, 0) is None
        begun = time.monotonic()
        assert waiter.claim(host, 0.6) == f"R-first ({ME})"  # waited, then refused
        assert time.monotonic() - begun >= 0.6
        threading.Timer(0.3, holder.release, (host,)).start()
        assert waiter.claim(host, 10) is None  # let go while it waited
        waiter.release(host)


def test_a_journal_of_ones_own_claims_nothing(tmp_path: Path) -> None:
    with Journal(tmp_path / "state", Masker()) as journal:
        assert not journal.shared
        recorder = Recorder(journal, "R-1")
        assert recorder.claim(Host("web1", "10.0.0.1"), 0) is None
        recorder.release(Host("web1", "10.0.0.1"))
        assert journal._read("SELECT count(*) FROM host_locks") == [(0,)]
