"""The local lab fleet: disposable hosts on this machine for rehearsing a fix.

Each lab host is a real ``sshd`` (and a PHP built-in web server) on its own loopback address, living
in its own mount namespace where ``/var/www``, ``/etc/apache2``, ``/var/backups``, ``/tmp``, ``/run/lock``
and ``/run/remediate`` are bind mounts of folders under ``<lab dir>/hosts/<name>/`` (see ``lab.docroot``), and
``/root/.bashrc`` is Debian's stock one (the machine's runs ``pyenv init``, ~90 ms per remote command).
``<lab dir>/hosts`` is a tmpfs, mounted by ``lab up`` and unmounted by ``lab down``: every host gets
~300 files, and creating a file on this machine's ext4 costs ~0.7 ms of kernel time against ~20 us on
tmpfs, which made file copying most of the start-up time of a 100-host lab.

Processes of one lab::

    reaper (python, child subreaper)
      sh launch.sh
        holder: unshare --mount --propagation private sh start.sh   (mounts, then `exec sleep infinity`)
          sshd -D ...               \\ started by start.sh inside the namespace; a restart
          php -S ...                 | enters it with `nsenter --mount=/proc/HOLDER/ns/mnt`
          apache2 -DFOREGROUND      /  under a fresh reaper (Apache only with ``apache=True``)

With ``apache=True`` each host also runs Debian's Apache 2.4 with mod_php on its address, port 80,
from its own ``/etc/apache2`` (a working config, see ``lab.docroot``), whose ``envvars`` keeps the pid
file, run and lock directories and logs in the host's own ``/run/lock`` and ``/tmp``: ``apache2ctl``
run over SSH on a host (configtest, graceful, stop, start) acts on that host's Apache only.

Every process has a pid file in ``hosts/<name>/control/``; stopping re-checks that ``/proc/PID`` still
is that process (its command line or environment carries a marker) and signals exactly that pid.
The reaper exists because PID 1 on some machines (micro-VMs, containers) reaps orphans late or never:
without it a stopped lab process could stay a zombie and hold its pid.
"""

from __future__ import annotations

import contextlib
import glob
import http.client
import json
import os
import posixpath
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from remediate.errors import RemediateError, UserError
from remediate.lab.docroot import (
    APACHE_PID_FILE,
    BOUND_DIRS,
    DOCROOT,
    ApacheBuild,
    TreeEntry,
    apache_host_files,
    pristine_tree,
)

DEFAULT_LAB_DIR = Path(os.environ.get("REMEDIATE_LAB_DIR", "/var/lib/remediate/lab"))
SSH_PORT = 2222
HTTP_PORT = 8080
APACHE_PORT = 80
MAX_LAB_HOSTS = 254 * 255  # 127.0.1.1 .. 127.0.255.254
INVENTORY_HEADER = "# Written by `remediate lab up`; removed by `remediate lab down`."

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SSHD = "/usr/sbin/sshd"  # absolute: sshd re-executes itself for every connection
APACHE2 = "/usr/sbin/apache2"
APACHE2CTL = "/usr/sbin/apache2ctl"
PHP_APACHE_MODULES = "/usr/lib/apache2/modules/libphp*.so"  # libapache2-mod-php's, one per PHP version
STOCK_BASHRC = Path("/usr/share/base-files/dot.bashrc")
ROOT_BASHRC = Path("/root/.bashrc")
_LAB_FILE = "lab.json"
_PROCESS_MARKER = "REMEDIATE_LAB_PROCESS"
# (Debian package, command it provides); a command is looked up on SYSTEM_PATH unless absolute.
_REQUIRED_COMMANDS = (
    ("openssh-server", SSHD),
    ("openssh-client", "ssh-keygen"),
    ("php-cli", "php"),
    ("util-linux", "unshare"),
    ("util-linux", "nsenter"),
    ("mount", "mount"),
)
_REQUIRED_FOR_APACHE = (("apache2", APACHE2CTL), ("apache2", APACHE2), ("libapache2-mod-php", PHP_APACHE_MODULES))

Service = Literal["sshd", "http", "apache"]
_SERVICES: tuple[Service, ...] = ("sshd", "http", "apache")


class LabError(RemediateError):
    """The lab could not be started or changed; the message names the host and its log file."""


@dataclass(frozen=True)
class LabHost:
    name: str
    address: str
    ssh_port: int
    http_port: int
    root: Path  # this host's backing folder: <root>/var/www is the host's /var/www, and so on

    def local_path(self, remote_path: str) -> Path:
        """The file on this machine behind ``remote_path`` on the host (only the bound folders)."""
        if not remote_path.startswith("/"):
            raise ValueError(f"{remote_path!r} is not an absolute path")
        normal = "/" + posixpath.normpath(remote_path).lstrip("/")
        for bound in BOUND_DIRS:
            if normal == bound or normal.startswith(bound + "/"):
                return self.root / normal.lstrip("/")
        raise ValueError(f"{remote_path} is outside the folders a lab host has of its own ({', '.join(BOUND_DIRS)})")

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.http_port}/"

    @property
    def apache_url(self) -> str:
        """The site as the host's Apache serves it (labs started with ``apache=True``)."""
        return f"http://{self.address}/"


@dataclass(frozen=True)
class Lab:
    directory: Path
    inventory_path: Path
    hosts: tuple[LabHost, ...]
    http: bool = True
    apache: bool = False

    @property
    def identity_file(self) -> Path:
        return self.directory / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.directory / "known_hosts"

    def host(self, name: str) -> LabHost:
        for host in self.hosts:
            if host.name == name:
                return host
        raise UserError(f"the lab in {self.directory} has no host {name!r}")


@dataclass(frozen=True)
class LabHostStatus:
    name: str
    address: str
    sshd_running: bool
    http_running: bool
    apache_running: bool = False


def lab_address(index: int) -> str:
    """Loopback address of the host with this global index: 0 -> 127.0.1.1, 254 -> 127.0.2.1."""
    if not 0 <= index < MAX_LAB_HOSTS:
        raise ValueError(f"lab host index {index} is outside 0..{MAX_LAB_HOSTS - 1}")
    return f"127.0.{1 + index // 254}.{1 + index % 254}"


def required_packages_missing(apache: bool = False) -> list[str]:
    """Debian packages the lab needs whose commands are not installed, e.g. ``["php-cli"]``.

    Apache's packages only when ``apache`` (a lab with Apache on every host) is asked for.
    """
    missing: list[str] = []
    for package, command in (*_REQUIRED_COMMANDS, *(_REQUIRED_FOR_APACHE if apache else ())):
        found = _php_apache_module() if command == PHP_APACHE_MODULES else _find_command(command)
        if found is None and package not in missing:
            missing.append(package)
    return missing


def _php_apache_module() -> str | None:
    """mod_php's shared object, the newest PHP version's when there are several."""
    found = sorted(glob.glob(PHP_APACHE_MODULES))
    return found[-1] if found else None


def apache_build() -> ApacheBuild:
    """The working Apache config's needs on this machine (a lab with Apache): mod_php's shared object."""
    module = _php_apache_module()
    if module is None:  # check_lab_machine(apache=True) has said which package is missing
        raise UserError(f"no mod_php ({PHP_APACHE_MODULES}): apt-get install -y libapache2-mod-php")
    return ApacheBuild(module)


# --- up ------------------------------------------------------------------------------------------


def lab_up(
    count: int,
    lab_dir: Path = DEFAULT_LAB_DIR,
    inventory_path: Path = Path("inventory/lab.yml"),
    first_index: int = 0,
    http: bool = True,
    apache: bool = False,
) -> Lab:
    """Start ``count`` lab hosts, write the inventory, and return the running lab.

    With ``apache``, every host also runs Apache with mod_php on its address, port 80 (Debian's
    apache2 and libapache2-mod-php packages needed).

    Raises UserError for what the caller can fix (not root, missing packages, a lab already
    running, bad arguments) and LabError when a host does not come up (after stopping them all).
    """
    if count < 1:
        raise UserError(f"a lab needs at least 1 host, not {count}")
    if first_index < 0 or first_index + count > MAX_LAB_HOSTS:
        last = first_index + count - 1
        raise UserError(f"lab host indexes {first_index}..{last} fall outside 0..{MAX_LAB_HOSTS - 1}")
    check_lab_machine(apache)
    lab_dir = Path(os.path.abspath(lab_dir))
    inventory_path = Path(os.path.abspath(inventory_path))
    _check_lab_dir_location(lab_dir)
    _clear_stale_lab(lab_dir)
    _check_inventory_is_ours(inventory_path)

    hosts = tuple(
        LabHost(f"web{k + 1}", lab_address(first_index + k), SSH_PORT, HTTP_PORT, lab_dir / "hosts" / f"web{k + 1}")
        for k in range(count)
    )
    _check_addresses_free(hosts, http, apache)
    lab = Lab(lab_dir, inventory_path, hosts, http, apache)
    _make_lab_dir(lab_dir)
    _save_lab(lab)
    try:
        _mount_hosts_tmpfs(lab_dir)
        php = _find_command("php") or "php"
        # Before _prepare_files: its `sshd -t` already needs sshd's privilege separation folder.
        _prepare_runtime_folders()
        _prepare_files(lab, php)
        _launch(_up_script(lab), lab_dir / "launch.log", timeout=60.0 + 0.2 * count)
        problems = _wait_until_serving(lab, timeout=30.0 + 0.1 * count)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise LabError(f"lab host {problems[0]}{more}; logs kept in {lab_dir} until `remediate lab down`")
        _write_inventory(lab)
    except BaseException:
        _stop_all(lab)
        _remove_inventory(inventory_path)
        raise
    return lab


def check_lab_machine(apache: bool = False) -> None:
    """Raise UserError (one line: what is wrong and how to fix it) unless this machine can run a lab
    (with Apache on its hosts when ``apache``)."""
    if sys.platform != "linux":
        raise UserError(f"the lab needs Linux (mount namespaces, loopback /8); this is {sys.platform}")
    if os.geteuid() != 0:
        raise UserError("the lab needs root (it creates mount namespaces and starts sshd): run it with sudo")
    missing = required_packages_missing(apache)
    if missing:
        raise UserError(
            f"the lab needs Debian packages that are not installed ({', '.join(missing)}): "
            f"apt-get install -y {' '.join(missing)}"
        )


def _check_lab_dir_location(lab_dir: Path) -> None:
    real = os.path.realpath(lab_dir)
    for bound in BOUND_DIRS:
        if real == bound or real.startswith(bound + "/"):
            raise UserError(
                f"lab directory {lab_dir} is under {bound}, which every lab host replaces with a bind mount"
                f" of its own: use a directory such as /var/lib/remediate/lab"
            )
    # sshd's StrictModes refuses an authorized_keys file if any folder above it is writable by others.
    for folder in lab_dir.parents:
        with contextlib.suppress(FileNotFoundError):
            info = folder.stat()
            if info.st_uid != 0 or info.st_mode & 0o022:
                raise UserError(
                    f"lab directory {lab_dir} is below {folder}, which is not owned by root or is group- or"
                    f" world-writable, so sshd (StrictModes) would refuse the lab key: choose another directory"
                )


def _clear_stale_lab(lab_dir: Path) -> None:
    if (lab_dir / _LAB_FILE).exists():
        lab = load_lab(lab_dir)
        running = sum(1 for host in lab.hosts if _running_processes(host))
        if running:
            raise UserError(f"a lab is already running in {lab_dir} ({running} hosts): run `remediate lab down` first")
        lab_down(lab_dir)  # left over from a crash or a failed start: nothing runs, remove it
    elif lab_dir.exists() and any(lab_dir.iterdir()):
        raise UserError(f"{lab_dir} exists and is not a lab directory: choose another lab directory")


def _check_addresses_free(hosts: Sequence[LabHost], http: bool, apache: bool) -> None:
    listening = _listening_tcp()
    for host in hosts:
        for port in (host.ssh_port, *((host.http_port,) if http else ()), *((APACHE_PORT,) if apache else ())):
            for address in (host.address, "0.0.0.0"):
                if (address, port) in listening:
                    raise UserError(
                        f"{address}:{port}, needed by lab host {host.name} ({host.address}), is already in use,"
                        " perhaps by another lab: stop it (`remediate lab down`) or choose other addresses"
                    )


def _check_inventory_is_ours(path: Path) -> None:
    if path.exists() and not _is_our_inventory(path):
        raise UserError(f"{path} exists and was not written by `remediate lab up`: choose another inventory path")


def _make_lab_dir(lab_dir: Path) -> None:
    # 0711: not listable by others, but traversable, so that sshd can read authorized_keys on behalf of
    # an unprivileged lab user (the private key stays 0600, the host keys are on the 0700 tmpfs).
    for folder in reversed([lab_dir, *lab_dir.parents]):
        if not folder.exists():
            folder.mkdir()
            folder.chmod(0o711 if folder == lab_dir else 0o755)
    lab_dir.chmod(0o711)


def _mount_hosts_tmpfs(lab_dir: Path) -> None:
    hosts = lab_dir / "hosts"
    hosts.mkdir(mode=0o700)
    _run(["mount", "-t", "tmpfs", "-o", "mode=0700", "remediate-lab", str(hosts)])


def _unmount_hosts_tmpfs(lab_dir: Path) -> None:
    hosts = lab_dir / "hosts"
    if not os.path.ismount(hosts):
        return
    # Every lab process is stopped; a shell of someone's may still sit in it, hence the lazy fallback.
    if subprocess.run(["umount", str(hosts)], capture_output=True, check=False).returncode != 0:
        _run(["umount", "--lazy", str(hosts)])


def _prepare_files(lab: Lab, php: str) -> None:
    directory = lab.directory
    template = directory / "pristine"
    apache = apache_build() if lab.apache else None
    _write_tree(template, pristine_tree(apache))
    _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "remediate-lab", "-f", str(lab.identity_file)])
    public_key = lab.identity_file.with_suffix(".pub").read_text()
    _write_private(directory / "authorized_keys", public_key)
    (directory / "authorized_keys").chmod(0o644)  # a public key; readable by every lab user's session

    def prepare(host: LabHost) -> str:
        control = _control_dir(host)
        control.mkdir(parents=True)
        _run(["cp", "-a", f"{template}/.", f"{host.root}/"])
        if lab.apache:
            _write_tree(host.root, apache_host_files(host.name, host.address))
        key = control / "ssh_host_ed25519_key"
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{host.name}-host-key", "-f", str(key)])
        (control / "sshd_config").write_text(_sshd_config(lab, host))
        (control / "start.sh").write_text(_start_script(lab, host, php))
        key_type, key_data = key.with_suffix(".pub").read_text().split()[:2]
        return f"[{host.address}]:{host.ssh_port} {key_type} {key_data}\n"

    with ThreadPoolExecutor(max_workers=min(16, len(lab.hosts))) as pool:
        known_hosts = list(pool.map(prepare, lab.hosts))
    lab.known_hosts.write_text("".join(known_hosts))
    lab.known_hosts.chmod(0o644)
    first = lab.hosts[0]
    checked = subprocess.run(
        [SSHD, "-t", "-f", str(_control_dir(first) / "sshd_config")], capture_output=True, text=True, check=False
    )
    if checked.returncode != 0:
        raise LabError(f"sshd rejects the lab's configuration: {checked.stderr.strip()}")


def _sshd_config(lab: Lab, host: LabHost) -> str:
    control = _control_dir(host)
    return f"""\
# sshd of lab host {host.name}, written by `remediate lab up`.
ListenAddress {host.address}:{host.ssh_port}
HostKey {control}/ssh_host_ed25519_key
PidFile {control}/sshd.pid
# StrictModes stays on: the lab directory is 0700 and lab up checks no folder above it is writable by others.
AuthorizedKeysFile {lab.directory}/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PrintMotd no
MaxStartups 200:30:600
MaxSessions 64
LogLevel ERROR
Subsystem sftp internal-sftp
"""


def _start_script(lab: Lab, host: LabHost, php: str) -> str:
    binds = [(str(host.local_path(bound)), bound) for bound in BOUND_DIRS]
    if STOCK_BASHRC.exists():
        binds.append((str(STOCK_BASHRC), str(ROOT_BASHRC)))
    lines = [
        f"# Namespace holder of lab host {host.name}, written by `remediate lab up`. It runs under",
        "# `unshare --mount --propagation private`: binds the host's own folders, starts its services",
        "# (in subshells, so they are orphaned at once and adopted by the reaper rather than by",
        "# `sleep`, which never reaps), then sleeps to keep the namespace alive.",
        "set -eu",
        *(f"mount --bind {shlex.quote(source)} {shlex.quote(target)}" for source, target in binds),
        f"({_service_command(host, 'sshd', [], php)})",
    ]
    if lab.http:
        lines.append(f"({_service_command(host, 'http', [], php)})")
    if lab.apache:
        lines.append(f"({_service_command(host, 'apache', [], php)})")
    lines.append("exec sleep infinity")
    return "\n".join(lines) + "\n"


def _prepare_runtime_folders() -> None:
    """Create every folder the hosts' services need on the machine's own root, before any is checked
    or started: a new machine (a fresh /run on tmpfs) has none of them."""
    # Mount points must exist on the real root filesystem; apart from them, /run/sshd (and the lab
    # directory with its tmpfs) nothing outside the namespaces is changed. Apache's run, lock and log
    # folders are the host's own, under its bound /run/lock and /tmp, made by its start command.
    for bound in BOUND_DIRS:
        Path(bound).mkdir(mode=0o755, parents=True, exist_ok=True)
    if STOCK_BASHRC.exists() and not ROOT_BASHRC.exists():
        ROOT_BASHRC.touch(mode=0o644)
    Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)  # sshd's privilege separation dir


def _up_script(lab: Lab) -> Path:
    lines = ["# Starts the namespace holders of this lab; written by `remediate lab up`.", "cd /"]
    for host in lab.hosts:
        control = _control_dir(host)
        holder = _process(host, "holder")
        lines.append(
            f"{_PROCESS_MARKER}={shlex.quote(holder.env_value)}"
            f" unshare --mount --propagation private sh {shlex.quote(str(control / 'start.sh'))}"
            f" </dev/null >/dev/null 2>>{shlex.quote(str(holder.log))}"
            f" & echo $! >{shlex.quote(str(holder.pid_file))}"
        )
    script = lab.directory / "launch.sh"
    script.write_text("\n".join(lines) + "\n")
    return script


def _wait_until_serving(lab: Lab, timeout: float) -> list[str]:
    """Problems (``"web3 (127.0.1.3): ..."``) of hosts that did not come up; empty when all serve."""
    deadline = time.monotonic() + timeout
    waiting: dict[Service, list[LabHost]] = {
        "sshd": list(lab.hosts),
        "http": list(lab.hosts) if lab.http else [],
        "apache": list(lab.hosts) if lab.apache else [],
    }
    while any(waiting.values()):
        listening = _listening_tcp()
        waiting = {
            service: [h for h in hosts if not _serving(h, service, listening)] for service, hosts in waiting.items()
        }
        problems = [
            problem
            for service, hosts in waiting.items()
            for host in hosts
            if (problem := _startup_problem(host, service))
        ]
        if problems:
            return problems
        if time.monotonic() > deadline:
            return [
                f"{host.name} ({host.address}): {service} is not listening after {timeout:.0f} s"
                f" (log: {_process(host, service).log})"
                for service, hosts in waiting.items()
                for host in hosts
            ]
        time.sleep(0.05)
    web = [(host, service) for service in ("http", "apache") if getattr(lab, service) for host in lab.hosts]
    if not web:
        return []
    with ThreadPoolExecutor(max_workers=min(16, len(web))) as pool:
        return [problem for problem in pool.map(lambda hs: _http_problem(*hs), web) if problem]


def _startup_problem(host: LabHost, service: Service) -> str | None:
    # Right after the fork a pid may not carry its marker yet (not exec'd): only a vanished pid fails.
    holder = _process(host, "holder")
    if not _exists(_read_pid(holder.pid_file)):
        why = _last_line(holder.log)
        return f"{host.name} ({host.address}): its namespace holder exited: {why} (log: {holder.log})"
    process = _process(host, service)
    pid = _read_pid(process.pid_file)
    if pid is not None and not _exists(pid):
        return f"{host.name} ({host.address}): {service} exited: {_last_line(process.log)} (log: {process.log})"
    return None


def _http_problem(host: LabHost, service: Service = "http") -> str | None:
    connection = http.client.HTTPConnection(host.address, _port(host, service), timeout=10)
    try:
        connection.request("GET", "/")
        connection.getresponse().read()  # any status counts: a broken site answers 500
    except (OSError, http.client.HTTPException) as error:
        log = _process(host, service).log
        server = "Apache" if service == "apache" else "the web server"
        return f"{host.name} ({host.address}): {server} does not answer: {error} (log: {log})"
    finally:
        connection.close()
    return None


def _write_inventory(lab: Lab) -> None:
    names = [host.name for host in lab.hosts]
    lines = [
        INVENTORY_HEADER,
        "defaults:",
        "  user: root",
        f"  port: {SSH_PORT}",
        f"  identity_file: {_yaml_scalar(str(lab.identity_file))}",
        f"  known_hosts: {_yaml_scalar(str(lab.known_hosts))}",
        "vars:",
        f"  docroot: {DOCROOT}",
        f"  http_port: {HTTP_PORT}",
        "hosts:",
        *(f"  {host.name}: {{address: {host.address}{_health_vars(lab, host)}}}" for host in lab.hosts),
        "groups:",
        f"  web: {{hosts: [{', '.join(names)}]}}",
        f"  canary: {{hosts: [{names[0]}]}}",
    ]
    lab.inventory_path.parent.mkdir(parents=True, exist_ok=True)
    lab.inventory_path.write_text("\n".join(lines) + "\n")


def _health_vars(lab: Lab, host: LabHost) -> str:
    """The host's ``health_url`` (its site, which fix-phpp's probe asks for HTTP 200), as inline vars."""
    if lab.http:
        url = host.url
    elif lab.apache:
        url = host.apache_url
    else:
        return ""
    return f", vars: {{health_url: {_yaml_scalar(url)}}}"


def _yaml_scalar(text: str) -> str:
    plain = all(ch.isalnum() or ch in "/._-" for ch in text)
    return text if plain else json.dumps(text)  # a JSON string is a YAML double-quoted scalar


# --- down, status, load --------------------------------------------------------------------------


def lab_down(lab_dir: Path = DEFAULT_LAB_DIR) -> int:
    """Stop every process of the lab, remove its directory and inventory; return how many hosts ran."""
    lab_dir = Path(os.path.abspath(lab_dir))
    if not (lab_dir / _LAB_FILE).exists():
        if not lab_dir.exists():
            return 0
        if any(lab_dir.iterdir()):
            raise UserError(f"{lab_dir} is not a lab directory (it has no {_LAB_FILE}): not touching it")
        lab_dir.rmdir()
        return 0
    lab = load_lab(lab_dir)
    stopped = _stop_all(lab)
    _unmount_hosts_tmpfs(lab_dir)
    _remove_inventory(lab.inventory_path)
    shutil.rmtree(lab_dir)
    return stopped


def lab_status(lab_dir: Path = DEFAULT_LAB_DIR) -> tuple[LabHostStatus, ...]:
    """What runs on each host of the lab; empty when there is no lab in ``lab_dir``."""
    if not (Path(os.path.abspath(lab_dir)) / _LAB_FILE).exists():
        return ()
    lab = load_lab(lab_dir)
    return tuple(
        LabHostStatus(
            host.name,
            host.address,
            sshd_running=_running_pid(_process(host, "sshd")) is not None,
            http_running=_running_pid(_process(host, "http")) is not None,
            apache_running=lab.apache and bool(_apache_processes(host)),
        )
        for host in lab.hosts
    )


def sshd_pid(host: LabHost) -> int | None:
    """The pid of the host's listening sshd (whose children serve its connections), from its pid file."""
    return _read_pid(_process(host, "sshd").pid_file)


def load_lab(lab_dir: Path = DEFAULT_LAB_DIR) -> Lab:
    lab_file = Path(os.path.abspath(lab_dir)) / _LAB_FILE
    try:
        data = json.loads(lab_file.read_text())
        return Lab(
            directory=Path(data["directory"]),
            inventory_path=Path(data["inventory_path"]),
            hosts=tuple(
                LabHost(h["name"], h["address"], int(h["ssh_port"]), int(h["http_port"]), Path(h["root"]))
                for h in data["hosts"]
            ),
            http=bool(data["http"]),
            apache=bool(data.get("apache", False)),  # absent in labs started before Apache existed
        )
    except FileNotFoundError:
        raise UserError(f"there is no lab in {lab_dir}: run `remediate lab up` first") from None
    except (ValueError, KeyError, TypeError) as error:
        raise UserError(f"{lab_file}: not a lab description ({error!r})") from None


def _save_lab(lab: Lab) -> None:
    data = {
        "format": 1,
        "directory": str(lab.directory),
        "inventory_path": str(lab.inventory_path),
        "http": lab.http,
        "apache": lab.apache,
        "hosts": [
            {
                "name": h.name,
                "address": h.address,
                "ssh_port": h.ssh_port,
                "http_port": h.http_port,
                "root": str(h.root),
            }
            for h in lab.hosts
        ],
    }
    temporary = lab.directory / f"{_LAB_FILE}.tmp"
    temporary.write_text(json.dumps(data, indent=1) + "\n")
    temporary.replace(lab.directory / _LAB_FILE)


def _stop_all(lab: Lab) -> int:
    """Stop the services, anything else left in the hosts' namespaces, then the holders."""
    holders: list[tuple[int, _Check]] = []
    services: list[tuple[int, _Check]] = []
    namespaces: set[str] = set()
    running_hosts = 0
    for host in lab.hosts:
        running = _running_processes(host)
        # The lab's Apache and one started on the host (its own pid file), found even when the holder,
        # whose namespace the sweep below uses, is gone.
        apache = _apache_processes(host)
        running_hosts += bool(running or apache)
        services.extend(apache)
        for name, (pid, check) in running.items():
            if name == "holder":
                holders.append((pid, check))
                if (namespace := _namespace(pid)) is not None:
                    namespaces.add(namespace)
            elif name != "apache":  # in `apache` above
                services.append((pid, check))
    _stop_processes(services)
    # Sessions of a stopped sshd (and what they run) outlive it; they are lab processes because only
    # the lab's own processes can be in these namespaces.
    holder_pids = {pid for pid, _ in holders}
    leftovers = [pid for pid in _pids_in_namespaces(namespaces) if pid not in holder_pids]
    _stop_processes([(pid, lambda p: _namespace(p) in namespaces) for pid in leftovers])
    _stop_processes(holders)
    for host in lab.hosts:
        for name in ("holder", *_SERVICES):
            with contextlib.suppress(FileNotFoundError):
                _process(host, name).pid_file.unlink()
    return running_hosts


def _is_our_inventory(path: Path) -> bool:
    try:
        with path.open() as file:
            return file.readline().rstrip("\n") == INVENTORY_HEADER
    except OSError:
        return False


def _remove_inventory(path: Path) -> None:
    if _is_our_inventory(path):
        path.unlink()


# --- one host: services and reset ----------------------------------------------------------------


def stop_sshd(lab: Lab, name: str) -> None:
    """Stop the sshd of one host (open sessions live on, as with `systemctl stop ssh`)."""
    _stop_service(lab.host(name), "sshd")


def start_sshd(lab: Lab, name: str) -> None:
    """Start the sshd of one host again (no-op when it runs) and wait until it listens."""
    _start_service(lab, lab.host(name), "sshd")


def stop_http(lab: Lab, name: str) -> None:
    _stop_service(lab.host(name), "http")


def start_http(lab: Lab, name: str) -> None:
    if not lab.http:
        raise UserError(f"the lab in {lab.directory} was started without web servers")
    _start_service(lab, lab.host(name), "http")


def stop_apache(lab: Lab, name: str) -> None:
    """Stop the Apache of one host: the lab's, and one started on the host itself (its own pid file)."""
    _stop_apache(lab.host(name))


def start_apache(lab: Lab, name: str) -> None:
    """Start the Apache of one host again (no-op when one runs) and wait until it answers."""
    if not lab.apache:
        raise UserError(f"the lab in {lab.directory} was started without Apache")
    _start_service(lab, lab.host(name), "apache")


def reset_host(lab: Lab, name: str) -> None:
    """Put back the pristine (broken) docroot and Apache config; empty /var/backups, /tmp, /run/lock and
    /run/remediate.

    The bound folders are emptied and refilled in place: replacing one would leave the host's bind
    mount pointing at the old, deleted folder. In a lab with Apache, Apache is stopped first (its pid
    file, logs and lock directory are in the emptied /run/lock and /tmp) and started again afterwards,
    so it runs, and with the pristine config, whatever state the host was left in.
    """
    host = lab.host(name)
    apache = apache_build() if lab.apache else None
    if lab.apache:
        _stop_apache(host)
    template = lab.directory / "pristine"
    if not template.is_dir():
        _write_tree(template, pristine_tree(apache))
    for bound in BOUND_DIRS:
        folder = host.local_path(bound)
        folder.mkdir(parents=True, exist_ok=True)
        _empty_directory(folder)
    _run(["cp", "-a", f"{template}/.", f"{host.root}/"])
    if lab.apache:
        _write_tree(host.root, apache_host_files(host.name, host.address))
        _start_service(lab, host, "apache")


def _stop_apache(host: LabHost) -> None:
    _stop_processes(_apache_processes(host))
    with contextlib.suppress(FileNotFoundError):
        _process(host, "apache").pid_file.unlink()


def _apache_processes(host: LabHost) -> list[tuple[int, _Check]]:
    """The Apache master the lab started, and one named by the host's own pid file (someone ran
    ``apache2ctl start`` on the host) if that pid is an apache2 that sees this host's folders."""
    found: list[tuple[int, _Check]] = []
    process = _process(host, "apache")
    ours = _running_pid(process)
    if ours is not None:
        found.append((ours, process.is_running))
    own = _read_pid(host.local_path(APACHE_PID_FILE))
    if own is not None and own != ours:

        def is_hosts_apache(pid: int) -> bool:
            return _exists(pid) and _executable(pid) == APACHE2 and _sees_host_folders(pid, host)

        if is_hosts_apache(own):
            found.append((own, is_hosts_apache))
    return found


def _sees_host_folders(pid: int, host: LabHost) -> bool:
    """The process lives in this host's mount namespace: its /var/www is this host's folder on this
    lab's tmpfs (device and path). Unlike comparing namespaces, this works when the holder is gone."""
    try:
        device = host.root.stat().st_dev
        mounts = Path(f"/proc/{pid}/mountinfo").read_text()
    except OSError:
        return False
    # Fields 3 to 5 of a line: major:minor, root within that file system, mount point.
    wanted = f" {os.major(device)}:{os.minor(device)} /{host.root.name}/var/www /var/www "
    return any(wanted in line for line in mounts.splitlines())


def _stop_service(host: LabHost, service: Service) -> None:
    process = _process(host, service)
    pid = _running_pid(process)
    if pid is not None:
        _stop_processes([(pid, process.is_running)])
        # An exiting process loses its memory (and so its marker in /proc) a moment before its sockets:
        # until its port is closed a client can still be accepted, then reset, instead of refused.
        deadline = time.monotonic() + 5.0
        while (host.address, _port(host, service)) in _listening_tcp() and time.monotonic() < deadline:
            time.sleep(0.01)
    with contextlib.suppress(FileNotFoundError):
        process.pid_file.unlink()


def _start_service(lab: Lab, host: LabHost, service: Service) -> None:
    process = _process(host, service)
    if _running_pid(process) is not None or (service == "apache" and _apache_processes(host)):
        return
    holder = _running_pid(_process(host, "holder"))
    if holder is None:
        raise LabError(f"{host.name}: its namespace holder is not running; restart the lab (down, then up)")
    php = _find_command("php") or "php"
    prefix = ["nsenter", f"--mount=/proc/{holder}/ns/mnt"]
    script = _control_dir(host) / f"start-{service}.sh"
    script.write_text(f"cd /\n{_service_command(host, service, prefix, php)}\n")
    with contextlib.suppress(FileNotFoundError):
        process.pid_file.unlink()
    _launch(script, _control_dir(host) / "launch.log", timeout=60.0)
    deadline = time.monotonic() + 15.0
    while not _serving(host, service, _listening_tcp()):
        problem = _startup_problem(host, service)
        if problem or time.monotonic() > deadline:
            raise LabError(problem or f"{host.name}: {service} is not listening after 15 s (log: {process.log})")
        time.sleep(0.02)
    # PHP's server can reset the first connections it accepts right after it starts listening: ready
    # means answering, as for `lab up`.
    while service != "sshd" and (problem := _http_problem(host, service)):
        if time.monotonic() > deadline:
            raise LabError(problem)
        time.sleep(0.02)


def _service_command(host: LabHost, service: Service, prefix: list[str], php: str) -> str:
    """Shell line that starts a service in the background and records its pid."""
    process = _process(host, service)
    environment = [f"{_PROCESS_MARKER}={shlex.quote(process.env_value)}"]
    if service == "sshd":
        argv = [SSHD, "-D", "-f", str(_control_dir(host) / "sshd_config"), "-E", str(process.log)]
    elif service == "apache":
        # What apache2ctl does before it starts Apache (with the host's own envvars; the lock directory
        # is www-data's, as apache2ctl refuses one owned by anybody else), then Apache in the foreground
        # so that the recorded pid is its master's. In a session of its own: prefork's master signals
        # its whole process group on graceful (SIGUSR1) and stop (SIGTERM), which would otherwise be
        # every process of the lab. setsid execs in place (same pid): a background job of sh is never
        # a process group leader. -DNO_DETACH would setsid too, but sends stderr (bind errors) to
        # /dev/null.
        setup = (
            '. /etc/apache2/envvars && mkdir -p "$APACHE_RUN_DIR" "$APACHE_LOCK_DIR" "$APACHE_LOG_DIR"'
            f' && chown "$APACHE_RUN_USER" "$APACHE_LOCK_DIR" && exec setsid {APACHE2} -DFOREGROUND'
        )
        argv = ["/bin/sh", "-c", setup]
    else:
        environment.append(f"LAB_HOST_NAME={shlex.quote(host.name)}")
        # display_errors=0 turns a fatal error into HTTP 500. OPcache is off so that a fixed (or
        # restored) file takes effect on the next request, not up to revalidate_freq seconds later.
        argv = [
            php, "-d", "display_errors=0", "-d", "log_errors=1", "-d", "opcache.enable=0",
            "-S", f"{host.address}:{host.http_port}", "-t", DOCROOT,
        ]  # fmt: skip
    words = " ".join([*environment, *(shlex.quote(word) for word in [*prefix, *argv])])
    log, pid_file = shlex.quote(str(process.log)), shlex.quote(str(process.pid_file))
    return f"{words} </dev/null >/dev/null 2>>{log} & echo $! >{pid_file}"


# --- processes -----------------------------------------------------------------------------------

_Check = Callable[[int], bool]


@dataclass(frozen=True)
class _Process:
    pid_file: Path
    log: Path
    marker: bytes  # in /proc/PID/cmdline or /proc/PID/environ while the pid is still this process
    env_value: str  # value of REMEDIATE_LAB_PROCESS given to it

    def is_running(self, pid: int) -> bool:
        return _is_ours(pid, self.marker)


def _control_dir(host: LabHost) -> Path:
    return host.root / "control"


def _process(host: LabHost, name: str) -> _Process:
    control = _control_dir(host)
    env_value = f"{control}/{name}"
    if name == "sshd":
        # sshd rewrites its environment area for its process title; its command line keeps the config path.
        marker = str(control / "sshd_config").encode()
    else:
        marker = f"{_PROCESS_MARKER}={env_value}\0".encode()
    return _Process(control / f"{name}.pid", control / f"{name}.log", marker, env_value)


def _running_processes(host: LabHost) -> dict[str, tuple[int, _Check]]:
    running: dict[str, tuple[int, _Check]] = {}
    for name in ("holder", *_SERVICES):
        process = _process(host, name)
        pid = _running_pid(process)
        if pid is not None:
            running[name] = (pid, process.is_running)
    return running


def _running_pid(process: _Process) -> int | None:
    pid = _read_pid(process.pid_file)
    return pid if pid is not None and process.is_running(pid) else None


def _read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _exists(pid: int | None) -> bool:
    """The pid names a live process (a zombie has exited)."""
    if pid is None:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rindex(b")") + 2 :][:1] not in (b"Z", b"X")


def _is_ours(pid: int, marker: bytes) -> bool:
    if not _exists(pid):
        return False
    try:
        proc = Path(f"/proc/{pid}")
        return marker in (proc / "cmdline").read_bytes() or marker in (proc / "environ").read_bytes()
    except OSError:
        return False


def _executable(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def _namespace(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return None


def _pids_in_namespaces(namespaces: set[str]) -> list[int]:
    if not namespaces:
        return []
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit() and _namespace(int(entry)) in namespaces]


def _stop_processes(targets: Sequence[tuple[int, _Check]], grace: float = 5.0) -> None:
    """SIGTERM exactly these pids, SIGKILL those still there after ``grace``; each re-checked first."""
    alive = [(pid, check) for pid, check in targets if check(pid)]
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        for pid, check in alive:
            if check(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while alive and time.monotonic() < deadline:
            alive = [(pid, check) for pid, check in alive if check(pid)]
            if alive:
                time.sleep(0.02)
        if not alive:
            return


# The lab's processes outlive the shell that starts them, so they are orphans; this helper (run by
# the interpreter in isolated mode) forks into the background, becomes their child subreaper, runs the
# launch script, reports its exit code on stdout, and reaps every descendant until none is left.
_REAPER = r"""
import ctypes, os, sys
script, log, path = sys.argv[2:5]
if os.fork():
    os._exit(0)
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
null = os.open(os.devnull, os.O_RDWR)
err = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
os.chdir("/")
actions = [(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, err, 2)]
child = os.posix_spawn("/bin/sh", ["sh", script], {"PATH": path, "LANG": "C.UTF-8"}, file_actions=actions)
code = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])
os.write(1, b"%d\n" % code)
os.dup2(null, 1)
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
"""


def _launch(script: Path, log: Path, timeout: float) -> None:
    """Run a launch script under a new reaper; return once the script has started its processes."""
    python = sys.executable or "python3"
    with log.open("ab") as errors:
        done = subprocess.run(
            [python, "-I", "-S", "-c", _REAPER, "remediate-lab-reaper", str(script), str(log), SYSTEM_PATH],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            start_new_session=True,  # no terminal signal (Ctrl-C) reaches the lab
            cwd="/",
            timeout=timeout,
            check=False,
        )
    code = done.stdout.decode().strip()
    if code != "0":
        raise LabError(f"{script} failed (exit {code or 'unknown'}): {_last_line(log)} (log: {log})")


def _serving(host: LabHost, service: Service, listening: dict[tuple[str, int], str]) -> bool:
    """The service's own process listens on its port (not merely someone, such as another lab)."""
    inode = listening.get((host.address, _port(host, service)))
    pid = _read_pid(_process(host, service).pid_file)
    if inode is None or pid is None:
        return False
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]" for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def _port(host: LabHost, service: Service) -> int:
    return {"sshd": host.ssh_port, "http": host.http_port, "apache": APACHE_PORT}[service]


TCP_ESTABLISHED, TCP_LISTEN = "01", "0A"  # socket states as /proc/net/tcp prints them


@dataclass(frozen=True)
class TcpSocket:
    local: tuple[str, int]  # (address, port)
    remote: tuple[str, int]
    state: str  # TCP_ESTABLISHED, TCP_LISTEN, ...
    inode: str


def tcp_sockets() -> list[TcpSocket]:
    """Every IPv4 TCP socket of this network namespace (the lab hosts share it), from /proc/net/tcp."""

    def endpoint(field: str) -> tuple[str, int]:
        address, port = field.split(":")
        raw = int(address, 16).to_bytes(4, sys.byteorder)  # printed as a host-order integer
        return socket.inet_ntoa(raw), int(port, 16)

    with open("/proc/net/tcp") as table:
        next(table)
        rows = [line.split() for line in table]
    return [TcpSocket(endpoint(row[1]), endpoint(row[2]), row[3], row[9]) for row in rows]


def _listening_tcp() -> dict[tuple[str, int], str]:
    """(address, port) -> socket inode of every listening IPv4 TCP socket."""
    return {sock.local: sock.inode for sock in tcp_sockets() if sock.state == TCP_LISTEN}


# --- files ---------------------------------------------------------------------------------------


def _write_tree(root: Path, entries: Iterable[TreeEntry]) -> None:
    """Create ``entries`` under ``root`` with their modes and owners (root's own folders: 0755)."""
    root.mkdir(mode=0o700, exist_ok=True)
    for entry in entries:
        path = root / entry.path.lstrip("/")
        for parent in reversed(path.relative_to(root).parents[:-1]):
            with contextlib.suppress(FileExistsError):
                (root / parent).mkdir(mode=0o755)
        if entry.kind == "dir":
            path.mkdir(exist_ok=True)
        elif entry.kind == "file":
            path.write_bytes(entry.data)
        else:
            os.symlink(entry.data, path)
        os.chown(path, entry.uid, entry.gid, follow_symlinks=False)
        if entry.kind != "symlink":
            path.chmod(entry.mode)


def _empty_directory(folder: Path) -> None:
    for child in os.scandir(folder):
        if child.is_dir(follow_symlinks=False):
            shutil.rmtree(child.path)
        else:
            os.unlink(child.path)


def _write_private(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)


def _last_line(log: Path) -> str:
    """The last two lines of a log, on one line (sshd: the cause, then "Cannot bind any address.")."""
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return " | ".join(lines[-2:]) if lines else "nothing logged"


def _find_command(command: str) -> str | None:
    if os.path.isabs(command):
        return command if os.access(command, os.X_OK) else None
    return shutil.which(command, path=SYSTEM_PATH)


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LabError(f"{shlex.join(argv)} failed: {done.stderr.strip() or f'exit {done.returncode}'}")
