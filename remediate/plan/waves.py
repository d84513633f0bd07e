"""Rollout policy: canary, batches and the failure threshold, as pure functions over host names.

A ``batches`` of ``10%,50%,100%`` reads like Ansible's ``serial``: each item is the size of the next wave (a
percentage of the hosts after the canary, rounded up, at least one), and the last item repeats until
every host has had its wave.

An error names the setting as its caller calls it (``SettingNames``): ``--batch`` on the command line,
``batches`` in a playbook's ``rollout:``. What the command line is called stays out of here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from remediate.errors import UserError
from remediate.model import Amount, RolloutPolicy, RolloutSettings, SettingNames


def resolve_policy(
    playbook: RolloutSettings,
    canary: int | None,
    canary_group: str | None,
    batches: str | None,
    max_fail: str | None,
    forks: int | None,
    rollback_on_halt: bool,
    names: SettingNames,
) -> RolloutPolicy:
    """The run's own settings (``names`` says what they are called) win over the playbook's ``rollout:``,
    which wins over the defaults."""
    default = RolloutPolicy()
    chosen_forks = forks if forks is not None else playbook.forks if playbook.forks is not None else default.forks
    if chosen_forks < 1:
        raise UserError(f"{names.forks} must be at least 1")
    if canary is not None and canary < 0:
        raise UserError(f"{names.canary} must be 0 or more")
    return RolloutPolicy(
        canary=canary if canary is not None else playbook.canary or 0,
        canary_group=canary_group or playbook.canary_group,
        batches=parse_batches(batches, names.batches) if batches is not None else playbook.batches or (),
        max_fail=parse_amount(max_fail, names.max_fail)
        if max_fail is not None
        else playbook.max_fail or default.max_fail,
        forks=chosen_forks,
        rollback_on_halt=rollback_on_halt,
        names=names,
    )


def parse_amount(text: str, what: str, allow_zero: bool = True) -> Amount:
    match = re.fullmatch(r"\s*(\d+)\s*(%?)\s*", text)
    if not match:
        raise UserError(f"{what}: expected a number or a percentage such as 25%, got {text!r}")
    amount = Amount(int(match.group(1)), bool(match.group(2)))
    if amount.percent and amount.value > 100:
        raise UserError(f"{what}: a percentage is at most 100%, got {text!r}")
    if not allow_zero and amount.value == 0:
        raise UserError(f"{what}: must be more than 0, got {text!r}")
    return amount


def parse_batches(text: str, what: str = "batches") -> tuple[Amount, ...]:
    items = [item for item in text.split(",") if item.strip()]
    if not items:
        raise UserError(f"{what}: expected sizes such as 10%,50%,100% or 1,5,10")
    return tuple(parse_amount(item, what, allow_zero=False) for item in items)


def plan_waves(
    hosts: Sequence[str],
    policy: RolloutPolicy,
    groups: Mapping[str, Sequence[str]],
    names: SettingNames = SettingNames(),
) -> tuple[tuple[str, ...], ...]:
    """The waves, in order: the canary (if any), then the batches; every host exactly once."""
    canary: list[str] = []
    if policy.canary_group is not None:
        if policy.canary_group not in groups:
            raise UserError(f"{names.canary_group}: no group '{policy.canary_group}' in the inventory")
        members = set(groups[policy.canary_group])
        canary = [h for h in hosts if h in members]
        if not canary:
            raise UserError(f"{names.canary_group}: group '{policy.canary_group}' has none of this run's hosts")
        if policy.canary:
            canary = canary[: policy.canary]
    elif policy.canary:
        canary = list(hosts[: policy.canary])
    rest = [h for h in hosts if h not in set(canary)]
    waves: list[tuple[str, ...]] = [tuple(canary)] if canary else []
    sizes = policy.batches or (Amount(100, percent=True),)
    base, start, index = len(rest), 0, 0
    while start < len(rest):
        size = max(1, sizes[min(index, len(sizes) - 1)].of(base))
        waves.append(tuple(rest[start : start + size]))
        start += size
        index += 1
    return tuple(waves)


def allowed_failures(policy: RolloutPolicy, total: int) -> int:
    """How many hosts may fail before the run halts: a ``max_fail`` of 10% of 20 hosts is 2."""
    if policy.max_fail.percent:
        return math.floor(total * policy.max_fail.value / 100)  # rounded down: 10% of 5 hosts allows none
    return policy.max_fail.value
