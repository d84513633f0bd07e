"""Probes to and from JSON, for the journal and plan files: a later rollback runs the probes the run had.

``{"kind": KEY, ...the kind's own fields}``: a journal written before any of this still reads back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from remediate.model import Probe
from remediate.probes.registry import kind_of, probe_kind


def probe_to_json(probe: Probe) -> dict[str, Any]:
    kind = kind_of(probe)
    return {"kind": kind.key, **kind.to_json(probe)}


def probe_from_json(data: Mapping[str, Any]) -> Probe:
    fields = dict(data)
    probe: Probe = probe_kind(fields.pop("kind")).decode(fields)
    return probe
