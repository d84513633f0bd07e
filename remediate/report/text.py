"""Human and JSON renderings of plans and results. The JSON document's shape is a contract."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.text import Text

from remediate.model import OK_STATUSES, FileChange, Halt, HostPlan, HostResult, Plan, ProbeResult, RunResult, Status
from remediate.plan.diff import file_diff
from remediate.plan.masking import Masker
from remediate.report.groups import change_groups, compact_hosts, digest, group_by, hosts_title, shown_diffs

STATUS_STYLE = {
    Status.CHANGED: "yellow",
    Status.UNCHANGED: "green",
    Status.FAILED: "bold red",
    Status.UNREACHABLE: "bold red",
    Status.CONFLICT: "bold magenta",
    Status.ROLLED_BACK: "bold yellow",
    Status.ROLLBACK_FAILED: "bold white on red",
    Status.SKIPPED: "dim",
    Status.INTERRUPTED: "bold red",
    Status.UNKNOWN: "bold white on red",
}


def status_label(status: Status, dry_run: bool) -> str:
    return "would change" if dry_run and status == Status.CHANGED else status.value


def print_plan(console: Console, plan: Plan, masker: Masker, diff: str = "grouped") -> None:
    """The diffs, exactly the bytes apply will write. ``grouped``: hosts with byte-identical changes share
    one block (the largest first, so a host that differs stands out on its own), then the hosts with
    nothing to do by reason, then each failed host; ``per-host``: every host in plan order, with its
    diffs; ``none``: the same blocks as ``grouped``, without the diffs."""
    if diff == "per-host":
        for host_plan in plan.hosts:
            _print_hosts(console, (host_plan,), masker, with_diffs=True)
        return
    for group in change_groups(plan.hosts, masker):
        _print_hosts(console, group.plans, masker, with_diffs=diff != "none")
    unchanged = [hp for hp in plan.hosts if hp.failure is None and not hp.changes]
    for same in group_by(unchanged, lambda hp: _no_change_reasons(hp, masker)):
        _print_hosts(console, same, masker, with_diffs=False)
    for host_plan in plan.hosts:
        if host_plan.failure is not None:
            _print_hosts(console, (host_plan,), masker, with_diffs=False)


def _print_hosts(console: Console, plans: Sequence[HostPlan], masker: Masker, with_diffs: bool) -> None:
    """One block for hosts that look alike: named as one host is (``web1 (127.0.1.1)``) or as a group
    (``web[1-46] (46 hosts)``), then what the first of them shows for all."""
    host_plan = plans[0]
    title = Text(f"{hosts_title([p.host.name for p in plans], host_plan.host.address)}: ", style="bold")
    if host_plan.failure is not None:
        console.print(
            title + Text(f"{host_plan.failure.value}: {host_plan.error}", style=STATUS_STYLE[host_plan.failure])
        )
        return
    if not host_plan.changes:
        console.print(title + Text(f"no change ({_no_change_reasons(host_plan, masker)})", style="green"))
        return
    count = len(host_plan.changes)
    console.print(title + Text(f"{count} file{'s' if count > 1 else ''} to change", style="yellow"))
    if with_diffs:
        for change in host_plan.changes:
            print_diff(console, change, masker)
    _print_host_notes(console, host_plan, masker)


def _no_change_reasons(host_plan: HostPlan, masker: Masker) -> str:
    return masker.text("; ".join(f"{n.step}: {n.reason}" for n in host_plan.noops) or "nothing to do")


def print_notes(console: Console, plan: Plan, masker: Masker) -> None:
    """Only the notes of the hosts with changes, each after its host's name: for a run whose plan is not
    shown (--json), so that what a plan says it cannot do still reaches the operator."""
    for host_plan in plan.hosts:
        if host_plan.failure is None and host_plan.changes and any(not n.path for n in host_plan.noops):
            console.print(Text(f"{host_plan.host.name} ({host_plan.host.address}):", style="bold"))
            _print_host_notes(console, host_plan, masker)


def _print_host_notes(console: Console, host_plan: HostPlan, masker: Masker) -> None:
    for note in host_plan.noops:
        if not note.path:  # a note on the host as a whole, such as a handler a rollback cannot rerun
            console.print(Text(f"  note: {masker.text(note.reason)}", style="yellow"))


def print_diff(console: Console, change: FileChange, masker: Masker) -> None:
    print_diff_text(console, masker.text(file_diff(change)))


def print_diff_text(console: Console, diff: str) -> None:
    for line in diff.splitlines():
        console.print(_diff_line(line), soft_wrap=True, highlight=False)


def _diff_line(line: str) -> Text:
    if line.startswith(("+++", "---")):
        return Text(line, style="bold")
    if line.startswith("+"):
        return Text(line, style="green")
    if line.startswith("-"):
        return Text(line, style="red")
    if line.startswith("@@"):
        return Text(line, style="cyan")
    return Text(line)


# The order a summary lists hosts that are not ok in: those that need a human first.
_ATTENTION = (
    Status.ROLLBACK_FAILED, Status.UNKNOWN, Status.FAILED, Status.UNREACHABLE, Status.CONFLICT, Status.ROLLED_BACK,
)  # fmt: skip
_NOT_STARTED = (Status.INTERRUPTED, Status.SKIPPED)


def print_summary(console: Console, result: RunResult, masker: Masker, full: bool = False) -> None:
    """The run in a few lines, whatever the fleet's size: only the hosts that are not ok, each with its
    reason (those that need a human first), the hosts not started (skipped or interrupted alike) as one
    list each, the probes' verdict and where the backups are; then the counts by status. ``full``: a row
    for every host instead, as in a table of the whole fleet."""
    if full:
        _print_host_table(console, result, result.hosts, masker)
    else:
        if result.dry_run:
            console.print(Text("dry run: nothing was written", style="bold"))
        not_ok = sorted(
            (h for h in result.hosts if h.status not in OK_STATUSES and h.status not in _NOT_STARTED),
            key=lambda h: _ATTENTION.index(h.status) if h.status in _ATTENTION else len(_ATTENTION),
        )
        if not_ok:
            _print_host_table(console, result, not_ok, masker)
        for status in _NOT_STARTED:
            names = [h.host for h in result.hosts if h.status == status]
            if names:
                console.print(Text(f"{status.value}, not started: {compact_hosts(names)}", style=STATUS_STYLE[status]))
        # The ok hosts' health as one line per distinct outcome (with --precheck, before -> after).
        checked = [h for h in result.hosts if h.probes and h.status in OK_STATUSES]
        for same in group_by(checked, _health_outcome):
            verdicts = masker.text("; ".join(_health_outcome(same[0])))
            console.print(Text(f"verified: {compact_hosts([h.host for h in same])}: {verdicts}"), highlight=False)
        backups = sorted({h.backup_dir for h in result.hosts if h.backup_dir and h.status in OK_STATUSES})
        if backups:
            where = backups[0] if len(backups) == 1 else f"in {len(backups)} folders (--summary full shows them)"
            console.print(f"backups on each changed host: {where}")
    totals = ", ".join(f"{count} {status_label(Status(s), result.dry_run)}" for s, count in result.summary().items())
    console.print(Text(f"run {result.run_id}: {totals}", style="bold" if result.ok else "bold red"))
    for host in result.hosts:
        first, _, more = masker.text(host.error).partition("\n")
        if more:  # a conflict's diff of what changed since the plan
            console.print(Text(f"{host.host}: {first}", style=STATUS_STYLE[host.status]))
            for line in more.splitlines():
                console.print(_diff_line(line), soft_wrap=True, highlight=False)
    if result.halt:
        console.print(Text(f"halted: {result.halt.reason}", style="bold red"))
        if result.halt.way_on:
            console.print(Text(result.halt.way_on, style="bold"), highlight=False)
    if result.interrupted:
        console.print(Text("interrupted: hosts not started are reported interrupted", style="bold red"))
    not_started = sum(1 for h in result.hosts if h.status in _NOT_STARTED)
    if not_started and not result.dry_run:
        console.print(
            Text(f"remediate resume {result.run_id} goes on with the {not_started} host(s) not started"),
            highlight=False,
        )
    stuck = [h.host for h in result.hosts if h.status == Status.ROLLBACK_FAILED]
    if stuck:
        console.print(
            Text(
                f"NEEDS A HUMAN: the rollback failed on {', '.join(stuck)}; see the detail above",
                style="bold white on red",
            )
        )
    unknown = [h.host for h in result.hosts if h.status == Status.UNKNOWN]
    if unknown:
        console.print(
            Text(
                f"UNKNOWN: no answer from the write on {', '.join(unknown)}; `remediate rollback"
                f" {result.run_id}` puts back what it changed",
                style="bold white on red",
            )
        )


def _print_host_table(console: Console, result: RunResult, rows: Sequence[HostResult], masker: Masker) -> None:
    from rich.table import Table  # here: a --json run never draws a table, and need not import it

    title = "dry run: nothing was written" if result.dry_run and rows is result.hosts else None
    table = Table(title=title, title_style="bold")
    table.add_column("host")
    table.add_column("status")
    table.add_column("files", justify="right")
    table.add_column("health", overflow="fold")
    table.add_column("time", justify="right")
    table.add_column("detail", overflow="fold")
    for host in rows:
        table.add_row(
            host.host,
            Text(status_label(host.status, result.dry_run), style=STATUS_STYLE[host.status]),
            str(len(host.changes)),
            masker.text(_health(host)),
            f"{host.finished - host.started:.1f}s" if host.started is not None and host.finished is not None else "",
            masker.text(_detail(host, result.dry_run).partition("\n")[0]),
        )
    console.print(table)


def _health(host: HostResult) -> str:
    """Probe results, e.g. "ok http http://web1/: HTTP 500 -> HTTP 200" with --precheck."""
    return "\n".join(_verdicts(host, named=True))


def _health_outcome(host: HostResult) -> tuple[str, ...]:
    """Each probe's verdict without the probe's name (which names the host): ``ok HTTP 500 -> HTTP 200``."""
    return _verdicts(host, named=False)


def _verdicts(host: HostResult, named: bool) -> tuple[str, ...]:
    before = {p.probe: p.detail for p in host.precheck}
    verdicts = []
    for probe in host.probes:
        seen = f"{before[probe.probe]} -> {probe.detail}" if probe.probe in before else probe.detail
        verdicts.append(f"{'ok' if probe.ok else 'FAIL'} {probe.probe + ': ' if named else ''}{seen}")
    return tuple(verdicts)


def _detail(host: HostResult, dry_run: bool) -> str:
    if host.error:
        return host.error
    if host.changes:
        paths = ", ".join(c.path for c in host.changes)
        return paths if dry_run else f"{paths} (backup in {host.backup_dir})"
    return ""


def result_document(result: RunResult, masker: Masker) -> dict[str, Any]:
    document: dict[str, Any] = {
        "run_id": result.run_id,
        "playbook": result.playbook,
        "inventory": result.inventory,
        "dry_run": result.dry_run,
        "hosts": {
            host.host: {
                "status": host.status.value,
                "changes": [{"path": c.path, "diff": file_diff(c)} for c in host.changes],
                "error": host.error or None,
                "backup_dir": host.backup_dir or None,
                "probes": [_probe_document(p) for p in host.probes],
                "precheck": [_probe_document(p) for p in host.precheck],
                "wave": host.wave,
                "started": host.started,
                "finished": host.finished,
            }
            for host in result.hosts
        },
        # Hosts whose changes are byte-identical, by a digest of what they show: the grouped diff's blocks.
        "groups": _groups_document(result, masker),
        "summary": result.summary(),
        "halted": result.halted or None,
        "halt": _halt_document(result.halt) if result.halt else None,
        "interrupted": result.interrupted,
    }
    return masker.document(document)  # type: ignore[no-any-return]


def _groups_document(result: RunResult, masker: Masker) -> dict[str, list[str]]:
    with_changes = [host for host in result.hosts if host.changes]
    groups = group_by(with_changes, lambda host: shown_diffs(host.changes, masker))
    return {digest(shown_diffs(group[0].changes, masker)): [host.host for host in group] for group in groups}


def _halt_document(halt: Halt) -> dict[str, Any]:
    """The halt's counts beside its message (``halted``), for a program that acts on them."""
    return {
        "failed": halt.failed,
        "failed_at_read": list(halt.failed_at_read),
        "allowed": halt.allowed,
        "max_fail": str(halt.max_fail),
        "total": halt.total,
        "in_flight": halt.in_flight,
        "skipped": halt.skipped,
        "before_write": halt.before_write,
        "way_on": halt.way_on or None,
    }


def _probe_document(result: ProbeResult) -> dict[str, Any]:
    return {"probe": result.probe, "ok": result.ok, "detail": result.detail}


def dry_run_result(plan: Plan) -> RunResult:
    hosts = tuple(HostResult(hp.host.name, hp.status, hp.changes, hp.error) for hp in plan.hosts)
    return RunResult(plan.run_id, plan.playbook, plan.inventory, True, hosts)
