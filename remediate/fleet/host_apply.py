"""One host's apply, from its plan to a final status: write, verify, and put things back when it fails.

The order on a host: the run's claim on it (a journal shared between controllers holds it for one run at
a time), (optional) probes before anything, the journal row with every file about to be
written, one remote command that writes, validates and runs the handlers, the probes, and, when a
validator, a handler or a probe failed after a file was replaced, the rollback: the reverse plan
through the same remote command, the handlers again, the probes again.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from datetime import UTC, datetime

from remediate.errors import HostError
from remediate.fleet.claims import NO_CLAIMS, HostClaims
from remediate.fleet.observer import RolloutObserver
from remediate.fleet.probing import run_probes
from remediate.fleet.transport import CommandResult, Transport, tail
from remediate.model import FileChange, HostPlan, HostResult, ProbeResult, Status
from remediate.plan.diff import file_diff
from remediate.plan.secret_lines import shown_version
from remediate.plan.undo import reverse
from remediate.remote.answer import CURRENT_LIMIT
from remediate.remote.commit import (
    DEFAULT_BACKUP_ROOT,
    DEFAULT_COMMAND_TIMEOUT,
    SIGNAL_STATUS,
    CommitOutcome,
    backup_path,
    commit_script,
    host_budget,
    parse_commit,
    random_letters,
    sweep_script,
)
from remediate.remote.hostlock import locked_message


@dataclass(frozen=True)
class ApplyOptions:
    rollback: bool = True  # --no-rollback keeps a failed host's changes for debugging
    precheck: bool = False  # also probe before changing anything
    backup_root: str = DEFAULT_BACKUP_ROOT
    # Whether failing probes fail the host. Not after a rollback: the state it puts back may itself be
    # the outage, so there the probes report health without judging the rollback.
    probes_decide: bool = True
    # The controller's limit of one remote command; the host's deadline is less.
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT
    lock_wait: float = 0.0  # seconds to wait for a host's lock another run holds (0: refuse at once)
    undoing: bool = False  # the plan puts originals back (a rollback): its script carries on without us


def apply_host(
    transport: Transport,
    run_id: str,
    plan: HostPlan,
    observer: RolloutObserver,
    options: ApplyOptions,
    claims: HostClaims = NO_CLAIMS,
) -> HostResult:
    """``claims``: held from before the host's precheck and journal row to after its verification or
    rollback, whenever anything is to be written (a sweep of a killed run's temporary files included);
    a host another run holds is not touched, as when its own lock is held."""
    name = plan.host.name
    if plan.failure is not None:
        return HostResult(name, plan.failure, error=plan.error)
    if not plan.changes and not plan.sweep:
        return _apply_plan(transport, run_id, plan, observer, options)
    holder = claims.claim(plan.host, options.lock_wait)
    if holder is not None:
        return HostResult(name, Status.FAILED, error=locked_message(holder, options.lock_wait))
    try:
        return _apply_plan(transport, run_id, plan, observer, options)
    finally:
        claims.release(plan.host)


def _apply_plan(
    transport: Transport, run_id: str, plan: HostPlan, observer: RolloutObserver, options: ApplyOptions
) -> HostResult:
    name = plan.host.name
    # The health as it is before the change: one attempt, no retries (they are for settling after one).
    precheck = run_probes(transport, plan.probes, plan.host.address, retry=False) if options.precheck else ()
    if not plan.changes:
        if plan.sweep and (problem := _swept(transport, run_id, plan, options)):
            return HostResult(name, Status.FAILED, error=problem, precheck=precheck)
        probes = run_probes(transport, plan.probes, plan.host.address)
        if options.probes_decide and not all(p.ok for p in probes):
            return HostResult(name, Status.FAILED, error=_unhealthy(probes), probes=probes, precheck=precheck)
        return HostResult(name, Status.UNCHANGED, probes=probes, precheck=precheck)

    backups = {
        c.path: backup_path(options.backup_root, run_id, c.real_path) for c in plan.changes if c.before is not None
    }
    backup_dir = f"{options.backup_root}/{run_id}"
    observer.host_writing(plan, backups)
    script = commit_script(
        run_id, plan.changes, plan.handlers, options.backup_root, as_root=plan.host.runs_as_root, sweep=plan.sweep,
        budget=host_budget(options.command_timeout), lock_wait=options.lock_wait, undoing=options.undoing,
        now=datetime.now(UTC), names=random_letters,
    )  # fmt: skip
    try:
        answer = transport.run_script(script)
    except HostError as e:
        # Nobody knows how far the script got: it puts the originals back itself once it finds the
        # controller gone (its next record cannot be written), but that is not seen from here.
        return HostResult(
            name, Status.UNKNOWN, plan.changes, backup_dir=backup_dir, precheck=precheck,
            error=f"{e}; no answer from the write, so whether files were replaced is unknown (the host puts"
            f" the originals back itself when it finds the connection gone): `remediate rollback {run_id}`"
            " puts back what it changed",
        )  # fmt: skip
    outcome = parse_commit(answer.stdout)

    def failed(status: Status, error: str, changes: tuple[FileChange, ...] = ()) -> HostResult:
        return HostResult(name, status, changes, error, backup_dir if outcome.backups else "", precheck=precheck)

    if (refusal := _lock_refusal(outcome, options.lock_wait)) is not None:
        return failed(Status.FAILED, refusal)
    if outcome.unexpected is not None and not outcome.live_changed:
        return failed(Status.FAILED, f"{outcome.unexpected}; nothing was replaced")
    if outcome.signal is not None:
        stopped = f"the host script was stopped by SIG{_signal_name(outcome.signal)}"
        if options.undoing:  # it does not undo a rollback: what it put back stays put back
            count = f"{len(outcome.replaced)} of {len(plan.changes)}"
            done = tuple(plan.changes[i] for i in outcome.replaced)
            return failed(Status.FAILED, f"{stopped} after {count} files were put back; run it again", done)
        if outcome.live_changed:
            left = _left(plan, outcome, backup_dir)
            return failed(Status.ROLLBACK_FAILED, f"{stopped}; putting the originals back FAILED: {left}")
        done_text = "it put every original back" if outcome.restored else "nothing was replaced"
        return failed(Status.FAILED, f"{stopped}; {done_text}")
    if outcome.moved is not None or outcome.drift is not None:
        return failed(Status.CONFLICT, f"{_drift(plan, outcome)} since the plan was made; nothing written")
    if outcome.conflict is not None:
        index, now = outcome.conflict
        change = plan.changes[index]
        # A file to create was absent: what is there now (it, or a folder to make) is said in words.
        planned = "absent" if change.before_sha256 is None else f"sha256 {change.before_sha256}"
        message = f"{change.path} changed since the plan was made ({planned} planned, now {now}); nothing written"
        if outcome.current is not None and len(outcome.current) > CURRENT_LIMIT:
            message += f"\n(what it holds now is over {CURRENT_LIMIT} bytes: no diff shown)"
        elif outcome.current is not None and change.before is not None:
            message += "\nwhat changed since the plan:\n" + file_diff(_since(change, outcome.current)).rstrip()
        return failed(Status.CONFLICT, message)
    if outcome.invalid is not None:
        index, output = outcome.invalid
        problem = f"validation of {plan.changes[index].path} failed: {tail(output)}"
        if outcome.undo_failed:
            return failed(
                Status.ROLLBACK_FAILED,
                f"{problem}; putting the originals back FAILED: {_left(plan, outcome, backup_dir)}",
            )
        return failed(Status.FAILED, f"{problem}; the live files were left as they were")

    if outcome.completed:
        probes = run_probes(transport, plan.probes, plan.host.address)
        if all(p.ok for p in probes) or not options.probes_decide:
            return HostResult(name, Status.CHANGED, plan.changes, "", backup_dir, probes, precheck)
        reason = _unhealthy(probes)
    elif outcome.handler_failed is not None:
        index, output = outcome.handler_failed
        reason, probes = f"handler `{plan.handlers[index]}` failed: {tail(output)}", ()
    else:
        if outcome.error:
            where = f"{plan.changes[outcome.error[0]].path}: {outcome.error[1]}"
        else:
            where = outcome.unexpected or _stopped(answer)
        if outcome.ready and not outcome.error and len(outcome.replaced) < len(plan.changes):
            # Stopped among the renames with no word why (killed): the file it was renaming may hold the
            # new content with no record saying so.
            return failed(
                Status.UNKNOWN, f"{where}, among the renames; which files hold the new content is unknown:"
                f" `remediate rollback {run_id}` puts back what it changed", plan.changes,
            )  # fmt: skip
        if not outcome.live_changed:
            return failed(Status.FAILED, f"{where}; nothing was replaced")
        reason, probes = where, ()

    replaced = tuple(plan.changes[i] for i in outcome.replaced)
    if not options.rollback:
        kept = f"{reason}; changes kept (--no-rollback)"
        return HostResult(name, Status.FAILED, replaced, kept, backup_dir, probes, precheck)
    return _roll_back(transport, run_id, plan, replaced, reason, precheck, backup_dir, options)


def _roll_back(
    transport: Transport,
    run_id: str,
    plan: HostPlan,
    replaced: tuple[FileChange, ...],
    reason: str,
    precheck: tuple[ProbeResult, ...],
    backup_dir: str,
    options: ApplyOptions,
) -> HostResult:
    name = plan.host.name
    undo = tuple(reverse(change) for change in replaced)
    left = f"the new files are still in place; originals in {backup_dir}"

    def rollback_failed(problem: str) -> HostResult:
        error = f"{reason}; rollback FAILED: {problem}"
        return HostResult(name, Status.ROLLBACK_FAILED, replaced, error, backup_dir, precheck=precheck)

    try:
        answer = transport.run_script(
            commit_script(
                f"{run_id}.undo", undo, plan.handlers, options.backup_root, as_root=plan.host.runs_as_root,
                budget=host_budget(options.command_timeout), undoing=True, now=datetime.now(UTC),
                names=random_letters,
            )
        )  # fmt: skip
    except HostError as e:
        error = (
            f"{reason}; the rollback got no answer ({e}), so whether the originals are back is unknown (the"
            f" host carries on putting them back without us): `remediate rollback {run_id}` makes sure"
        )
        return HostResult(name, Status.UNKNOWN, replaced, error, backup_dir, precheck=precheck)
    outcome = parse_commit(answer.stdout)
    if outcome.handler_failed is not None:
        index, output = outcome.handler_failed
        return rollback_failed(f"files restored, but handler `{plan.handlers[index]}` failed: {tail(output)}")
    if outcome.conflict is not None:
        return rollback_failed(f"{undo[outcome.conflict[0]].path} changed again meanwhile; {left}")
    if not outcome.completed:
        problem = outcome.error[1] if outcome.error else outcome.unexpected or _stopped(answer)
        return rollback_failed(f"{problem}; {left}")
    probes = run_probes(transport, plan.probes, plan.host.address)
    after = "" if all(p.ok for p in probes) else f"; after the rollback: {_unhealthy(probes)}"
    return HostResult(name, Status.ROLLED_BACK, replaced, f"{reason}; rolled back{after}", backup_dir, probes, precheck)


def _since(change: FileChange, current: bytes) -> FileChange:
    """What changed on the host since the plan: the plan's original to what the host holds now, both shown
    as the plan shows the file. Masking by value is not enough here: the original may hold a rotation's
    old value, which the run does not know as a value, and so may what the host holds now."""
    shown_now = shown_version(current, [change.shown_before, change.shown_after])
    return FileChange(
        change.path, change.real_path, (), change.before, current, change.mode, None, None,
        shown_before=change.shown_before, shown_after=shown_now,
    )  # fmt: skip


def _unhealthy(probes: tuple[ProbeResult, ...]) -> str:
    return "verification failed: " + "; ".join(f"{p.probe}: {p.detail}" for p in probes if not p.ok)


def _left(plan: HostPlan, outcome: CommitOutcome, backup_dir: str) -> str:
    still = [plan.changes[i].path for i in outcome.replaced if i not in outcome.restored]
    return f"new content still in {', '.join(still)}; originals in {backup_dir}"


def _swept(transport: Transport, run_id: str, plan: HostPlan, options: ApplyOptions) -> str:
    """Clears the plan's folders of a killed run's temporary files; what went wrong, or ''."""
    try:
        script = sweep_script(
            run_id, plan.sweep, as_root=plan.host.runs_as_root, lock_wait=options.lock_wait, now=datetime.now(UTC)
        )
        answer = transport.run_script(script)
    except HostError as e:
        return f"{e}; nothing to put back"
    outcome = parse_commit(answer.stdout)
    if (refusal := _lock_refusal(outcome, options.lock_wait)) is not None:
        return refusal
    problem = outcome.unexpected or (None if outcome.completed else _stopped(answer))
    return f"{problem}; nothing to put back" if problem else ""


def _lock_refusal(outcome: CommitOutcome, waited: float) -> str | None:
    """Why the host's lock was not taken (another run holds it, or it is not the run's user's own)."""
    if outcome.locked_by is not None:
        return locked_message(outcome.locked_by, waited)
    if outcome.unlockable is not None:
        return f"{outcome.unlockable}; not touched"
    return None


def _drift(plan: HostPlan, outcome: CommitOutcome) -> str:
    """What is no longer as the plan saw it, besides the content: where the path leads, the file's kind,
    mode, owner or group."""
    if outcome.moved is not None:
        index, now = outcome.moved
        change = plan.changes[index]
        leads = f"now leads to {now}" if now else "no longer leads anywhere"
        if change.path == change.real_path:
            return f"{change.path} goes through a symbolic link and {leads}"
        return f"{change.path} {leads}, not to {change.real_path}"
    assert outcome.drift is not None
    index, now = outcome.drift
    change = plan.changes[index]
    try:
        mode_hex, uid, gid = now.split()
        raw = int(mode_hex, 16)
    except ValueError:
        return f"{change.real_path} cannot be examined ({now!r})"
    if not stat.S_ISREG(raw):
        return f"{change.real_path} is no longer a regular file ({_file_kind(raw)})"
    found = []
    if change.before_mode is not None and stat.S_IMODE(raw) != change.before_mode:
        found.append(f"its mode is {stat.S_IMODE(raw):04o}, not {change.before_mode:04o}")
    planned_owner = (change.before_uid, change.before_gid)
    if any(seen is not None and str(seen) != now_id for seen, now_id in zip(planned_owner, (uid, gid), strict=True)):
        found.append(f"its owner is {uid}:{gid}, not {change.before_uid}:{change.before_gid}")
    return f"{change.real_path}: {' and '.join(found) or 'its mode or owner changed'}"


def _file_kind(raw_mode: int) -> str:
    """A file's kind in words, from its st_mode."""
    kinds = {stat.S_IFLNK: "a symbolic link", stat.S_IFDIR: "a folder", stat.S_IFIFO: "a FIFO",
             stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device"}  # fmt: skip
    return kinds.get(stat.S_IFMT(raw_mode), "not a regular file")


def _signal_name(status: int) -> str:
    return next((name for name, number in SIGNAL_STATUS.items() if number == status), str(status))


def _stopped(answer: CommandResult) -> str:
    return f"the remote command stopped: {answer.error_tail}"
