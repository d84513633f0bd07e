"""What another user of a host can do to a run, tried as that user would, on real lab hosts (issue 14).

The lock: a root run's lock lives in /run/remediate, a folder only root can write; the old lock in the
world-writable /run/lock let any user plant a link that root then wrote through, or hold the lock with
a text of their own.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_bounds import PEAK_REPORTER
from labtools import (
    BROKEN,
    FIXED,
    WP,
    ensure_lab_user,
    journal_host,
    journal_rows,
    on_host,
    run_json,
    run_on_host,
    snapshot,
)
from pytest_mock import MockerFixture

from remediate.cli.main import main
from remediate.errors import UserError
from remediate.lab.fleet import Lab, LabHost

pytestmark = pytest.mark.lab

VICTIM = "/etc/apache2/ports.conf"  # root's file, which a run must never write to


def apply_web1(capsys: pytest.CaptureFixture[str], lab: Lab) -> tuple[int, dict]:  # type: ignore[type-arg]
    return run_json(capsys, "apply", "fix-phpp", "-i", str(lab.inventory_path), "--yes", "--limit", "web1")


def test_a_link_planted_by_another_user_is_never_written_through(
    lab: Lab, capsys: pytest.CaptureFixture[str], in_repo: Path
) -> None:
    web1 = lab.host("web1")
    user = ensure_lab_user()
    victim = web1.local_path(VICTIM).read_bytes()
    # Where the lock used to be, anyone may plant a link; where it is now, nobody but root can.
    assert run_on_host(lab, web1, f"ln -s {VICTIM} /run/lock/remediate.lock", user).exit_status == 0
    refused = run_on_host(lab, web1, f"ln -s {VICTIM} /run/remediate/lock", user)
    assert refused.exit_status != 0 and b"Permission denied" in refused.stderr

    code, doc = apply_web1(capsys, lab)
    assert code == 0 and doc["hosts"]["web1"]["status"] == "changed", doc
    assert web1.local_path(VICTIM).read_bytes() == victim
    assert web1.local_path(WP).read_bytes().count(FIXED) == 1
    assert journal_host(in_repo, doc["run_id"], "web1") == ("changed", "")


def test_another_user_can_neither_hold_the_lock_nor_forge_its_holder(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    web1 = lab.host("web1")
    user = ensure_lab_user()
    # A user's own file at the old lock's name, with a forged holder, held with flock (in a session of
    # its own, so that the whole group is stopped afterwards by its id).
    started = run_on_host(
        lab, web1,
        "echo '20990101T000000Z-forged since 2099-01-01T00:00:00Z' > /run/lock/remediate.lock &&"
        " setsid flock /run/lock/remediate.lock sleep 60 </dev/null >/dev/null 2>&1 & echo $!",
        user,
    )  # fmt: skip
    assert started.exit_status == 0, started.stderr
    group = int(started.stdout)
    try:
        deadline = time.monotonic() + 10
        while run_on_host(lab, web1, "flock -n /run/lock/remediate.lock true").exit_status == 0:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        # The real lock cannot even be opened by that user, nor its holder written.
        for attempt in ("flock -n /run/remediate/lock true", "echo forged > /run/remediate/holder"):
            denied = run_on_host(lab, web1, attempt, user)
            assert denied.exit_status != 0 and b"Permission denied" in denied.stderr, attempt
        code, doc = apply_web1(capsys, lab)
    finally:
        on_host(lab, web1, f"kill -KILL -- -{group}")
    assert code == 0 and doc["hosts"]["web1"]["status"] == "changed", doc
    holder_text = web1.local_path("/run/remediate/holder").read_text()
    assert holder_text.startswith(f"{doc['run_id']} since ")


@pytest.mark.parametrize(
    ("stage", "problem"),
    [
        # Only root could have done these; each is refused before anything is opened through it.
        (f"ln -s {VICTIM} /run/remediate/lock", "the lock /run/remediate/lock is not a regular file of the run's user"),
        ("mkfifo /run/remediate/lock", "the lock /run/remediate/lock is not a regular file of the run's user"),
        ("chmod 0777 /run/remediate", "the lock folder /run/remediate is not a folder of the run's user alone"),
        ("chown 65534 /run/remediate", "the lock folder /run/remediate is not a folder of the run's user alone"),
    ],
)
def test_a_lock_that_is_not_the_run_users_own_regular_file_is_refused(
    lab: Lab, capsys: pytest.CaptureFixture[str], in_repo: Path, stage: str, problem: str
) -> None:
    web1 = lab.host("web1")
    victim = web1.local_path(VICTIM).read_bytes()
    on_host(lab, web1, stage)
    code, doc = apply_web1(capsys, lab)
    assert code == 1
    entry = doc["hosts"]["web1"]
    assert (entry["status"], entry["error"]) == ("failed", f"{problem}; not touched")
    assert journal_host(in_repo, doc["run_id"], "web1") == ("failed", f"{problem}; not touched")
    assert web1.local_path(VICTIM).read_bytes() == victim
    assert BROKEN in web1.local_path(WP).read_bytes()
    assert not web1.local_path("/var/backups/remediate").exists()


# --- the answer: nothing a host holds can forge a line of it ---------------------------------------------

FORGED_NAME = "/var/www/html/.remediate-a\ndone"  # a stale-looking temporary file whose name ends the old answer


def test_a_file_name_cannot_forge_the_end_of_the_answer(
    lab: Lab, capsys: pytest.CaptureFixture[str], in_repo: Path
) -> None:
    web1 = lab.host("web1")
    web1.local_path(FORGED_NAME).write_text("")  # as www-data could, in its docroot
    on_host(lab, web1, "mount -o remount,bind,ro /var/backups")  # so the write stops before any rename
    try:
        code, doc = apply_web1(capsys, lab)
    finally:
        on_host(lab, web1, "mount -o remount,bind,rw /var/backups")
    assert code == 1
    entry = doc["hosts"]["web1"]
    assert entry["status"] == "failed"
    assert "cannot make the backup folder /var/backups/remediate/" in entry["error"]
    assert entry["error"].endswith("nothing was replaced")
    assert journal_host(in_repo, doc["run_id"], "web1") == ("failed", entry["error"])
    assert BROKEN in web1.local_path(WP).read_bytes()
    assert not web1.local_path(FORGED_NAME).exists()  # swept as a killed run's temporary file


def test_a_failing_handler_is_rolled_back_whatever_a_file_name_says(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], in_repo: Path
) -> None:
    web1 = lab.host("web1")
    before = web1.local_path(WP).read_bytes()
    web1.local_path(FORGED_NAME).write_text("")
    playbook = tmp_path / "pb.yml"
    playbook.write_text(
        "steps:\n"
        "  - line_patch: {path: /var/www/html/wp-settings.php, regex: '\\.phpp\\b', replace: '.php'}\n"
        # Fails once (the reload after the fix), then works (the reload after the rollback).
        "    on_change: '[ -e /tmp/failed-once ] || { touch /tmp/failed-once; echo reload failed; exit 1; }'\n"
    )
    code, doc = run_json(capsys, "apply", str(playbook), "-i", str(lab.inventory_path), "--yes", "--limit", "web1")
    assert code == 1
    entry = doc["hosts"]["web1"]
    assert entry["status"] == "rolled_back" and "reload failed" in entry["error"]
    assert journal_host(in_repo, doc["run_id"], "web1")[0] == "rolled_back"
    assert web1.local_path(WP).read_bytes() == before


def test_a_login_shell_that_greets_does_not_break_the_answer(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    web1 = lab.host("web1")
    # root's ~/.bashrc on this host alone greets: bash reads it for every command sshd runs.
    on_host(
        lab, web1, "printf 'echo Welcome to web1\\n' > /tmp/greeting.rc && mount --bind /tmp/greeting.rc /root/.bashrc"
    )
    try:
        assert run_on_host(lab, web1, "true").stdout == b"Welcome to web1\n"
        code, doc = apply_web1(capsys, lab)
    finally:
        on_host(lab, web1, "umount /root/.bashrc")
    assert code == 0, doc
    assert doc["hosts"]["web1"]["status"] == "changed"
    assert web1.local_path(WP).read_bytes().count(FIXED) == 1


# --- a flood: one host cannot take the controller down ----------------------------------------------------

FLOOD_BYTES = 1_500_000_000


def test_a_host_that_floods_its_answer_fails_alone_and_the_controller_stays_small(lab: Lab, tmp_path: Path) -> None:
    web2 = lab.host("web2")
    # On web2 alone, base64 (which sends every file's bytes) answers with 1.5 GB instead.
    flood = web2.local_path("/tmp/flood")
    flood.write_text(f"#!/bin/sh\nhead -c {FLOOD_BYTES} /dev/zero | tr '\\0' A\n")
    flood.chmod(0o755)
    on_host(lab, web2, "mount --bind /tmp/flood /usr/bin/base64")
    try:
        assert run_on_host(lab, web2, "base64 /etc/hostname | head -c 10").stdout == b"A" * 10
        argv = ["apply", "fix-phpp", "-i", str(lab.inventory_path), "--yes", "--max-fail", "100%", "--json"]
        with (tmp_path / "out").open("wb") as out, (tmp_path / "err").open("wb") as err:
            measured = [sys.executable, "-c", PEAK_REPORTER, str(tmp_path / "peak"), *argv]
            controller = subprocess.Popen(measured, stdout=out, stderr=err)
        deadline = time.monotonic() + 120
        while not (waited := os.wait4(controller.pid, os.WNOHANG))[0]:
            if time.monotonic() > deadline:
                controller.kill()
                pytest.fail("the controller did not finish within 120 s")
            time.sleep(0.1)
    finally:
        on_host(lab, web2, "umount /usr/bin/base64")
    controller.returncode = os.waitstatus_to_exitcode(waited[1])  # reaped here
    assert controller.returncode == 1, (tmp_path / "err").read_text()
    peak_kib = int((tmp_path / "peak").read_text())
    assert peak_kib * 1024 < 200 * 1024 * 1024, f"the controller's peak resident memory: {peak_kib} KiB"
    doc = json.loads((tmp_path / "out").read_text())
    web2_entry = doc["hosts"]["web2"]
    assert web2_entry["status"] == "failed"
    assert web2_entry["error"].startswith("the host's answer went past ")
    assert all(doc["hosts"][h.name]["status"] == "changed" for h in lab.hosts if h.name != "web2")
    assert BROKEN in web2.local_path(WP).read_bytes()


# --- rough edges ------------------------------------------------------------------------------------------


@pytest.fixture
def hung_listener() -> Iterator[tuple[str, int]]:
    """A port on 127.0.0.1 that takes connections (the kernel completes them) and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()


def with_host(lab: Lab, tmp_path: Path, name: str, address: str, port: int) -> Path:
    """The lab's inventory with one more host, at ``address:port``, first."""
    web1 = lab.host("web1")
    extra = f"  {name}: {{address: {address}, port: {port}, vars: {{health_url: '{web1.url}'}}}}\n"
    inventory = tmp_path / "inv.yml"
    inventory.write_text(lab.inventory_path.read_text().replace("hosts:\n", "hosts:\n" + extra, 1))
    return inventory


@pytest.mark.parametrize("kind", ["web server", "hung listener"])
def test_a_port_that_is_not_ssh_is_one_line(
    lab: Lab, tmp_path: Path, hung_listener: tuple[str, int], kind: str
) -> None:
    web1 = lab.host("web1")
    # The lab's web server answers paramiko's greeting with an HTTP error and closes; the hung listener
    # never answers at all.
    address, port = (web1.address, web1.http_port) if kind == "web server" else hung_listener
    inventory = with_host(lab, tmp_path, "notssh", address, port)
    argv = ["apply", "fix-phpp", "-i", str(inventory), "--yes", "--limit", "notssh", "--timeout", "1"]
    result = subprocess.run(
        [sys.executable, "-m", "remediate.cli.main", *argv], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    error = f"no SSH banner from {address}:{port} within 1 s (after 3 attempts)"
    assert f"notssh ({address}): unreachable: {error}" in result.stdout.splitlines()
    assert "Traceback" not in result.stdout + result.stderr and "No existing session" not in result.stdout
    assert result.stderr == ""


def _runs(state: Path) -> list[tuple[Any, ...]]:
    return journal_rows(state, "SELECT run_id, status FROM runs")


def test_sigterm_while_hosts_are_read_finishes_the_run_as_interrupted(
    lab: Lab, tmp_path: Path, in_repo: Path, hung_listener: tuple[str, int]
) -> None:
    # web1 .. web4 are read at once; 'hung' takes the connection and never sends a banner, for 20 s.
    inventory = with_host(lab, tmp_path, "hung", *hung_listener)
    argv = ["apply", "fix-phpp", "-i", str(inventory), "--yes", "--timeout", "20"]
    controller = subprocess.Popen(
        [sys.executable, "-m", "remediate.cli.main", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 20
    while not _runs(in_repo):
        assert time.monotonic() < deadline and controller.poll() is None
        time.sleep(0.05)
    time.sleep(0.5)  # well into the reading, which 'hung' holds up for 20 s
    controller.send_signal(signal.SIGTERM)
    out, err = controller.communicate(timeout=10)  # at once, not after the hung host's 20 s
    assert controller.returncode == 130, (out, err)
    assert err.strip().splitlines()[-1] == "remediate: interrupted"
    ((_, status),) = _runs(in_repo)
    assert status == "interrupted"
    assert all(BROKEN in host.local_path(WP).read_bytes() for host in lab.hosts)  # nothing was written


def test_an_error_after_the_run_started_finishes_it_as_failed(
    lab: Lab, capsys: pytest.CaptureFixture[str], in_repo: Path, mocker: MockerFixture
) -> None:
    # A fault injected at one point: planning a host that was read raises.
    mocker.patch("remediate.runs.apply.plan_target", side_effect=UserError("planning failed here"))
    code = main(["apply", "fix-phpp", "-i", str(lab.inventory_path), "--yes"])
    assert code == 2
    assert capsys.readouterr().err == "remediate: error: planning failed here\n"
    ((_, status),) = _runs(in_repo)
    assert status == "failed"


# --- compare-and-swap on what the plan saw, not only the content ---------------------------------------------

OTHER = "/var/www/html/wp-settings.other.php"  # where a link may lead instead


def _stage_link_to_elsewhere(web1: LabHost) -> None:
    """The target becomes a link to a copy with the same bytes: the content still matches the plan."""
    target = web1.local_path(WP)
    web1.local_path(OTHER).write_bytes(target.read_bytes())
    target.unlink()
    target.symlink_to(OTHER)


def _stage_repointed_link(web1: LabHost) -> None:
    """A link the plan saw (to the real file) now leads to another file with the same bytes."""
    link = web1.local_path(LINKED)
    link.unlink()
    web1.local_path(OTHER).write_bytes(web1.local_path(WP).read_bytes())
    link.symlink_to(OTHER)


LINKED = "/var/www/html/settings-link.php"


@pytest.mark.parametrize(
    ("target", "stage", "problem"),
    [
        (WP, lambda h: h.local_path(WP).chmod(0o600), f"{WP}: its mode is 0600, not 0644"),
        (WP, lambda h: os.chown(h.local_path(WP), 33, 33), f"{WP}: its owner is 33:33, not 0:0"),
        (WP, _stage_link_to_elsewhere, f"{WP} goes through a symbolic link and now leads to {OTHER}"),
        (LINKED, _stage_repointed_link, f"{LINKED} now leads to {OTHER}, not to {WP}"),
    ],
    ids=["chmod", "chown", "replaced by a link", "link re-pointed"],
)
def test_a_reviewed_plan_is_refused_where_more_than_the_content_moved_on(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], in_repo: Path, target: str, stage: Any, problem: str
) -> None:
    web1 = lab.host("web1")
    if target == LINKED:
        web1.local_path(LINKED).symlink_to(WP)
    playbook = tmp_path / "pb.yml"
    playbook.write_text(f"steps:\n  - line_patch: {{path: {target}, regex: '\\.phpp\\b', replace: '.php'}}\n")
    plan_file = tmp_path / "fix.plan"
    assert main(["plan", str(playbook), "-i", str(lab.inventory_path), "--limit", "web1", "-o", str(plan_file)]) == 0
    stage(web1)
    seen = {p: (os.lstat(web1.local_path(p)), _bytes(web1, p)) for p in (WP, OTHER, LINKED) if _exists(web1, p)}
    capsys.readouterr()
    code, doc = run_json(capsys, "apply", "--plan", str(plan_file), "--yes")
    assert code == 1
    entry = doc["hosts"]["web1"]
    assert (entry["status"], entry["error"]) == ("conflict", f"{problem} since the plan was made; nothing written")
    assert journal_host(in_repo, doc["run_id"], "web1") == ("conflict", entry["error"])
    for path, (st, content) in seen.items():  # every file and link exactly as staged
        now = os.lstat(web1.local_path(path))
        assert (now.st_mode, now.st_uid, now.st_gid, _bytes(web1, path)) == (st.st_mode, st.st_uid, st.st_gid, content)


def _exists(host: LabHost, path: str) -> bool:
    return os.path.lexists(host.local_path(path))


def _bytes(host: LabHost, path: str) -> bytes:
    local = host.local_path(path)
    return os.readlink(local).encode() if local.is_symlink() else local.read_bytes()


def test_a_rollback_with_nothing_to_write_still_sweeps_a_killed_runs_temporary_files(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    web1 = lab.host("web1")
    code, doc = apply_web1(capsys, lab)
    assert code == 0
    run_id = doc["run_id"]
    # Put back by hand since, and a temporary file (new content) that a killed run of it left behind.
    fixed = web1.local_path(WP).read_bytes()
    web1.local_path(WP).write_bytes(fixed.replace(FIXED, BROKEN))
    leftover = web1.local_path("/var/www/html/.remediate-Kx81Qz")
    leftover.write_bytes(fixed)
    code, doc = run_json(capsys, "rollback", run_id, "--yes")
    assert code == 0, doc
    assert doc["hosts"]["web1"]["status"] == "unchanged"
    assert not leftover.exists()
    assert BROKEN in web1.local_path(WP).read_bytes()


def _gone(pid: int) -> bool:
    """The process ended (a zombie its reaper has not collected yet counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_probes_timeout_holds_when_a_child_keeps_its_output_open(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    web1 = lab.host("web1")
    playbook = tmp_path / "pb.yml"
    playbook.write_text(
        "steps:\n"
        "  - line_patch: {path: /var/www/html/wp-settings.php, regex: '\\.phpp\\b', replace: '.php'}\n"
        "verify:\n"
        # The probe answers once its child runs, and leaves that child holding its output open for 60 s
        # (\$\$: the child's own pid, not the probe shell's).
        '  - command: {run: \'rm -f /tmp/straggler.pid; (sh -c "echo \\$\\$ > /tmp/straggler.pid; exec sleep 60" &);'
        " while [ ! -s /tmp/straggler.pid ]; do sleep 0.05; done; echo ok', timeout: 5}\n"
    )
    argv = [
        "apply",
        str(playbook),
        "-i",
        str(lab.inventory_path),
        "--yes",
        "--limit",
        "web1",
        "--command-timeout",
        "15",
    ]
    code, doc = run_json(capsys, *argv)
    entry = doc["hosts"]["web1"]
    assert code == 0 and entry["status"] == "changed", entry
    assert [(p["ok"], p["detail"]) for p in entry["probes"]] == [(True, "rc 0")]
    # Its process group was ended (SIGKILL takes effect when the process next runs: allow a moment).
    straggler = int(web1.local_path("/tmp/straggler.pid").read_text())
    deadline = time.monotonic() + 5
    while not _gone(straggler):
        assert time.monotonic() < deadline, f"the probe's child {straggler} still runs"
        time.sleep(0.05)


# --- the remote process never outlives its budget ---------------------------------------------------------

NEW_FILE = "/var/www/html/remediate-new.conf"  # a file a playbook creates


def _playbook(tmp_path: Path, validate: str = "", handler: str = "", create: bool = False) -> str:
    """fix-phpp's line patch (or, with ``create``, a new file from a template), with a validator and a
    handler as given."""
    step = {"line_patch": {"path": WP, "regex": "\\.phpp\\b", "replace": ".php"}}
    if create:
        (tmp_path / "new.conf.j2").write_text("listen 8081\n")
        step = {"template": {"src": "new.conf.j2", "dest": NEW_FILE}}
    if validate:
        step["validate"] = validate  # type: ignore[assignment]
    if handler:
        step["on_change"] = handler  # type: ignore[assignment]
    path = tmp_path / "pb.yml"
    path.write_text(json.dumps({"name": "budget", "steps": [step]}))
    return str(path)


def _pids(host: LabHost, path: str) -> list[int]:
    local = host.local_path(path)
    return [int(pid) for pid in local.read_text().split()] if local.exists() else []


def _all_gone(pids: list[int]) -> bool:
    """Every one of ``pids`` ended, allowing a moment for SIGKILL to take effect on a loaded machine."""
    deadline = time.monotonic() + 5
    while not all(_gone(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _nothing_created(host: LabHost) -> bool:
    """The new file is not there, nor any temporary file that would have become it."""
    docroot = host.local_path("/var/www/html")
    return not _exists(host, NEW_FILE) and not [p for p in docroot.iterdir() if p.name.startswith(".remediate-")]


def _apply(capsys: pytest.CaptureFixture[str], lab: Lab, playbook: str, *flags: str) -> tuple[int, dict[str, Any]]:
    return run_json(capsys, "apply", playbook, "-i", str(lab.inventory_path), "--yes", "--limit", "web1", *flags)


def test_a_whole_service_validator_past_the_deadline_is_ended_and_the_originals_put_back(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], in_repo: Path
) -> None:
    web1 = lab.host("web1")
    before = snapshot(lab)["web1"]
    # Slower than the controller's limit of 5 s: the host's deadline (2 s) ends it first.
    playbook = _playbook(tmp_path, validate="echo $$ >> /tmp/validator.pid; sleep 30")
    code, doc = _apply(capsys, lab, playbook, "--command-timeout", "5")
    entry = doc["hosts"]["web1"]
    assert code == 1 and entry["status"] == "failed", entry
    assert "validation of /var/www/html/wp-settings.php failed: timed out after" in entry["error"]
    assert snapshot(lab)["web1"] == before  # bytes, mode and owner: the original, live again
    assert journal_host(in_repo, doc["run_id"], "web1") == ("failed", entry["error"])
    assert _all_gone(_pids(web1, "/tmp/validator.pid"))
    # The lock went with the script: the next run is not refused.
    code, doc = _apply(capsys, lab, _playbook(tmp_path))
    assert code == 0 and doc["hosts"]["web1"]["status"] == "changed"


def test_a_file_under_a_slow_path_validator_never_appears_after_the_run_failed(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], in_repo: Path
) -> None:
    web1 = lab.host("web1")
    playbook = _playbook(tmp_path, validate="echo $$ >> /tmp/validator.pid; sleep 7; test -s {path}", create=True)
    code, doc = _apply(capsys, lab, playbook, "--command-timeout", "5")
    entry = doc["hosts"]["web1"]
    assert code == 1 and entry["status"] == "failed", entry
    assert "timed out after" in entry["error"] and "left as they were" in entry["error"]
    assert journal_host(in_repo, doc["run_id"], "web1") == ("failed", entry["error"])
    validators = _pids(web1, "/tmp/validator.pid")
    assert validators and _all_gone(validators)  # ended at the deadline, not 7 s in
    time.sleep(3)  # past the 7 s the validator would have taken: nothing is left to rename it in
    assert _nothing_created(web1)


def test_a_rollback_waits_for_the_lock_of_a_killed_runs_script_and_plans_from_what_it_left(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], in_repo: Path
) -> None:
    web1 = lab.host("web1")
    playbook = _playbook(tmp_path, validate="touch /tmp/validating; sleep 3; test -s {path}", create=True)
    argv = ["apply", playbook, "-i", str(lab.inventory_path), "--yes", "--limit", "web1", "--command-timeout", "30"]
    controller = subprocess.Popen([sys.executable, "-m", "remediate.cli.main", *argv], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not web1.local_path("/tmp/validating").exists():
            assert time.monotonic() < deadline and controller.poll() is None
            time.sleep(0.02)
    finally:
        controller.kill()  # the controller dies; its script on the host is still in the validator
        controller.wait()
    ((run_id, _),) = _runs(in_repo)
    code, doc = run_json(capsys, "rollback", run_id, "--yes")
    entry = doc["hosts"]["web1"]
    # It read once the killed run's script had let the lock go (its next record had nowhere to go, so it
    # stopped before the rename): the file was never created, and never will be.
    assert code == 0 and entry["status"] == "unchanged", entry
    assert web1.local_path("/run/remediate/holder").read_text().startswith(doc["run_id"] + " since ")
    time.sleep(1)
    assert _nothing_created(web1)


def test_a_handler_that_hangs_is_ended_at_the_deadline_and_the_host_rolled_back(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], in_repo: Path
) -> None:
    web1 = lab.host("web1")
    before = snapshot(lab)["web1"]
    # It hangs with the new file in place, and is quick with the old one.
    hang = f'grep -q "{FIXED.decode()}" {WP} && {{ echo $$ >> /tmp/handler.pid; sleep 60; }}; true'
    code, doc = _apply(capsys, lab, _playbook(tmp_path, handler=hang), "--command-timeout", "5")
    entry = doc["hosts"]["web1"]
    assert code == 1 and entry["status"] == "rolled_back", entry
    assert "timed out after" in entry["error"]
    assert snapshot(lab)["web1"] == before
    assert journal_host(in_repo, doc["run_id"], "web1") == ("rolled_back", entry["error"])
    assert _all_gone(_pids(web1, "/tmp/handler.pid"))
    code, doc = _apply(capsys, lab, _playbook(tmp_path))  # not locked
    assert code == 0 and doc["hosts"]["web1"]["status"] == "changed"


def test_a_controller_that_gives_up_leaves_the_host_unknown_and_the_host_puts_itself_back(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], in_repo: Path, mocker: MockerFixture
) -> None:
    from remediate.fleet.transport import SshTransport

    before = snapshot(lab)["web1"]
    real = SshTransport.run_script

    def impatient(self: SshTransport, script: bytes, timeout: float | None = None, **kwargs: Any) -> Any:
        # The fault at one point: the controller waits only 1 s for the write (a stalled network, say).
        return real(self, script, 1.0 if b"say ready" in script else timeout, **kwargs)

    mocker.patch.object(SshTransport, "run_script", impatient)
    playbook = _playbook(tmp_path, handler="sleep 2")  # still running when the controller gives up
    code, doc = _apply(capsys, lab, playbook)
    entry = doc["hosts"]["web1"]
    assert code == 1 and entry["status"] == "unknown", entry
    assert "command timed out after 1s" in entry["error"] and f"remediate rollback {doc['run_id']}" in entry["error"]
    assert journal_host(in_repo, doc["run_id"], "web1") == ("unknown", entry["error"])
    # Its next record had nowhere to go: the script put the original back by itself.
    deadline = time.monotonic() + 15
    while snapshot(lab)["web1"] != before:
        assert time.monotonic() < deadline, "the host did not put its original back"
        time.sleep(0.1)


def test_a_host_script_stopped_by_sigterm_puts_every_original_back(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], in_repo: Path
) -> None:
    before = snapshot(lab)["web1"]
    # With the new file in place, the handler sends SIGTERM to the script (the parent of its timeout),
    # as a shutdown of the host would.
    stop = f'grep -q "{FIXED.decode()}" {WP} && {{ set -- $(cat /proc/$PPID/stat); kill -TERM $4; sleep 5; }}; true'
    code, doc = _apply(capsys, lab, _playbook(tmp_path, handler=stop))
    entry = doc["hosts"]["web1"]
    assert code == 1 and entry["status"] == "failed", entry
    assert entry["error"] == "the host script was stopped by SIGTERM; it put every original back"
    assert snapshot(lab)["web1"] == before
    assert journal_host(in_repo, doc["run_id"], "web1") == ("failed", entry["error"])


def _wait_until(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_run_waits_up_to_lock_wait_for_another_runs_lock(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    web1 = lab.host("web1")
    hold = (
        "mkdir -p -m 0700 /run/remediate && echo 'R-other since 2026-12-03T00:00:00Z' > /run/remediate/holder;"
        " setsid flock /run/remediate/lock sleep {seconds} </dev/null >/dev/null 2>&1 & echo $!"
    )

    def held() -> bool:
        return run_on_host(lab, web1, "flock -n /run/remediate/lock true").exit_status != 0

    group = int(on_host(lab, web1, hold.format(seconds=60)))
    try:
        _wait_until(held)
        code, doc = apply_web1(capsys, lab)  # by default, refused at once
        assert code == 1 and doc["hosts"]["web1"]["error"] == (
            "locked by run R-other since 2026-12-03T00:00:00Z; not touched"
        )
        code, doc = run_json(
            capsys, "apply", "fix-phpp", "-i", str(lab.inventory_path), "--yes", "--limit", "web1", "--lock-wait", "1"
        )
        assert code == 1 and doc["hosts"]["web1"]["error"] == (
            "locked by run R-other since 2026-12-03T00:00:00Z (waited 1 s); not touched"
        )
    finally:
        on_host(lab, web1, f"kill -KILL -- -{group}")
    assert BROKEN in web1.local_path(WP).read_bytes()
    on_host(lab, web1, hold.format(seconds=2))  # let go within the wait
    _wait_until(held)
    code, doc = run_json(
        capsys, "apply", "fix-phpp", "-i", str(lab.inventory_path), "--yes", "--limit", "web1", "--lock-wait", "30"
    )
    assert code == 0 and doc["hosts"]["web1"]["status"] == "changed", doc
    assert web1.local_path(WP).read_bytes().count(FIXED) == 1
