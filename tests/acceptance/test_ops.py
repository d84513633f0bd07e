"""Reviewed plans, drift audit and the one-line hotfix, against the lab fleet."""

from __future__ import annotations

import base64
import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from labtools import BROKEN, FIXED, WP, http_status, run_json, snapshot

from remediate.cli.main import main
from remediate.lab.fleet import Lab, stop_sshd

pytestmark = pytest.mark.lab


def test_a_reviewed_plan_is_applied_exactly_and_refused_where_files_moved_on(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_file = tmp_path / "fix.plan"
    before = snapshot(lab)
    assert main(["plan", "fix-phpp", "-i", str(lab.inventory_path), "-o", str(plan_file)]) == 0
    out = capsys.readouterr().out
    assert f"written to {plan_file}" in out
    assert stat.S_IMODE(plan_file.stat().st_mode) == 0o600  # it holds the new contents
    assert snapshot(lab) == before  # planning touches nothing

    assert main(["show-plan", str(plan_file)]) == 0
    shown = capsys.readouterr().out
    count = len(lab.hosts)  # one diff for the fleet's identical changes
    assert "+require ABSPATH . WPINC . '/class-wp-locale.php';" in shown and f"web[1-{count}] ({count} hosts)" in shown

    document = json.loads(plan_file.read_text())
    # A colleague's hand edit on web2 after the review: that host must not get the reviewed bytes.
    edited = lab.host("web2").local_path(WP)
    edited.write_bytes(edited.read_bytes() + b"// edited after the review\n")
    code, doc = run_json(capsys, "apply", "--plan", str(plan_file), "--yes", "--max-fail", "100%")
    assert code == 1
    assert (
        doc["hosts"]["web2"]["status"] == "conflict" and "+// edited after the review" in doc["hosts"]["web2"]["error"]
    )
    for host in lab.hosts:
        if host.name == "web2":
            continue
        assert doc["hosts"][host.name]["status"] == "changed"
        planned = next(h for h in document["hosts"] if h["host"]["name"] == host.name)["changes"][0]
        assert host.local_path(WP).read_bytes() == base64.b64decode(planned["after"])  # exactly the plan's bytes


def test_an_altered_plan_file_is_refused(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan_file = tmp_path / "fix.plan"
    assert main(["plan", "fix-phpp", "-i", str(lab.inventory_path), "-o", str(plan_file)]) == 0
    document = json.loads(plan_file.read_text())
    change = document["hosts"][0]["changes"][0]
    change["after"] = base64.b64encode(b"<?php system($_GET['x']);\n").decode()
    plan_file.write_text(json.dumps(document))
    capsys.readouterr()
    assert main(["apply", "--plan", str(plan_file), "--yes"]) == 2
    err = capsys.readouterr().err
    assert "the content does not match its sha256: the plan file was altered" in err
    assert all(BROKEN in h.local_path(WP).read_bytes() for h in lab.hosts)


def test_audit_exits_3_on_drift_0_when_compliant_and_1_when_it_cannot_tell(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(lab)
    assert main(["audit", "fix-phpp", "-i", str(lab.inventory_path), "--json"]) == 3
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"] == {"drifted": len(lab.hosts)}
    assert "+require ABSPATH . WPINC . '/class-wp-locale.php';" in doc["hosts"]["web1"]["drift"][0]["diff"]
    assert snapshot(lab) == before  # an audit only reads

    code, _ = run_json(capsys, "apply", "fix-phpp", "-i", str(lab.inventory_path), "--yes")
    assert code == 0
    assert main(["audit", "fix-phpp", "-i", str(lab.inventory_path)]) == 0
    assert f"{len(lab.hosts)} compliant" in capsys.readouterr().out

    stop_sshd(lab, "web3")
    assert main(["audit", "fix-phpp", "-i", str(lab.inventory_path), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["hosts"]["web3"]["status"] == "unreachable" and doc["summary"]["compliant"] == len(lab.hosts) - 1


def test_hotfix_is_an_apply_with_verification_journal_and_rollback(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = snapshot(lab)
    hotfix = [
        "hotfix", "-i", str(lab.inventory_path), "--file", WP, "--sed", r"s/\.phpp\b/.php/",
        "--verify-http", "http://{{ host.address }}:8080/", "--validate", "php -l {path}",
    ]  # fmt: skip
    code, dry = run_json(capsys, *hotfix, "--dry-run")
    assert code == 0 and dry["summary"] == {"changed": len(lab.hosts)} and snapshot(lab) == broken
    code, doc = run_json(capsys, *hotfix, "--yes")
    assert code == 0 and doc["playbook"] == "hotfix"
    assert all(e["probes"][0]["detail"] == "HTTP 200" for e in doc["hosts"].values())
    assert all(http_status(h) == 200 for h in lab.hosts)
    code, _ = run_json(capsys, "rollback", doc["run_id"], "--yes")
    assert code == 0 and snapshot(lab) == broken


def test_hotfix_bad_input_is_one_line(lab: Lab) -> None:
    for extra, message in [
        (["--file", "relative.php", "--sed", "s/a/b/"], "remediate: error: --file: must be an absolute path"),
        (["--file", WP, "--sed", "y/a/b/"], "remediate: error: --sed: expected s/REGEX/REPLACEMENT/FLAGS"),
    ]:
        result = subprocess.run(
            [sys.executable, "-m", "remediate.cli.main", "hotfix", "-i", str(lab.inventory_path), *extra, "--yes"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert result.returncode == 2 and result.stderr.startswith(message) and result.stderr.count("\n") == 1


def test_an_ansible_ini_inventory_works_as_it_is(lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hosts = tmp_path / "hosts"  # like /etc/ansible/hosts: no suffix, found by content
    lines = ["# an Ansible inventory, as Ansible reads it", "[wordpress]"]
    for host in lab.hosts:
        lines.append(
            f"{host.name} ansible_host={host.address} ansible_port={host.ssh_port} ansible_user=root"
            f" ansible_ssh_private_key_file={lab.identity_file}"
            f" ansible_ssh_common_args='-o UserKnownHostsFile={lab.known_hosts}' health_url={host.url}"
        )
    lines += ["", "[wordpress:vars]", "docroot=/var/www/html"]
    hosts.write_text("\n".join(lines) + "\n")
    code, doc = run_json(capsys, "apply", "fix-phpp", "-i", str(hosts), "--yes", "--limit", "wordpress")
    assert code == 0, doc
    assert doc["summary"] == {"changed": len(lab.hosts)}
    assert all(FIXED in h.local_path(WP).read_bytes() for h in lab.hosts)
