"""Auditing a playbook on a fleet, as a use case: read every host, plan what would bring it back, and
(when asked) run the playbook's probes over the same connection. Nothing is written anywhere."""

from __future__ import annotations

import time

from remediate.fleet.probing import run_probes
from remediate.fleet.transport import Transport
from remediate.model import Audit, Host, HostAudit, Observed
from remediate.plan.planner import plan_target
from remediate.runs.apply import Prepared, fleet_for
from remediate.runs.options import ConnectionOptions


def audit_fleet(connection: ConnectionOptions, prepared: Prepared, audit_id: str, probes: bool) -> Audit:
    # The survey's connections are kept so that the probes ride on them: no second handshake per host.
    transports: dict[str, Transport] = {}
    by_name = {t.host.name: t for t in prepared.targets}

    def keep(host: Host, transport: Transport) -> None:
        transports[host.name] = transport

    def audit_host(host: Host, seen: Observed) -> HostAudit:
        target = by_name[host.name]
        host_plan = plan_target(prepared.playbook, target, seen)
        transport = transports.get(host.name)
        if not probes or transport is None:
            return HostAudit(host_plan)
        # One attempt each: retries wait out a change just made, and an audit makes none; a service
        # that needs retries to answer is what monitoring should see.
        return HostAudit(host_plan, run_probes(transport, target.probes, host.address, retry=False))

    with fleet_for(connection, connection.forks or 50, keep) as fleet:
        audited = fleet.survey_then(((t.host, t.paths) for t in prepared.targets), audit_host)
    hosts = tuple(audited[t.host.name] for t in prepared.targets)
    steps = tuple(step.name for step in prepared.playbook.steps)
    return Audit(audit_id, prepared.playbook.name, str(prepared.inventory.path), steps, hosts, probes, time.time())
