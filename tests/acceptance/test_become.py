"""Privilege escalation: a non-root SSH user with sudo on the lab hosts, for reads, writes, handlers, probes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from labtools import FIXED, WP, ensure_lab_sudo, give_distinct_ownership, run_json, run_on_terminal, snapshot

from remediate.lab.fleet import Lab

pytestmark = pytest.mark.lab


@pytest.fixture(autouse=True)
def no_become_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REMEDIATE_BECOME_PASSWORD", raising=False)


@pytest.fixture
def sudo_inventory(lab: Lab, tmp_path: Path) -> tuple[Path, str]:
    """The lab's inventory, logging in as the unprivileged lab user with become: true."""
    user, password = ensure_lab_sudo()
    path = tmp_path / "sudo.yml"
    path.write_text(lab.inventory_path.read_text().replace("  user: root\n", f"  user: {user}\n  become: true\n"))
    return path, password


def test_become_reads_writes_runs_handlers_and_probes_as_root(
    lab: Lab,
    sudo_inventory: tuple[Path, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inventory, password = sudo_inventory
    give_distinct_ownership(lab)
    before = snapshot(lab)
    monkeypatch.setenv("REMEDIATE_BECOME_PASSWORD", password)
    pb = tmp_path / "pb.yml"
    pb.write_text(
        "steps:\n"
        "  - line_patch: {path: /var/www/html/wp-settings.php, sed: 's/\\.phpp\\b/.php/'}\n"
        "    on_change: 'id -u > /tmp/handler-uid'\n"
        "verify:\n  - command: {run: 'test -w /etc/shadow', expect_rc: 0}\n"
    )
    code, doc = run_json(capsys, "apply", str(pb), "-i", str(inventory), "--yes")
    assert code == 0, doc
    for host in lab.hosts:
        old, mode, uid, gid = before[host.name]
        assert snapshot(lab)[host.name] == (old.replace(b".phpp'", b".php'"), mode, uid, gid)  # owner and mode kept
        assert host.local_path("/tmp/handler-uid").read_text() == "0\n"
        assert doc["hosts"][host.name]["probes"][0]["ok"] is True
        assert host.local_path(f"/var/backups/remediate/{doc['run_id']}{WP}").read_bytes() == old


def test_a_wrong_become_password_is_a_clear_per_host_error(
    lab: Lab, sudo_inventory: tuple[Path, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    inventory, _ = sudo_inventory
    before = snapshot(lab)
    monkeypatch.setenv("REMEDIATE_BECOME_PASSWORD", "not-the-password")
    code, doc = run_json(capsys, "apply", "fix-phpp", "-i", str(inventory), "--yes", "--max-fail", "100%")
    assert code == 1
    for host in lab.hosts:
        assert doc["hosts"][host.name]["status"] == "failed"
        assert doc["hosts"][host.name]["error"] == f"sudo: wrong become password for remediate-lab on {host.name}"
    assert snapshot(lab) == before


def test_a_missing_become_password_says_how_to_give_it(
    lab: Lab, sudo_inventory: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    inventory, _ = sudo_inventory
    code, doc = run_json(capsys, "apply", "fix-phpp", "-i", str(inventory), "--yes", "--limit", "web1")
    assert code == 1
    assert doc["hosts"]["web1"]["error"] == "sudo on web1 wants a password for remediate-lab: pass --ask-become-pass"


def test_ask_become_pass_prompts_once_without_echo(lab: Lab, sudo_inventory: tuple[Path, str]) -> None:
    inventory, password = sudo_inventory
    code, output = run_on_terminal(
        ["apply", "fix-phpp", "-i", str(inventory), "--yes", "--ask-become-pass"],
        (password + "\n").encode(),
        prompt=b"BECOME password: ",
    )
    output = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output)
    assert code == 0, output
    assert output.count("BECOME password: ") == 1 and password not in output  # asked once, never echoed
    assert all(FIXED in h.local_path(WP).read_bytes() for h in lab.hosts)
