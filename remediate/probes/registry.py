"""The probe kinds by YAML key, one line per kind; ``register_probe`` adds one from outside the package.

The order is the order a playbook's errors list them in ("a probe needs exactly one of: ...").
"""

from __future__ import annotations

from typing import Any

from remediate.model import Probe
from remediate.probes import command, file, http, tcp
from remediate.probes.base import ProbeKind

_KINDS: dict[str, ProbeKind[Any]] = {
    http.KEY: http.KIND,
    command.KEY: command.KIND,
    file.KEY: file.KIND,
    tcp.KEY: tcp.KIND,
}


def register_probe(kind: ProbeKind[Any]) -> None:
    """Adds a probe kind: playbooks may then use its key under ``verify:``."""
    if kind.key in _KINDS:
        raise ValueError(f"a probe kind '{kind.key}' is already registered")
    if any(known.type is kind.type for known in _KINDS.values()):
        raise ValueError(f"{kind.type.__name__} already belongs to a probe kind")
    _KINDS[kind.key] = kind


def unregister_probe(key: str) -> None:
    del _KINDS[key]


def probe_keys() -> tuple[str, ...]:
    return tuple(_KINDS)


def probe_kind(key: str) -> ProbeKind[Any]:
    """The kind of a key (KeyError: none has it)."""
    return _KINDS[key]


def kind_of(probe: Probe) -> ProbeKind[Any]:
    """The kind a probe value belongs to, by its exact type."""
    for kind in _KINDS.values():
        if type(probe) is kind.type:
            return kind
    raise TypeError(f"{type(probe).__name__} is not a registered probe kind's value")
