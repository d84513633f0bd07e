"""--retry-file writes the hosts that did not end ok; --limit @FILE goes again for exactly those (Ansible's retry files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from labtools import FIXED, WP, run_json

from remediate.cli.main import main
from remediate.lab.fleet import Lab, start_sshd, stop_sshd

pytestmark = pytest.mark.lab


def test_a_retry_file_names_the_failed_hosts_and_limit_at_file_goes_again_for_them(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inventory, retry = str(lab.inventory_path), tmp_path / "fix-phpp.retry"
    down = lab.hosts[1]
    stop_sshd(lab, down.name)
    code, doc = run_json(
        capsys, "apply", "fix-phpp", "-i", inventory, "--yes", "--max-fail", "1", "--retry-file", str(retry)
    )
    assert code == 1 and doc["hosts"][down.name]["status"] == "unreachable"
    assert retry.read_text() == f"{down.name}\n"
    assert retry.stat().st_mode & 0o777 == 0o644

    start_sshd(lab, down.name)
    code, doc = run_json(
        capsys, "apply", "fix-phpp", "-i", inventory, "--yes", "--limit", f"@{retry}", "--retry-file", str(retry)
    )
    assert code == 0 and doc["summary"] == {"changed": 1} and set(doc["hosts"]) == {down.name}
    assert all(FIXED in h.local_path(WP).read_bytes() for h in lab.hosts)
    assert retry.read_text() == ""  # every host ok: an empty list, not the last run's

    assert main(["apply", "fix-phpp", "-i", inventory, "--dry-run", "--limit", f"@{retry}"]) == 2
    assert capsys.readouterr().err == f"remediate: error: --limit @{retry}: lists no host\n"


def test_limit_files_and_retry_files_refuse_what_they_cannot_use(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inventory = str(lab.inventory_path)
    listed = tmp_path / "hosts.txt"
    listed.write_text("web1\n\nweb2, web3\n")
    assert main(["apply", "fix-phpp", "-i", inventory, "--dry-run", "--limit", f"@{listed}"]) == 2
    assert capsys.readouterr().err == f"remediate: error: --limit @{listed}: line 3: 'web2, web3' is not a host name\n"
    assert main(["apply", "fix-phpp", "-i", inventory, "--dry-run", "--limit", f"@{tmp_path}/nope"]) == 2
    assert (
        capsys.readouterr().err
        == f"remediate: error: --limit @{tmp_path}/nope: cannot read: No such file or directory\n"
    )
    nowhere = tmp_path / "no-such-folder" / "retry"
    assert main(["apply", "fix-phpp", "-i", inventory, "--yes", "--retry-file", str(nowhere)]) == 2
    assert capsys.readouterr().err == (
        f"remediate: error: --retry-file {nowhere}: folder {nowhere.parent} does not exist\n"
    )
    assert all(FIXED not in h.local_path(WP).read_bytes() for h in lab.hosts)  # refused before any host was touched
    listed.write_text("web1\nweb3\n")
    code, doc = run_json(capsys, "apply", "fix-phpp", "-i", inventory, "--dry-run", "--limit", f"@{listed},web2")
    assert code == 0 and set(doc["hosts"]) == {"web1", "web2", "web3"}
