"""The lab fleet: real sshd and PHP processes in per-host mount namespaces, and the pure parts around them."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import paramiko
import pytest
import yaml
from pytest_mock import MockerFixture

from remediate import lab as lab_module
from remediate.errors import UserError
from remediate.lab import (
    MAX_LAB_HOSTS,
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
    start_http,
    start_sshd,
    stop_http,
    stop_sshd,
)
from remediate.lab_docroot import (
    BOUND_DIRS,
    BROKEN_LINE,
    FIXED_LINE,
    GREETING,
    WP_SETTINGS,
    include_files,
    pristine_tree,
    wp_settings_php,
)

# --- helpers -------------------------------------------------------------------------------------

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # lab addresses are loopback only


def http_get(host: LabHost) -> tuple[int, str]:
    try:
        with _NO_PROXY.open(host.url, timeout=5) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


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


def assert_pristine(host: LabHost) -> None:
    """Every entry of the pristine tree with its bytes, mode and owner, and nothing else."""
    expected = {entry.path: entry for entry in pristine_tree()}
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
        ("/run/lock/remediate.lock", "run/lock/remediate.lock"),
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
    web1.local_path("/run/lock/remediate.lock").write_text("1")
    web1.local_path("/tmp/leftover").write_text("1")

    reset_host(lab, web1.name)

    assert_pristine(web1)
    # The bound folders were refilled in place, so the host sees the pristine files too.
    assert ssh(lab, web1, f"cat {WP_SETTINGS}") == (0, wp_settings_php())
    assert ssh(lab, web1, "ls -A /var/backups /run/lock /tmp") == (0, b"/run/lock:\n\n/tmp:\n\n/var/backups:\n")


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
        "hosts:\n" + "".join(f"  {host.name}: {{address: {host.address}}}\n" for host in lab.hosts) + "groups:\n"
        f"  web: {{hosts: [{', '.join(names)}]}}\n"
        "  canary: {hosts: [web1]}\n"
    )
    parsed = yaml.safe_load(lab.inventory_path.read_text())
    assert parsed["hosts"]["web1"] == {"address": lab.hosts[0].address}
    assert parsed["groups"]["web"] == {"hosts": names}
    lines = lab.known_hosts.read_text().splitlines()
    assert len(lines) == len(lab.hosts)
    for host, line in zip(lab.hosts, lines, strict=True):
        assert re.fullmatch(rf"\[{re.escape(host.address)}\]:2222 ssh-ed25519 AAAA[0-9A-Za-z+/=]+", line)
    assert stat.S_IMODE(lab.directory.stat().st_mode) == 0o700


@pytest.mark.lab
def test_down_stops_exactly_its_own_processes_and_removes_its_files(
    lab_parent_dir: Path, lab_first_index: int, lab_fleet: Lab, tmp_path: Path
) -> None:
    inventory = tmp_path / "inventory" / "lab.yml"
    small = lab_up(2, lab_dir=lab_parent_dir / "down", inventory_path=inventory, first_index=lab_first_index + 10)
    assert inventory.read_text().startswith("# Written by `remediate lab up`")
    assert_pristine(small.hosts[1])  # as `lab up` made it; the `lab` fixture would have reset it
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
