"""line_patch semantics, from the case table in cases/line_patch.yml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from remediate.actions import patching
from remediate.actions.line_patch import load as load_line_patch
from remediate.model import LinePatch
from remediate.yamlnode import Node

CASES = yaml.safe_load((Path(__file__).parents[1] / "cases" / "line_patch.yml").read_text())


def step_from(fields: dict[str, Any]) -> LinePatch:
    """The same parsing a playbook's step goes through."""
    return load_line_patch(Node(Path("case.yml"), "line_patch", {"path": "/etc/x.conf", **fields}))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_line_patch_case(case: dict[str, Any]) -> None:
    step = step_from(case["step"])
    if "error" in case:
        expected = patching.NotIdempotent if case["error"] == "not idempotent" else patching.UnexpectedMatches
        with pytest.raises(expected) as raised:
            patching.patch(step, case["before"])
        if expected is patching.UnexpectedMatches:
            assert case["error"] in str(raised.value)
        return
    result = patching.patch(step, case["before"])
    assert result.text == case["after"]
    assert result.matches == case["matches"]
    if "reason" in case:
        assert result.reason == case["reason"]
    # Idempotent by contract: applying the patch to its own output changes nothing.
    assert patching.patch(step, result.text).text == result.text


def test_every_case_is_distinct() -> None:
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)) > 20
