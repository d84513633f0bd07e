"""An audit as JUnit XML, for CI: one test case per host and step (classname the host, name the step),
and with ``--probes`` one per host and probe. Drift is a failure holding the diff; a host that could not
be audited is an error in each of its cases. Secrets are masked like everywhere else."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from remediate.model import Audit, AuditState, HostAudit
from remediate.plan.diff import file_diff
from remediate.plan.masking import Masker

# XML 1.0 cannot hold these at all, not even escaped: a diff of a binary file may have them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def audit_junit(audit: Audit, masker: Masker) -> bytes:
    suite = ET.Element("testsuite", name=f"remediate audit {audit.playbook}", id=audit.audit_id)
    suite.set("timestamp", datetime.fromtimestamp(audit.finished, UTC).isoformat(timespec="seconds"))
    properties = ET.SubElement(suite, "properties")
    for name, value in (("playbook", audit.playbook), ("inventory", audit.inventory), ("audit_id", audit.audit_id)):
        ET.SubElement(properties, "property", name=name, value=_xml_text(value))
    for host in audit.hosts:
        _step_cases(suite, host, audit.steps, masker)
        if audit.probed:
            _probe_cases(suite, host, masker)
    cases = suite.findall("testcase")
    counts = {
        "tests": len(cases),
        "failures": sum(1 for c in cases if c.find("failure") is not None),
        "errors": sum(1 for c in cases if c.find("error") is not None),
        "skipped": 0,
    }
    for key, count in counts.items():
        suite.set(key, str(count))
    root = ET.Element("testsuites", name="remediate audit")
    for key in ("tests", "failures", "errors"):
        root.set(key, str(counts[key]))
    root.append(suite)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _step_cases(suite: ET.Element, host: HostAudit, steps: tuple[str, ...], masker: Masker) -> None:
    for step in steps:
        case = ET.SubElement(suite, "testcase", classname=host.name, name=_xml_text(step), time="0")
        if host.state in (AuditState.UNREACHABLE, AuditState.FAILED):
            _problem(case, "error", host.state.value, masker.text(host.plan.error))
            continue
        for change in host.plan.changes:
            if step in change.steps:  # the file's whole diff, which may hold other steps' changes too
                diff = masker.text(file_diff(change))
                _problem(case, "failure", "drift", f"drift in {change.path}", diff)


def _probe_cases(suite: ET.Element, host: HostAudit, masker: Masker) -> None:
    if host.probes is None:  # not reached: each probe the host has is an error, so the count stays the same
        for probe in host.plan.probes:
            name = _xml_text(f"verify: {masker.text(probe.describe())}")
            case = ET.SubElement(suite, "testcase", classname=host.name, name=name, time="0")
            _problem(case, "error", host.state.value, f"not run: {masker.text(host.plan.error)}")
        return
    for result in host.probes:
        name = _xml_text(f"verify: {masker.text(result.probe)}")
        case = ET.SubElement(suite, "testcase", classname=host.name, name=name, time="0")
        if not result.ok:
            _problem(case, "failure", "probe", masker.text(result.detail))


def _problem(case: ET.Element, tag: str, kind: str, message: str, text: str = "") -> None:
    element = ET.SubElement(case, tag, type=kind, message=_xml_text(message))
    if text:
        element.text = _xml_text(text)


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)
