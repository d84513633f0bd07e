"""Probes to and from JSON, for the journal and plan files: a later rollback runs the probes the run had."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from remediate.model import (
    CommandProbe,
    FileProbe,
    HttpProbe,
    Probe,
    TcpProbe,
)


def probe_to_json(probe: Probe) -> dict[str, Any]:
    kind = next(name for name, cls in _PROBE_TYPES.items() if isinstance(probe, cls))
    return {"kind": kind, **dataclasses.asdict(probe)}


def probe_from_json(data: Mapping[str, Any]) -> Probe:
    fields = dict(data)
    return _PROBE_TYPES[fields.pop("kind")](**fields)


_PROBE_TYPES: dict[str, type[Probe]] = {
    "http": HttpProbe, "tcp": TcpProbe, "command": CommandProbe, "file": FileProbe,
}  # fmt: skip
