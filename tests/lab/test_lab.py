"""The lab fleet: real sshd and PHP processes in per-host mount namespaces, and the pure parts around them."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from email.message import Message
from pathlib import Path

import paramiko
import pytest
import yaml
from labtools import (
    BROKEN_LINE,
    FIXED_LINE,
    GREETING,
    HEALTH_FILE,
    HEALTH_TEXT,
    WP_SETTINGS,
    include_files,
    pristine_host_tree,
    wp_settings_php,
)
from pytest_mock import MockerFixture

from remediate.errors import UserError
from remediate.lab import fleet as lab_module
from remediate.lab.docroot import (
    APACHE_LOCK_DIR,
    APACHE_LOG_DIR,
    APACHE_PID_FILE,
    APACHE_RUN_DIR,
    BOUND_DIRS,
    ApacheBuild,
    host_pristine_tree,
    pristine_tree,
)
from remediate.lab.fleet import (
    APACHE_PORT,
    MAX_LAB_HOSTS,
    SSHD,
    STOCK_BASHRC,
    Lab,
    LabError,
    LabHost,
    LabHostStatus,
    lab_address,
    lab_down,
    lab_status,
    lab_up,
    load_lab,
    required_packages_missing,
    reset_host,
    sshd_pid,
    start_apache,
    start_http,
    start_sshd,
    stop_apache,
    stop_http,
    stop_sshd,
)
from remediate.load.inventory import load_inventory
from remediate.load.playbook import load_playbook
from remediate.model import RenderedTemplate
from remediate.plan.render import render_host
from remediate.probes.http import HttpProbe

REPO = Path(__file__).resolve().parents[2]
VHOST = "/etc/apache2/sites-available/000-default.conf"  # sites-enabled/000-default.conf links to it
APACHE_RUNTIME = (APACHE_RUN_DIR, APACHE_LOCK_DIR, APACHE_LOG_DIR)  # made by a running Apache, not by the lab

# --- helpers -------------------------------------------------------------------------------------

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # lab addresses are loopback only


def http_get(host: LabHost) -> tuple[int, str]:
    return fetch(host.url)[:2]


def fetch(url: str) -> tuple[int, str, Message]:
    """Status, body and headers; an error status is an answer too (the broken site answers 500)."""
    try:
        with _NO_PROXY.open(url, timeout=5) as response:
            return int(response.status), response.read().decode(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers


def wait_for_header(url: str, name: str, value: str | None) -> None:
    """Until ``url`` answers with header ``name`` = ``value`` (None: without it), 10 s at most: a
    graceful restart replaces Apache's workers after apache2ctl has returned."""
    deadline = time.monotonic() + 10
    while (seen := fetch(url)[2].get(name)) != value:
        assert time.monotonic() < deadline, f"{url}: {name} is {seen!r}, not {value!r}"
        time.sleep(0.05)


def add_to_vhost(host: LabHost, line: str) -> None:
    vhost = host.local_path(VHOST)
    vhost.write_text(vhost.read_text().replace("</VirtualHost>", f"\t{line}\n</VirtualHost>"))


# Stop the host's Apache and start it again as an operator would; prints the new master's pid.
RESTART_BY_HAND = (
    f"apache2ctl -k stop && while [ -e {APACHE_PID_FILE} ]; do sleep 0.05; done"
    f" && apache2ctl start && while [ ! -s {APACHE_PID_FILE} ]; do sleep 0.05; done && cat {APACHE_PID_FILE}"
)


def apache_master(host: LabHost) -> int:
    """Pid of the Apache the lab started on the host (its own record, not Apache's pid file)."""
    return int((host.root / "control" / "apache.pid").read_text())


def connect(lab: Lab, host: LabHost, known_hosts: Path | None = None) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.load_host_keys(str(known_hosts or lab.known_hosts))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(
        host.address,
        port=host.ssh_port,
        username="root",
        key_filename=str(lab.identity_file),
        look_for_keys=False,
        allow_agent=False,
        timeout=5,
        banner_timeout=5,
        auth_timeout=5,
    )
    return client


def ssh(lab: Lab, host: LabHost, command: str) -> tuple[int, bytes]:
    client = connect(lab, host)
    try:
        _, stdout, _ = client.exec_command(command, timeout=10)
        output = stdout.read()
        return stdout.channel.recv_exit_status(), output
    finally:
        client.close()


def pids_of(lab: Lab) -> list[int]:
    return [
        int((host.root / "control" / f"{name}.pid").read_text())
        for host in lab.hosts
        for name in ("holder", "sshd", "http")
    ]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != b"Z"


def assert_pristine(lab: Lab, host: LabHost) -> None:
    """Every entry of the pristine tree with its bytes, mode and owner, and nothing else (but what a
    running Apache makes)."""
    expected = {entry.path: entry for entry in pristine_host_tree(lab, host)}
    for path, entry in expected.items():
        local = host.local_path(path)
        info = local.lstat()
        if entry.kind == "symlink":
            assert stat.S_ISLNK(info.st_mode) and os.readlink(local) == entry.data.decode(), path
        elif entry.kind == "dir":
            assert stat.S_ISDIR(info.st_mode), path
        else:
            assert stat.S_ISREG(info.st_mode) and local.read_bytes() == entry.data, path
        if entry.kind != "symlink":
            assert stat.S_IMODE(info.st_mode) == entry.mode, (path, oct(info.st_mode))
        assert (info.st_uid, info.st_gid) == (entry.uid, entry.gid), path
    found = set()
    for bound in BOUND_DIRS:
        found.add(bound)
        for folder, dirs, files in os.walk(host.local_path(bound)):
            remote = "/" + str(Path(folder).relative_to(host.root))
            found.update(f"{remote}/{name}" for name in [*dirs, *files])
    if lab.apache:
        found = {path for path in found if not any(path == d or path.startswith(d + "/") for d in APACHE_RUNTIME)}
    assert found == set(expected)


# --- pure parts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "address"),
    [
        (0, "127.0.1.1"),
        (253, "127.0.1.254"),
        (254, "127.0.2.1"),
        (499, "127.0.2.246"),
        (1000, "127.0.4.239"),
        (MAX_LAB_HOSTS - 1, "127.0.255.254"),
    ],
)
def test_lab_address(index: int, address: str) -> None:
    assert lab_address(index) == address


@pytest.mark.parametrize("index", [-1, MAX_LAB_HOSTS])
def test_lab_address_out_of_range(index: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        lab_address(index)


HOST = LabHost("web1", "127.0.1.1", 2222, 8080, Path("/var/lib/remediate/lab/hosts/web1"))


@pytest.mark.parametrize(
    ("remote", "local"),
    [
        ("/var/www/html/wp-settings.php", "var/www/html/wp-settings.php"),
        ("/var/www", "var/www"),
        ("/etc/apache2/sites-available/000-default.conf", "etc/apache2/sites-available/000-default.conf"),
        ("/var/backups/remediate/run-1/x", "var/backups/remediate/run-1/x"),
        ("/tmp/a", "tmp/a"),
        ("/run/lock/x.lock", "run/lock/x.lock"),
        ("/run/remediate/lock", "run/remediate/lock"),
        ("//var/www/./html/../html/index.php", "var/www/html/index.php"),
    ],
)
def test_local_path_maps_bound_folders(remote: str, local: str) -> None:
    assert HOST.local_path(remote) == HOST.root / local


@pytest.mark.parametrize(
    "remote", ["/etc/passwd", "/var/wwwx/a", "/var", "var/www/html", "/var/www/../../etc/shadow", "/root/.bashrc"]
)
def test_local_path_refuses_paths_outside_bound_folders(remote: str) -> None:
    with pytest.raises(ValueError):
        HOST.local_path(remote)


def test_url() -> None:
    assert HOST.url == "http://127.0.1.1:8080/"


def test_wp_settings_is_wordpress_sized_with_one_typo() -> None:
    text = wp_settings_php().decode()
    lines = text.splitlines()
    assert 650 <= len(lines) <= 750
    assert lines.count(BROKEN_LINE) == 1 and FIXED_LINE not in lines
    assert text.count(".phpp") == 1
    required = set(re.findall(r"WPINC \. '/([^']+)';", text)) - {"class-wp-locale.phpp"}
    assert set(include_files()) - required == {"class-wp-locale.php"}
    tree = {entry.path for entry in pristine_tree()}
    assert all(f"/var/www/html/wp-includes/{name}" in tree for name in include_files())
    assert wp_settings_php() == wp_settings_php()


def test_broken_wp_settings_passes_php_lint(tmp_path: Path) -> None:
    """The outage is a runtime failure: the syntax check that a careful operator might run passes."""
    path = tmp_path / "wp-settings.php"
    path.write_bytes(wp_settings_php())
    done = subprocess.run(["php", "-l", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout


def test_up_refuses_bad_counts_before_anything_else() -> None:
    with pytest.raises(UserError, match="at least 1 host"):
        lab_up(0)
    with pytest.raises(UserError, match="fall outside"):
        lab_up(2, first_index=MAX_LAB_HOSTS - 1)


def test_up_refuses_without_root(mocker: MockerFixture) -> None:
    mocker.patch("os.geteuid", return_value=1000)
    with pytest.raises(UserError, match="needs root"):
        lab_up(1)


def test_up_refuses_off_linux(mocker: MockerFixture) -> None:
    mocker.patch("sys.platform", "darwin")
    with pytest.raises(UserError, match="needs Linux"):
        lab_up(1)


def test_up_names_missing_packages_and_how_to_install_them(mocker: MockerFixture) -> None:
    mocker.patch("os.geteuid", return_value=0)
    present = {"ssh-keygen", "unshare", "nsenter", "mount"}
    mocker.patch.object(lab_module, "_find_command", side_effect=lambda c: c if c in present else None)
    assert required_packages_missing() == ["openssh-server", "php-cli"]
    with pytest.raises(UserError) as caught:
        lab_up(1)
    assert str(caught.value).endswith(": apt-get install -y openssh-server php-cli")
    assert "\n" not in str(caught.value)


def test_only_a_lab_with_apache_needs_apaches_packages(mocker: MockerFixture) -> None:
    mocker.patch("os.geteuid", return_value=0)
    present = {SSHD, "ssh-keygen", "php", "unshare", "nsenter", "mount"}
    mocker.patch.object(lab_module, "_find_command", side_effect=lambda c: c if c in present else None)
    mocker.patch.object(lab_module, "_php_apache_module", return_value=None)
    assert required_packages_missing() == []
    assert required_packages_missing(apache=True) == ["apache2", "libapache2-mod-php"]
    with pytest.raises(UserError) as caught:
        lab_up(1, apache=True)
    assert str(caught.value).endswith(": apt-get install -y apache2 libapache2-mod-php")


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("/usr/lib/apache2/modules/libphp8.2.so", "php8.2"),
        ("/usr/lib/apache2/modules/libphp7.4.so", "php7.4"),
        ("/usr/lib/apache2/modules/libphp.so", "php"),
    ],
)
def test_mod_php_files_are_named_as_debian_names_them(module: str, name: str) -> None:
    assert ApacheBuild(module).php_module_name == name


BUILD = ApacheBuild("/usr/lib/apache2/modules/libphp8.2.so")


def test_apache_config_differs_between_hosts_only_in_their_own_three_files() -> None:
    one = {entry.path: entry for entry in host_pristine_tree("web1", "127.0.1.1", BUILD)}
    two = {entry.path: entry for entry in host_pristine_tree("web2", "127.0.1.2", BUILD)}
    assert one.keys() == two.keys()
    assert {path for path in one if one[path] != two[path]} == {
        "/etc/apache2/envvars",
        "/etc/apache2/ports.conf",
        "/etc/apache2/conf-available/servername.conf",
    }
    ports = one["/etc/apache2/ports.conf"].data.decode()
    assert [line for line in ports.splitlines() if "Listen" in line and not line.startswith("#")] == [
        "Listen 127.0.1.1:80"
    ]
    envvars = one["/etc/apache2/envvars"].data.decode()
    for name, value in [
        ("APACHE_PID_FILE", APACHE_PID_FILE),
        ("APACHE_RUN_DIR", APACHE_RUN_DIR),
        ("APACHE_LOCK_DIR", APACHE_LOCK_DIR),
        ("APACHE_LOG_DIR", APACHE_LOG_DIR),
        ("LAB_HOST_NAME", "web1"),
    ]:
        assert f"\nexport {name}={value}\n" in envvars
    # The shared /run and /var/log would make apache2ctl on one host act on another's Apache.
    assert all(path.startswith(("/run/lock/", "/tmp/")) for path in (*APACHE_RUNTIME, APACHE_PID_FILE))
    assert one["/etc/apache2/conf-available/servername.conf"].data == b"ServerName web1\n"
    enabled = sorted(path.rsplit("/", 1)[1] for path in one if path.startswith("/etc/apache2/mods-enabled/"))
    assert enabled == [
        "authz_core.load", "dir.conf", "dir.load", "headers.load", "mime.conf", "mime.load",
        "mpm_prefork.conf", "mpm_prefork.load", "php8.2.conf", "php8.2.load",
    ]  # fmt: skip
    assert (
        b"LoadModule php_module /usr/lib/apache2/modules/libphp8.2.so\n"
        in one["/etc/apache2/mods-available/php8.2.load"].data
    )
    for path, entry in one.items():  # every enabled file exists
        if entry.kind == "symlink":
            assert posix_join(path, entry.data.decode()) in one, path
    assert one[HEALTH_FILE].data == HEALTH_TEXT.encode()


def test_a_lab_without_apache_keeps_its_tree() -> None:
    plain = pristine_tree()
    assert host_pristine_tree("web1", "127.0.1.1") == plain
    paths = {entry.path for entry in plain}
    assert HEALTH_FILE not in paths
    assert not any(path.startswith("/etc/apache2/mods-enabled/") for path in paths)
    assert next(e for e in plain if e.path == "/etc/apache2/ports.conf").data.startswith(b"# If you just")


def posix_join(link: str, target: str) -> str:
    return os.path.normpath(os.path.join(os.path.dirname(link), target))


@pytest.mark.parametrize("lab_dir", ["/tmp/lab", "/var/www/lab", "/run/lock/x"])
def test_up_refuses_a_lab_dir_that_hosts_hide(mocker: MockerFixture, lab_dir: str) -> None:
    mocker.patch.object(lab_module, "check_lab_machine")
    with pytest.raises(UserError, match="replaces with a bind mount"):
        lab_up(1, lab_dir=Path(lab_dir))
    assert not Path(lab_dir).exists()


def test_no_lab_is_an_empty_status_and_a_harmless_down(tmp_path: Path) -> None:
    assert lab_status(tmp_path / "none") == ()
    assert lab_down(tmp_path / "none") == 0
    with pytest.raises(UserError, match="no lab in"):
        load_lab(tmp_path / "none")


def test_down_leaves_a_folder_that_is_not_a_lab_alone(tmp_path: Path) -> None:
    (tmp_path / "precious").write_text("keep me")
    with pytest.raises(UserError, match="not a lab directory"):
        lab_down(tmp_path)
    assert (tmp_path / "precious").read_text() == "keep me"


# --- a real fleet --------------------------------------------------------------------------------


@pytest.mark.lab
def test_ssh_with_the_lab_key_and_known_hosts_reads_the_backing_bytes(lab: Lab) -> None:
    for host in lab.hosts:
        code, output = ssh(lab, host, f"cat {WP_SETTINGS}")
        assert code == 0
        assert output == host.local_path(WP_SETTINGS).read_bytes() == wp_settings_php()
    code, bashrc = ssh(lab, lab.hosts[0], "cat /root/.bashrc")
    assert (code, bashrc) == (0, STOCK_BASHRC.read_bytes())  # not the machine's, which runs pyenv init


@pytest.mark.lab
def test_unknown_host_key_is_rejected(lab: Lab, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(paramiko.SSHException, match="not found in known_hosts"):
        connect(lab, lab.hosts[0], known_hosts=empty)


@pytest.mark.lab
def test_each_host_has_its_own_tmp(lab: Lab) -> None:
    web1, web2 = lab.hosts[:2]
    name = f"/tmp/isolation-{uuid.uuid4().hex}"
    assert ssh(lab, web1, f"echo web1 > {name}") == (0, b"")
    assert web1.local_path(name).read_text() == "web1\n"
    assert ssh(lab, web2, f"test -e {name}")[0] == 1
    assert not web2.local_path(name).exists()
    assert not Path(name).exists()  # the controller's real /tmp


@pytest.mark.lab
def test_site_answers_500_while_broken_and_200_once_fixed(lab: Lab) -> None:
    web1, web2 = lab.hosts[:2]
    assert http_get(web1)[0] == 500
    settings = web1.local_path(WP_SETTINGS)
    settings.write_bytes(settings.read_bytes().replace(BROKEN_LINE.encode(), FIXED_LINE.encode()))
    code, body = http_get(web1)
    assert code == 200
    assert f"{GREETING} host {web1.name}:" in body
    assert http_get(web2)[0] == 500  # its own docroot


@pytest.mark.lab
def test_stop_and_start_sshd_of_one_host(lab: Lab) -> None:
    web1, web2 = lab.hosts[:2]
    stop_sshd(lab, web2.name)
    try:
        with pytest.raises(paramiko.ssh_exception.NoValidConnectionsError):
            connect(lab, web2)
        statuses = {status.name: status for status in lab_status(lab.directory)}
        assert not statuses[web2.name].sshd_running and statuses[web2.name].http_running
        assert all(s.sshd_running for name, s in statuses.items() if name != web2.name)
        assert ssh(lab, web1, "true") == (0, b"")
        stop_sshd(lab, web2.name)  # already stopped: nothing to do
    finally:
        start_sshd(lab, web2.name)
    assert ssh(lab, web2, f"test -e {WP_SETTINGS}") == (0, b"")
    start_sshd(lab, web2.name)  # already running: nothing to do
    assert all(status.sshd_running for status in lab_status(lab.directory))


@pytest.mark.lab
def test_sshd_pid_names_each_hosts_own_listening_sshd(lab: Lab) -> None:
    pids = []
    for host in lab.hosts[:2]:
        pid = sshd_pid(host)
        assert pid is not None
        # sshd's process title: "sshd: /usr/sbin/sshd -D -f CONFIG ... [listener] ..."
        title = Path(f"/proc/{pid}/cmdline").read_bytes()
        assert title.startswith(f"sshd: {SSHD} ".encode()) and b"[listener]" in title
        assert f" {host.root / 'control' / 'sshd_config'} ".encode() in title
        pids.append(pid)
    assert pids[0] != pids[1]


@pytest.mark.lab
def test_stop_and_start_the_web_server_of_one_host(lab: Lab) -> None:
    web1 = lab.hosts[0]
    stop_http(lab, web1.name)
    try:
        with pytest.raises(urllib.error.URLError):
            http_get(web1)
    finally:
        start_http(lab, web1.name)
    assert http_get(web1)[0] == 500


@pytest.mark.lab
def test_reset_host_restores_files_modes_and_owners_in_place(lab: Lab) -> None:
    web1 = lab.hosts[0]
    settings = web1.local_path(WP_SETTINGS)
    settings.write_bytes(b"<?php // changed\n")
    os.chmod(settings, 0o600)
    os.chown(settings, 33, 33)
    web1.local_path("/etc/apache2/apache2.conf").unlink()
    web1.local_path("/etc/apache2/sites-available/extra.conf").write_text("x")
    web1.local_path("/var/backups/remediate").mkdir()
    web1.local_path("/run/lock/x.lock").write_text("1")
    web1.local_path("/run/remediate/holder").write_text("1")
    web1.local_path("/tmp/leftover").write_text("1")

    reset_host(lab, web1.name)

    assert_pristine(lab, web1)
    # The bound folders were refilled in place, so the host sees the pristine files too.
    assert ssh(lab, web1, f"cat {WP_SETTINGS}") == (0, wp_settings_php())
    listing = b"/run/lock:\n\n/run/remediate:\n\n/tmp:\n\n/var/backups:\n"
    assert ssh(lab, web1, "ls -A /var/backups /run/lock /run/remediate /tmp") == (0, listing)


@pytest.mark.lab
def test_status_inventory_known_hosts_and_saved_description(lab: Lab) -> None:
    assert lab_status(lab.directory) == tuple(LabHostStatus(host.name, host.address, True, True) for host in lab.hosts)
    assert load_lab(lab.directory) == lab
    names = [host.name for host in lab.hosts]
    assert lab.inventory_path.read_text() == (
        "# Written by `remediate lab up`; removed by `remediate lab down`.\n"
        "defaults:\n"
        "  user: root\n"
        "  port: 2222\n"
        f"  identity_file: {lab.directory}/id_ed25519\n"
        f"  known_hosts: {lab.directory}/known_hosts\n"
        "vars:\n"
        "  docroot: /var/www/html\n"
        "  http_port: 8080\n"
        "hosts:\n"
        + "".join(
            f'  {host.name}: {{address: {host.address}, vars: {{health_url: "http://{host.address}:8080/"}}}}\n'
            for host in lab.hosts
        )
        + "groups:\n"
        f"  web: {{hosts: [{', '.join(names)}]}}\n"
        "  canary: {hosts: [web1]}\n"
    )
    parsed = yaml.safe_load(lab.inventory_path.read_text())
    web1 = lab.hosts[0]
    assert parsed["hosts"]["web1"] == {"address": web1.address, "vars": {"health_url": f"http://{web1.address}:8080/"}}
    assert parsed["groups"]["web"] == {"hosts": names}
    lines = lab.known_hosts.read_text().splitlines()
    assert len(lines) == len(lab.hosts)
    for host, line in zip(lab.hosts, lines, strict=True):
        assert re.fullmatch(rf"\[{re.escape(host.address)}\]:2222 ssh-ed25519 AAAA[0-9A-Za-z+/=]+", line)
    assert (
        stat.S_IMODE(lab.directory.stat().st_mode) == 0o711
    )  # traversable for the unprivileged lab user, not listable


@pytest.mark.lab
def test_down_stops_exactly_its_own_processes_and_removes_its_files(
    lab_parent_dir: Path, lab_first_index: int, lab_fleet: Lab, tmp_path: Path
) -> None:
    inventory = tmp_path / "inventory" / "lab.yml"
    small = lab_up(2, lab_dir=lab_parent_dir / "down", inventory_path=inventory, first_index=lab_first_index + 10)
    assert inventory.read_text().startswith("# Written by `remediate lab up`")
    assert_pristine(small, small.hosts[1])  # as `lab up` made it; the `lab` fixture would have reset it
    with pytest.raises(UserError, match=r"already running in .*: run `remediate lab down` first"):
        lab_up(1, lab_dir=small.directory, inventory_path=inventory, first_index=lab_first_index + 15)
    pids = pids_of(small)
    assert all(alive(pid) for pid in pids)
    # A session whose command outlives the sshd that started it: down stops it too.
    session = connect(small, small.hosts[0])
    _, stdout, _ = session.exec_command("echo $$; exec sleep 300")
    session_pid = int(stdout.readline())
    try:
        stop_sshd(small, "web1")
        assert alive(session_pid)
        assert lab_down(small.directory) == 2
    finally:
        session.close()
    assert not any(alive(pid) for pid in [*pids, session_pid])
    assert not small.directory.exists() and not inventory.exists()
    assert lab_down(small.directory) == 0
    assert all(status.sshd_running and status.http_running for status in lab_status(lab_fleet.directory))


@pytest.mark.lab
def test_up_refuses_addresses_in_use(lab_parent_dir: Path, lab_fleet: Lab, tmp_path: Path) -> None:
    taken = lab_fleet.hosts[-1].address  # the fleet's sshd and web server listen there
    first_index = next(i for i in range(MAX_LAB_HOSTS) if lab_address(i) == taken)
    with pytest.raises(UserError) as caught:
        lab_up(2, lab_dir=lab_parent_dir / "clash", inventory_path=tmp_path / "lab.yml", first_index=first_index)
    assert str(caught.value).startswith(f"{taken}:2222, needed by lab host web1 ({taken}), is already in use")
    assert not (lab_parent_dir / "clash").exists() and not (tmp_path / "lab.yml").exists()


@pytest.mark.lab
def test_up_failure_names_the_host_and_its_log_and_stops_what_it_started(
    lab_parent_dir: Path, lab_first_index: int, lab_fleet: Lab, tmp_path: Path, mocker: MockerFixture
) -> None:
    """The web server of web2 cannot start (its docroot is missing): lab up stops everything it started."""
    real_command = lab_module._service_command

    def broken_web2(host: LabHost, service: lab_module.Service, prefix: list[str], php: str) -> str:
        line = real_command(host, service, prefix, php)
        return line.replace("-t /var/www/html", "-t /var/www/missing") if host.name == "web2" else line

    mocker.patch.object(lab_module, "_service_command", side_effect=broken_web2)
    lab_dir = lab_parent_dir / "failing"
    with pytest.raises(LabError) as caught:
        lab_up(3, lab_dir=lab_dir, inventory_path=tmp_path / "lab.yml", first_index=lab_first_index + 10)
    message = str(caught.value)
    address = lab_address(lab_first_index + 11)
    log = lab_dir / "hosts" / "web2" / "control" / "http.log"
    assert message.startswith(f"lab host web2 ({address}): http exited: ")
    assert "/var/www/missing" in message and f"(log: {log})" in message and "\n" not in message
    assert not (tmp_path / "lab.yml").exists()
    pids = [int(p.read_text()) for p in lab_dir.glob("hosts/*/control/*.pid")]
    assert not any(alive(pid) for pid in pids)
    assert lab_down(lab_dir) == 0
    assert all(status.sshd_running for status in lab_status(lab_fleet.directory))


@pytest.mark.lab
def test_up_refuses_to_overwrite_an_inventory_it_did_not_write(
    lab_parent_dir: Path, lab_first_index: int, tmp_path: Path
) -> None:
    inventory = tmp_path / "prod.yml"
    inventory.write_text("hosts: {}\n")
    with pytest.raises(UserError, match="not written by `remediate lab up`"):
        lab_up(1, lab_dir=lab_parent_dir / "refused", inventory_path=inventory, first_index=lab_first_index + 15)
    assert inventory.read_text() == "hosts: {}\n"
    assert not (lab_parent_dir / "refused").exists()


# --- a real lab with Apache ----------------------------------------------------------------------


@pytest.mark.lab
def test_apache_serves_the_site_on_its_own_address_only(apache_lab: Lab, lab_first_index: int) -> None:
    web1, web2 = apache_lab.hosts
    assert fetch(web1.apache_url)[0] == 500  # the outage shows through Apache and mod_php too
    assert fetch(web1.apache_url + HEALTH_FILE.rsplit("/", 1)[1])[:2] == (200, HEALTH_TEXT)
    settings = web1.local_path(WP_SETTINGS)
    settings.write_bytes(settings.read_bytes().replace(BROKEN_LINE.encode(), FIXED_LINE.encode()))
    status, body, headers = fetch(web1.apache_url)
    assert status == 200 and f"{GREETING} host {web1.name}:" in body
    assert headers["Server"].startswith("Apache/2.4")
    assert fetch(web2.apache_url)[0] == 500  # its own docroot
    assert http_get(web1)[0] == 200  # the PHP server on 8080 serves the same docroot
    listening = {address for address, port in lab_module._listening_tcp() if port == APACHE_PORT}
    assert {web1.address, web2.address} <= listening and "0.0.0.0" not in listening
    unused = lab_address(lab_first_index + 6)  # in this worker's range, used by no lab
    with pytest.raises(urllib.error.URLError):
        fetch(f"http://{unused}/")
    assert all(status.apache_running for status in lab_status(apache_lab.directory))


@pytest.mark.lab
def test_configtest_over_ssh_passes_the_pristine_config_and_names_a_broken_line(apache_lab: Lab) -> None:
    web1, web2 = apache_lab.hosts
    assert ssh(apache_lab, web1, "apache2ctl configtest 2>&1") == (0, b"Syntax OK\n")
    add_to_vhost(web1, "RewriteEngine On")  # mod_rewrite is not enabled on the lab hosts
    line = web1.local_path(VHOST).read_text().splitlines().index("\tRewriteEngine On") + 1
    code, output = ssh(apache_lab, web1, "apache2ctl configtest 2>&1")
    assert code == 1
    assert f"Syntax error on line {line} of /etc/apache2/sites-enabled/000-default.conf".encode() in output
    assert b"Invalid command 'RewriteEngine'" in output
    assert ssh(apache_lab, web2, "apache2ctl configtest 2>&1") == (0, b"Syntax OK\n")  # its own config
    # apache2ctl graceful tests first and refuses; the running Apache keeps serving the old config.
    master = apache_master(web1)
    assert ssh(apache_lab, web1, "apache2ctl graceful 2>&1")[0] != 0
    assert fetch(web1.apache_url + "health.txt")[0] == 200
    assert apache_master(web1) == master and alive(master)


@pytest.mark.lab
def test_graceful_over_ssh_reloads_that_hosts_apache_only(apache_lab: Lab) -> None:
    web1, web2 = apache_lab.hosts
    masters = [apache_master(host) for host in apache_lab.hosts]
    for host in apache_lab.hosts:
        add_to_vhost(host, "Header always set X-Lab-Config reloaded")
    assert ssh(apache_lab, web1, "apache2ctl graceful")[0] == 0
    wait_for_header(web1.apache_url + "health.txt", "X-Lab-Config", "reloaded")
    assert fetch(web2.apache_url + "health.txt")[2].get("X-Lab-Config") is None
    assert [apache_master(host) for host in apache_lab.hosts] == masters and all(map(alive, masters))
    assert b"Graceful restart requested" in web1.local_path(f"{APACHE_LOG_DIR}/error.log").read_bytes()
    assert b"Graceful restart requested" not in web2.local_path(f"{APACHE_LOG_DIR}/error.log").read_bytes()
    # prefork signals its whole process group: Apache has a session of its own, so the rest of the lab
    # (sshd, PHP server, namespace holder) did not get the SIGUSR1.
    statuses = lab_status(apache_lab.directory)
    assert all(s.sshd_running and s.http_running and s.apache_running for s in statuses)
    assert ssh(apache_lab, web1, "true") == (0, b"")


@pytest.mark.lab
def test_the_apache_vhost_playbook_renders_a_vhost_that_passes_configtest(apache_lab: Lab) -> None:
    playbook = load_playbook(str(REPO / "playbooks" / "apache-vhost.yml"))
    web1 = apache_lab.hosts[0]
    target = render_host(playbook, load_inventory(str(apache_lab.inventory_path)).host(web1.name), {})
    (step,) = target.steps
    assert isinstance(step.action, RenderedTemplate)
    assert (step.validate, step.on_change) == ("apache2ctl configtest", "apache2ctl graceful")
    vhost = web1.local_path(step.action.dest)
    assert web1.local_path("/etc/apache2/sites-enabled/000-default.conf").resolve() == vhost  # the enabled one
    assert "\tServerName www.example.com\n" in step.action.content
    assert "\tDocumentRoot /var/www/html\n" in step.action.content  # the inventory's docroot
    vhost.write_text(step.action.content)
    assert ssh(apache_lab, web1, f"{step.validate} 2>&1") == (0, b"Syntax OK\n")
    assert ssh(apache_lab, web1, step.on_change)[0] == 0
    (probe,) = target.probes
    assert isinstance(probe, HttpProbe) and probe.url == f"http://{web1.address}/health.txt"
    wait_for_header(probe.url, "X-Content-Type-Options", "nosniff")
    assert fetch(probe.url)[:2] == (probe.expect_status, HEALTH_TEXT)
    code, names = ssh(apache_lab, web1, "apache2ctl -S 2>&1")
    assert code == 0 and b" www.example.com (/etc/apache2/sites-enabled/000-default.conf:" in names


@pytest.mark.lab
def test_stop_and_start_apache_of_one_host(apache_lab: Lab) -> None:
    web1, web2 = apache_lab.hosts
    stop_apache(apache_lab, web1.name)
    try:
        with pytest.raises(urllib.error.URLError):
            fetch(web1.apache_url)
        statuses = {status.name: status for status in lab_status(apache_lab.directory)}
        assert not statuses[web1.name].apache_running and statuses[web1.name].sshd_running
        assert statuses[web2.name].apache_running
        assert fetch(web2.apache_url)[0] == 500
        stop_apache(apache_lab, web1.name)  # already stopped: nothing to do
    finally:
        start_apache(apache_lab, web1.name)
    assert fetch(web1.apache_url)[0] == 500
    start_apache(apache_lab, web1.name)  # already running: nothing to do


@pytest.mark.lab
def test_reset_restores_the_apache_config_and_the_labs_own_apache(apache_lab: Lab) -> None:
    """Someone stopped Apache on the host, changed the vhost and started it by hand: reset undoes it all."""
    web1 = apache_lab.hosts[0]
    add_to_vhost(web1, "Header always set X-Lab-Config by-hand")
    code, output = ssh(apache_lab, web1, RESTART_BY_HAND)
    assert code == 0
    by_hand = int(output)
    assert by_hand != apache_master(web1) and alive(by_hand)
    wait_for_header(web1.apache_url + "health.txt", "X-Lab-Config", "by-hand")
    assert lab_status(apache_lab.directory)[0].apache_running  # Apache's own pid file counts

    reset_host(apache_lab, web1.name)

    assert not alive(by_hand)
    assert_pristine(apache_lab, web1)
    assert fetch(web1.apache_url + "health.txt")[2].get("X-Lab-Config") is None
    assert fetch(web1.apache_url)[0] == 500
    assert int(web1.local_path(APACHE_PID_FILE).read_text()) == apache_master(web1)


@pytest.mark.lab
def test_down_stops_every_apache_of_the_lab(
    lab_parent_dir: Path, lab_first_index: int, apache_lab: Lab, tmp_path: Path
) -> None:
    small = lab_up(
        2, lab_dir=lab_parent_dir / "apache-down", inventory_path=tmp_path / "lab.yml",
        first_index=lab_first_index + 7, apache=True,
    )  # fmt: skip
    assert load_lab(small.directory) == small and small.apache
    web1, web2 = small.hosts
    ours = apache_master(web1)
    # On web2 someone restarted Apache by hand: that one is not the lab's, only its pid file names it.
    code, output = ssh(small, web2, RESTART_BY_HAND)
    assert code == 0, output
    by_hand = int(output)
    apaches = [ours, by_hand, *children(ours), *children(by_hand)]
    assert len(apaches) >= 4 and all(map(alive, apaches))  # masters and prefork workers

    assert lab_down(small.directory) == 2

    assert not any(map(alive, apaches))
    listening = lab_module._listening_tcp()
    assert not any((host.address, APACHE_PORT) in listening for host in small.hosts)
    assert all(status.apache_running for status in lab_status(apache_lab.directory))


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat_line = Path(f"/proc/{entry}/stat").read_bytes()
            except OSError:
                continue
            if int(stat_line.rsplit(b")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found
