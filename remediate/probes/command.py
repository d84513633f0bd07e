"""The ``command`` probe: a shell command on the host exits with the expected status (and prints the
expected text); run with the host's other host probes in one remote command (remote/probe)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from remediate.fields import command_field
from remediate.model import ProbeResult, Renderer
from remediate.probes.base import OnHost, ProbeKind, render_strings
from remediate.yamlnode import Node

KEY = "command"
KEYS = ("run", "expect_rc", "contains", "timeout")


@dataclass(frozen=True)
class CommandProbe:
    run: str
    expect_rc: int = 0
    contains: str | None = None
    timeout: float = 30.0

    def describe(self) -> str:
        return f"command {self.run}"

    def rendered(self, renderer: Renderer) -> CommandProbe:
        return render_strings(self, renderer, KEY, commands=("run",))


def load(node: Node) -> CommandProbe:
    f = node.mapping(KEYS, required=("run",))
    return CommandProbe(
        run=command_field(f["run"]),
        expect_rc=f["expect_rc"].integer(0, 255) if "expect_rc" in f else 0,
        contains=f["contains"].string() if "contains" in f else None,
        timeout=f["timeout"].number(0.1) if "timeout" in f else 30.0,
    )


def script(probe: CommandProbe, index: int) -> list[str]:
    """A call of remote/sh/probe.sh's probe_command: the command under its timeout, its status and output."""
    return [f"probe_command {index} {probe.timeout:g} {shlex.quote(probe.run)}"]


def judge(probe: CommandProbe, rc: int, output: bytes) -> ProbeResult:
    text = output.decode("utf-8", errors="replace").strip()
    tail = text[-200:].replace("\n", " | ")
    if rc == 124:
        return ProbeResult(probe.describe(), False, f"timed out after {probe.timeout:g}s")
    if rc != probe.expect_rc:
        return ProbeResult(probe.describe(), False, f"rc {rc}, expected {probe.expect_rc}: {tail}")
    if probe.contains is not None and probe.contains not in text:
        return ProbeResult(probe.describe(), False, f"rc {rc} but the output lacks '{probe.contains}': {tail}")
    return ProbeResult(probe.describe(), True, f"rc {rc}")


KIND = ProbeKind(KEY, CommandProbe, load, OnHost(script, judge))
