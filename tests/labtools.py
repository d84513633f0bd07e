"""Helpers for tests that run remediate against the lab fleet and look at what the hosts really hold."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import pwd
import secrets
import select
import shutil
import signal
import sqlite3
import stat
import struct
import subprocess
import sys
import termios
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from remediate.cli.main import main
from remediate.errors import UserError
from remediate.fleet.transport import CommandResult, ConnectOptions, SshTransport
from remediate.lab.docroot import DOCROOT, TreeEntry, host_pristine_tree, pristine_tree
from remediate.lab.fleet import Lab, LabError, LabHost, apache_build
from remediate.model import Host

# What the tests know of the lab's site (remediate/lab/site/): the outage, the fix, what a fixed site says.
WP_SETTINGS = f"{DOCROOT}/wp-settings.php"
BROKEN_LINE = "require ABSPATH . WPINC . '/class-wp-locale.phpp';"  # the outage's line
FIXED_LINE = "require ABSPATH . WPINC . '/class-wp-locale.php';"
GREETING = "Hello from WORDPRESS-LIKE lab"
HEALTH_FILE = f"{DOCROOT}/health.txt"  # only in labs with Apache
HEALTH_TEXT = "ok\n"
WP, BROKEN, FIXED = WP_SETTINGS, BROKEN_LINE.encode(), FIXED_LINE.encode()
REPO = Path(__file__).resolve().parent.parent

LAB_USER = "remediate-lab"  # an unprivileged account for tests of what a non-root login may and may not do
LAB_USER_PASSWORD_FILE = Path("/var/lib/remediate/lab-user.password")
LAB_SUDOERS = Path("/etc/sudoers.d/remediate-lab")


def wp_settings_php() -> bytes:
    """The broken wp-settings.php every lab host starts with."""
    return next(entry.data for entry in pristine_tree() if entry.path == WP_SETTINGS)


def include_files() -> tuple[str, ...]:
    """Every wp-includes file (relative path) of the site, in the order wp-settings.php requires them."""
    folder = f"{DOCROOT}/wp-includes/"
    return tuple(e.path.removeprefix(folder) for e in pristine_tree() if e.kind == "file" and e.path.startswith(folder))


def pristine_host_tree(lab: Lab, host: LabHost) -> tuple[TreeEntry, ...]:
    """Every file, folder and symlink ``lab up`` and ``reset_host`` give this host."""
    return host_pristine_tree(host.name, host.address, apache_build() if lab.apache else None)


def ensure_lab_user() -> str:
    """Creates the unprivileged lab account on this machine if missing (it shares /etc/passwd with every
    lab host). Its password field is ``*``: no password, but not locked, because sshd without PAM
    refuses even key logins to a locked (``!``) account. Its home is /tmp, private to each host."""
    try:
        pwd.getpwnam(LAB_USER)
        return LAB_USER
    except KeyError:
        pass
    argv = ["useradd", "--system", "--home-dir", "/tmp", "--shell", "/bin/sh", "--password", "*", LAB_USER]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LabError(f"useradd {LAB_USER} failed: {done.stderr.strip() or f'exit {done.returncode}'}")
    return LAB_USER


def _write_private(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)


def ensure_lab_sudo() -> tuple[str, str]:
    """The lab account may become root with sudo, with a password (for rehearsing --become and
    --ask-become-pass). The password is random, made once, and kept root-only in
    LAB_USER_PASSWORD_FILE; SSH never accepts it (the lab's sshd takes keys only). Returns (user, password)."""
    user = ensure_lab_user()
    if shutil.which("sudo") is None:
        raise UserError("the lab's become rehearsal needs the Debian package sudo: apt-get install -y sudo")
    if not LAB_USER_PASSWORD_FILE.exists():
        LAB_USER_PASSWORD_FILE.parent.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(18)
        _write_private(LAB_USER_PASSWORD_FILE, password)
        subprocess.run(["chpasswd"], input=f"{user}:{password}\n", text=True, check=True)
    if not LAB_SUDOERS.exists():
        rule = f"{user} ALL=(ALL:ALL) ALL\n"
        _write_private(LAB_SUDOERS, rule)
        LAB_SUDOERS.chmod(0o440)
        check = subprocess.run(["visudo", "-c", "-f", str(LAB_SUDOERS)], capture_output=True, text=True)
        if check.returncode != 0:
            LAB_SUDOERS.unlink()
            raise LabError(f"the lab's sudoers rule was refused by visudo: {check.stdout} {check.stderr}")
    return user, LAB_USER_PASSWORD_FILE.read_text().strip()


def http_status(host: LabHost) -> int:
    try:
        with urllib.request.urlopen(host.url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as e:
        return e.code


def run_on_host(lab: Lab, host: LabHost, command: str, user: str = "root") -> CommandResult:
    """Runs a command on a lab host as ``user``, inside its namespace (to stage a fault or an attack)."""
    transport = SshTransport.connect(
        Host(host.name, host.address, host.ssh_port, user, str(lab.identity_file), str(lab.known_hosts)),
        ConnectOptions(),
    )
    try:
        return transport.run(command)
    finally:
        transport.close()


def on_host(lab: Lab, host: LabHost, command: str) -> str:
    """Runs a command as root on a lab host, which must succeed; returns its output."""
    result = run_on_host(lab, host, command)
    assert result.exit_status == 0, result.stderr
    return result.stdout.decode()


def journal_rows(state: Path, query: str, *args: object) -> list[tuple[Any, ...]]:
    """``query``'s rows in the journal under ``state``, read-only; none while there is no journal, or one
    still being made (a controller polled while it starts: the file is there, its tables not yet
    committed, as their migration is one transaction; such a journal holds no run yet)."""
    path = state / "journal.sqlite"
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return db.execute(query, args).fetchall()
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):
            return []
        raise
    finally:
        db.close()


def journal_host(state: Path, run_id: str, host: str) -> tuple[str, str]:
    """A host's (status, error) row in the journal under ``state``."""
    row = (
        sqlite3.connect(state / "journal.sqlite")
        .execute("SELECT status, error FROM hosts WHERE run_id = ? AND host = ?", (run_id, host))
        .fetchone()
    )
    assert row is not None
    return row[0], row[1]


# Every document run_json returned in the test running now, for its failure report (conftest.py): a
# host that came back rolled_back or failed then shows its own error there, not only its status.
RUN_DOCUMENTS: list[dict[str, Any]] = []


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    """Runs the CLI in this process with --json; returns the exit code and the parsed document."""
    code = main([*argv, "--json"])
    captured = capsys.readouterr()
    assert captured.out, f"no JSON on stdout (exit {code}); stderr: {captured.err}"
    document: dict[str, Any] = json.loads(captured.out)
    RUN_DOCUMENTS.append(document)
    return code, document


def hosts_not_ok(documents: list[dict[str, Any]]) -> list[str]:
    """One line per host of each document that did not end ok: its run, status and error."""
    lines = []
    for document in documents:
        hosts = document.get("hosts") if isinstance(document, dict) else None  # `runs --json` is a list
        if not isinstance(hosts, dict):
            continue
        for name, host in hosts.items():
            if isinstance(host, dict) and host.get("status") not in ("changed", "unchanged", "would_change"):
                lines.append(f"{document.get('run_id', '?')} {name}: {host.get('status')}: {host.get('error')}")
    return lines


def snapshot(lab: Lab, path: str = WP) -> dict[str, tuple[bytes, int, int, int]]:
    """Each host's bytes, mode, uid and gid of ``path``, read from the folder backing the host."""
    result = {}
    for host in lab.hosts:
        local = host.local_path(path)
        st = local.stat()
        result[host.name] = (local.read_bytes(), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
    return result


def give_distinct_ownership(lab: Lab, path: str = WP) -> None:
    """www-data:www-data and 0640, unlike anything a careless write would produce (root, 0644 or 0600)."""
    for host in lab.hosts:
        local = host.local_path(path)
        os.chown(local, 33, 33)
        local.chmod(0o640)


def run_on_terminal(argv: list[str], answer: bytes = b"", prompt: bytes = b"[y/N]") -> tuple[int, str]:
    """Runs remediate with a real terminal (a pty) as its stdin, answers its question, returns (exit, output)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: remediate itself, on the pty, 50 rows by 250 columns
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 250, 0, 0))
        os.environ.update(COLUMNS="250", LINES="50")  # in case the caller's environment names a size
        os.execv(sys.executable, [sys.executable, "-m", "remediate.cli.main", *argv])
    output = b""
    answered = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
        if answer and not answered and prompt in output:
            os.write(fd, answer)
            answered = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def fix_playbook(tmp_path: Path, handler: str = "", verify: bool = False, name: str = "fix.yml") -> str:
    """fix-phpp, with an optional handler and an optional probe that the site answers 200."""
    text = textwrap.dedent("""\
        name: fix-phpp
        steps:
          - name: fix the require line
            line_patch: {path: /var/www/html/wp-settings.php, regex: '\\.phpp\\b', replace: '.php'}
        """)
    if handler:
        text += f"    on_change: {json.dumps(handler)}\n"
    if verify:
        text += "verify:\n  - http: {url: 'http://{{ host.address }}:8080/', expect_status: 200, retries: 1}\n"
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def untouched(lab: Lab, name: str) -> bool:
    host = lab.host(name)
    return BROKEN in host.local_path(WP).read_bytes() and not any(host.local_path("/var/backups").iterdir())


def start_apply(lab: Lab, playbook: str, *flags: str) -> subprocess.Popen[str]:
    """``remediate apply PLAYBOOK -i LAB --yes FLAGS`` in a process of its own, to be signalled."""
    argv = [
        sys.executable,
        "-m",
        "remediate.cli.main",
        "apply",
        playbook,
        "-i",
        str(lab.inventory_path),
        "--yes",
        *flags,
    ]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until_fixed(lab: Lab, controller: subprocess.Popen[str], hosts: int, poll: float) -> None:
    """Until at least ``hosts`` hosts hold the fix (the run still going), for at most 30 s."""
    deadline = time.monotonic() + 30
    while sum(FIXED in h.local_path(WP).read_bytes() for h in lab.hosts) < hosts:
        assert time.monotonic() < deadline and controller.poll() is None
        time.sleep(poll)


def interrupted_apply(lab: Lab, tmp_path: Path) -> tuple[dict[str, Any], str]:
    """fix-phpp applied two hosts at a time (each 0.5 s), interrupted (SIGINT) once 3 hosts hold the fix:
    the run's JSON document and its stderr, after it exited 130."""
    controller = start_apply(lab, fix_playbook(tmp_path, handler="sleep 0.5"), "--forks", "2", "--json")
    wait_until_fixed(lab, controller, 3, poll=0.05)
    controller.send_signal(signal.SIGINT)
    out, err = controller.communicate(timeout=60)
    assert controller.returncode == 130, err
    return json.loads(out), err
