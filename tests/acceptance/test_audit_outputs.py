"""`remediate audit --probes --prometheus FILE --junit FILE` on the lab: one host fixed, one drifted, one
unreachable; both files parsed back and checked host by host."""

from __future__ import annotations

import errno
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from labtools import FIXED, WP, run_json, snapshot
from prometheus_client.parser import text_string_to_metric_families
from pytest_mock import MockerFixture

from remediate.cli.main import main
from remediate.lab.fleet import Lab, stop_http, stop_sshd

pytestmark = pytest.mark.lab

STEP = "fix the require line"  # fix-phpp's one step


def _samples(path: Path) -> dict[tuple[str, str], float]:
    """(metric name, host) -> value; every sample must carry the playbook label."""
    values: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(path.read_text()):
        for sample in family.samples:
            assert sample.labels["playbook"] == "fix-phpp"
            values[(sample.name, sample.labels["host"])] = sample.value
    return values


def test_audit_writes_metrics_and_junit_per_host_compliant_drifted_and_unreachable(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inventory = str(lab.inventory_path)
    code, _ = run_json(capsys, "apply", "fix-phpp", "-i", inventory, "--limit", "web1", "--yes")
    assert code == 0
    stop_sshd(lab, "web3")
    outputs = tmp_path / "textfile-collector"
    outputs.mkdir()
    metrics, junit = outputs / "remediate.prom", outputs / "audit.xml"
    metrics.write_text("# the previous audit's\n")
    old_inode = metrics.stat().st_ino
    before, started = snapshot(lab), time.time()

    code, doc = run_json(
        capsys, "audit", "fix-phpp", "-i", inventory, "--probes", "--prometheus", str(metrics),
        "--junit", str(junit), "--json",
    )  # fmt: skip
    assert code == 3  # web2 (and web4) drifted
    assert snapshot(lab) == before  # neither the audit nor its probes changed anything
    assert [doc["hosts"][h]["status"] for h in ("web1", "web2", "web3")] == ["compliant", "drifted", "unreachable"]
    assert doc["hosts"]["web1"]["probes"][0]["ok"] is True
    assert doc["hosts"]["web2"]["probes"][0]["ok"] is False  # the site still answers 500
    assert doc["hosts"]["web3"]["probes"] is None

    # The file was replaced (a new inode), not rewritten in place, and no temporary file is left.
    assert metrics.stat().st_ino != old_inode
    assert sorted(p.name for p in outputs.iterdir()) == ["audit.xml", "remediate.prom"]
    values = _samples(metrics)
    expected = {  # host -> (compliant, drifted, unreachable, failed, drifted_files, probes_run)
        "web1": (1, 0, 0, 0, 0, 1),
        "web2": (0, 1, 0, 0, 1, 1),
        "web3": (0, 0, 1, 0, 0, 0),
    }
    names = ("compliant", "drifted", "unreachable", "failed", "drifted_files", "probes_run")
    for host, wanted in expected.items():
        assert tuple(values[(f"remediate_audit_{n}", host)] for n in names) == wanted, host
        assert started <= values[("remediate_audit_last_run_timestamp_seconds", host)] <= time.time()
    assert values[("remediate_audit_probe_success", "web1")] == 1
    assert values[("remediate_audit_probe_success", "web2")] == 0  # the site still answers 500
    assert ("remediate_audit_probe_success", "web3") not in values  # not run: no result to report

    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite is not None
    cases = {(c.get("classname"), c.get("name")): c for c in suite.iter("testcase")}
    assert len(cases) == 2 * len(lab.hosts)  # the step and the probe, for each host
    assert int(suite.get("tests", "")) == len(cases)
    assert list(cases[("web1", STEP)]) == []  # passed
    failure = cases[("web2", STEP)].find("failure")
    assert failure is not None and failure.get("type") == "drift" and failure.get("message") == f"drift in {WP}"
    assert f"+{FIXED.decode()}" in (failure.text or "")
    error = cases[("web3", STEP)].find("error")
    assert error is not None and error.get("type") == "unreachable"
    probe_cases = {host: case for (host, name), case in cases.items() if name.startswith("verify: ")}
    assert probe_cases["web1"].find("failure") is None and probe_cases["web2"].find("failure") is not None
    assert probe_cases["web3"].find("error") is not None
    assert int(suite.get("failures", "")) == 2 * (len(lab.hosts) - 2)  # web2 and web4: drift and probe
    assert int(suite.get("errors", "")) == 2  # web3: its step and its probe


def test_a_failing_probe_on_a_compliant_fleet_exits_1_and_without_probes_there_is_no_probe_series(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inventory, metrics = str(lab.inventory_path), tmp_path / "remediate.prom"
    assert run_json(capsys, "apply", "fix-phpp", "-i", inventory, "--yes")[0] == 0
    assert main(["audit", "fix-phpp", "-i", inventory, "--prometheus", str(metrics), "--probes"]) == 0
    out = capsys.readouterr().out
    assert f"{len(lab.hosts)} compliant" in out and "1 ok" in out

    stop_http(lab, "web2")  # its files comply, its site is down: what --probes is for
    code, doc = run_json(capsys, "audit", "fix-phpp", "-i", inventory, "--prometheus", str(metrics), "--probes")
    assert code == 1 and doc["summary"] == {"compliant": len(lab.hosts)}
    assert [h for h, entry in doc["hosts"].items() if not entry["probes"][0]["ok"]] == ["web2"]
    values = _samples(metrics)
    assert values[("remediate_audit_compliant", "web2")] == 1 and values[("remediate_audit_probe_success", "web2")] == 0

    assert main(["audit", "fix-phpp", "-i", inventory, "--prometheus", str(metrics)]) == 0  # files only
    values = _samples(metrics)
    assert all(values[("remediate_audit_compliant", h.name)] == 1 for h in lab.hosts)
    assert not any(name.startswith("remediate_audit_probe") for name, _ in values)


def test_a_report_file_that_cannot_be_written_keeps_the_previous_one_and_is_one_line(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str], mocker: MockerFixture
) -> None:
    (tmp_path / "textfile").mkdir()
    metrics = tmp_path / "textfile" / "remediate.prom"
    metrics.write_bytes(b"# the previous audit's metrics\n")
    mocker.patch("remediate.report.files.os.fsync", side_effect=OSError(errno.EIO, "Input/output error"))
    assert main(["audit", "fix-phpp", "-i", str(lab.inventory_path), "--prometheus", str(metrics)]) == 2
    assert capsys.readouterr().err == f"remediate: error: --prometheus {metrics}: cannot write: Input/output error\n"
    assert metrics.read_bytes() == b"# the previous audit's metrics\n"
    assert [p.name for p in metrics.parent.iterdir()] == ["remediate.prom"]  # no temporary file left


def test_audit_output_in_a_missing_folder_is_refused_before_any_host(
    lab: Lab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere" / "audit.xml"
    assert main(["audit", "fix-phpp", "-i", str(lab.inventory_path), "--junit", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"remediate: error: --junit {missing}: folder {missing.parent} does not exist"
