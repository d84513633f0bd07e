"""An audit as node_exporter textfile-collector metrics (docs/monitoring.md lists them)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from remediate.model import Audit, AuditState, ProbeResult
from remediate.plan.masking import Masker

PREFIX = "remediate_audit_"


def audit_metrics(audit: Audit, masker: Masker) -> bytes:
    """The text exposition format, from a registry of the audit's own: never the process' global one,
    which would add the Python collector's metrics to every file. A probe's label is masked: its URL or
    command may hold a secret."""
    registry = CollectorRegistry(auto_describe=True)
    labels = ("host", "playbook")

    def gauge(name: str, documentation: str, names: tuple[str, ...] = labels) -> Gauge:
        return Gauge(PREFIX + name, documentation, names, registry=registry)

    states = {
        AuditState.COMPLIANT: gauge("compliant", "1 when the host holds the playbook's desired state"),
        AuditState.DRIFTED: gauge("drifted", "1 when the host drifted from the playbook's desired state"),
        AuditState.UNREACHABLE: gauge("unreachable", "1 when the host could not be reached over SSH"),
        AuditState.FAILED: gauge("failed", "1 when the host was reached but could not be audited"),
    }
    drifted_files = gauge("drifted_files", "files that differ from the playbook's desired state")
    last = gauge("last_run_timestamp_seconds", "when the audit of the host finished, in unix seconds")
    probe_success = gauge("probe_success", "1 when the verify probe passed", (*labels, "probe"))
    probes_run = gauge("probes_run", "1 when the verify probes ran on the host (audit --probes)")
    for host in audit.hosts:
        key = (host.name, audit.playbook)
        for state, metric in states.items():
            metric.labels(*key).set(1 if host.state is state else 0)
        drifted_files.labels(*key).set(len(host.plan.changes))
        last.labels(*key).set(audit.finished)
        if audit.probed:
            probes_run.labels(*key).set(0 if host.probes is None else 1)
        for probe, ok in _unique_probes(host.probes or ()):
            probe_success.labels(*key, masker.text(probe)).set(1 if ok else 0)
    return generate_latest(registry)


def _unique_probes(results: tuple[ProbeResult, ...]) -> list[tuple[str, bool]]:
    """(label, ok) per probe; two probes that describe themselves alike get ``#2``, ``#3``: the same
    labels twice would be one series to Prometheus, and one result would hide the other."""
    seen: dict[str, int] = {}
    unique = []
    for result in results:
        seen[result.probe] = count = seen.get(result.probe, 0) + 1
        unique.append((result.probe if count == 1 else f"{result.probe} #{count}", result.ok))
    return unique
