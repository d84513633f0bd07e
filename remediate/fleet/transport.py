"""SSH to one host: one connection, reused for every command of the run.

paramiko makes the connection (through the ProxyJump hops of an ssh_config, each a ``direct-tcpip``
channel of the hop before) and its channels carry the raw bytes. paramiko's client is used as it is, not
through Fabric's ``Connection``: that one builds a layered configuration object per host (about 0.8 ms
of the controller's single interpreter for each host, a tenth of all it does for a host), installs
``AutoAddPolicy`` and would read ~/.ssh/config on its own. The client refuses unknown host keys (or
learns them, with accept-new) and holds only this host's known_hosts entries: a host presenting an
unknown or changed key is refused before any command runs.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from remediate.errors import HostError, UnreachableError
from remediate.fleet import sshconfig
from remediate.fleet.paramiko_import import paramiko
from remediate.model import Host
from remediate.remote.answer import ANSWER_FLOOR

# paramiko logs a failed handshake with its traceback from its transport thread (through logging's last
# resort, to stderr, when nothing is configured): dozens of lines per host for what reaches the caller as
# one line. A handler that drops them keeps the output to that line.
logging.getLogger("paramiko").addHandler(logging.NullHandler())


def tail(text: str, limit: int = 400) -> str:
    """The end of a command's output as one line of a report: its last ``limit`` characters."""
    text = text.strip()
    if not text:
        return "(no output)"
    return (text if len(text) <= limit else "..." + text[-limit:]).replace("\n", " | ")


@dataclass(frozen=True)
class CommandResult:
    exit_status: int
    stdout: bytes
    stderr: bytes

    @property
    def error_tail(self) -> str:
        return tail(self.stderr.decode("utf-8", errors="replace"))


@dataclass(frozen=True)
class ConnectOptions:
    connect_timeout: float = 10.0
    command_timeout: float = 120.0
    accept_new_host_keys: bool = False  # OpenSSH's accept-new: learn unknown keys, never changed ones
    become_password: str | None = None  # for sudo, when the hosts ask for one (--ask-become-pass)
    ssh_config: str | None = None  # an OpenSSH client config file to honour (None: none)


class Transport(Protocol):
    def run(self, command: str, stdin: bytes = b"", timeout: float | None = None) -> CommandResult: ...

    def run_script(
        self, script: bytes, timeout: float | None = None, stay: bool = False, limit: int = ANSWER_FLOOR
    ) -> CommandResult:
        """Runs a POSIX sh script on the host, as root through sudo when the host says ``become``; with
        ``stay``, in a shell that stays open for the next script. An answer (both streams) past ``limit``
        bytes is a HostError."""
        ...

    def close(self) -> None: ...


def fingerprint(key: paramiko.PKey) -> str:
    digest = base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")
    return f"{key.get_name()} SHA256:{digest}"


class UnknownHostKey(paramiko.SSHException):
    def __init__(self, hostname: str, key: paramiko.PKey) -> None:
        super().__init__(f"unknown host key for {hostname}")
        self.hostname = hostname
        self.key = key


class _RejectUnknownHostKey(paramiko.MissingHostKeyPolicy):
    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        raise UnknownHostKey(hostname, key)


_KNOWN_HOSTS_WRITE = threading.Lock()  # hosts are connected from many threads; one appends at a time


class _AcceptNewHostKey(paramiko.MissingHostKeyPolicy):
    """Adds an unknown key to the inventory's known_hosts file. Only ever called for a host with no key
    on record: paramiko refuses a changed key (BadHostKeyException) before any policy is asked."""

    def __init__(self, known_hosts: str) -> None:
        self._known_hosts = known_hosts

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        line = f"{hostname} {key.get_name()} {key.get_base64()}\n"
        with _KNOWN_HOSTS_WRITE:
            path = Path(self._known_hosts)
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with path.open("a") as known:
                known.write(line)
        client.get_host_keys().add(hostname, key.get_name(), key)


def _check_sudo(host: Host, result: CommandResult) -> None:
    """sudo's own refusals, as one clear line (the script did not run)."""
    if result.exit_status != 1 or result.stdout:
        return
    said = result.stderr.decode("utf-8", errors="replace")
    if "incorrect password" in said or "Sorry, try again" in said:
        raise HostError(f"sudo: wrong become password for {host.user} on {host.name}")
    if "a password is required" in said:
        raise HostError(f"sudo on {host.name} wants a password for {host.user}: pass --ask-become-pass")
    if "is not in the sudoers file" in said or "not allowed to execute" in said:
        raise HostError(f"sudo: {host.user} may not become root on {host.name}")
    if "sudo: not found" in said or "sudo: command not found" in said:
        raise HostError(f"become needs sudo, which {host.name} does not have")


@dataclass(frozen=True)
class _KnownHosts:
    """A parsed known_hosts file: plain host names in a dict, since a fleet looks up every host in the
    same file and paramiko's lookup reads every entry each time; hashed names through paramiko."""

    by_name: dict[str, dict[str, paramiko.PKey]]
    hashed: paramiko.HostKeys | None  # only when the file has hashed names (HashKnownHosts)

    @classmethod
    def parse(cls, path: str) -> _KnownHosts:
        by_name: dict[str, dict[str, paramiko.PKey]] = {}
        any_hashed = False
        for entry in _entries(path):
            for name in entry.hostnames:
                if name.startswith("|1|"):
                    any_hashed = True
                elif entry.key is not None:  # the first key of a type wins, as in paramiko's lookup
                    by_name.setdefault(name, {}).setdefault(entry.key.get_name(), entry.key)
        return cls(by_name, paramiko.HostKeys(path) if any_hashed else None)

    def lookup(self, name: str) -> dict[str, paramiko.PKey]:
        keys = dict(self.by_name.get(name, {}))
        if self.hashed is not None:
            for key_type, key in (self.hashed.lookup(name) or {}).items():
                keys.setdefault(key_type, key)
        return keys


def _entries(path: str) -> list[paramiko.hostkeys.HostKeyEntry]:
    """The file's entries as paramiko reads them (comments, blank and unparsable lines skipped)."""
    if not Path(path).exists():
        return []
    entries = []
    with open(path) as lines:
        for number, line in enumerate(lines, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                entry = paramiko.hostkeys.HostKeyEntry.from_line(line, number)
            except paramiko.SSHException:
                continue
            if entry is not None:
                entries.append(entry)
    return entries


_Stamp = tuple[int, int, int]
_PARSED_KNOWN_HOSTS: dict[str, tuple[_Stamp, _KnownHosts]] = {}
_CACHES_LOCK = threading.Lock()


def _stamp(path: str) -> _Stamp:
    """What tells a changed file (the same size and mtime in a rewritten file is not enough alone)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return (-1, -1, -1)
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def _known_hosts(path: str) -> _KnownHosts:
    """The known_hosts file, parsed once (again only if it changed): a fleet shares one file."""
    with _CACHES_LOCK:
        try:
            stamp = _stamp(path)
            cached = _PARSED_KNOWN_HOSTS.get(path)
            if cached is None or cached[0] != stamp:
                _PARSED_KNOWN_HOSTS[path] = cached = (stamp, _KnownHosts.parse(path))
        except (OSError, UnicodeDecodeError, paramiko.SSHException) as e:
            raise UnreachableError(f"cannot read known_hosts file {path}: {e}") from None
        return cached[1]


_PRIVATE_KEYS: dict[tuple[str, _Stamp], paramiko.PKey | None] = {}


def _private_key(path: str) -> paramiko.PKey | None:
    """The inventory's key, read once for every host that names it; None when it cannot be read without
    help (a passphrase, say), and paramiko then tries the file itself, as it would have."""
    with _CACHES_LOCK:
        try:
            stamp = _stamp(path)
        except OSError:
            return None
        if (path, stamp) not in _PRIVATE_KEYS:
            try:
                _PRIVATE_KEYS[(path, stamp)] = paramiko.PKey.from_path(path)
            except (OSError, ValueError, paramiko.SSHException):
                _PRIVATE_KEYS[(path, stamp)] = None
        return _PRIVATE_KEYS[(path, stamp)]


def _connect_error(host: Host, options: ConnectOptions, error: BaseException) -> BaseException:
    """What a failed connection attempt is, as one line naming the host (a hop is named as itself);
    ``_Transient`` when another attempt may well succeed. Anything else is the error as it is."""
    where = f"{host.address}:{host.port}"
    if isinstance(error, UnknownHostKey):
        return UnreachableError(
            f"unknown host key {fingerprint(error.key)} for {host.name} ({_known_hosts_name(host)}), not in "
            f"{host.known_hosts or 'any known_hosts file'}; check the fingerprint, then run again with "
            "--accept-new-host-keys to add it"
        )
    if isinstance(error, paramiko.BadHostKeyException):
        return UnreachableError(
            f"host key CHANGED for {_known_hosts_name(host)}: it presents {fingerprint(error.key)}, "
            f"{host.known_hosts} has {fingerprint(error.expected_key)}; refusing to connect"
        )
    if isinstance(error, paramiko.AuthenticationException):
        key = f" with key {host.identity_file}" if host.identity_file else ""
        return UnreachableError(f"authentication failed for {host.user}@{where}{key}: {error}")
    if isinstance(error, paramiko.ssh_exception.NoValidConnectionsError):
        return UnreachableError(f"connection refused by {where}")
    if isinstance(error, TimeoutError):
        return UnreachableError(f"connection to {where} timed out after {options.connect_timeout:g}s")
    if isinstance(error, socket.gaierror):
        return UnreachableError(f"cannot resolve {host.address}: {error.strerror}")
    if isinstance(error, ConnectionResetError):
        return _Transient(f"SSH handshake with {where} was reset: {error}")
    if isinstance(error, OSError):
        return UnreachableError(f"cannot connect to {where}: {error.strerror or error}")
    if isinstance(error, (paramiko.SSHException, EOFError)):
        return _Transient(f"SSH handshake with {where} failed: {error or type(error).__name__}")
    return error


# Errors that need the banner to have come, and say more than a missing one would.
_KEY_OR_AUTH_ERRORS = (UnknownHostKey, paramiko.BadHostKeyException, paramiko.AuthenticationException)


def _banner_error(host: Host, options: ConnectOptions, transport: paramiko.Transport | None) -> _Transient | None:
    """When the connection was made but no SSH banner came (a port that is not sshd: a web server that
    answers paramiko's greeting with an error and closes, a hung listener; or an sshd too loaded to
    answer yet, worth another attempt): one line, instead of paramiko's error, which depends on when its
    handshake thread noticed ("Error reading SSH protocol banner", "No existing session")."""
    if transport is None or transport.remote_version:
        return None
    return _Transient(f"no SSH banner from {host.address}:{host.port} within {options.connect_timeout:g} s")


def _known_hosts_name(host: Host) -> str:
    return host.address if host.port == 22 else f"[{host.address}]:{host.port}"


# AES-GCM is authenticated encryption: no separate MAC, which paramiko computes and checks in Python for
# every packet (and which, as hmac-sha2-256, is the weaker encrypt-and-MAC construction). OpenSSH has
# offered it since 6.2; a server without it still gets paramiko's usual choices, in paramiko's order.
_AEAD_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")


# Linux's; elsewhere the connection keeps the system's delayed acknowledgements.
_TCP_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


class _QuickAckSocket(socket.socket):
    """A TCP connection that acknowledges what it receives at once.

    sshd sends the last packets of an answer (a channel's confirmation after the host-key list, say)
    without waiting for a reply, and Nagle's algorithm holds each small one until the one before it is
    acknowledged; Linux delays that acknowledgement by up to 40 ms when the receiver has nothing to send
    back. So the first command of every connection waited about 40 ms doing nothing (on the lab, 48 ms
    instead of 6). TCP_QUICKACK is not sticky (the kernel goes back to delayed acknowledgements when it
    sees traffic go both ways), so it is asked for after every read, which also sends an acknowledgement
    the kernel was holding back."""

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        data = super().recv(bufsize, flags)
        if _TCP_QUICKACK is not None:
            self.setsockopt(socket.IPPROTO_TCP, _TCP_QUICKACK, 1)
        return data


def _responsive(sock: Any) -> Any:
    """A connected TCP socket that neither holds back what it sends nor what it acknowledges; anything
    else (the channel to a host behind a ProxyJump hop, whose own connection is made responsive) as it is.

    Sending: paramiko writes the packets of a step back to back (in the handshake; a channel's exec
    request, then its input's end), and Nagle's algorithm held the second until sshd acknowledged the
    first, which sshd delays when it has nothing to send yet: every connection, and every command on a
    new session after the first (a host's probes, a rollback), waited about 40 ms (on the lab, a
    connection 68 ms instead of 24, such a command 48 ms instead of 4). OpenSSH's client turns Nagle off
    for interactive sessions for the same reason. Acknowledging: ``_QuickAckSocket``."""
    if not isinstance(sock, socket.socket) or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return sock
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if _TCP_QUICKACK is None or type(sock) is not socket.socket:
        return sock
    timeout = sock.gettimeout()
    quick = _QuickAckSocket(sock.family, sock.type, sock.proto, fileno=sock.detach())
    quick.settimeout(timeout)
    return quick


def _tuned_transport(sock: Any, *args: Any, **kwargs: Any) -> paramiko.Transport:
    """paramiko's Transport (SSHClient.connect's transport_factory) on a responsive socket, preferring
    AES-GCM ciphers."""
    transport = paramiko.Transport(_responsive(sock), *args, **kwargs)
    options = transport.get_security_options()
    offered = tuple(options.ciphers)
    first = tuple(c for c in _AEAD_CIPHERS if c in offered)
    options.ciphers = first + tuple(c for c in offered if c not in first)
    return transport


CONNECT_ATTEMPTS = 3


class _Transient(UnreachableError):
    """A handshake cut short (MaxStartups, a late banner, a reset): another attempt may well succeed."""


KEEPALIVE_SECONDS = 15  # a connection waits idle while earlier waves run: keep it from being dropped
IDLE_WAKEUP_SECONDS = 1.0  # paramiko's own is 0.1 s: see _opened


@dataclass(frozen=True)
class _Connection:
    """A host's SSH connection, and the ProxyJump hops it goes through (each a connection of its own,
    closed with it)."""

    client: paramiko.SSHClient
    hops: tuple[paramiko.SSHClient, ...] = ()

    def close(self) -> None:
        self.client.close()
        for hop in reversed(self.hops):
            hop.close()


class SshTransport:
    def __init__(self, host: Host, connection: _Connection, options: ConnectOptions) -> None:
        self.host = host
        self._connection = connection
        self._options = options
        self._shell: paramiko.Channel | None = None  # a shell left open by run_script(stay=True)

    @classmethod
    def connect(cls, host: Host, options: ConnectOptions) -> SshTransport:
        return cls(host, cls._open(host, options), options)

    @staticmethod
    def _open(host: Host, options: ConnectOptions) -> _Connection:
        # ssh_config is applied here, ProxyJump hops included, and every hop is held to the same host key
        # policy as the host itself.
        jumps: tuple[Host, ...] = ()
        if options.ssh_config:
            host, jumps = sshconfig.resolve(host, sshconfig.read_ssh_config(options.ssh_config))
        via = f" (via ProxyJump {', '.join(f'{h.user}@{h.address}:{h.port}' for h in jumps)})" if jumps else ""
        hops: list[paramiko.SSHClient] = []
        try:
            for hop in jumps:  # each hop is reached through the one before it
                hops.append(SshTransport._attempts(hop, options, hops[-1] if hops else None, via))
            client = SshTransport._attempts(host, options, hops[-1] if hops else None, via)
        except BaseException:
            for opened in reversed(hops):
                opened.close()
            raise
        return _Connection(client, tuple(hops))

    @staticmethod
    def _attempts(
        host: Host, options: ConnectOptions, through: paramiko.SSHClient | None, via: str
    ) -> paramiko.SSHClient:
        for attempt in range(1, CONNECT_ATTEMPTS + 1):
            try:
                return SshTransport._opened(host, options, through)
            except _Transient as e:
                # sshd drops connections beyond MaxStartups before the banner, and a loaded host may be
                # late with it: such a refusal is worth a retry, after a pause that grows.
                if attempt == CONNECT_ATTEMPTS:
                    raise UnreachableError(f"{e} (after {attempt} attempts){via}") from None
                time.sleep(0.2 * attempt)
            except UnreachableError as e:
                raise UnreachableError(f"{e}{via}") from None
        raise AssertionError("unreachable")

    @staticmethod
    def _unopened(host: Host, options: ConnectOptions) -> tuple[paramiko.SSHClient, dict[str, Any]]:
        """A client, not yet connected, that refuses unknown host keys (or learns them, with accept-new),
        and the arguments of its connect."""
        client = paramiko.SSHClient()
        if options.accept_new_host_keys and host.known_hosts:
            client.set_missing_host_key_policy(_AcceptNewHostKey(host.known_hosts))
        else:
            client.set_missing_host_key_policy(_RejectUnknownHostKey())
        if host.known_hosts:
            # Only this host's keys: loading the whole file for every connection costs a fleet's worth
            # of key parsing per host (quadratic: 250,000 parsed keys for 500 hosts).
            name = _known_hosts_name(host)
            for key_type, key in _known_hosts(host.known_hosts).lookup(name).items():
                client.get_host_keys().add(name, key_type, key)
        arguments: dict[str, Any] = {
            "hostname": host.address,
            "port": host.port,
            "username": host.user,
            "timeout": options.connect_timeout,
            "banner_timeout": options.connect_timeout,
            "auth_timeout": options.connect_timeout,
            "transport_factory": _tuned_transport,
        }
        if host.identity_file:
            # Naming the key in the inventory means exactly that key: no agent, no search of ~/.ssh.
            arguments.update(look_for_keys=False, allow_agent=False)
            identity = _private_key(host.identity_file)
            if identity is not None:
                arguments["pkey"] = identity
            else:
                arguments["key_filename"] = [host.identity_file]
        return client, arguments

    @staticmethod
    def _opened(host: Host, options: ConnectOptions, through: paramiko.SSHClient | None) -> paramiko.SSHClient:
        client, arguments = SshTransport._unopened(host, options)
        try:
            if through is not None:
                tunnel = through.get_transport()
                if tunnel is None:
                    raise paramiko.SSHException("the jump host's connection is closed")
                arguments["sock"] = tunnel.open_channel(
                    "direct-tcpip", dest_addr=(host.address, host.port), src_addr=("", 0),
                    timeout=options.connect_timeout,
                )  # fmt: skip
            client.connect(**arguments)
        except BaseException as e:
            banner = (
                _banner_error(host, options, client.get_transport())
                if isinstance(e, (paramiko.SSHException, EOFError)) and not isinstance(e, _KEY_OR_AUTH_ERRORS)
                else None
            )
            client.close()
            raise (banner or _connect_error(host, options, e)) from None
        transport = client.get_transport()
        if transport is not None:
            transport.set_keepalive(KEEPALIVE_SECONDS)
            # paramiko's thread for the connection wakes every 0.1 s to see whether it was closed; a
            # connection read early waits idle until its write (every host is read first), so at 1,000 hosts
            # the wake-ups alone cost a core. Data still wakes it at once; only noticing a close, and the
            # keepalive (every KEEPALIVE_SECONDS), wait for the next wake-up.
            transport.sock.settimeout(IDLE_WAKEUP_SECONDS)
        return client

    def _session(self, timeout: float) -> paramiko.Channel:
        """A new channel; a connection found dead before anything was sent on it is opened again, once:
        nothing ran, so nothing can be repeated (and every write is a compare-and-swap anyway)."""
        for attempt in (1, 2):
            transport = self._connection.client.get_transport()
            try:
                if transport is None or not transport.is_active():
                    raise paramiko.SSHException("the connection is closed")
                channel: paramiko.Channel = transport.open_session(timeout=timeout)
                return channel
            except (paramiko.SSHException, EOFError, OSError) as e:
                if attempt == 2:
                    raise self._lost(e) from None
                self._connection.close()
                self._connection = self._open(self.host, self._options)
        raise AssertionError("unreachable")

    def run_script(
        self, script: bytes, timeout: float | None = None, stay: bool = False, limit: int = ANSWER_FLOOR
    ) -> CommandResult:
        """The script on stdin of ``sh -s``, through sudo when the host says ``become``. With ``stay`` the
        shell stays open afterwards, and the next script runs in it: the survey's shell runs the commit,
        so a host pays for one session (an sshd child, a login shell and sh) instead of two."""
        timeout = self._options.command_timeout if timeout is None else timeout
        channel, data = self._take_shell(), script
        try:
            if channel is None:
                command, prefix = self._shell_command()
                channel = self._session(timeout)
                channel.exec_command(command)
                data = prefix + script
            channel.settimeout(timeout)  # also a shell left open: it has the timeout of the script before
            if stay:
                marker = f"__REMEDIATE_DONE_{secrets.token_hex(8)}__".encode()
                # The marker ends the script's output on both streams (they arrive independently).
                _send(channel, data + b"\necho " + marker + b" $?; echo " + marker + b" 0 >&2\n", end_input=False)
                result = _collect(channel, timeout, marker, limit)
                if not (channel.closed or channel.eof_received):
                    self._shell, channel = channel, None
            else:
                _send(channel, data, end_input=True)
                result = _collect(channel, timeout, limit=limit)
        except (paramiko.SSHException, EOFError, OSError) as e:
            raise self._lost(e) from None
        finally:
            if channel is not None:
                channel.close()
        if self.host.become:
            _check_sudo(self.host, result)
        return result

    def _lost(self, error: Exception) -> HostError:
        """The one message for a connection that failed under a command (an exception with no text of its
        own, such as EOFError, is named by its type)."""
        return HostError(f"connection to {self.host.address}:{self.host.port} lost: {error or type(error).__name__}")

    def _take_shell(self) -> paramiko.Channel | None:
        """The shell a script left open, if it is still there (the connection may have been lost since)."""
        shell, self._shell = self._shell, None
        if shell is None:
            return None
        if shell.closed or shell.eof_received or shell.exit_status_ready():
            shell.close()
            return None
        return shell

    def _shell_command(self) -> tuple[str, bytes]:
        """The command that runs a script from stdin, and what stdin must start with."""
        if not self.host.become:
            return "sh -s", b""
        password = self._options.become_password
        if password is None:
            # -n: never wait for a password nobody will type; a host that wants one fails with sudo's word.
            return "sudo -n -- sh -s", b""
        # sudo -S reads the password from stdin one byte at a time up to the newline, leaving the script
        # after it to sh. A wrong password makes sudo exit without running anything.
        return "sudo -S -p '' -- sh -s", password.encode() + b"\n"

    def run(self, command: str, stdin: bytes = b"", timeout: float | None = None) -> CommandResult:
        timeout = self._options.command_timeout if timeout is None else timeout
        channel = self._session(timeout)
        try:
            try:
                channel.settimeout(timeout)
                channel.exec_command(command)
                _send(channel, stdin, end_input=True)
                return _collect(channel, timeout)
            finally:
                channel.close()
        except (paramiko.SSHException, EOFError, OSError) as e:
            raise self._lost(e) from None

    def close(self) -> None:
        # A shell left open is not closed on its own: that is a message and its wait per host, about a
        # third of a millisecond of a fleet's single interpreter. Closing the connection ends it: sshd
        # closes the shell's input, and ``sh -s`` exits at the end of its input.
        self._shell = None
        self._connection.close()


def _send(channel: paramiko.Channel, data: bytes, end_input: bool) -> None:
    try:
        if data:
            channel.sendall(data)
        if end_input:
            channel.shutdown_write()
    except OSError:
        # The command ended before reading all its input (a host that refuses early: locked, or a file
        # changed since the plan): its own answer, read next, says what happened.
        if not (channel.closed or channel.eof_received or channel.exit_status_ready()):
            raise


def _collect(
    channel: paramiko.Channel, timeout: float, marker: bytes | None = None, limit: int = ANSWER_FLOOR
) -> CommandResult:
    """Output to its end (the channel's end of file, or with ``marker`` the line ``MARKER STATUS`` the
    shell prints after a script when it stays open), then the exit status. Past ``limit`` bytes on both
    streams together, a HostError: nothing more is read (paramiko's window stops the host sending)."""
    deadline = time.monotonic() + timeout
    # Set by paramiko when output or the end of file comes in on either stream. Not the channel's fileno:
    # that costs two pipe descriptors per channel (a fleet's open shells would run out of descriptors)
    # and select() cannot watch a descriptor past 1023.
    arrived = threading.Event()
    channel.in_buffer.set_event(arrived)
    channel.in_stderr_buffer.set_event(arrived)
    stdout, stderr = bytearray(), bytearray()
    searched = 0  # how much of stdout is known not to hold the marker line (a file's bytes can be many)
    # Read to end of output, not to the exit status: sshd may send the status before the last bytes.
    while True:
        while channel.recv_ready():
            stdout += channel.recv(1 << 16)
            _check_limit(stdout, stderr, limit)
        while channel.recv_stderr_ready():
            stderr += channel.recv_stderr(1 << 16)
            _check_limit(stdout, stderr, limit)
        if marker is not None:
            found = _marked_status(stdout, marker, searched)
            if found is not None:
                in_stderr = _marked_status(stderr, marker)
                if in_stderr is not None:
                    return CommandResult(found[0], bytes(stdout[: found[1]]), bytes(stderr[: in_stderr[1]]))
            else:
                searched = max(0, len(stdout) - len(marker))
        drained = not channel.recv_ready() and not channel.recv_stderr_ready()
        if drained and (channel.eof_received or channel.closed):
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise HostError(f"command timed out after {timeout:g}s")
        arrived.wait(min(remaining, 0.5))
        arrived.clear()
    if not channel.status_event.wait(max(0.0, deadline - time.monotonic())):
        raise HostError(f"command timed out after {timeout:g}s waiting for its exit status")
    status = channel.recv_exit_status()
    if status == -1:  # the channel closed with no exit status: the session or connection died
        raise HostError("the connection was lost before the remote command finished")
    return CommandResult(status, bytes(stdout), bytes(stderr))


def _check_limit(stdout: bytearray, stderr: bytearray, limit: int) -> None:
    if len(stdout) + len(stderr) > limit:
        raise HostError(f"the host's answer went past {limit} bytes, the most this command can need: not read further")


def _marked_status(stream: bytearray, marker: bytes, since: int = 0) -> tuple[int, int] | None:
    """(status, where the script's own output ends) once the marker's line has come in whole. The marker
    need not start a line (a script's output may not end with a newline); its random part means no
    script prints it, and ``since`` says where it cannot start yet."""
    start = stream.find(marker + b" ", since)
    if start == -1:
        return None
    end = stream.find(b"\n", start)
    if end == -1:
        return None  # not all of it yet
    status = bytes(stream[start + len(marker) + 1 : end])
    return (int(status), start) if status.isdigit() else None
