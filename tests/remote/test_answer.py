"""The answer frame and its parsers, from canned answers: chatter, forged lines, incomplete answers."""

from __future__ import annotations

import base64

import pytest

from remediate.errors import HostError
from remediate.probes.command import CommandProbe
from remediate.remote.answer import BEGIN, END, read_answer
from remediate.remote.commit import parse_commit
from remediate.remote.gather import parse_gather
from remediate.remote.probe import parse_host_probes


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("output", "records", "complete"),
    [
        (f"{BEGIN}\nreplaced 0 -\n{END}\n", ("replaced 0 -",), True),
        (f"Welcome to web1\n{END}\n{BEGIN}\nreplaced 0 -\n{END}\n", ("replaced 0 -",), True),  # chatter first
        (f"{BEGIN}\nreplaced 0 -\n", ("replaced 0 -",), False),  # stopped before its end
        (f"{BEGIN}\n{END}\nreplaced 0 -\n", (END, "replaced 0 -"), False),  # END counts only as the last line
        (f"replaced 0 -\n{END}\n", (), False),  # no BEGIN: not an answer of ours
        ("", (), False),
    ],
)
def test_the_frame(output: str, records: tuple[str, ...], complete: bool) -> None:
    answer = read_answer(output.encode())
    assert (answer.records, answer.complete) == (records, complete)


def test_a_commit_answer_names_what_came_from_the_host_in_base64() -> None:
    stale = "/var/www/html/.remediate-a\ndone"
    outcome = parse_commit(
        f"{BEGIN}\nstale 0 {b64(stale)}\nbackup 0 {b64('/var/backups/remediate/R/x')}\nreplaced 0 -\n{END}\n".encode()
    )
    assert outcome.completed and outcome.stale == (stale,) and outcome.backups == {0: "/var/backups/remediate/R/x"}


@pytest.mark.parametrize(
    "records",
    [
        "stale 0 /var/www/html/.remediate-a\ndone",  # a raw name: the old sweep's forgery
        "replaced 0 -\ndone",  # the old terminator
        "replaced x -",  # no index
        "stale 0 not*base64",
        f"replaced 0 -\n{END}\nreplaced 1 -",  # a second END inside
    ],
)
def test_a_commit_answer_with_a_line_no_script_of_ours_writes_is_unexpected(records: str) -> None:
    outcome = parse_commit(f"{BEGIN}\n{records}\n{END}\n".encode())
    assert not outcome.completed
    assert outcome.unexpected is not None and outcome.unexpected.startswith("unexpected answer from the write: ")
    if "replaced 0" in records:  # what was replaced is still known, for the rollback
        assert 0 in outcome.replaced


def test_a_read_answer_tolerates_a_greeting_and_refuses_an_incomplete_one() -> None:
    record = "0 missing"
    assert parse_gather(f"Welcome\n{BEGIN}\n{record}\n{END}\n".encode(), ["/x"])["/x"].kind.value == "missing"
    with pytest.raises(HostError, match="it stopped before its end"):
        parse_gather(f"{BEGIN}\n{record}\n".encode(), ["/x"])
    with pytest.raises(HostError, match="unexpected answer while reading files: "):
        parse_gather(f"{BEGIN}\n{record}\nhello\n{END}\n".encode(), ["/x"])


def test_a_probe_answer_is_framed_too() -> None:
    probe = CommandProbe("true")
    (result,) = parse_host_probes(f"Welcome\n{BEGIN}\n0 0 {b64('ok')}\n{END}\n".encode(), [probe])
    assert result.ok
    with pytest.raises(HostError, match="they stopped before their end"):
        parse_host_probes(f"{BEGIN}\n0 0 {b64('ok')}\n".encode(), [probe])
    with pytest.raises(HostError, match="unexpected answer from the probes"):
        parse_host_probes(f"{BEGIN}\n0 0 {b64('ok')}\n0 0 raw output\n{END}\n".encode(), [probe])


def test_a_commit_stopped_by_a_signal_says_so_and_what_it_put_back() -> None:
    outcome = parse_commit(f"{BEGIN}\nready 0 -\nreplaced 0 -\nsignal 0 143\nrestored 0 -\n".encode())
    assert (outcome.signal, outcome.ready, outcome.replaced, outcome.restored) == (143, True, (0,), (0,))
    assert not outcome.completed and not outcome.live_changed


def test_a_read_that_takes_the_lock_says_who_holds_it() -> None:
    from remediate.remote.gather import lock_refusal

    held = f"{BEGIN}\nlocked 0 {b64('R1 since 2026-12-03T06:00:00Z')}\n".encode()
    assert lock_refusal(held, 60) == "locked by run R1 since 2026-12-03T06:00:00Z (waited 60 s); not touched"
    with pytest.raises(HostError, match=r"^locked by run R1 since"):
        parse_gather(held, ["/etc/x"])
    refused = f"{BEGIN}\nunlockable 0 {b64('the lock folder /run/remediate is not a folder of the run user alone')}\n"
    assert (
        lock_refusal(refused.encode())
        == "the lock folder /run/remediate is not a folder of the run user alone; not touched"
    )
    assert lock_refusal(f"{BEGIN}\n0 missing\n{END}\n".encode()) is None
