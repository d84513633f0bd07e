"""The audit's Prometheus and JUnit documents, from canned host plans: parsed back, secrets masked."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

from planning import existing, plan_for
from prometheus_client.parser import text_string_to_metric_families

from remediate.model import Audit, HostAudit, HostPlan, ProbeResult, Status
from remediate.plan.masking import Masker
from remediate.report.junit import audit_junit
from remediate.report.prometheus import audit_metrics

SECRET = "hunter2-token"
PLAYBOOK = """\
name: pb
steps:
  - name: set the token
    line_patch: {path: /etc/app.conf, regex: '^token=.*', replace: 'token=SECRET'}
  - name: untouched
    line_patch: {path: /etc/other.conf, ensure_line: 'x=1'}
""".replace("SECRET", SECRET)


FILES = {"/etc/app.conf": b"token=old\n", "/etc/other.conf": b"x=1\n"}


def _audit(tmp_path: Path) -> Audit:
    drifted = plan_for(tmp_path, PLAYBOOK, {p: existing(p, c) for p, c in FILES.items()})
    compliant = replace(drifted, host=replace(drifted.host, name="web2"), changes=())
    down = HostPlan(replace(drifted.host, name="web3"), failure=Status.UNREACHABLE, error="connection refused")
    hosts = (
        HostAudit(
            drifted, (ProbeResult(f"command curl -H {SECRET}", False, "rc 7"), ProbeResult("tcp :80", True, "open"))
        ),
        HostAudit(compliant, (ProbeResult("tcp :80", True, "open"), ProbeResult("tcp :80", True, "open"))),
        HostAudit(down),
    )
    return Audit("A1", "pb", "inv.yml", ("set the token", "untouched"), hosts, True, 1_700_000_000.5)


def test_metrics_parse_back_with_one_series_per_host_and_probe_and_secrets_masked(tmp_path: Path) -> None:
    text = audit_metrics(_audit(tmp_path), Masker({SECRET})).decode()
    assert SECRET not in text
    samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    assert all(s.name.startswith("remediate_audit_") and s.labels["playbook"] == "pb" for s in samples)
    value = {(s.name, s.labels["host"], s.labels.get("probe", "")): s.value for s in samples}
    assert value[("remediate_audit_drifted", "web1", "")] == 1 and value[("remediate_audit_compliant", "web2", "")] == 1
    assert (
        value[("remediate_audit_unreachable", "web3", "")] == 1
        and value[("remediate_audit_probes_run", "web3", "")] == 0
    )
    assert value[("remediate_audit_last_run_timestamp_seconds", "web3", "")] == 1_700_000_000.5
    assert value[("remediate_audit_probe_success", "web1", "command curl -H ********")] == 0
    # Two probes that describe themselves alike stay two series.
    assert value[("remediate_audit_probe_success", "web2", "tcp :80")] == 1
    assert value[("remediate_audit_probe_success", "web2", "tcp :80 #2")] == 1


def test_junit_has_a_case_per_host_and_step_with_the_masked_diff_as_the_failure(tmp_path: Path) -> None:
    document = audit_junit(_audit(tmp_path), Masker({SECRET}))
    assert SECRET.encode() not in document
    suite = ET.fromstring(document).find("testsuite")
    assert suite is not None
    cases = {(c.get("classname"), c.get("name")): c for c in suite.iter("testcase")}
    drift = cases[("web1", "set the token")].find("failure")
    assert drift is not None and drift.get("message") == "drift in /etc/app.conf"
    assert "-token=old\n+token=********" in (drift.text or "")
    assert list(cases[("web1", "untouched")]) == [] and list(cases[("web2", "set the token")]) == []
    error = cases[("web3", "untouched")].find("error")
    assert error is not None and (error.get("type"), error.get("message")) == ("unreachable", "connection refused")
    assert cases[("web1", "verify: command curl -H ********")].find("failure") is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("10", "2", "2")


def test_junit_holds_a_binary_diff_as_valid_xml(tmp_path: Path) -> None:
    audit = _audit(tmp_path)
    host = audit.hosts[0]
    change = replace(host.plan.changes[0], before=b"token=\x00\x1b\n", after=b"token=\x01\n")
    binary = replace(audit, hosts=(replace(host, plan=replace(host.plan, changes=(change,))),))
    ET.fromstring(audit_junit(binary, Masker()))  # parses: no control character made it into the XML
