"""A step type and a probe kind from outside the package, registered through the public functions: what a
plugin author writes. ``append_marker`` appends a line to a file unless it is there; ``marker`` checks on
the host that a file holds a string (grep -F, so the host does the matching)."""

from __future__ import annotations

import dataclasses
import shlex
from dataclasses import dataclass

from remediate.actions.base import ActionType, LoadContext, StepRenderer, WorkingFile, parents_option
from remediate.fields import path_field
from remediate.model import Host, Playbook, ProbeResult, Renderer, Step
from remediate.probes.base import OnHost, ProbeKind, render_strings
from remediate.yamlnode import Node

# --- the append_marker step type -----------------------------------------------------------------------


@dataclass(frozen=True)
class AppendMarker:
    path: str
    line: str

    @property
    def target(self) -> str:
        return self.path


MARKER_KEYS = ("path", "line", "parents")


def load_marker(node: Node, context: LoadContext) -> AppendMarker:
    fields = node.mapping(MARKER_KEYS, required=("path", "line"))
    line = fields["line"].string()
    if "\n" in line:
        raise fields["line"].error("one line, without a newline")
    return AppendMarker(path_field(fields["path"]), line)


def marker_parents(node: Node, action: AppendMarker) -> bool:
    return parents_option(node.mapping(MARKER_KEYS))


def render_marker(action: AppendMarker, renderer: StepRenderer) -> AppendMarker:
    path = renderer.field("append_marker.path", action.path)
    return AppendMarker(renderer.target("append_marker.path", path), renderer.field("append_marker.line", action.line))


def marker_missing_text(action: AppendMarker, where: str) -> str:
    return ""  # a missing file is made, holding the marker


def apply_marker(action: AppendMarker, working: WorkingFile, step: Step, playbook: Playbook, host: Host) -> str:
    text = working.text or ""
    if action.line in text.split("\n"):
        return "the marker is already there"
    working.text = (text if not text or text.endswith("\n") else text + "\n") + action.line + "\n"
    return ""


APPEND_MARKER = ActionType(
    "append_marker", (AppendMarker,), load_marker, marker_parents, render_marker, marker_missing_text, apply_marker
)


# --- the marker probe kind -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkerProbe:
    path: str
    text: str

    def describe(self) -> str:
        return f"marker {self.text!r} in {self.path}"

    def rendered(self, renderer: Renderer) -> MarkerProbe:
        rendered = render_strings(self, renderer, "marker")
        return dataclasses.replace(rendered, path=renderer.target("marker.path", rendered.path))


def load_marker_probe(node: Node) -> MarkerProbe:
    fields = node.mapping(("path", "text"), required=("path", "text"))
    return MarkerProbe(path_field(fields["path"]), fields["text"].string())


def marker_script(probe: MarkerProbe, index: int) -> list[str]:
    found = f"grep -qF -- {shlex.quote(probe.text)} {shlex.quote(probe.path)}"
    return [f"if {found} 2>/dev/null; then printf '%s 0 \\n' {index}; else printf '%s 1 \\n' {index}; fi"]


def judge_marker(probe: MarkerProbe, rc: int, output: bytes) -> ProbeResult:
    return ProbeResult(probe.describe(), rc == 0, "the marker is there" if rc == 0 else "no marker")


MARKER = ProbeKind("marker", MarkerProbe, load_marker_probe, OnHost(marker_script, judge_marker))
