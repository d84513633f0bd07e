"""A step type and a probe kind registered from outside the package (tests/toy_plugins.py) go the whole
way: loading, the dry-run's diff, a plan file, apply on real lab hosts, the probe on the host, the
journal and a rollback; unregistered, the playbook is refused as before."""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import toy_plugins
from labtools import WP, run_json, snapshot

from remediate.actions.registry import action_keys, register_action, unregister_action
from remediate.cli.main import main
from remediate.errors import UserError
from remediate.lab.fleet import Lab
from remediate.load.playbook import load_playbook
from remediate.probes.registry import probe_keys, register_probe, unregister_probe

PLAYBOOK = """\
    steps:
      - append_marker: {path: /var/www/html/wp-settings.php, line: "// checked by {{ host.name }}"}
    verify:
      - marker: {path: /var/www/html/wp-settings.php, text: "// checked by {{ host.name }}"}
"""


@pytest.fixture
def toys() -> Iterator[None]:
    register_action(toy_plugins.APPEND_MARKER)
    register_probe(toy_plugins.MARKER)
    try:
        yield
    finally:
        unregister_action("append_marker")
        unregister_probe("marker")


def write_playbook(tmp_path: Path) -> str:
    path = tmp_path / "toys.yml"
    path.write_text(textwrap.dedent(PLAYBOOK))
    return str(path)


def test_unregistered_the_toys_are_unknown(tmp_path: Path) -> None:
    assert "append_marker" not in action_keys() and "marker" not in probe_keys()
    with pytest.raises(
        UserError,
        match=r"steps\[0\]\.append_marker: unknown key \(expected one of: name, line_patch, template, validate",
    ):
        load_playbook(write_playbook(tmp_path))


def test_registering_twice_is_refused(toys: None) -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_action(toy_plugins.APPEND_MARKER)
    with pytest.raises(ValueError, match="already registered"):
        register_probe(toy_plugins.MARKER)
    with pytest.raises(ValueError, match="is a step option"):
        register_action(dataclasses.replace(toy_plugins.APPEND_MARKER, key="validate"))


def test_the_toys_load_with_their_errors(toys: None, tmp_path: Path) -> None:
    playbook = load_playbook(write_playbook(tmp_path))
    (step,) = playbook.steps
    assert step.action == toy_plugins.AppendMarker(WP, "// checked by {{ host.name }}")
    assert step.name == f"append_marker {WP}" and step.target == WP
    assert playbook.verify == (toy_plugins.MarkerProbe(WP, "// checked by {{ host.name }}"),)
    bad = tmp_path / "bad.yml"
    bad.write_text("steps:\n  - append_marker: {path: relative.txt, line: x}\n")
    with pytest.raises(UserError, match=r"steps\[0\]\.append_marker\.path: must be an absolute path"):
        load_playbook(str(bad))
    bad.write_text("steps:\n  - line_patch: {path: /x, absent: y}\nverify:\n  - nope: {}\n")
    with pytest.raises(
        UserError, match=r"verify\[0\]\.nope: unknown key \(expected one of: http, command, file, tcp, marker\)"
    ):
        load_playbook(str(bad))


@pytest.mark.lab
def test_the_toys_plan_apply_probe_and_roll_back_on_the_lab(
    toys: None, lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pb = write_playbook(tmp_path)
    inventory = str(lab.inventory_path)
    before = snapshot(lab)

    code, doc = run_json(capsys, "apply", pb, "-i", inventory, "--dry-run")
    assert code == 0 and doc["summary"] == {"changed": len(lab.hosts)}
    for host in lab.hosts:
        (change,) = doc["hosts"][host.name]["changes"]
        assert change["path"] == WP and f"+// checked by {host.name}\n" in change["diff"]
    assert snapshot(lab) == before

    # Through a plan file: the toy probe goes to JSON and back with the plan.
    plan_file = tmp_path / "toys.plan"
    assert main(["plan", pb, "-i", inventory, "-o", str(plan_file)]) == 0
    capsys.readouterr()
    assert '"kind": "marker"' in plan_file.read_text()
    code, doc = run_json(capsys, "apply", "--plan", str(plan_file), "-i", inventory, "--yes")
    assert code == 0 and doc["summary"] == {"changed": len(lab.hosts)}
    after = snapshot(lab)
    for host in lab.hosts:
        old_bytes, mode, uid, gid = before[host.name]
        assert after[host.name] == (old_bytes + f"// checked by {host.name}\n".encode(), mode, uid, gid)
        assert doc["hosts"][host.name]["probes"] == [
            {"probe": f"marker '// checked by {host.name}' in {WP}", "ok": True, "detail": "the marker is there"}
        ]
    run_id = doc["run_id"]

    code, again = run_json(capsys, "apply", pb, "-i", inventory, "--yes")
    assert code == 0 and again["summary"] == {"unchanged": len(lab.hosts)}
    assert snapshot(lab) == after

    # The rollback runs the probes the journal kept: the marker is gone again, and the probe says so.
    code, undone = run_json(capsys, "rollback", run_id, "--yes")
    assert code == 0, undone
    assert snapshot(lab) == before
    for host in lab.hosts:
        assert undone["hosts"][host.name]["probes"] == [
            {"probe": f"marker '// checked by {host.name}' in {WP}", "ok": False, "detail": "no marker"}
        ]
