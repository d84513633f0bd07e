"""group_vars/ and host_vars/ beside an Ansible inventory: connection variables set there reach the Host,
errors name the vars file, Vault is refused, every bound holds, and settings remediate cannot honour are
refused rather than ignored. (tests/load/test_ansible_vars_parity.py compares the variables with Ansible.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from remediate import limits
from remediate.errors import UserError
from remediate.load.inventory import load_inventory


def layout(folder: Path, files: dict[str, str], inventory: str = "[web]\nweb1\nweb2\n") -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    path = folder / "hosts.ini"
    path.write_text(inventory)
    return path


def test_connection_variables_from_host_vars_and_group_vars_reach_the_host(tmp_path: Path) -> None:
    path = layout(
        tmp_path,
        {
            "group_vars/all.yml": "ansible_user: deploy\nansible_become: yes\n",
            "group_vars/web/ssh.yml": "ansible_ssh_private_key_file: keys/fleet\n",
            "host_vars/web1.yml": "ansible_host: 10.0.0.1\nansible_port: 2222\nansible_user: admin\n",
            "host_vars/web2.json": '{"ansible_ssh_common_args": "-o UserKnownHostsFile=/etc/ssh/known"}',
        },
    )
    web1, web2 = load_inventory(str(path)).hosts
    assert (web1.address, web1.port, web1.user, web1.become) == ("10.0.0.1", 2222, "admin", True)
    assert web1.identity_file == web2.identity_file == str(tmp_path / "keys" / "fleet")  # beside the inventory
    assert (web2.address, web2.port, web2.user, web2.known_hosts) == ("web2", 22, "deploy", "/etc/ssh/known")
    assert web1.explicit == {"address", "port", "user", "identity_file"}  # ssh_config may fill only the rest
    assert "known_hosts" in web2.explicit
    assert "ansible_host" not in web1.vars and web1.vars["ansible_become"] is True


def test_a_bad_connection_variable_in_a_vars_file_names_that_file_and_key(tmp_path: Path) -> None:
    path = layout(tmp_path, {"host_vars/web1.yml": "ansible_port: 99999\n"})
    with pytest.raises(UserError, match=r"host_vars/web1.yml: ansible_port: ansible_port: expected a port number"):
        load_inventory(str(path))


def test_secrets_set_in_group_vars_are_masked(tmp_path: Path) -> None:
    path = layout(tmp_path, {"group_vars/web.yml": "ansible_become_password: s3cret-pw\n"})
    assert load_inventory(str(path)).secrets == {"s3cret-pw"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("$ANSIBLE_VAULT;1.1;AES256\n6162\n", r"group_vars/web.yml: encrypted with Ansible Vault: decrypt it first"),
        (
            "a: 1\ndb_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n",
            r"group_vars/web.yml:2: a value encrypted with Ansible Vault \(!vault\): remediate does not decrypt",
        ),
        ("- a\n- b\n", r"group_vars/web.yml: a vars file holds a mapping of variable names to values"),
        ("a: [\n", r"group_vars/web.yml:2:1: YAML syntax error"),
        ("a: 1\na: 2\n", r"group_vars/web.yml"),
        (b"\xff\xfe".decode("latin-1"), r"group_vars/web.yml: not valid UTF-8"),
    ],
)
def test_bad_vars_files_are_one_line_naming_the_file(tmp_path: Path, text: str, problem: str) -> None:
    path = layout(tmp_path, {})
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "web.yml").write_bytes(text.encode("latin-1" if "\xff" in text else "utf-8"))
    with pytest.raises(UserError, match=problem) as caught:
        load_inventory(str(path))
    assert "\n" not in str(caught.value)


def test_a_vault_encrypted_host_vars_folder_file_is_refused(tmp_path: Path) -> None:
    path = layout(tmp_path, {"host_vars/web1/vault": "$ANSIBLE_VAULT;1.2;AES256;prod\n3031\n"})
    with pytest.raises(UserError, match=r"host_vars/web1/vault: encrypted with Ansible Vault"):
        load_inventory(str(path))


def test_vars_files_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = layout(tmp_path, {"group_vars/web/a.yml": "a: 1\n", "group_vars/web/b.yml": "b: 1\n"})
    assert load_inventory(str(path)).hosts[0].vars == {"a": 1, "b": 1}
    monkeypatch.setattr("remediate.load.ansible_vars.ANSIBLE_VARS_MAX_FILES", 1)
    with pytest.raises(UserError, match=r"group_vars/web/b.yml: more than 1 files in group_vars/ and host_vars/"):
        load_inventory(str(path))
    monkeypatch.undo()
    big = tmp_path / "group_vars" / "web" / "c.yml"
    big.write_text("x: '" + "y" * limits.ANSIBLE_VARS_MAX_FILE_BYTES + "'\n")
    with pytest.raises(UserError, match=rf"c.yml: larger than {limits.ANSIBLE_VARS_MAX_FILE_BYTES} bytes"):
        load_inventory(str(path))
    big.unlink()
    monkeypatch.setattr("remediate.load.ansible_vars.ANSIBLE_VARS_MAX_TOTAL_BYTES", 9)
    with pytest.raises(UserError, match=r"b.yml: group_vars/ and host_vars/ hold more than 9 bytes"):
        load_inventory(str(path))


def test_a_folder_linking_to_itself_stops_at_the_depth_bound(tmp_path: Path) -> None:
    path = layout(tmp_path, {"group_vars/web/a.yml": "a: 1\n"})
    (tmp_path / "group_vars" / "web" / "loop").symlink_to(tmp_path / "group_vars" / "web")
    with pytest.raises(UserError, match=rf"nested more than {limits.ANSIBLE_VARS_MAX_DEPTH} deep"):
        load_inventory(str(path))


def test_directory_entries_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = layout(tmp_path, {f"group_vars/web/.{n}": "" for n in range(5)})
    monkeypatch.setattr("remediate.load.ansible_vars.ANSIBLE_VARS_MAX_ENTRIES", 4)
    with pytest.raises(UserError, match=r"group_vars/web: more than 4 entries"):
        load_inventory(str(path))


@pytest.mark.parametrize(
    ("host_vars", "problem"),
    [
        (
            "ansible_connection: winrm\n",
            r"ansible_connection: 'winrm' is not supported: remediate reaches every host over SSH",
        ),
        ("ansible_connection: local\n", r"ansible_connection: 'local' is not supported"),
        (
            "ansible_become_method: su\n",
            r"ansible_become_method: 'su' is not supported: remediate becomes root through sudo",
        ),
        (
            "ansible_become_user: postgres\n",
            r"ansible_become_user: 'postgres' is not supported: remediate becomes root only",
        ),
        ("ansible_ssh_common_args: -o ProxyCommand='ssh -W %h:%p bastion'\n", r"-o ProxyCommand is not supported"),
        ("ansible_ssh_extra_args: -J bastion\n", r"ansible_ssh_extra_args: '-J' is not supported"),
        ("ansible_ssh_args: -o ProxyJump=bastion\n", r"-o ProxyJump is not supported"),
        ("ansible_ssh_executable: /opt/ssh\n", r"ansible_ssh_executable is not supported"),
    ],
)
def test_settings_that_change_how_a_host_is_reached_are_refused(tmp_path: Path, host_vars: str, problem: str) -> None:
    path = layout(tmp_path, {"host_vars/web2.yml": host_vars})
    with pytest.raises(UserError, match=rf"host_vars/web2.yml: .*{problem}"):
        load_inventory(str(path))


def test_settings_that_leave_the_reach_alone_are_accepted(tmp_path: Path) -> None:
    path = layout(
        tmp_path,
        {
            "group_vars/web.yml": (
                "ansible_connection: ssh\nansible_become_method: sudo\nansible_become_user: root\n"
                "ansible_ssh_common_args: -C -o ControlMaster=auto -o ControlPersist=60s -o StrictHostKeyChecking=no\n"
            )
        },
    )
    assert [h.name for h in load_inventory(str(path)).hosts] == ["web1", "web2"]


def test_vars_files_of_groups_and_hosts_not_in_the_inventory_are_not_read(tmp_path: Path) -> None:
    # Ansible reads only the files of the inventory's own groups and hosts: a stale file is no error
    path = layout(tmp_path, {"group_vars/gone.yml": "a: [\n", "host_vars/old1.yml": "$ANSIBLE_VAULT;1.1;AES256\n"})
    assert [h.vars for h in load_inventory(str(path)).hosts] == [{}, {}]


def test_the_text_vault_in_a_string_is_no_vault(tmp_path: Path) -> None:
    path = layout(tmp_path, {"group_vars/web.yml": 'note: "values use !vault tags"\n'})
    assert load_inventory(str(path)).hosts[0].vars == {"note": "values use !vault tags"}


def test_a_vaulted_value_in_a_yaml_inventory_is_refused_naming_its_line(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yml"
    path.write_text("all:\n  hosts:\n    web1:\n      pw: !vault |\n        $ANSIBLE_VAULT;1.1;AES256\n        6162\n")
    with pytest.raises(UserError, match=r"hosts.yml:4: a value encrypted with Ansible Vault \(!vault\)"):
        load_inventory(str(path))
