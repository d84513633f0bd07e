"""``remediate inventory``: --graph, --host and --list as an operator reads them, through the command line's
one boundary (bad input: one line, exit 2), for Ansible and native inventories; secrets masked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from remediate.cli.main import main

INI = """\
[web]
web1 ansible_host=10.0.0.1
web2
[db]
db1 ansible_password=hunter22
[prod:children]
web
db
[web:vars]
docroot=/srv/ini
"""


@pytest.fixture
def ansible_inventory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # sources are shown relative to the working folder
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "group_vars" / "all.yml").write_text("ansible_user: deploy\nntp: pool.ntp.org\n")
    (tmp_path / "group_vars" / "web.yml").write_text("docroot: /srv/file\n")
    (tmp_path / "host_vars" / "web2.yml").write_text("ansible_host: 10.0.0.2\nansible_port: 2222\n")
    (tmp_path / "hosts.ini").write_text(INI)
    return tmp_path / "hosts.ini"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["inventory", *argv, "--ssh-config", "/dev/null"])
    out, err = capsys.readouterr()
    return code, out, err


def test_graph_shows_the_group_tree(ansible_inventory: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "-i", str(ansible_inventory), "--graph")
    assert code == 0
    assert out == (
        "@all:\n  |--@ungrouped:\n  |--@prod:\n  |  |--@web:\n  |  |  |--web1\n  |  |  |--web2\n"
        "  |  |--@db:\n  |  |  |--db1\n"
    )


def test_host_shows_the_connection_and_each_variable_with_its_source(
    ansible_inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "-i", "hosts.ini", "--host", "web2")
    assert code == 0
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert lines[:3] == ["web2", "groups: web, prod", "connection:"]
    assert 'address: "10.0.0.2" ansible_host (host_vars/web2.yml: ansible_host)' in lines
    assert "port: 2222 ansible_port (host_vars/web2.yml: ansible_port)" in lines
    assert 'user: "deploy" ansible_user (group_vars/all.yml: ansible_user)' in lines
    assert "become: false default" in lines
    # group_vars/web.yml wins over [web:vars], as in Ansible, and says so
    assert 'docroot: "/srv/file" group_vars/web.yml: docroot' in lines
    assert 'ntp: "pool.ntp.org" group_vars/all.yml: ntp' in lines


def test_list_is_ansible_inventory_list_with_connections_and_sources(
    ansible_inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "-i", "hosts.ini", "--list", "--sources")
    assert code == 0
    document = json.loads(out)
    assert document["all"] == {"children": ["ungrouped", "prod"]}
    assert document["prod"] == {"children": ["web", "db"]}
    assert document["web"] == {"hosts": ["web1", "web2"]}
    assert document["_meta"]["hostvars"]["web1"] == {
        "ansible_host": "10.0.0.1",
        "ansible_user": "deploy",
        "docroot": "/srv/file",
        "ntp": "pool.ntp.org",
    }
    ours = document["_meta"]["remediate"]
    assert ours["hosts"]["web2"] | {"known_hosts": None} == {
        "address": "10.0.0.2",
        "port": 2222,
        "user": "deploy",
        "identity_file": None,
        "known_hosts": None,
        "become": False,
    }
    assert ours["sources"]["web1"]["vars"]["docroot"] == "group_vars/web.yml: docroot"
    assert ours["sources"]["web1"]["connection"]["address"] == "ansible_host (hosts.ini:2)"
    assert "hunter22" not in out and document["_meta"]["hostvars"]["db1"]["ansible_password"] == "********"


def test_host_masks_secrets(ansible_inventory: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "-i", "hosts.ini", "--host", "db1")
    assert "hunter22" not in out and 'ansible_password: "********"' in " ".join(out.split())


def test_ssh_config_fills_what_the_inventory_left_unset(
    ansible_inventory: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ssh_config").write_text("Host db1\n  HostName db1.internal\n  Port 2200\n  User admin\n")
    code = main(["inventory", "-i", "hosts.ini", "--host", "db1", "--ssh-config", str(tmp_path / "ssh_config")])
    lines = [" ".join(line.split()) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    assert f'address: "db1.internal" ssh_config ({tmp_path / "ssh_config"})' in lines
    assert f"port: 2200 ssh_config ({tmp_path / 'ssh_config'})" in lines
    # the inventory's ansible_user (group_vars/all.yml) is explicit: ssh_config's User does not override it
    assert 'user: "deploy" ansible_user (group_vars/all.yml: ansible_user)' in lines


def test_native_inventory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fleet.yml").write_text(
        "defaults: {user: deploy}\nvars: {a: 1}\nhosts:\n  web1: {address: 10.0.0.5, port: 2222, vars: {a: 3}}\n"
        "  lone: {}\ngroups:\n  web: {hosts: [web1], vars: {a: 2, b: 2}}\n"
    )
    code, out, _ = run(capsys, "-i", "fleet.yml", "--graph")
    assert (code, out) == (0, "@all:\n  |--@ungrouped:\n  |  |--lone\n  |--@web:\n  |  |--web1\n")
    code, out, _ = run(capsys, "-i", "fleet.yml", "--host", "web1")
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert "port: 2222 fleet.yml: hosts.web1.port" in lines
    assert 'user: "deploy" fleet.yml: defaults.user' in lines
    assert "a: 3 fleet.yml: hosts.web1.vars.a" in lines and "b: 2 fleet.yml: groups.web.vars.b" in lines
    code, out, _ = run(capsys, "-i", "fleet.yml", "--list")
    document = json.loads(out)
    assert document["_meta"]["hostvars"] == {"web1": {"a": 3, "b": 2}, "lone": {"a": 1}}
    assert document["ungrouped"] == {"hosts": ["lone"]} and document["web"] == {"hosts": ["web1"]}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--host", "nope"], "remediate: error: --host: no host 'nope' in hosts.ini\n"),
        ([], "one of the arguments --list --graph --host is required"),
        (["--list", "--graph"], "not allowed with argument"),
    ],
)
def test_bad_requests_are_one_line_exit_2(
    ansible_inventory: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, "-i", "hosts.ini", *argv)
    assert (code, out) == (2, "")
    assert message in err and err.count("\n") == 1


def test_a_vaulted_group_vars_file_is_one_line_exit_2(
    ansible_inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (ansible_inventory.parent / "group_vars" / "db.yml").write_text("$ANSIBLE_VAULT;1.1;AES256\n3132\n")
    code, _, err = run(capsys, "-i", "hosts.ini", "--graph")
    assert code == 2
    assert err == (
        "remediate: error: group_vars/db.yml: encrypted with Ansible Vault: decrypt it first (ansible-vault decrypt)\n"
    )
