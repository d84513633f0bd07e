"""Typed playbook fields read from a ``Node``: paths, regexes, commands, file modes, match ranges.

Shared by the playbook loader, the step types (actions/) and the probe kinds (probes/), so that a field
means the same, and is refused with the same words, whichever of them reads it.
"""

from __future__ import annotations

import re

from remediate.limits import regex_problem
from remediate.model import MatchRange
from remediate.yamlnode import Node

_TEMPLATE_MARKERS = re.compile(r"\{\{|\{%|\{#")


def has_template_syntax(value: str) -> bool:
    return bool(_TEMPLATE_MARKERS.search(value))


def path_field(node: Node) -> str:
    value = node.string()
    if not has_template_syntax(value) and not value.startswith("/"):
        raise node.error(f"must be an absolute path, got {value!r}")
    return value


def regex_field(node: Node) -> str:
    value = node.string()
    check_regex(node, value)
    return value


def check_regex(node: Node, value: str) -> None:
    if has_template_syntax(value):
        return  # checked once rendered, per host
    problem = regex_problem(value)
    if problem:
        raise node.error(problem)


def command_field(node: Node) -> str:
    value = node.string()
    if not value.strip():
        raise node.error("must not be empty")
    return value


def mode_field(node: Node) -> int:
    value = node.value
    if isinstance(value, str) and re.fullmatch(r"0?[0-7]{3,4}", value):
        return int(value, 8)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0o7777:
        return value  # YAML 1.1 already read an unquoted 0644 as octal
    raise node.error(f'expected an octal file mode such as "0644", got {value!r}')


def match_range_field(node: Node) -> MatchRange:
    value = node.value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return MatchRange(value, value)
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+)\s*\.\.\s*(\d*)\s*", value)
        if m:
            low, high = int(m.group(1)), int(m.group(2)) if m.group(2) else None
            if high is None or high >= low:
                return MatchRange(low, high)
    raise node.error(f"expected a number or a range such as 0..1 or 1.., got {value!r}")
