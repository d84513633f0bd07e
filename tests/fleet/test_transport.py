"""The SSH transport against real lab sshd hosts: complete output, exact bytes, timeouts, refusals."""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import paramiko
import pytest
from pytest_mock import MockerFixture

from remediate.errors import HostError, UnreachableError
from remediate.fleet.transport import ConnectOptions, SshTransport
from remediate.lab.fleet import Lab, LabHost
from remediate.model import Host
from remediate.remote.answer import END
from remediate.remote.gather import gather_script

pytestmark = pytest.mark.lab


def inventory_host(lab: Lab, lab_host: LabHost, **changes: object) -> Host:
    fields: dict[str, object] = {
        "name": lab_host.name,
        "address": lab_host.address,
        "port": lab_host.ssh_port,
        "user": "root",
        "identity_file": str(lab.identity_file),
        "known_hosts": str(lab.known_hosts),
    }
    fields.update(changes)
    return Host(**fields)  # type: ignore[arg-type]


@pytest.fixture
def transport(lab: Lab) -> Iterator[SshTransport]:
    """A connection to the lab's first host, closed after the test."""
    connected = SshTransport.connect(inventory_host(lab, lab.hosts[0]), ConnectOptions())
    try:
        yield connected
    finally:
        connected.close()


def test_output_is_complete_when_the_command_exits_at_once(lab: Lab) -> None:
    """sshd may send the exit status before the last output: reading must go on to the end of output.

    Reading only until the exit status lost the last line of about one answer in ten here, on fresh
    connections to several hosts at once, which is exactly how a run starts.
    """
    script = gather_script(["/var/www/html/wp-settings.php", "/etc/apache2/sites-available/none.conf"])

    def answers(lab_host: LabHost) -> list[bytes]:
        result = []
        for _ in range(25):
            transport = SshTransport.connect(inventory_host(lab, lab_host), ConnectOptions())
            try:
                result.append(transport.run("sh -s", script).stdout)
            finally:
                transport.close()
        return result

    with ThreadPoolExecutor(len(lab.hosts)) as pool:
        every_answer = [a for host_answers in pool.map(answers, lab.hosts) for a in host_answers]
    assert all(answer.endswith(b"\n1 missing\n" + END.encode() + b"\n") for answer in every_answer)


def test_stdin_bytes_arrive_exactly_and_streams_stay_apart(transport: SshTransport) -> None:
    payload = bytes(range(256)) * 20000  # 5 MB, every byte value
    result = transport.run("sha256sum; echo oops >&2; exit 7", payload)
    assert result.stdout.split()[0].decode() == hashlib.sha256(payload).hexdigest()
    assert (result.exit_status, result.stderr) == (7, b"oops\n")
    with pytest.raises(HostError, match=r"command timed out after 0\.5s"):
        transport.run("sleep 5", timeout=0.5)
    assert transport.run("echo still usable").stdout == b"still usable\n"  # one connection, reused


def test_stopped_sshd_is_unreachable_with_the_reason(lab: Lab) -> None:
    with pytest.raises(UnreachableError, match=r"^connection refused by 127\.0\.0\.1:9$"):
        SshTransport.connect(inventory_host(lab, lab.hosts[0], address="127.0.0.1", port=9), ConnectOptions())


def test_changed_host_key_is_refused(lab: Lab, tmp_path: Path) -> None:
    first, second = lab.hosts[0], lab.hosts[1]
    # Claim that the first host's address should present the second host's key: a changed key.
    lines = lab.known_hosts.read_text().splitlines()
    second_key = next(line for line in lines if line.startswith(f"[{second.address}]:")).split(" ", 1)[1]
    known = tmp_path / "known_hosts"
    known.write_text(f"[{first.address}]:{first.ssh_port} {second_key}\n")
    with pytest.raises(
        UnreachableError, match=r"host key CHANGED for \[127\.0\.\d+\.\d+\]:2222: it presents ssh-ed25519 SHA256:"
    ):
        SshTransport.connect(inventory_host(lab, first, known_hosts=str(known)), ConnectOptions())
    assert known.read_text() == f"[{first.address}]:{first.ssh_port} {second_key}\n"


def test_hashed_known_hosts_entries_are_honoured(lab: Lab, tmp_path: Path) -> None:
    first, second = lab.hosts[0], lab.hosts[1]
    lines = lab.known_hosts.read_text().splitlines()
    second_key = next(line for line in lines if line.startswith(f"[{second.address}]:")).split(" ", 1)[1]
    known = tmp_path / "known_hosts"
    # The first host's key hashed (HashKnownHosts yes), the second's plain: both hosts are known.
    known.write_text("\n".join(line for line in lines if line.startswith(f"[{first.address}]:")) + "\n")
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(known)], check=True, capture_output=True)
    assert f"[{first.address}]" not in known.read_text()
    known.write_text(known.read_text() + f"[{second.address}]:{second.ssh_port} {second_key}\n")
    for host in (first, second):
        transport = SshTransport.connect(inventory_host(lab, host, known_hosts=str(known)), ConnectOptions())
        try:
            assert transport.run("echo ok").stdout == b"ok\n"
        finally:
            transport.close()
    # A hashed entry with another key for the first host: a changed key, refused.
    known.write_text(f"[{first.address}]:{first.ssh_port} {second_key}\n")
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(known)], check=True, capture_output=True)
    with pytest.raises(UnreachableError, match=r"host key CHANGED for \[127\.0\.\d+\.\d+\]:2222"):
        SshTransport.connect(inventory_host(lab, first, known_hosts=str(known)), ConnectOptions())


def test_wrong_key_is_an_authentication_failure(lab: Lab, tmp_path: Path) -> None:
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    with pytest.raises(UnreachableError, match=r"^authentication failed for root@127\.0\.\d+\.\d+:2222 with key "):
        SshTransport.connect(inventory_host(lab, lab.hosts[0], identity_file=str(stranger)), ConnectOptions())


def test_a_connection_dropped_while_idle_is_opened_again_before_the_next_command(transport: SshTransport) -> None:
    assert transport.run("echo one").stdout == b"one\n"
    # Dropped while waiting for its wave (an idle timeout on the way, say): nothing was running on it.
    ssh = transport._connection.client.get_transport()
    assert ssh is not None
    ssh.close()
    assert transport.run("echo two").stdout == b"two\n"


def test_a_handshake_cut_short_is_retried(lab: Lab, mocker: MockerFixture) -> None:
    """sshd beyond MaxStartups drops a connection before its banner: the next attempt gets through."""
    real_connect = paramiko.SSHClient.connect
    calls = []

    def refused_once(self: paramiko.SSHClient, *args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise paramiko.SSHException("Error reading SSH protocol banner")
        real_connect(self, *args, **kwargs)

    mocker.patch.object(paramiko.SSHClient, "connect", refused_once)
    transport = SshTransport.connect(inventory_host(lab, lab.hosts[0]), ConnectOptions())
    try:
        assert transport.run("echo ok").stdout == b"ok\n" and len(calls) == 2
    finally:
        transport.close()


def test_a_host_that_keeps_cutting_the_handshake_is_unreachable(lab: Lab, mocker: MockerFixture) -> None:
    mocker.patch.object(
        paramiko.SSHClient, "connect", side_effect=paramiko.SSHException("Error reading SSH protocol banner")
    )
    with pytest.raises(
        UnreachableError, match=r"SSH handshake with .* failed: Error reading SSH protocol banner \(after 3 attempts\)"
    ):
        SshTransport.connect(inventory_host(lab, lab.hosts[0]), ConnectOptions())


def test_a_command_that_ends_before_reading_its_input_gives_its_own_answer(transport: SshTransport) -> None:
    """A host that refuses early (locked, or a file changed) stops reading the script being sent: its
    answer, not a 'lost connection', is what happened."""
    result = transport.run("echo locked by run X; exit 5", b"# a long script\n" * 1_000_000)
    assert (result.exit_status, result.stdout) == (5, b"locked by run X\n")


def test_a_shell_left_open_runs_the_next_script_and_only_that_one(transport: SshTransport) -> None:
    first = transport.run_script(b"echo $$; printf 'to stderr' >&2; false\n", stay=True)
    assert first.exit_status == 1 and first.stderr == b"to stderr"
    shell_pid = first.stdout.strip()
    assert shell_pid.isdigit()  # exactly the script's output: the marker line is not part of it
    second = transport.run_script(b"echo $$; printf 'no newline at the end'", stay=True)
    assert second.exit_status == 0
    assert second.stdout == shell_pid + b"\nno newline at the end"  # the same shell
    last = transport.run_script(b"echo $$\n")
    assert last.stdout == shell_pid + b"\n"  # still the same shell, to its end
    third = transport.run_script(b"echo $$\n")
    assert third.stdout.strip() not in (b"", shell_pid)  # that shell is gone: a session of its own


def test_a_script_that_exits_does_not_leave_its_shell_open(transport: SshTransport) -> None:
    ended = transport.run_script(b"echo $$; exit 3\necho never\n", stay=True)
    assert ended.exit_status == 3 and b"never" not in ended.stdout
    after = transport.run_script(b"echo $$\n")
    assert after.exit_status == 0 and after.stdout.strip() != ended.stdout.strip()


def gone(pid: str, within: float) -> bool:
    """Whether the process ``pid`` has ended, waiting up to ``within`` seconds. Lab hosts have their own
    mount namespace, not their own pids: the controller sees their processes in its /proc."""
    deadline = time.monotonic() + within
    while Path(f"/proc/{pid}").exists():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_shell_left_open_that_died_is_replaced_by_a_new_session(transport: SshTransport) -> None:
    kept = transport.run_script(b"echo $$\n", stay=True).stdout.strip()
    os.kill(int(kept), signal.SIGKILL)
    gone(kept.decode(), within=2)
    time.sleep(0.1)  # sshd tells the client that the session ended
    again = transport.run_script(b"echo $$\n")
    assert again.exit_status == 0 and again.stdout.strip() not in (b"", kept)


def test_closing_the_connection_ends_a_shell_left_open(transport: SshTransport) -> None:
    kept = transport.run_script(b"echo $$\n", stay=True).stdout.strip().decode()
    assert not gone(kept, within=0)
    transport.close()
    assert gone(kept, within=5), "the host's shell outlived the connection"


def test_a_script_that_outlives_its_timeout_in_a_kept_shell_is_reported(transport: SshTransport) -> None:
    with pytest.raises(HostError, match=r"timed out after 0\.5s"):
        transport.run_script(b"sleep 5\n", timeout=0.5, stay=True)
    assert transport.run_script(b"echo fine\n").stdout == b"fine\n"  # a new session


def test_the_connection_uses_authenticated_encryption(transport: SshTransport) -> None:
    ssh = transport._connection.client.get_transport()
    assert ssh is not None
    remote_cipher = ssh.remote_cipher  # type: ignore[attr-defined]  # missing from paramiko's type stubs
    assert (ssh.local_cipher, remote_cipher) == ("aes128-gcm@openssh.com", "aes128-gcm@openssh.com")
    assert transport.run("echo ok").stdout == b"ok\n"


def test_commands_work_with_descriptors_past_1023_and_use_none_per_channel(lab: Lab) -> None:
    """A fleet keeps one shell open per host: waiting on a channel must neither use select() (which
    cannot watch a descriptor past 1023) nor cost descriptors per channel (paramiko's fileno() makes a
    pipe pair for each)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4096), max(hard, 4096)))  # the tests run as root
    filler = [os.open("/dev/null", os.O_RDONLY) for _ in range(1100)]
    try:
        transport = SshTransport.connect(inventory_host(lab, lab.hosts[0]), ConnectOptions())
        try:
            open_before = len(os.listdir("/proc/self/fd"))
            kept = transport.run_script(b"echo first\n", stay=True)
            assert kept.stdout == b"first\n"
            assert len(os.listdir("/proc/self/fd")) == open_before  # the open shell holds no descriptor
            assert transport.run_script(b"echo second; echo err >&2\n").stdout == b"second\n"
        finally:
            transport.close()
    finally:
        for descriptor in filler:
            os.close(descriptor)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_connection_neither_holds_back_what_it_sends_nor_what_it_acknowledges(transport: SshTransport) -> None:
    """Nagle's algorithm on either side holds a small packet until the one before it is acknowledged,
    which the other side delays by up to 40 ms: the controller's side sends at once (TCP_NODELAY), and
    acknowledges at once after each read (TCP_QUICKACK), across commands in a kept shell and in new
    sessions."""
    ssh = transport._connection.client.get_transport()
    assert ssh is not None
    for _ in range(3):  # the answer came in last: nothing was sent since that turned quick acks off again
        assert transport.run_script(b"echo one; echo two\n", stay=True).stdout == b"one\ntwo\n"
        assert ssh.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK) == 1
    for _ in range(2):  # the kept shell, then a new session each
        assert transport.run_script(b"echo three\n").stdout == b"three\n"
        assert ssh.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
