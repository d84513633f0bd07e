"""``remediate audit``: does every host hold the playbook's desired state? Read-only; exit 0, 3 or 1.

Exit 0 when every host complies (and, with ``--probes``, passes its probes), 3 when any host drifted
(with the diff that would bring it back), 1 when no host drifted but some could not be audited
(unreachable, a file it cannot read) or failed a probe: a cron job or a monitoring check can tell the
three apart. ``--prometheus`` and ``--junit`` write the same audit for node_exporter and for CI.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from remediate.cli.options import connection_options, target_options
from remediate.errors import EXIT_DRIFT, EXIT_HOST_FAILED, EXIT_OK
from remediate.load.playbook import load_playbook
from remediate.model import Audit, AuditState, HostAudit
from remediate.plan.diff import file_diff
from remediate.plan.masking import Masker
from remediate.report.console import make_console
from remediate.report.files import check_writable_folder, replace_file
from remediate.report.junit import audit_junit
from remediate.report.prometheus import audit_metrics
from remediate.report.text import print_diff
from remediate.runs.apply import prepare
from remediate.runs.audit import audit_fleet
from remediate.runs.session import new_run_id


def cmd_audit(args: argparse.Namespace) -> int:
    outputs = {"--prometheus": args.prometheus, "--junit": args.junit}
    files = {option: Path(value) for option, value in outputs.items() if value}
    for option, path in files.items():
        check_writable_folder(path, option)  # before any host is audited, not after
    playbook = load_playbook(args.playbook)
    targets, connection = target_options(args), connection_options(args)
    prepared = prepare(targets, connection.become, playbook)
    audit = audit_fleet(connection, prepared, new_run_id(), args.probes)
    masker = prepared.masker
    if "--prometheus" in files:
        replace_file(files["--prometheus"], audit_metrics(audit, masker), "--prometheus")
    if "--junit" in files:
        replace_file(files["--junit"], audit_junit(audit, masker), "--junit")
    summary: dict[str, int] = {}
    for host in audit.hosts:
        summary[host.state.value] = summary.get(host.state.value, 0) + 1
    if args.json:
        print(json.dumps(masker.document(_document(audit, summary)), indent=2))
    else:
        _print_text(audit, summary, masker)
    if AuditState.DRIFTED in summary:
        return EXIT_DRIFT
    everything_ok = set(summary) <= {AuditState.COMPLIANT} and all(h.healthy for h in audit.hosts)
    return EXIT_OK if everything_ok else EXIT_HOST_FAILED


def _document(audit: Audit, summary: dict[str, int]) -> dict[str, Any]:
    return {
        "audit_id": audit.audit_id,
        "playbook": audit.playbook,
        "inventory": audit.inventory,
        "hosts": {
            host.name: {
                "status": host.state.value,
                "drift": [{"path": c.path, "diff": file_diff(c)} for c in host.plan.changes],
                "error": host.plan.error or None,
                **({"probes": _probes_json(host)} if audit.probed else {}),
            }
            for host in audit.hosts
        },
        "summary": summary,
    }


def _probes_json(host: HostAudit) -> list[dict[str, Any]] | None:
    if host.probes is None:
        return None
    return [{"probe": p.probe, "ok": p.ok, "detail": p.detail} for p in host.probes]


def _print_text(audit: Audit, summary: dict[str, int], masker: Masker) -> None:
    console = make_console()
    table = Table(title=f"audit of {audit.playbook} on {audit.inventory}")
    for column in ("host", "state", "detail", *(["probes"] if audit.probed else [])):
        table.add_column(column, overflow="fold")
    for host in audit.hosts:
        style = {"compliant": "green", "drifted": "bold yellow"}.get(host.state.value, "bold red")
        changes = host.plan.changes
        detail = ", ".join(c.path for c in changes) if changes else masker.text(host.plan.error)
        row: list[str | Text] = [host.name, Text(host.state.value, style=style), detail]
        table.add_row(*row, *([_probes_text(host, masker)] if audit.probed else []))
    for host in audit.hosts:
        for change in host.plan.changes:
            console.print(Text(f"{host.name}: drift in {change.path}", style="bold yellow"))
            print_diff(console, change, masker)
    console.print(table)
    console.print(", ".join(f"{count} {status}" for status, count in summary.items()))


def _probes_text(host: HostAudit, masker: Masker) -> Text:
    if host.probes is None:
        return Text("not run", style="bold red")
    failed = [p for p in host.probes if not p.ok]
    if not failed:
        return Text(f"{len(host.probes)} ok", style="green")
    problems = "; ".join(f"{p.probe}: {p.detail}" for p in failed)
    return Text(masker.text(f"{len(failed)} of {len(host.probes)} failed: {problems}"), style="bold red")
