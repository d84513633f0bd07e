"""OpenSSH client configuration: ssh_config fills what the inventory leaves unsaid; ProxyJump over a lab host."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import paramiko
import pytest
from labtools import FIXED, WP, run_json
from pytest_mock import MockerFixture

from remediate.fleet.sshconfig import resolve
from remediate.fleet.transport import ConnectOptions, SshTransport
from remediate.lab.fleet import TCP_ESTABLISHED, Lab, tcp_sockets
from remediate.model import Host

pytestmark = pytest.mark.lab


def test_inventory_values_win_over_ssh_config(tmp_path: Path) -> None:
    config = paramiko.SSHConfig.from_text(
        "Host web1\n  HostName 10.1.1.1\n  User deploy\n  Port 2200\n  IdentityFile ~/k\n"
    )
    said_nothing = Host("web1", "web1")
    resolved, jumps = resolve(said_nothing, config)
    assert (resolved.address, resolved.user, resolved.port, jumps) == ("10.1.1.1", "deploy", 2200, ())
    assert resolved.identity_file == str(Path("~/k").expanduser())
    said_everything = Host(
        "web1", "10.9.9.9", 22, "root", "/k", explicit=frozenset({"address", "user", "port", "identity_file"})
    )
    assert resolve(said_everything, config)[0] == said_everything


def inner_through_jump(lab: Lab, tmp_path: Path) -> Path:
    """An ssh_config naming the second lab host ``inner``, reached through the first with ProxyJump."""
    jump, target = lab.hosts[0], lab.hosts[1]
    ssh_config = tmp_path / "ssh_config"
    ssh_config.write_text(
        f"Host inner\n  HostName {target.address}\n  Port {target.ssh_port}\n  User root\n"
        f"  IdentityFile {lab.identity_file}\n  UserKnownHostsFile {lab.known_hosts}\n"
        f"  ProxyJump root@{jump.address}:{jump.ssh_port}\n"
    )
    return ssh_config


def established_to(address: str, port: int) -> set[tuple[str, int]]:
    """The local ends of the TCP connections to address:port that are established now."""
    return {sock.local for sock in tcp_sockets() if sock.remote == (address, port) and sock.state == TCP_ESTABLISHED}


def test_closing_a_host_reached_through_proxyjump_closes_the_jump_connection_too(lab: Lab, tmp_path: Path) -> None:
    jump = lab.hosts[0]
    options = ConnectOptions(ssh_config=str(inner_through_jump(lab, tmp_path)))
    # Connections are told apart by their local ends: an earlier test's may still be closing meanwhile.
    before = established_to(jump.address, jump.ssh_port)
    transport = SshTransport.connect(Host("inner", "inner"), options)
    try:
        assert transport.run("echo ok").stdout == b"ok\n"
        opened = established_to(jump.address, jump.ssh_port) - before
        assert len(opened) == 1, opened
    finally:
        transport.close()
    deadline = time.monotonic() + 5
    while opened & established_to(jump.address, jump.ssh_port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not opened & established_to(jump.address, jump.ssh_port), "the connection to the jump host was left open"


def test_a_host_reached_through_proxyjump_on_another_lab_host(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], mocker: MockerFixture
) -> None:
    jump, target = lab.hosts[0], lab.hosts[1]
    ssh_config = inner_through_jump(lab, tmp_path)
    inventory = tmp_path / "inv.yml"
    # Nothing but the name (and the variables fix-phpp needs).
    inventory.write_text(f"vars: {{docroot: /var/www/html, health_url: '{target.url}'}}\nhosts:\n  inner: {{}}\n")
    tunnels = mocker.spy(paramiko.Transport, "open_channel")
    code, doc = run_json(capsys, "apply", "fix-phpp", "-i", str(inventory), "--yes", "--ssh-config", str(ssh_config))
    assert code == 0, doc
    assert doc["hosts"]["inner"]["status"] == "changed"
    assert FIXED in target.local_path(WP).read_bytes() and FIXED not in jump.local_path(WP).read_bytes()
    hops = [
        c
        for c in tunnels.call_args_list
        if c.kwargs.get("kind", c.args[1] if len(c.args) > 1 else None) == "direct-tcpip"
    ]
    assert hops and hops[0].kwargs["dest_addr"] == (target.address, target.ssh_port)  # through the jump host


def test_an_unknown_jump_host_key_is_refused(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jump, target = lab.hosts[0], lab.hosts[1]
    known = tmp_path / "known_hosts"  # knows the target, not the jump host
    known.write_text(
        "".join(line + "\n" for line in lab.known_hosts.read_text().splitlines() if target.address in line)
    )
    ssh_config = tmp_path / "ssh_config"
    ssh_config.write_text(
        f"Host inner\n  HostName {target.address}\n  Port {target.ssh_port}\n  IdentityFile {lab.identity_file}\n"
        f"  UserKnownHostsFile {known}\n  ProxyJump root@{jump.address}:{jump.ssh_port}\n"
    )
    inventory = tmp_path / "inv.yml"
    inventory.write_text(f"vars: {{docroot: /var/www/html, health_url: '{target.url}'}}\nhosts:\n  inner: {{}}\n")
    code, doc = run_json(capsys, "apply", "fix-phpp", "-i", str(inventory), "--yes", "--ssh-config", str(ssh_config))
    assert code == 1
    error = doc["hosts"]["inner"]["error"]
    assert error.startswith("unknown host key ssh-ed25519 SHA256:") and "(via ProxyJump root@" in error
    assert b".phpp'" in target.local_path(WP).read_bytes()


def test_a_running_ssh_agent_is_used_when_the_inventory_names_no_key(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    socket_path = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(socket_path)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if socket_path.exists():
                break
            time.sleep(0.02)
        env = {**os.environ, "SSH_AUTH_SOCK": str(socket_path)}
        subprocess.run(["ssh-add", "-q", str(lab.identity_file)], env=env, check=True, capture_output=True)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(socket_path))
        monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.ssh keys to fall back on: only the agent has it
        inventory = tmp_path / "inv.yml"
        inventory.write_text(
            "\n".join(line for line in lab.inventory_path.read_text().splitlines() if "identity_file" not in line)
            + "\n"
        )
        code, doc = run_json(capsys, "apply", "fix-phpp", "-i", str(inventory), "--yes", "--limit", "web1")
    finally:
        agent.terminate()  # the agent we started, by its own process handle
        agent.wait()
    assert code == 0, doc
    assert FIXED in lab.host("web1").local_path(WP).read_bytes()
