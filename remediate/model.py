"""The typed values that flow through a run: hosts, playbooks, observed files, plans and results.

Everything here is a frozen dataclass. A plan is a value: apply executes exactly the object that
dry-run printed, so none of these carry behaviour that could re-compute anything.
"""

from __future__ import annotations

import base64
import hashlib
import math
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

Vars = Mapping[str, Any]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- rollout settings -------------------------------------------------------------------------------------


FAILED_STATUSES = frozenset({"failed", "unreachable", "rolled_back", "rollback_failed", "conflict", "unknown"})


@dataclass(frozen=True)
class Amount:
    """A number of hosts, or a percentage of them."""

    value: int
    percent: bool = False

    def of(self, total: int) -> int:
        return math.ceil(total * self.value / 100) if self.percent else self.value

    def __str__(self) -> str:
        return f"{self.value}{'%' if self.percent else ''}"


@dataclass(frozen=True)
class SettingNames:
    """What the caller calls each setting of a run (``--max-fail`` on the command line, ``max_fail`` in a
    playbook's ``rollout:``), for the messages that name one: what the command line is called stays in cli/."""

    canary: str = "canary"
    canary_group: str = "canary_group"
    batches: str = "batches"
    max_fail: str = "max_fail"
    forks: str = "forks"
    limit: str = "limit"  # the hosts of a run narrowed, which a halt before any write suggests


@dataclass(frozen=True)
class RolloutPolicy:
    canary: int = 0
    canary_group: str | None = None
    batches: tuple[Amount, ...] = ()
    max_fail: Amount = Amount(0)
    forks: int = 50
    rollback_on_halt: bool = False
    names: SettingNames = SettingNames()  # what the operator calls these settings, for the halt's message


@dataclass(frozen=True)
class Halt:
    """Why a rollout stopped starting hosts, counted when it ended: every number is what the hosts'
    statuses say in the end, so the message cannot contradict the summary under it (a count taken when
    the budget ran out misses the hosts in flight that fail after it)."""

    failed: int  # hosts failed in the end: those refused while being read, and those in flight at the halt
    failed_at_read: tuple[str, ...]  # hosts whose plan had failed (unreachable, host key refused, plan error)
    allowed: int  # how many hosts may fail: max_fail of total
    max_fail: Amount
    total: int
    in_flight: int  # hosts being written when the budget ran out, which finished after
    skipped: int  # hosts never started
    names: SettingNames = SettingNames()

    @property
    def before_write(self) -> bool:
        """The hosts refused while being read spent the budget on their own, so no host was written."""
        return len(self.failed_at_read) > self.allowed

    @property
    def reason(self) -> str:
        """``5 host(s) failed, more than --max-fail 0 allows (0 of 20); 4 in flight finished after the
        halt; 15 skipped (not started)``."""
        budget = f"more than {self.names.max_fail} {self.max_fail} allows ({self.allowed} of {self.total})"
        skipped = f"{self.skipped} skipped (not started)" if self.skipped else "none skipped"
        if self.before_write:
            return f"{self.failed} host(s) failed while being read, {budget}: nothing was written; {skipped}"
        read = len(self.failed_at_read)
        failed = f"{self.failed} host(s) failed" + (f" ({read} while being read)" if read else "")
        flight = f"{self.in_flight} in flight finished after the halt" if self.in_flight else "none in flight"
        return f"{failed}, {budget}; {flight}; {skipped}"

    @property
    def way_on(self) -> str:
        """After a halt before any write, how to run again (the same hosts would halt the same way): a
        budget that lets the run go on, or a limit that leaves those hosts out; "" after any other halt.
        The limit is quoted for a shell, where ``!`` would expand."""
        if not self.before_write:
            return ""
        left_out = shlex.quote(",".join(f"!{name}" for name in self.failed_at_read))
        return (
            f"to go on: {self.names.max_fail} {len(self.failed_at_read)}, or {self.names.limit} {left_out}"
            f" to leave those hosts out (with any items your {self.names.limit} had)"
        )


@dataclass(frozen=True)
class RolloutSettings:
    """A playbook's ``rollout:`` section; anything left out comes from the command line or the defaults."""

    canary: int | None = None
    canary_group: str | None = None
    batches: tuple[Amount, ...] | None = None
    max_fail: Amount | None = None
    forks: int | None = None


# --- inventory -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Host:
    name: str
    address: str
    port: int = 22
    user: str = "root"
    identity_file: str | None = None
    known_hosts: str | None = None
    groups: tuple[str, ...] = ()
    vars: Vars = field(default_factory=dict)  # inventory vars < group vars < host vars, already merged
    become: bool = False  # work as root through sudo (reads, writes, validators, handlers, probes)
    # The connection settings the inventory set itself: ssh_config fills only the others.
    explicit: frozenset[str] = frozenset()

    @property
    def runs_as_root(self) -> bool:
        """The remote scripts run as root: through sudo (become), or the login user is root."""
        return self.become or self.user == "root"


@dataclass(frozen=True)
class InventoryLayout:
    """The inventory as its files lay it out, for ``remediate inventory`` (a run needs only ``Host``):
    each group's child groups and own hosts (``all`` and ``ungrouped`` included), each host's variables as
    the inventory set them (Ansible's connection variables still among them, values as written), and
    where each variable and each connection setting came from (``FILE:LINE`` or ``FILE: key.path``)."""

    children: Mapping[str, tuple[str, ...]]
    hosts: Mapping[str, tuple[str, ...]]
    variables: Mapping[str, Mapping[str, Any]]
    sources: Mapping[str, Mapping[str, str]]  # host -> variable -> where it was set
    connection_sources: Mapping[str, Mapping[str, str]]  # host -> "address", "port", ... -> what set it


@dataclass(frozen=True)
class Inventory:
    path: Path
    hosts: tuple[Host, ...]
    groups: Mapping[str, tuple[str, ...]]
    secrets: frozenset[str] = frozenset()  # values of secret variables, masked in every output
    layout: InventoryLayout | None = None

    def host(self, name: str) -> Host:
        return next(h for h in self.hosts if h.name == name)


# --- probes and step types: what every kind of them offers the rest ----------------------------------------


class Renderer(Protocol):
    """Renders a playbook value's fields for one host (plan/render implements it). ``key`` is the field's key
    path below the step or probe (``line_patch.path``, ``http.url``): errors name it, the playbook and the host."""

    def field(self, key: str, value: str) -> str: ...

    def command(self, key: str, value: str) -> str:
        """A shell command: every ``{{ value }}`` in it comes out shell-quoted."""
        ...

    def target(self, key: str, path: str) -> str:
        """A rendered target path, normalised; refused when relative, with ``..`` or a newline."""
        ...

    def problem(self, key: str, message: str) -> Exception:
        """The error to raise for a rendered value that cannot be used."""
        ...


class Probe(Protocol):
    """A verify probe (one kind per module in probes/): a frozen dataclass that can say what it checks and
    render its own fields. How it is loaded, stored and run is its kind's (probes/registry)."""

    def describe(self) -> str: ...

    def rendered(self, renderer: Renderer) -> Probe: ...


@dataclass(frozen=True)
class ProbeResult:
    probe: str
    ok: bool
    detail: str  # what was seen: "HTTP 200", "rc 0", "no match of 'x'", ...


# --- playbook --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Substitute:
    """sed's s///: ``regex`` replaced by ``replace`` line by line (Python re, backreferences allowed)."""

    regex: str
    replace: str
    count: int = 0  # at most this many replacements in the file; 0 means every match
    first_per_line: bool = False  # sed without the g flag: only the first match of each line


@dataclass(frozen=True)
class EnsureLine:
    """The line is present: replaces the last line matching ``regex``, else goes after/before an anchor."""

    line: str
    regex: str | None = None
    after: str | None = None
    before: str | None = None


@dataclass(frozen=True)
class AbsentLines:
    """Every line matching ``regex`` is deleted."""

    regex: str


LineOperation = Substitute | EnsureLine | AbsentLines


@dataclass(frozen=True)
class MatchRange:
    low: int
    high: int | None  # None: no upper bound

    def __contains__(self, n: object) -> bool:
        return isinstance(n, int) and n >= self.low and (self.high is None or n <= self.high)

    def __str__(self) -> str:
        if self.high == self.low:
            return str(self.low)
        return f"{self.low}..{'' if self.high is None else self.high}"


@dataclass(frozen=True)
class LinePatch:
    path: str
    operation: LineOperation
    expect_matches: MatchRange | None = None
    create: bool = False  # a missing file is patched as an empty one (0644) instead of failing the host

    @property
    def target(self) -> str:
        return self.path


@dataclass(frozen=True)
class Template:
    src: Path  # resolved against the playbook's folder at load time
    source: str  # the template text, read at load time so rendering stays pure
    dest: str
    mode: int | None = None  # None: keep the existing file's mode (0644 for a new file)
    owner: str | None = None
    group: str | None = None
    includes: tuple[tuple[str, str], ...] = ()  # (name, text) of every template it includes, extends, imports

    @property
    def target(self) -> str:
        return self.dest


@dataclass(frozen=True)
class TemplateSource:
    """A template file as read at load time: where it is, its text and every template it includes."""

    src: Path
    source: str
    includes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RenderedTemplate:
    """A template step after rendering for one host: the whole file's new text."""

    dest: str
    content: str
    mode: int | None = None
    owner: str | None = None
    group: str | None = None
    # (line, masked line) for each line of ``content`` a secret is rendered into (see secret_lines).
    secret_lines: tuple[tuple[str, str], ...] = ()

    @property
    def target(self) -> str:
        return self.dest


class Action(Protocol):
    """What a step does (one step type per module in actions/): a frozen dataclass naming the file it
    works on. Loading, rendering and applying it are its step type's (actions/registry)."""

    @property
    def target(self) -> str: ...


@dataclass(frozen=True)
class Step:
    index: int
    name: str
    action: Action
    # A check of the new file before it goes live: with "{path}", run against the uploaded temporary
    # file; without, run with the candidate in place (a whole-service check such as apache2ctl configtest).
    validate: str | None = None
    on_change: str | None = None  # a handler, run once per host after all steps when this step changed
    parents: bool = False  # a new target's missing folders are made (0755) rather than failing the host

    @property
    def key_path(self) -> str:
        """Where this step sits in its playbook, for error messages: ``steps[2]``."""
        return f"steps[{self.index}]"

    @property
    def target(self) -> str:
        return self.action.target


@dataclass(frozen=True)
class Playbook:
    path: Path
    name: str
    description: str
    hosts: str  # a group, host or glob pattern; "all" by default
    vars: Vars
    steps: tuple[Step, ...]
    sha256: str  # of the playbook file, for the journal
    verify: tuple[Probe, ...] = ()
    rollout: RolloutSettings = field(default_factory=RolloutSettings)
    secrets: frozenset[str] = frozenset()
    become: bool = False  # every host of the run works through sudo


# --- what a host holds -----------------------------------------------------------------------------------


# A file's extended attributes, ``(name, value)`` in the order the host listed them: ``user.*``, ``trusted.*``,
# ``security.*`` (the SELinux label) and the POSIX ACL, which travels as ``system.posix_acl_access``.
Xattrs = tuple[tuple[str, bytes], ...]


class FileKind(StrEnum):
    FILE = "file"
    MISSING = "missing"
    DIRECTORY = "directory"
    OTHER = "other"  # device, fifo, socket
    DANGLING = "dangling"  # a symlink whose target does not exist
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class RemoteFile:
    """One target file as read from a host, in one round trip with all the others."""

    path: str
    kind: FileKind
    real_path: str = ""  # symlinks resolved: the bytes live here and the rename goes here
    mode: int = 0
    uid: int = 0
    gid: int = 0
    owner: str = ""
    group: str = ""
    size: int = 0
    content: bytes | None = None  # None when not a regular file or over the size limit
    error: str = ""
    # Missing, and so is the folder it would be created in: the folders to make first, outermost first
    # (``parents: true``); or, where the nearest existing component is not a folder, that component.
    missing_folders: tuple[str, ...] = ()
    not_a_folder: str = ""
    xattrs: Xattrs | None = ()  # None: not known (the host has no getfattr)

    @property
    def sha256(self) -> str | None:
        return None if self.content is None else sha256_hex(self.content)

    @property
    def parent_exists(self) -> bool:
        return not self.missing_folders and not self.not_a_folder


@dataclass(frozen=True)
class HostTarget:
    """A host with the playbook's steps and probes rendered for it."""

    host: Host
    steps: tuple[Step, ...]
    probes: tuple[Probe, ...] = ()
    secrets: frozenset[str] = frozenset()  # every secret value of the run, for masking by where

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(step.target for step in self.steps))


# --- the plan --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileChange:
    """One file's whole change on one host: what it holds now and exactly what it will hold."""

    path: str
    real_path: str
    steps: tuple[str, ...]  # names of the steps that changed it, in order
    before: bytes | None  # None: the file does not exist yet and is created
    after: bytes
    mode: int
    uid: int | None  # None for a new file: owner/group by name below, or the login user's
    gid: int | None
    owner: str | None = None
    group: str | None = None
    before_mode: int | None = None
    validators: tuple[str, ...] = ()  # the validate commands of the steps that changed it
    delete: bool = False  # undoing a created file: the file is removed (``after`` is unused)
    # Folders the run makes for a new file (``parents: true``), outermost first; undoing it removes
    # them again, innermost first, each only while it is empty.
    folders: tuple[str, ...] = ()
    # Restoring an original the journal keeps masked (it holds a secret): the bytes are copied from this
    # file on the host (its backup) and must have ``source_sha256``; ``after`` is only for showing.
    source: str | None = None
    source_sha256: str | None = None
    # The owner and group the file had when the plan was made (``uid``/``gid`` are those it will have),
    # for the compare-and-swap; None where that is not known (then only content, mode and path count).
    before_uid: int | None = None
    before_gid: int | None = None
    # The extended attributes and ACL the written file gets (for a replacement: the original's), and
    # those the file has now, which its backup copy gets. None: not known, so none are set (the plan
    # carries a note saying so).
    xattrs: Xattrs | None = ()
    before_xattrs: Xattrs | None = ()
    # The bytes as shown, line for line, where a secret is rendered into some lines (``secret_lines``):
    # those lines masked on both sides. None: shown as they are (masked by value only).
    shown_before: bytes | None = None
    shown_after: bytes | None = None

    # Cached: the commit script, its parser and the journal each ask, and a config file is hashed whole.
    @cached_property
    def before_sha256(self) -> str | None:
        return None if self.before is None else sha256_hex(self.before)

    @cached_property
    def after_sha256(self) -> str:
        return self.source_sha256 if self.source_sha256 is not None else sha256_hex(self.after)


@dataclass(frozen=True)
class NoChange:
    path: str
    step: str
    reason: str


class Status(StrEnum):
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    CONFLICT = "conflict"
    ROLLED_BACK = "rolled_back"  # changed, then failed validation, a handler or a probe, and was restored
    ROLLBACK_FAILED = "rollback_failed"  # the one state that needs a human
    SKIPPED = "skipped"  # not started: the run halted at its failure threshold
    INTERRUPTED = "interrupted"  # not started: the operator interrupted the run
    # The write's remote command gave no answer (it timed out, or the connection was lost under it): the
    # host script puts the originals back itself when it finds the controller gone, but nobody here saw it.
    UNKNOWN = "unknown"


OK_STATUSES = frozenset({Status.CHANGED, Status.UNCHANGED})


@dataclass(frozen=True)
class HostFailure:
    """Why a host could not be read: it never reaches planning."""

    status: Status
    error: str


Observed = Mapping[str, RemoteFile] | HostFailure


@dataclass(frozen=True)
class HostPlan:
    host: Host
    changes: tuple[FileChange, ...] = ()
    noops: tuple[NoChange, ...] = ()
    failure: Status | None = None  # set when the host cannot be planned (unreachable, bad target, ...)
    error: str = ""
    handlers: tuple[str, ...] = ()  # on_change commands of the changed steps, once each, in step order
    probes: tuple[Probe, ...] = ()
    # Folders to clear of a killed run's temporary files even when nothing is written there (a rollback's:
    # the run it undoes may have been killed with new content in them).
    sweep: tuple[str, ...] = ()

    @property
    def status(self) -> Status:
        if self.failure is not None:
            return self.failure
        return Status.CHANGED if self.changes else Status.UNCHANGED


@dataclass(frozen=True)
class Plan:
    run_id: str
    playbook: str  # the playbook's name (for a rollback: what it rolls back)
    inventory: str  # the inventory's path
    hosts: tuple[HostPlan, ...]


# --- results ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HostResult:
    host: str
    status: Status
    changes: tuple[FileChange, ...] = ()
    error: str = ""
    backup_dir: str = ""
    probes: tuple[ProbeResult, ...] = ()  # health after the run (after the rollback, for rolled_back)
    precheck: tuple[ProbeResult, ...] = ()  # health before any change, with --precheck
    wave: int = 0  # 0 is the canary when there is one
    started: float | None = None  # wall-clock times of the host's write-verify sequence
    finished: float | None = None


@dataclass(frozen=True)
class RunResult:
    run_id: str
    playbook: str
    inventory: str
    dry_run: bool
    hosts: tuple[HostResult, ...]
    halt: Halt | None = None  # why the rollout stopped starting hosts, when it did
    interrupted: bool = False

    @property
    def halted(self) -> str:
        """The halt's reason, or "" (the JSON document's ``halted``: a string or null)."""
        return self.halt.reason if self.halt else ""

    @property
    def ok(self) -> bool:
        return all(h.status in OK_STATUSES for h in self.hosts)

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for h in self.hosts:
            counts[h.status.value] = counts.get(h.status.value, 0) + 1
        return counts


# --- audits ----------------------------------------------------------------------------------------------


class AuditState(StrEnum):
    COMPLIANT = "compliant"
    DRIFTED = "drifted"
    UNREACHABLE = "unreachable"
    FAILED = "failed"  # reached, but not audited: a target it cannot read, a lock it cannot take, ...


@dataclass(frozen=True)
class HostAudit:
    plan: HostPlan
    # None: not run (not asked, or the host was not reached); otherwise one result per probe, in order.
    probes: tuple[ProbeResult, ...] | None = None

    @property
    def name(self) -> str:
        return self.plan.host.name

    @property
    def state(self) -> AuditState:
        if self.plan.failure is not None:
            unreachable = self.plan.failure.value == AuditState.UNREACHABLE
            return AuditState.UNREACHABLE if unreachable else AuditState.FAILED
        return AuditState.DRIFTED if self.plan.changes else AuditState.COMPLIANT

    @property
    def healthy(self) -> bool:
        """Every probe that ran passed (also true when none ran)."""
        return all(p.ok for p in self.probes or ())


@dataclass(frozen=True)
class Audit:
    audit_id: str
    playbook: str
    inventory: str
    steps: tuple[str, ...]  # the playbook's step names, in order
    hosts: tuple[HostAudit, ...]
    probed: bool  # the probes were asked for
    finished: float  # unix seconds: the "last audit time" a monitoring system compares with its clock


def path_components(path: str) -> list[str]:
    """Every folder on an absolute path, then the path itself: ``/a``, ``/a/b``, ``/a/b/c`` for ``/a/b/c``."""
    parts = [part for part in path.split("/") if part]
    return ["/" + "/".join(parts[: n + 1]) for n in range(len(parts))]


def xattrs_to_json(xattrs: Xattrs | None) -> list[list[str]] | None:
    """Attributes as JSON (plan files, the journal): ``[[name, base64 of the value], ...]``."""
    if xattrs is None:
        return None
    return [[name, base64.b64encode(value).decode("ascii")] for name, value in xattrs]


def xattrs_from_json(data: Any) -> Xattrs | None:
    """The inverse of ``xattrs_to_json``; anything else raises ValueError or TypeError."""
    if data is None:
        return None
    if not isinstance(data, list) or not all(
        isinstance(item, list) and len(item) == 2 and all(isinstance(part, str) for part in item) for item in data
    ):
        raise ValueError(f"extended attributes: expected [[name, base64], ...], got {data!r:.80}")
    return tuple((name, base64.b64decode(value, validate=True)) for name, value in data)


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    kind: str
    user: str
    started: float
    finished: float | None
    playbook: str
    playbook_path: str
    playbook_sha256: str
    inventory: str
    arguments: tuple[str, ...]
    status: str
    rollback_of: str | None
    resume_of: str | None = None  # the run whose never-started hosts this one went on with
    plan_recorded: bool = False  # every host's plan is in the journal (a run of an earlier version: only those written)


# A host row in one of these was never written to by its run: "planned" (the controller died before the
# host's turn), or not started because the run halted or was interrupted.
NEVER_STARTED = frozenset({"planned", Status.SKIPPED.value, Status.INTERRUPTED.value})


@dataclass(frozen=True)
class HostRecord:
    host: str
    address: str
    status: str
    error: str
    backup_dir: str
    handlers: tuple[str, ...]
    probes: tuple[Probe, ...]

    @property
    def never_started(self) -> bool:
        return self.status in NEVER_STARTED


@dataclass(frozen=True)
class FileRecord:
    host: str
    path: str
    real_path: str
    sha256_before: str | None
    sha256_after: str
    mode_before: int | None
    mode_after: int
    uid: int | None
    gid: int | None
    backup_path: str
    original: bytes | None  # masked when original_masked: then the host's backup holds the true bytes
    written: bytes  # secrets masked: for showing, never for writing
    original_masked: bool = False
    xattrs: Xattrs | None = None  # the original's extended attributes and ACL; None: not known
    diff: str = ""  # the diff as the run showed it (secrets masked); "" in a journal made before it was kept
    folders: tuple[str, ...] = ()  # made by the run for a created file (parents: true), outermost first
