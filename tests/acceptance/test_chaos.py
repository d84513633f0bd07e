"""The random-SIGKILL chaos test (issue 14): apply and rollback on 20 real sshd hosts, killed at random.

Each iteration runs the real CLI as a process of its own, ``remediate apply tests/chaos/chaos.yml`` on
all 20 hosts of the ``chaos_lab``, and SIGKILLs it at a random moment: the kill times are spread over
the whole length of a run (one in the Python process's start-up, before the journal has the run, and
one in each of ``ITERATIONS - 1`` equal slices of the rest, in shuffled order), so they land while it
connects, reads, plans, writes and probes. Then, on every host:

- each target file is wholly the old bytes or wholly the new ones (a created file: absent or wholly
  new), with its mode, owner and group (and extended attributes, see ``PRISTINE_XATTRS``) unchanged;
- the target folders hold nothing else: at most the killed run's ``.remediate-XXXXXX`` temporary files;
- the journal knows every host something may have been written to (it has that host's file rows), and
  the killed run's row is still ``running`` (SIGKILL cannot be caught);

then ``remediate rollback RUN`` (for half the runs that wrote, SIGKILLed at random too, the files
checked again, and run again) must put every host back byte for byte, metadata included, and sweep every
temporary file; the rollback's own run must end ``ok`` with every host row final. Before each apply
the hosts are checked to be still pristine, so a remote script of a killed run that wrote late would
show up.

The seed is printed and is in every failure message; ``REMEDIATE_CHAOS_SEED=N`` draws the same kill
times again (where they land still depends on the machine's speed). ``-s`` shows the summary: how
many kills landed in which stage.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import random
import re
import shutil
import stat
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from labtools import BROKEN, FIXED, WP, journal_rows
from pytest_mock import MockerFixture

from remediate.cli.main import main
from remediate.fleet import transport
from remediate.lab.fleet import Lab, LabHost

pytestmark = pytest.mark.lab

PLAYBOOK = "tests/chaos/chaos.yml"  # relative to the repository, where every test runs
ITERATIONS = 30
ROLLBACK_KILLED = 0.5  # the share of rollbacks (of runs that wrote) SIGKILLed too, then run again
HANG_GUARD = 900.0  # seconds for the whole test: only so that it can never hang CI, not a speed limit
PROCESS_TIMEOUT = 120.0  # seconds for one CLI process to end, likewise
CLI_LIMITS = ("--timeout", "10", "--command-timeout", "60")  # the CLI's own bounds per connection, command

APACHE_CONF = "/etc/apache2/apache2.conf"
SECURITY_CONF = "/etc/apache2/conf-available/security.conf"
CREATED = "/etc/apache2/conf-available/chaos-created.conf"  # absent before; the playbook creates it
TARGETS = (WP, APACHE_CONF, SECURITY_CONF, CREATED)
FOLDERS = tuple(sorted({os.path.dirname(path) for path in TARGETS}))

# The files' pristine metadata, unlike anything a careless write would give (root, 0644 or 0600): a
# rollback must put back exactly this.
PRISTINE_METADATA: Mapping[str, tuple[int, int, int]] = {  # path: (mode, uid, gid)
    WP: (0o640, 33, 33),  # www-data's
    APACHE_CONF: (0o640, 0, 33),
    SECURITY_CONF: (0o604, 33, 0),  # others more than the group: written 0600 until chmod
}
CREATED_METADATA = (0o644, 0, 0)  # a line_patch with create: true makes a root file, 0644

# Extended attributes to give the pristine files, {path: {name: value}}, and an ACL entry each
# (``setfacl -m``; the ACL is the system.posix_acl_access attribute): a write must keep them and a
# rollback put them back. ``xattr_dumps`` compares every attribute, ACL included.
PRISTINE_XATTRS: Mapping[str, Mapping[str, bytes]] = {
    WP: {"user.origin": b"staged by the chaos test", "trusted.chaos": b"\x00\x01 binary\n"},
    APACHE_CONF: {"user.origin": b"apache's"},
    SECURITY_CONF: {"trusted.chaos": b"security"},
}
# Their group class already has r, so the mask an entry brings leaves the mode as it was (security.conf
# has none: an entry there would make it 0644).
PRISTINE_ACL: Mapping[str, str] = {WP: "u:nobody:r", APACHE_CONF: "g:nogroup:r"}

# Until `rollback --lock-wait SECONDS` exists, a host still locked by a killed run's remote script (the
# flock dies with that script, which may outlive the controller a moment) is retried here.
ROLLBACK_LOCK_WAIT: float | None = None  # seconds for --lock-wait, once rollback has it
LOCK_RETRIES = 40
LOCK_RETRY_PAUSE = 0.25

TEMPORARY = re.compile(r"^\.remediate-[A-Za-z0-9]{6}$")


@dataclass(frozen=True)
class FileState:
    """A path on a host as the test compares it: bytes (None: absent), mode, owner, group, xattrs."""

    content: bytes | None
    mode: int = 0
    uid: int = 0
    gid: int = 0
    xattrs: str | None = None  # getfattr's dump; None for an absent file

    def __str__(self) -> str:
        if self.content is None:
            return "absent"
        xattrs = "" if not self.xattrs else f", xattrs {self.xattrs!r}"
        return f"{len(self.content)} bytes, {self.mode:04o} {self.uid}:{self.gid}{xattrs}"


ABSENT = FileState(None)
HostFiles = dict[str, FileState]  # path: state
Fleet = dict[str, HostFiles]  # host name: its files


# --- what the hosts hold, read from the folders behind them --------------------------------------------


def xattr_dumps(paths: Sequence[Path]) -> dict[Path, str]:
    """Each file's extended attributes (ACLs included) as ``getfattr -d -m - -e base64`` prints them,
    without its ``# file:`` line. One getfattr for all files."""
    getfattr = shutil.which("getfattr")
    assert getfattr is not None, "getfattr (Debian's attr) not found: scripts/setup.sh installs it"
    dumps = {path: "" for path in paths}
    if not paths:
        return dumps
    done = subprocess.run(
        [getfattr, "--absolute-names", "-d", "-m", "-", "-e", "base64", "--", *map(str, paths)],
        capture_output=True, text=True, check=False, timeout=PROCESS_TIMEOUT,
    )  # fmt: skip
    assert done.returncode == 0, f"getfattr failed: {done.stderr}"
    current: Path | None = None
    for line in done.stdout.splitlines():
        if line.startswith("# file: "):
            current = Path(line.removeprefix("# file: "))
        elif line and current is not None:
            dumps[current] += line + "\n"
    return dumps


def settle(lab: Lab) -> None:
    """Until no remote script of a killed run still works on any host: a script that finds its controller
    gone puts the originals back before it ends (so a read while it does would see it half-way through
    its own undo). Each holds its host's lock until it ends; the lock is an flock on a file of the host's
    tmpfs, which this process can take too."""
    deadline = time.monotonic() + PROCESS_TIMEOUT
    for host in lab.hosts:
        lock = host.local_path("/run/remediate/lock")
        if not lock.exists():
            continue
        with lock.open("rb") as held:
            while True:
                try:
                    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    assert time.monotonic() < deadline, f"{host.name}: a remote script still holds the lock"
                    time.sleep(0.02)
            fcntl.flock(held, fcntl.LOCK_UN)


def read_fleet(lab: Lab) -> Fleet:
    settle(lab)
    locals_ = {(host.name, path): host.local_path(path) for host in lab.hosts for path in TARGETS}
    states: dict[tuple[str, str], FileState] = {}
    for key, local in locals_.items():
        try:
            content = local.read_bytes()
            st = local.lstat()
        except FileNotFoundError:
            states[key] = ABSENT
            continue
        assert stat.S_ISREG(st.st_mode), f"{key}: not a regular file"
        states[key] = FileState(content, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
    dumps = xattr_dumps([local for key, local in locals_.items() if states[key] is not ABSENT])
    fleet: Fleet = {host.name: {} for host in lab.hosts}
    for (name, path), state in states.items():
        if state is not ABSENT:
            state = FileState(state.content, state.mode, state.uid, state.gid, dumps[locals_[name, path]])
        fleet[name][path] = state
    return fleet


def folder_entries(host: LabHost) -> dict[str, set[str]]:
    return {folder: set(os.listdir(host.local_path(folder))) for folder in FOLDERS}


def temporary_files(host: LabHost) -> list[str]:
    return [
        f"{folder}/{name}" for folder, names in folder_entries(host).items() for name in names if TEMPORARY.match(name)
    ]


def stray_entries(host: LabHost, pristine: Mapping[str, set[str]]) -> list[str]:
    """Names in the target folders that are neither pristine, nor the created file, nor a temporary file."""
    allowed = {os.path.basename(CREATED)}
    return [
        f"{folder}/{name}"
        for folder, names in folder_entries(host).items()
        for name in names - pristine[folder]
        if name not in allowed and not TEMPORARY.match(name)
    ]


# --- the journal ---------------------------------------------------------------------------------------


def run_ids(state: Path, kind: str) -> set[str]:
    return {row[0] for row in journal_rows(state, "SELECT run_id FROM runs WHERE kind = ?", kind)}


# --- the CLI, as a process of its own ------------------------------------------------------------------


@dataclass(frozen=True)
class Ended:
    argv: tuple[str, ...]
    code: int  # -9: SIGKILLed
    stdout: str
    stderr: str
    seconds: float
    began: float | None = None  # seconds until run_cli's ``began`` check held

    @property
    def killed(self) -> bool:
        return self.code == -9

    def document(self) -> dict[str, Any]:
        assert self.stdout, f"{' '.join(self.argv)}: no JSON on stdout (exit {self.code}); stderr: {self.stderr}"
        doc: dict[str, Any] = json.loads(self.stdout)
        return doc

    def __str__(self) -> str:
        return (
            f"`remediate {' '.join(self.argv)}` exit {self.code}\nstdout: {self.stdout[-3000:]}\nstderr: {self.stderr}"
        )


def run_cli(
    tmp_path: Path, *argv: str, kill_after: float | None = None, began: Callable[[], bool] | None = None
) -> Ended:
    """Runs ``remediate ARGV`` in a process of its own; with ``kill_after``, SIGKILLs it (by its pid)
    that many seconds after it started if it is still running. With ``began``, a check polled while it
    runs: ``Ended.began`` is when it first held."""
    out, err = tmp_path / "cli.out", tmp_path / "cli.err"
    started = time.monotonic()
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "remediate.cli.main", *argv], stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr
        )
    began_after = None
    try:
        while process.poll() is None:
            elapsed = time.monotonic() - started
            if kill_after is not None and elapsed >= kill_after:
                process.kill()  # SIGKILL, to this pid alone (poll() first: never a pid already reaped)
                process.wait(timeout=PROCESS_TIMEOUT)
                break
            if elapsed > PROCESS_TIMEOUT:
                raise subprocess.TimeoutExpired(argv, PROCESS_TIMEOUT)
            if began is not None and began_after is None and began():
                began_after = elapsed
            pause = 0.01 if kill_after is None else min(0.01, kill_after - elapsed)
            time.sleep(max(pause, 0.0))
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"`remediate {' '.join(argv)}` did not end within {PROCESS_TIMEOUT} s (hang guard)")
    seconds = time.monotonic() - started
    return Ended(tuple(argv), process.returncode, out.read_text(), err.read_text(), seconds, began_after)


def new_run(state: Path, kind: str) -> Callable[[], bool]:
    """A check that the journal holds a run of ``kind`` it did not hold when the check was made."""
    known = run_ids(state, kind)
    return lambda: bool(run_ids(state, kind) - known)


def locked_hosts(ended: Ended) -> list[str]:
    if not ended.stdout:
        return []
    hosts = ended.document()["hosts"]
    return [name for name, entry in hosts.items() if (entry.get("error") or "").startswith("locked by run ")]


def rollback_to_completion(tmp_path: Path, run_id: str, began: Callable[[], bool] | None = None) -> tuple[Ended, int]:
    """``remediate rollback RUN`` until no host is locked by a killed run's remote script, which may
    outlive its controller a moment; returns the last run and how many times a lock made it retry.
    This is where ``--lock-wait`` plugs in once rollback has it (``ROLLBACK_LOCK_WAIT``)."""
    wait = () if ROLLBACK_LOCK_WAIT is None else ("--lock-wait", str(ROLLBACK_LOCK_WAIT))
    for attempt in range(LOCK_RETRIES):
        ended = run_cli(tmp_path, "rollback", run_id, "--yes", "--json", *CLI_LIMITS, *wait, began=began)
        if not locked_hosts(ended):
            return ended, attempt
        time.sleep(LOCK_RETRY_PAUSE)
    pytest.fail(f"still locked after {LOCK_RETRIES} rollbacks: {ended}")


# --- the lab, staged once ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Staged:
    lab: Lab
    pristine: Fleet
    entries: dict[str, dict[str, set[str]]]  # host: folder: names, as pristine


def stage_pristine_files(lab: Lab) -> None:
    """The pristine files get the test's metadata, extended attributes and ACL entries."""
    for host in lab.hosts:
        for path, (mode, uid, gid) in PRISTINE_METADATA.items():
            local = host.local_path(path)
            os.chown(local, uid, gid)
            local.chmod(mode)
            for name, value in PRISTINE_XATTRS.get(path, {}).items():
                os.setxattr(local, name, value)
            if path in PRISTINE_ACL:
                setfacl = ["setfacl", "-m", PRISTINE_ACL[path], str(local)]
                subprocess.run(setfacl, check=True, timeout=PROCESS_TIMEOUT)
            assert stat.S_IMODE(local.stat().st_mode) == mode, (path, "the ACL changed the mode")


@pytest.fixture(scope="module")
def staged(chaos_lab: Lab) -> Iterator[Staged]:
    stage_pristine_files(chaos_lab)
    pristine = read_fleet(chaos_lab)
    for name, files in pristine.items():
        assert BROKEN in (files[WP].content or b""), name
        assert files[CREATED] is ABSENT, name
    yield Staged(chaos_lab, pristine, {host.name: folder_entries(host) for host in chaos_lab.hosts})


# --- the checks ----------------------------------------------------------------------------------------


def old_or_new(staged: Staged, new: Fleet) -> tuple[list[str], dict[str, str]]:
    """Problems (a file neither old nor new, a stray name), and each host's shape: wholly ``old``,
    wholly ``new``, or ``part new`` (a kill between two renames)."""
    problems: list[str] = []
    shapes: dict[str, str] = {}
    now = read_fleet(staged.lab)
    for host in staged.lab.hosts:
        states = set()
        for path in TARGETS:
            seen, old, fresh = now[host.name][path], staged.pristine[host.name][path], new[host.name][path]
            if seen == old:
                states.add("old")
            elif seen == fresh:
                states.add("new")
            else:
                problems.append(f"{host.name}:{path} is neither old ({old}) nor new ({fresh}): {seen}")
        problems += [f"{host.name}: stray {name}" for name in stray_entries(host, staged.entries[host.name])]
        shapes[host.name] = states.pop() if len(states) == 1 else "part new"
    return problems, shapes


def not_pristine(staged: Staged) -> list[str]:
    problems = []
    now = read_fleet(staged.lab)
    for host in staged.lab.hosts:
        for path in TARGETS:
            if now[host.name][path] != staged.pristine[host.name][path]:
                problems.append(f"{host.name}:{path} is {now[host.name][path]}, not {staged.pristine[host.name][path]}")
        if (entries := folder_entries(host)) != staged.entries[host.name]:
            problems.append(f"{host.name}: the target folders hold {entries}, not {staged.entries[host.name]}")
    return problems


def touched_hosts(staged: Staged) -> set[str]:
    """Hosts where something differs from pristine: a file, or a temporary file left behind."""
    now = read_fleet(staged.lab)
    return {
        host.name for host in staged.lab.hosts if now[host.name] != staged.pristine[host.name] or temporary_files(host)
    }


def check_finished_rollback(state: Path, ended: Ended, run_id: str, to_put_back: set[str], context: str) -> None:
    """The rollback put back every host in ``to_put_back`` (``changed``) and found every other as it was
    (``unchanged``), and its own run and host rows are final: ``ok``, and those statuses."""
    assert ended.code == 0, f"{context}: {ended}"
    if not ended.stdout:  # the run wrote no file: nothing to put back, nothing connected to
        assert "changed no file: nothing to roll back" in ended.stderr, f"{context}: {ended}"
        assert not to_put_back, f"{context}: {to_put_back} differ, and the rollback found nothing to put back"
        # Every host's plan is journaled before the first write (for `resume`): only the files of hosts the
        # run began to write would be something to put back.
        started = (
            "SELECT f.host FROM files f JOIN hosts h ON h.run_id = f.run_id AND h.host = f.host"
            " WHERE f.run_id = ? AND h.status NOT IN ('planned', 'skipped', 'interrupted')"
        )
        assert not journal_rows(state, started, run_id), context
        return
    doc = ended.document()
    statuses = {name: entry["status"] for name, entry in doc["hosts"].items()}
    expected = {name: "changed" if name in to_put_back else "unchanged" for name in statuses}
    assert statuses == expected and to_put_back <= set(statuses), f"{context}: {ended}"
    ((status, rollback_of),) = journal_rows(
        state, "SELECT status, rollback_of FROM runs WHERE run_id = ?", doc["run_id"]
    )
    assert (status, rollback_of) == ("ok", run_id), context
    rows = dict(journal_rows(state, "SELECT host, status FROM hosts WHERE run_id = ?", doc["run_id"]))
    assert rows == statuses, f"{context}: the rollback's own host rows"


def differing_hosts(staged: Staged) -> set[str]:
    now = read_fleet(staged.lab)
    return {host.name for host in staged.lab.hosts if now[host.name] != staged.pristine[host.name]}


# --- the test ------------------------------------------------------------------------------------------


def test_random_sigkill_of_apply_and_rollback_leaves_every_file_whole_and_rollback_restores_every_host(
    staged: Staged, tmp_path: Path, in_repo: Path
) -> None:
    seed = int(os.environ.get("REMEDIATE_CHAOS_SEED") or random.SystemRandom().randrange(2**32))
    print(f"chaos seed {seed} (REMEDIATE_CHAOS_SEED={seed} draws the same kill times)")
    rng = random.Random(seed)
    deadline = time.monotonic() + HANG_GUARD
    lab, state = staged.lab, in_repo
    apply_argv = ("apply", PLAYBOOK, "-i", str(lab.inventory_path), "--yes", "--json", *CLI_LIMITS)

    # A whole run first: the new state every later file must match when it is not the old one, and
    # how long a run takes (and its start before the journal has its run), over which kills are spread.
    whole = run_cli(tmp_path, *apply_argv, began=new_run(state, "apply"))
    assert whole.code == 0, f"seed {seed}: {whole}"
    assert set(e["status"] for e in whole.document()["hosts"].values()) == {"changed"}, f"seed {seed}: {whole}"
    new = read_fleet(lab)
    for host in lab.hosts:
        files, old = new[host.name], staged.pristine[host.name]
        assert FIXED in (files[WP].content or b"") and b"ServerTokens Prod" in (files[APACHE_CONF].content or b"")
        for path in PRISTINE_METADATA:
            assert files[path] != old[path]
            assert (files[path].mode, files[path].uid, files[path].gid) == PRISTINE_METADATA[path], (host.name, path)
            assert files[path].xattrs == old[path].xattrs, (host.name, path)
        assert (files[CREATED].mode, files[CREATED].uid, files[CREATED].gid) == CREATED_METADATA
    undone, _ = rollback_to_completion(tmp_path, whole.document()["run_id"], began=new_run(state, "rollback"))
    every = {host.name for host in lab.hosts}
    check_finished_rollback(state, undone, whole.document()["run_id"], every, f"seed {seed}, the whole run")
    assert not_pristine(staged) == [], f"seed {seed}: after rolling back the whole run"
    apply_begins, apply_span = whole.began or 0.0, whole.seconds
    rollback_begins, rollback_span = undone.began or 0.0, undone.seconds

    # One kill in the start-up (the Python process, before the journal has the run), every other in one
    # of equal slices of the rest: connecting, reading, planning, writing, probing.
    slices = list(range(ITERATIONS))
    rng.shuffle(slices)
    stages: Counter[str] = Counter()
    shapes_after_kill: Counter[str] = Counter()
    killed_rollbacks = lock_retries = temporaries_left = 0
    for iteration, slice_ in enumerate(slices):
        assert time.monotonic() < deadline, f"seed {seed}: over {HANG_GUARD} s at iteration {iteration} (hang guard)"
        # Drawn whatever happens next, so that the seed alone decides every kill time.
        apply_draw, kill_rollback, rollback_draw = rng.random(), rng.random() < ROLLBACK_KILLED, rng.random()
        if slice_ == 0:
            kill_after = apply_draw * apply_begins
        else:
            kill_after = apply_begins + (slice_ - 1 + apply_draw) / (ITERATIONS - 1) * (apply_span - apply_begins)
        context = f"seed {seed}, iteration {iteration}, apply killed after {kill_after:.3f} s"
        assert not_pristine(staged) == [], f"{context}: before the apply (a late write of an earlier run?)"

        known = run_ids(state, "apply")
        applied = run_cli(tmp_path, *apply_argv, kill_after=kill_after)
        assert applied.killed or applied.code == 0, f"{context}: {applied}"
        problems, shapes = old_or_new(staged, new)
        assert problems == [], f"{context}: {problems}"
        shapes_after_kill.update(shapes.values())
        touched = touched_hosts(staged)
        temporaries_left += sum(len(temporary_files(host)) for host in lab.hosts)

        began = run_ids(state, "apply") - known
        if not began:  # killed before the run began: nothing can have been written
            stages["before the run began"] += 1
            assert touched == set(), f"{context}: no run in the journal, yet {touched} differ"
            continue
        (run_id,) = began
        ((run_status,),) = journal_rows(state, "SELECT status FROM runs WHERE run_id = ?", run_id)
        # A kill can land after the run has finished its journal row, in the moment before the process exits.
        assert run_status in (("running", "ok") if applied.killed else ("ok",)), (
            f"{context}: the run's row is {run_status}"
        )
        rows = dict(journal_rows(state, "SELECT host, status FROM hosts WHERE run_id = ?", run_id))
        with_files = {row[0] for row in journal_rows(state, "SELECT DISTINCT host FROM files WHERE run_id = ?", run_id)}
        assert touched <= with_files, f"{context}: {touched - with_files} touched, and not in the journal's files"
        stages[_stage(applied, rows, touched, shapes)] += 1

        if with_files and kill_rollback:
            rollback_kill = rollback_begins + rollback_draw * (rollback_span - rollback_begins)
            killed = run_cli(tmp_path, "rollback", run_id, "--yes", "--json", *CLI_LIMITS, kill_after=rollback_kill)
            killed_rollbacks += killed.killed
            context += f", its rollback killed after {rollback_kill:.3f} s"
            problems, _ = old_or_new(staged, new)
            assert problems == [], f"{context}: {problems}"
        to_put_back = differing_hosts(staged)
        undone, retries = rollback_to_completion(tmp_path, run_id)
        lock_retries += retries
        check_finished_rollback(state, undone, run_id, to_put_back, context)
        assert not_pristine(staged) == [], f"{context}: after the rollback"

    summary = ", ".join(f"{count} {stage}" for stage, count in sorted(stages.items()))
    print(
        f"chaos seed {seed}: {ITERATIONS} applies killed over {apply_span:.2f} s: {summary}; hosts right after a"
        f" kill: {dict(shapes_after_kill)}; {temporaries_left} temporary files left by killed runs (all swept);"
        f" {killed_rollbacks} rollbacks killed; {lock_retries} rollbacks retried for a lock"
    )


def _stage(applied: Ended, rows: Mapping[str, str], touched: set[str], shapes: Mapping[str, str]) -> str:
    """How far the run had got when it was killed, as the journal and the hosts tell."""
    if not applied.killed or (rows and all(status != "writing" for status in rows.values())):
        return "after the run ended"
    if any(status != "writing" for status in rows.values()):
        return "with some hosts done"
    if any(shapes[name] == "new" for name in rows):
        return "while probing (a host's files all new, its row still writing)"
    if touched:
        return "while writing"
    if rows:
        return "as the writes began"
    return "while connecting, reading or planning"


# --- a script cut off between two SSH packets ------------------------------------------------------------

# Found while building the test above, by reading what a host does with a script whose controller dies
# while sending it (a random kill rarely lands there): sshd hands the shell only whole SSH packets, so
# the script it gets ends where a packet ended, which can be in the middle of a line; and at the end of
# its input `sh -s` runs an incomplete last line as it is. A `mv -fT -- "$t0" /var/www/html/wp-settings.php`
# cut to `.../wp-set` renames the new content to /var/www/html/wp-set; a rollback's `rm -f -- PATH` cut
# to a shorter PATH removes another file. Where a packet ends depends only on the sizes of what goes
# before (every 32704 bytes of the script, or where the channel's window ran out), so some files put a
# boundary there. The shell runs the partial line once its input ends: when sshd closes it, which is
# at once after a kill, or after a network drop when sshd gives up on the connection. The commit
# script is therefore one compound command (``{ ... }``): sh runs none of it before all of it arrived.
ANSWER_WAIT = 10.0  # seconds: how long a host may take to run a script's first part (a bound, not a measure)


def _deliver_up_to(cut: str, answered: bytes) -> Callable[..., None]:
    """A stand-in for transport._send: a script holding ``cut`` reaches the host only up to the end of
    ``cut``, as if the next SSH packet never came; once the host has answered ``answered`` (it ran the
    script that far), or has not within ``ANSWER_WAIT`` (a script that runs nothing before it has
    arrived whole), the connection ends."""
    real = transport._send

    def cut_off(channel: Any, data: bytes, end_input: bool) -> None:
        at = data.find(cut.encode())
        if at < 0:
            return real(channel, data, end_input)
        channel.sendall(data[: at + len(cut)])
        channel.settimeout(ANSWER_WAIT)
        seen = b""
        with contextlib.suppress(TimeoutError):
            while answered not in seen:
                chunk = channel.recv(65536)
                assert chunk, f"the host ended before answering {answered!r}: {seen!r}"
                seen += chunk
        channel.get_transport().close()  # sshd closes the script's input: sh reads its end
        raise OSError("the connection was lost")

    return cut_off


def _wait_for_the_hosts_script(host: LabHost) -> None:
    """Until the script that was cut off has ended on the host: it holds the host's lock until then."""
    lock = host.local_path("/run/remediate/lock")
    done = subprocess.run(["flock", "-w", "30", str(lock), "true"], check=False, timeout=PROCESS_TIMEOUT)
    assert done.returncode == 0, "the host's script still holds its lock after 30 s"


def test_an_apply_cut_off_in_a_rename_leaves_no_stray_copy(
    lab: Lab, capsys: pytest.CaptureFixture[str], mocker: MockerFixture
) -> None:
    web1 = lab.host("web1")
    docroot = web1.local_path("/var/www/html")
    names = set(os.listdir(docroot))
    before = web1.local_path(WP).read_bytes()
    # Cut inside the rename of wp-settings.php, after the host has said it made the backup.
    mocker.patch(
        "remediate.fleet.transport._send", _deliver_up_to('mv -fT -- "$t0" /var/www/html/wp-set', b"\nbackup 0 ")
    )
    assert main(["apply", "fix-phpp", "-i", str(lab.inventory_path), "--yes", "--limit", "web1"]) == 1
    capsys.readouterr()
    _wait_for_the_hosts_script(web1)
    assert web1.local_path(WP).read_bytes() == before
    stray = {name for name in set(os.listdir(docroot)) - names if not TEMPORARY.match(name)}
    assert stray == set(), f"the new content went to {stray}"


def test_a_rollback_cut_off_in_a_removal_removes_no_other_file(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], mocker: MockerFixture
) -> None:
    web1 = lab.host("web1")
    index = web1.local_path("/var/www/html/index.php")
    before = index.read_bytes()
    playbook = tmp_path / "pb.yml"
    playbook.write_text("steps: [{line_patch: {path: /var/www/html/index.php.orig, ensure_line: x, create: true}}]\n")
    assert main(["apply", str(playbook), "-i", str(lab.inventory_path), "--yes", "--limit", "web1", "--json"]) == 0
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    # The rollback removes the file the run created; its script is cut inside that removal.
    mocker.patch("remediate.fleet.transport._send", _deliver_up_to("rm -f -- /var/www/html/index.php", b"\n"))
    assert main(["rollback", run_id, "--yes"]) == 1
    capsys.readouterr()
    _wait_for_the_hosts_script(web1)
    assert index.exists() and index.read_bytes() == before, "the rollback removed index.php, which no run touched"
