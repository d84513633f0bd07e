"""``remediate audit``: does every host hold the playbook's desired state? Read-only; exit 0, 3 or 1.

Exit 0 when every host complies, 3 when any host drifted (with the diff that would bring it back),
1 when no host drifted but some could not be audited (unreachable, a file it cannot read): a cron job
or a monitoring check can tell the three apart.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.table import Table
from rich.text import Text

from remediate.cli.options import connection_options, target_options
from remediate.errors import EXIT_DRIFT, EXIT_HOST_FAILED, EXIT_OK
from remediate.load.playbook import load_playbook
from remediate.model import HostPlan
from remediate.plan.diff import file_diff
from remediate.report.console import make_console
from remediate.report.text import print_diff
from remediate.runs.apply import fleet_for, prepare, survey_and_plan
from remediate.runs.session import new_run_id


def audit_status(host_plan: HostPlan) -> str:
    if host_plan.failure is not None:
        return host_plan.failure.value
    return "drifted" if host_plan.changes else "compliant"


def cmd_audit(args: argparse.Namespace) -> int:
    playbook = load_playbook(args.playbook)
    targets, connection = target_options(args), connection_options(args)
    prepared = prepare(targets, connection.become, playbook)
    run_id = new_run_id()
    with fleet_for(connection, connection.forks or 50) as fleet:
        plan = survey_and_plan(fleet, prepared, run_id)
    masker = prepared.masker
    statuses = {hp.host.name: audit_status(hp) for hp in plan.hosts}
    summary: dict[str, int] = {}
    for status in statuses.values():
        summary[status] = summary.get(status, 0) + 1
    if args.json:
        document: dict[str, Any] = {
            "audit_id": run_id,
            "playbook": plan.playbook,
            "inventory": plan.inventory,
            "hosts": {
                hp.host.name: {
                    "status": statuses[hp.host.name],
                    "drift": [{"path": c.path, "diff": file_diff(c)} for c in hp.changes],
                    "error": hp.error or None,
                }
                for hp in plan.hosts
            },
            "summary": summary,
        }
        print(json.dumps(masker.document(document), indent=2))
    else:
        console = make_console()
        table = Table(title=f"audit of {plan.playbook} on {plan.inventory}")
        for column in ("host", "state", "detail"):
            table.add_column(column, overflow="fold")
        for hp in plan.hosts:
            status = statuses[hp.host.name]
            style = {"compliant": "green", "drifted": "bold yellow"}.get(status, "bold red")
            detail = ", ".join(c.path for c in hp.changes) if hp.changes else masker.text(hp.error)
            table.add_row(hp.host.name, Text(status, style=style), detail)
        for hp in plan.hosts:
            for change in hp.changes:
                console.print(Text(f"{hp.host.name}: drift in {change.path}", style="bold yellow"))
                print_diff(console, change, masker)
        console.print(table)
        console.print(", ".join(f"{count} {status}" for status, count in summary.items()))
    if "drifted" in summary:
        return EXIT_DRIFT
    return EXIT_OK if set(summary) <= {"compliant"} else EXIT_HOST_FAILED
