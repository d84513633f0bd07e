"""The docs cannot go stale: every YAML example loads, every option has help, completion completes."""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from remediate.cli.main import build_parser
from remediate.load.inventory import load_inventory
from remediate.load.playbook import load_playbook
from remediate.model import Audit
from remediate.plan.masking import Masker
from remediate.report.prometheus import audit_metrics

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "docs" / "playbook.md", REPO / "docs" / "inventory.md", REPO / "README.md"]


def examples() -> list[tuple[str, int, str]]:
    found = []
    for doc in DOCS:
        for match in re.finditer(r"```yaml\n(.*?)```", doc.read_text(), re.DOTALL):
            line = doc.read_text()[: match.start()].count("\n") + 1
            found.append((doc.name, line, match.group(1)))
    return found


@pytest.mark.parametrize(("doc", "line", "text"), examples(), ids=[f"{d}:{n}" for d, n, _ in examples()])
def test_every_example_loads(doc: str, line: int, text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_PASSWORD", "x")
    monkeypatch.setenv("API_TOKEN", "y")
    (tmp_path / "templates").mkdir()
    for template in re.findall(r"src: (\S+\.j2)", text):
        (tmp_path / template).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / template).write_text("# {{ host.name }}\n")
    path = tmp_path / "example.yml"
    if "steps:" in text:
        path.write_text(text)
        assert load_playbook(str(path)).steps
    elif re.search(r"^hosts:", text, re.MULTILINE):
        path.write_text(text)
        assert load_inventory(str(path)).hosts
    elif "verify:" in text or "http:" in text:  # a verify list on its own (the README's probe list)
        path.write_text("steps: [{line_patch: {path: /x, regex: a, replace: b}}]\n" + text)
        assert load_playbook(str(path)).verify
    else:
        pytest.fail(f"{doc}:{line}: an example that is neither a playbook nor an inventory")


def parsers(parser: argparse.ArgumentParser, name: str = "remediate") -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(name, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                found += parsers(sub, f"{name} {sub_name}")
    return found


def test_every_command_and_option_has_help() -> None:
    for name, parser in parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                assert all(a.help for a in action._choices_actions), name
                continue
            assert action.help, f"{name} {'/'.join(action.option_strings) or action.dest} has no help"


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_shell_completion_completes_commands_options_and_playbooks(shell: str) -> None:
    setup = "setopt ksharrays; " if shell == "zsh" else ""
    # The interpreter running the tests (the venv's): a bare python3 is the system's, which on a new
    # machine has none of the project's packages.
    python = shlex.quote(sys.executable)
    script = (
        f'eval "$({python} -m remediate.cli.main completion {shell})"; {setup}cd {REPO}; '
        'COMP_WORDS=(remediate au); COMP_CWORD=1; _remediate; echo "${COMPREPLY[@]}"; '
        'COMP_WORDS=(remediate apply --canary-g); COMP_CWORD=2; _remediate; echo "${COMPREPLY[@]}"; '
        'COMP_WORDS=(remediate apply fix-p); COMP_CWORD=2; _remediate; echo "${COMPREPLY[@]}"'
    )
    lines = subprocess.run([shell, "-c", script], capture_output=True, text=True, check=True).stdout.splitlines()
    # zsh filters the candidates by what was typed itself; bash's compgen already did.
    assert "audit" in lines[0].split() and ("apply" not in lines[0].split() or shell == "zsh")
    assert "--canary-group" in lines[1].split()
    assert "fix-phpp" in lines[2].split()


MONITORING = REPO / "docs" / "monitoring.md"


def _blocks(doc: Path, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", doc.read_text(), re.DOTALL)


def _audit_metric_names() -> set[str]:
    """Every metric name audit --prometheus can write (an audit of no host still declares them all)."""
    audit = Audit("A", "pb", "inv.yml", (), (), True, 0.0)
    text = audit_metrics(audit, Masker()).decode()
    return {family.name for family in text_string_to_metric_families(text)}


def test_monitoring_alert_rules_load_and_name_only_metrics_that_audit_writes() -> None:
    blocks = _blocks(MONITORING, "yaml")
    assert blocks, "docs/monitoring.md has its alert rules as a yaml block"
    known = _audit_metric_names()
    for text in blocks:
        rules = [rule for group in yaml.safe_load(text)["groups"] for rule in group["rules"]]
        assert rules and all({"alert", "expr"} <= set(rule) for rule in rules)
        for rule in rules:
            assert set(re.findall(r"remediate_audit_\w+", rule["expr"])) <= known, rule["alert"]
            # for: is a Prometheus duration such as 30m
            assert re.fullmatch(r"\d+[smhd]", str(rule.get("for", "0s"))), rule["alert"]


def test_monitoring_command_lines_parse_and_the_timer_runs_the_service() -> None:
    text = MONITORING.read_text()
    commands = re.findall(r"(?:^|[\s/`])(remediate audit [^\n`]*?)(?=\s*>|\s*$|`)", text, re.MULTILINE)
    assert len(commands) >= 3  # cron, the systemd service, CI
    for command in commands:
        args = build_parser().parse_args(shlex.split(command)[1:])
        assert args.command == "audit", command
    units = _blocks(MONITORING, "ini")
    service = next(u for u in units if "[Service]" in u)
    timer = next(u for u in units if "[Timer]" in u)
    assert re.search(r"^ExecStart=/\S+/remediate audit ", service, re.MULTILINE)
    assert re.search(r"^SuccessExitStatus=1 3$", service, re.MULTILINE)  # drift is a finding, not a failed unit
    assert re.search(r"^OnCalendar=", timer, re.MULTILINE) and "WantedBy=timers.target" in timer
