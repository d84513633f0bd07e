"""Running and judging probes by their kind: from the controller, or from what the host sent back."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from remediate.model import Probe, ProbeResult
from remediate.probes.base import FromController, OnHost
from remediate.probes.registry import kind_of


def runs_on_host(probe: Probe) -> bool:
    """Whether the probe runs on the host (batched into one remote command) rather than from here."""
    return isinstance(kind_of(probe).runs, OnHost)


def run_on_controller(
    probe: Probe, address: str, sleep: Callable[[float], None] = time.sleep, retry: bool = True
) -> ProbeResult:
    """One probe from here. ``retry``: a probe that waits for a service settling after a change gets its
    retries; without, one attempt (a --precheck looks at the health as it is, and need not wait for it)."""
    runs = kind_of(probe).runs
    if not isinstance(runs, FromController):
        raise TypeError(f"probe {probe.describe()} runs on the host, not from the controller")
    return runs.run(probe, address, sleep, retry)


def host_script(probe: Probe, index: int) -> list[str]:
    """The shell lines of a host probe, which print ``INDEX RC OUTPUT_B64``."""
    return _on_host(probe).script(probe, index)


def judge_on_host(probe: Probe, rc: int, output: bytes) -> ProbeResult:
    return _on_host(probe).judge(probe, rc, output)


def _on_host(probe: Probe) -> OnHost[Any]:
    runs = kind_of(probe).runs
    if not isinstance(runs, OnHost):
        raise TypeError(f"probe {probe.describe()} runs from the controller, not on the host")
    return runs
