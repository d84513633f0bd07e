"""Running a host's probes: those on the host in one remote command, the rest from the controller."""

from __future__ import annotations

from collections.abc import Sequence

from remediate.errors import HostError
from remediate.fleet.transport import Transport
from remediate.model import Probe, ProbeResult
from remediate.probes.checks import run_on_controller, runs_on_host
from remediate.remote.probe import host_probe_script, parse_host_probes


def run_probes(
    transport: Transport, probes: Sequence[Probe], address: str, retry: bool = True
) -> tuple[ProbeResult, ...]:
    """Every probe of one host, in playbook order: host probes in one remote command, the rest from here
    (``retry``: as for ``run_on_controller``)."""
    on_host = [p for p in probes if runs_on_host(p)]
    host_results: dict[int, ProbeResult] = {}
    if on_host:
        try:
            answer = transport.run_script(host_probe_script(on_host))
            found = parse_host_probes(answer.stdout, on_host)
        except HostError as e:
            found = [ProbeResult(p.describe(), False, str(e)) for p in on_host]
        host_results = {id(p): r for p, r in zip(on_host, found, strict=True)}
    return tuple(host_results[id(p)] if runs_on_host(p) else run_on_controller(p, address, retry=retry) for p in probes)
