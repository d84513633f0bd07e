"""Canary, batches and the failure threshold, as pure functions."""

from __future__ import annotations

import pytest

from remediate.errors import UserError
from remediate.model import Amount, Halt, RolloutPolicy, SettingNames
from remediate.plan.waves import allowed_failures, parse_amount, parse_batches, plan_waves

HOSTS = [f"web{i}" for i in range(1, 21)]
GROUPS = {"canary": ["web7", "web3"], "db": []}


@pytest.mark.parametrize(
    ("policy", "sizes"),
    [
        (RolloutPolicy(), [20]),
        (RolloutPolicy(canary=1), [1, 19]),
        (RolloutPolicy(canary=1, batches=parse_batches("25%,100%")), [1, 5, 14]),
        (RolloutPolicy(batches=parse_batches("10%,50%,100%")), [2, 10, 8]),
        (RolloutPolicy(batches=parse_batches("1,5")), [1, 5, 5, 5, 4]),  # the last size repeats
        (RolloutPolicy(canary=2, batches=parse_batches("1%")), [2] + [1] * 18),  # at least one host a wave
    ],
)
def test_wave_sizes(policy: RolloutPolicy, sizes: list[int]) -> None:
    waves = plan_waves(HOSTS, policy, GROUPS)
    assert [len(w) for w in waves] == sizes
    assert [h for w in waves for h in w] == HOSTS  # every host once, in inventory order


def test_canary_group_takes_its_members_in_inventory_order() -> None:
    waves = plan_waves(HOSTS, RolloutPolicy(canary_group="canary"), GROUPS)
    assert waves[0] == ("web3", "web7") and len(waves[1]) == 18


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (RolloutPolicy(canary_group="nope"), "no group 'nope'"),
        (RolloutPolicy(canary_group="db"), "has none of this run's hosts"),
    ],
)
def test_bad_canary_group(policy: RolloutPolicy, message: str) -> None:
    with pytest.raises(UserError, match=message):
        plan_waves(HOSTS, policy, GROUPS)


@pytest.mark.parametrize(
    ("text", "total", "allowed"), [("0", 20, 0), ("2", 20, 2), ("10%", 20, 2), ("10%", 5, 0), ("50%", 3, 1)]
)
def test_allowed_failures(text: str, total: int, allowed: int) -> None:
    assert allowed_failures(RolloutPolicy(max_fail=parse_amount(text, "--max-fail")), total) == allowed


FLAGS = SettingNames(max_fail="--max-fail", limit="--limit")


@pytest.mark.parametrize(
    ("halt", "reason", "way_on"),
    [
        (  # a wave of 5 that all rolled back: 4 were in flight when the first failed, none was skipped
            Halt(5, (), 0, Amount(0), 5, in_flight=4, skipped=0, names=FLAGS),
            "5 host(s) failed, more than --max-fail 0 allows (0 of 5); 4 in flight finished after the halt; none skipped",
            "",
        ),
        (
            Halt(4, ("web9",), 2, Amount(2), 50, in_flight=7, skipped=30, names=FLAGS),
            "4 host(s) failed (1 while being read), more than --max-fail 2 allows (2 of 50);"
            " 7 in flight finished after the halt; 30 skipped (not started)",
            "",
        ),
        (
            Halt(2, (), 1, Amount(5, percent=True), 20, in_flight=0, skipped=18),
            "2 host(s) failed, more than max_fail 5% allows (1 of 20); none in flight; 18 skipped (not started)",
            "",
        ),
        (  # refused while being read, beyond the budget: nothing was written, and the way on is a shell's
            Halt(2, ("web7", "web9"), 0, Amount(0), 20, in_flight=0, skipped=18, names=FLAGS),
            "2 host(s) failed while being read, more than --max-fail 0 allows (0 of 20): nothing was written;"
            " 18 skipped (not started)",
            "to go on: --max-fail 2, or --limit '!web7,!web9' to leave those hosts out (with any items your --limit had)",
        ),
    ],
)
def test_a_halt_says_what_was_counted(halt: Halt, reason: str, way_on: str) -> None:
    assert (halt.reason, halt.way_on) == (reason, way_on)


@pytest.mark.parametrize("text", ["", "x", "-1", "150%", "0,5"])
def test_bad_batches(text: str) -> None:
    with pytest.raises(UserError, match="--batch"):
        parse_batches(text, "--batch")


def test_amount_reads_back() -> None:
    assert str(parse_amount("25%", "x")) == "25%" and parse_amount("3", "x") == Amount(3)
