"""The Fabric task collection on lab hosts: `fab -H ... remediate.apply`, then `fab remediate.rollback`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from labtools import BROKEN, FIXED, WP, fix_playbook

from remediate.lab.fleet import Lab

pytestmark = pytest.mark.lab

FAB = str(Path(sys.executable).parent / "fab")
REPO = Path(__file__).resolve().parent.parent.parent


def documented_fabfile() -> str:
    """The fabfile docs/inventory.md shows: the one these tests drive, so the documented one works."""
    text = (REPO / "docs" / "inventory.md").read_text()
    start = text.index("```python\n# fabfile.py\n") + len("```python\n")
    return text[start : text.index("```", start)]


FABFILE = documented_fabfile()


def fab(folder: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    (folder / "fabfile.py").write_text(FABFILE)
    return subprocess.run([FAB, *argv], cwd=folder, capture_output=True, text=True, timeout=120, check=False)


def hosts_flag(lab: Lab) -> str:
    return ",".join(f"root@{h.address}:{h.ssh_port}" for h in lab.hosts)


def test_fab_applies_a_playbook_to_fabrics_hosts_and_rolls_it_back(lab: Lab, tmp_path: Path) -> None:
    pb = fix_playbook(tmp_path, verify=True)
    common = ["-H", hosts_flag(lab), "-i", str(lab.identity_file), "remediate.apply", "--playbook", pb]
    dry = fab(tmp_path, *common, "--known-hosts", str(lab.known_hosts), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"({len(lab.hosts)} hosts): 1 file to change" in dry.stdout  # one plan over all of Fabric's hosts
    assert "-require ABSPATH . WPINC . '/class-wp-locale.phpp';" in dry.stdout
    assert all(BROKEN in h.local_path(WP).read_bytes() for h in lab.hosts)

    done = fab(tmp_path, *common, "--known-hosts", str(lab.known_hosts), "--yes", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["summary"] == {"changed": len(lab.hosts)}
    assert set(doc["hosts"]) == {h.address for h in lab.hosts}  # named as Fabric was given them
    assert all(FIXED in h.local_path(WP).read_bytes() for h in lab.hosts)

    # The run's journal names the inventory its hosts were reached by: no -H needed to put them back.
    back = fab(tmp_path, "remediate.rollback", "--run", doc["run_id"], "--yes")
    assert back.returncode == 0, back.stderr
    assert all(
        BROKEN in h.local_path(WP).read_bytes() and FIXED not in h.local_path(WP).read_bytes() for h in lab.hosts
    )


def test_fab_refuses_a_host_key_nobody_vouched_for(lab: Lab, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    pb = fix_playbook(tmp_path)
    host = lab.hosts[0]
    argv = ["-H", f"root@{host.address}:{host.ssh_port}", "-i", str(lab.identity_file), "remediate.apply"]
    refused = fab(tmp_path, *argv, "--playbook", pb, "--known-hosts", str(empty), "--yes", "--json")
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["hosts"][host.address]["status"] == "unreachable"
    assert BROKEN in host.local_path(WP).read_bytes()


def test_fab_without_hosts_is_one_clear_line(tmp_path: Path) -> None:
    none = fab(tmp_path, "remediate.apply", "--playbook", fix_playbook(tmp_path))
    assert none.returncode == 2
    assert (
        none.stderr.strip().splitlines()[-1]
        == "remediate: error: no hosts: give them to fab with -H (or a task's hosts=)"
    )
