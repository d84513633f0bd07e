"""Helpers for tests that run remediate against the lab fleet and look at what the hosts really hold."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import sqlite3
import stat
import struct
import sys
import termios
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from remediate.cli.main import main
from remediate.fleet.transport import CommandResult, ConnectOptions, SshTransport
from remediate.lab.fleet import Lab, LabHost
from remediate.model import Host

WP = "/var/www/html/wp-settings.php"
BROKEN = b"require ABSPATH . WPINC . '/class-wp-locale.phpp';"  # the outage's line
FIXED = b"require ABSPATH . WPINC . '/class-wp-locale.php';"
REPO = Path(__file__).resolve().parent.parent


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


def journal_host(state: Path, run_id: str, host: str) -> tuple[str, str]:
    """A host's (status, error) row in the journal under ``state``."""
    row = (
        sqlite3.connect(state / "journal.sqlite")
        .execute("SELECT status, error FROM hosts WHERE run_id = ? AND host = ?", (run_id, host))
        .fetchone()
    )
    assert row is not None
    return row[0], row[1]


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    """Runs the CLI in this process with --json; returns the exit code and the parsed document."""
    code = main([*argv, "--json"])
    captured = capsys.readouterr()
    assert captured.out, f"no JSON on stdout (exit {code}); stderr: {captured.err}"
    return code, json.loads(captured.out)


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
