"""The ``file`` probe: a file on the host matches (or does not match) a regex. The host sends the file's
start; the regex is matched here, in Python, so that it means the same as every other regex of a playbook."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, replace

from remediate.fields import path_field, regex_field
from remediate.model import ProbeResult, Renderer
from remediate.probes.base import OnHost, ProbeKind, render_strings
from remediate.yamlnode import Node

KEY = "file"
KEYS = ("path", "contains", "absent")


@dataclass(frozen=True)
class FileProbe:
    path: str
    contains: str | None = None  # a regex that must match somewhere in the file
    absent: str | None = None  # a regex that must match nowhere in it

    def describe(self) -> str:
        return f"file {self.path}"

    def rendered(self, renderer: Renderer) -> FileProbe:
        rendered = render_strings(self, renderer, KEY)
        return replace(rendered, path=renderer.target(f"{KEY}.path", rendered.path))


def load(node: Node) -> FileProbe:
    f = node.mapping(KEYS, required=("path",))
    if "contains" not in f and "absent" not in f:
        raise node.error("a file probe needs 'contains' or 'absent' (a regex)")
    return FileProbe(
        path=path_field(f["path"]),
        contains=regex_field(f["contains"]) if "contains" in f else None,
        absent=regex_field(f["absent"]) if "absent" in f else None,
    )


def script(probe: FileProbe, index: int) -> list[str]:
    """A call of remote/sh/probe.sh's probe_file: RC 0 and the file's bytes when it can be read, else 1."""
    return [f"probe_file {index} {shlex.quote(probe.path)}"]


def judge(probe: FileProbe, rc: int, raw: bytes) -> ProbeResult:
    content = raw.decode("utf-8", errors="replace")
    if rc != 0:
        return ProbeResult(probe.describe(), False, "not a readable file")
    if probe.contains is not None and not re.search(probe.contains, content, re.MULTILINE):
        return ProbeResult(probe.describe(), False, f"no match of '{probe.contains}'")
    if probe.absent is not None and (m := re.search(probe.absent, content, re.MULTILINE)):
        return ProbeResult(probe.describe(), False, f"'{probe.absent}' still matches: {m.group(0)[:80]!r}")
    return ProbeResult(probe.describe(), True, "as expected")


KIND = ProbeKind(KEY, FileProbe, load, OnHost(script, judge))
