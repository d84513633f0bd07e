"""``remediate runs`` and ``remediate show RUN``: what the journal recorded."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rich.table import Table
from rich.text import Text

from remediate.errors import EXIT_OK
from remediate.journal import Journal, journal_sources, journal_target, open_run_journal
from remediate.journal.backends import shown_url
from remediate.model import FileChange, FileRecord, HostRecord, RunRecord, Status
from remediate.plan.diff import file_diff
from remediate.plan.masking import Masker
from remediate.report.console import make_console
from remediate.report.groups import group_by, hosts_title
from remediate.report.text import print_diff_text, status_label


def _when(timestamp: float | None) -> str:
    return "-" if timestamp is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def cmd_runs(args: argparse.Namespace) -> int:
    # Read-only: a journal that does not exist is not made. The newest runs of every journal, merged.
    runs: list[RunRecord] = []
    summaries: dict[str, dict[str, int]] = {}
    for source in journal_sources(args.journal):
        with Journal(source, Masker()) as journal:
            for run in journal.runs(args.last):
                runs.append(run)
                summaries[run.run_id] = _host_summary(journal, run)
    runs = sorted(runs, key=lambda run: run.started or 0.0, reverse=True)[: args.last]
    if args.json:
        print(json.dumps([{**_run_document(run), "hosts": summaries[run.run_id]} for run in runs], indent=2))
        return EXIT_OK
    console = make_console()
    if not runs:
        console.print(f"no runs in {_where(journal_target(args.journal))}")
        return EXIT_OK
    table = Table()
    for column in ("run", "kind", "started", "by", "playbook", "inventory", "status", "hosts"):
        table.add_column(column, overflow="fold")
    for run in runs:
        hosts = ", ".join(f"{n} {s}" for s, n in summaries[run.run_id].items())
        when, by = _when(run.started), run.user
        table.add_row(run.run_id, _kind(run), when, by, run.playbook, run.inventory, run.status, hosts)
    console.print(table)
    return EXIT_OK


def _where(target: Path | str) -> str:
    return shown_url(target) if isinstance(target, str) else str(target)


def _kind(run: RunRecord) -> str:
    if run.rollback_of:
        return f"{run.kind} of {run.rollback_of}"
    return f"{run.kind} (resume of {run.resume_of})" if run.resume_of else run.kind


def _host_summary(journal: Journal, run: RunRecord) -> dict[str, int]:
    counts: dict[str, int] = {}
    for host in journal.hosts(run.run_id):
        status = _status_shown(run, host.status)
        counts[status] = counts.get(status, 0) + 1
    return counts


def _status_shown(run: RunRecord, status: str) -> str:
    """A dry-run changed nothing: its hosts with changes "would change", as its own output said."""
    return status_label(Status(status), run.kind.endswith("dry-run")) if status in set(Status) else status


def _run_document(run: RunRecord) -> dict[str, object]:
    return {
        "run_id": run.run_id, "kind": run.kind, "user": run.user, "started": run.started, "finished": run.finished,
        "playbook": run.playbook, "playbook_path": run.playbook_path, "playbook_sha256": run.playbook_sha256,
        "inventory": run.inventory, "arguments": list(run.arguments), "status": run.status,
        "rollback_of": run.rollback_of, "resume_of": run.resume_of,
    }  # fmt: skip


def _diff_of(record: FileRecord) -> str:
    """The diff the run showed: of the true bytes, so a line whose secret changed is a -/+ pair (the
    journal's copies, both masked, could not tell). A journal from before it was kept: the copies'."""
    return record.diff or Masker().text(file_diff(_as_change(record)))


def _as_change(record: FileRecord) -> FileChange:
    return FileChange(
        record.path, record.real_path, (), record.original, record.written, record.mode_after, record.uid,
        record.gid, before_mode=record.mode_before,
    )  # fmt: skip


def cmd_show(args: argparse.Namespace) -> int:
    journal, run = open_run_journal(args.run, Masker(), args.journal)
    with journal:
        hosts = journal.hosts(run.run_id)
        # A host the run never started keeps its planned files in the journal (for `resume`): not shown as done.
        started = {h.host for h in hosts if not h.never_started}
        files = [f for f in journal.files(run.run_id) if f.host in started]
        resumed_by = [r.run_id for r in journal.resumes(run.run_id)]
    if args.json:
        document = {
            **_run_document(run),
            "resumed_by": resumed_by,
            "hosts": {
                h.host: {
                    "status": h.status,
                    "error": h.error or None,
                    "backup_dir": h.backup_dir or None,
                    "files": [
                        {
                            "path": f.path,
                            "sha256_before": f.sha256_before,
                            "sha256_after": f.sha256_after,
                            "backup_path": f.backup_path or None,
                        }
                        for f in files
                        if f.host == h.host
                    ],
                }
                for h in hosts
            },
        }
        print(json.dumps(document, indent=2))
        return EXIT_OK
    console = make_console()
    console.print(Text(f"run {run.run_id}: {_kind(run)} of {run.playbook} on {run.inventory}", style="bold"))
    console.print(f"by {run.user}, {_when(run.started)} to {_when(run.finished)}, status {run.status}")
    for resume in resumed_by:
        console.print(f"resumed by run {resume}: `remediate show {resume}`")
    console.print(f"playbook {run.playbook_path} (sha256 {run.playbook_sha256})")
    console.print(f"command: remediate {' '.join(run.arguments)}")
    by_host = {host.host: [f for f in files if f.host == host.host] for host in hosts}

    def shown(host: HostRecord) -> tuple[object, ...]:
        """What a host's block prints: hosts that print the same share one block (``--diff grouped``)."""
        return (host.status, host.error, tuple((f.path, f.backup_path, _diff_of(f)) for f in by_host[host.host]))

    blocks = [(h,) for h in hosts] if args.diff == "per-host" else group_by(hosts, shown)
    for block in blocks:
        host = block[0]
        name = hosts_title([h.host for h in block], host.address)
        detail = f": {host.error}" if host.error else ""
        console.print(Text(f"{name}: {_status_shown(run, host.status)}{detail}", style="bold"))
        for record in by_host[host.host]:
            if record.backup_path:
                console.print(f"  backup of {record.path} on the host: {record.backup_path}")
            if args.diff != "none":
                print_diff_text(console, _diff_of(record))
    return EXIT_OK
