"""What a probe kind is: its YAML key, its value type, how it is loaded and stored, and where and how it
runs. One kind per module (http, tcp, command, file); probes/registry holds them by key."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from remediate.model import Probe, ProbeResult, Renderer
from remediate.yamlnode import Node

MAX_CAPTURE = 64 * 1024  # bytes of a command's output or a file kept for matching and reporting

P = TypeVar("P", bound=Probe)


@dataclass(frozen=True)
class FromController(Generic[P]):
    """Runs from the controller, the way a user reaches the service: ``run(probe, address, sleep, retry)``
    with the host's address; ``retry`` false asks for one attempt (a --precheck)."""

    run: Callable[[P, str, Callable[[float], None], bool], ProbeResult]


@dataclass(frozen=True)
class OnHost(Generic[P]):
    """Runs on the host, batched with the host's other such probes into one remote command.

    ``script(probe, index)``: shell lines that print one line ``INDEX RC OUTPUT_B64`` (OUTPUT at most
    MAX_CAPTURE bytes); ``judge(probe, rc, output)``: the result from what they printed."""

    script: Callable[[P, int], list[str]]
    judge: Callable[[P, int, bytes], ProbeResult]


def dataclass_to_json(probe: Any) -> dict[str, Any]:
    return dataclasses.asdict(probe)


@dataclass(frozen=True)
class ProbeKind(Generic[P]):
    key: str  # under ``verify:`` in a playbook, and the ``kind`` of its JSON in plan files and the journal
    type: type[P]  # the probe value it loads; each value belongs to exactly one kind
    load: Callable[[Node], P]  # the node of the kind's mapping (``verify[0].http``)
    runs: FromController[P] | OnHost[P]
    # The JSON of a probe without its "kind" (which the codec adds): what plan files and the journal hold,
    # so it must read back every probe a journal ever stored. By default the dataclass' fields.
    to_json: Callable[[P], dict[str, Any]] = dataclass_to_json
    from_json: Callable[[Mapping[str, Any]], P] | None = None  # None: the type called with the fields

    def decode(self, fields: Mapping[str, Any]) -> P:
        if self.from_json is not None:
            return self.from_json(fields)
        return self.type(**fields)


def render_strings(probe: P, renderer: Renderer, key: str, commands: tuple[str, ...] = ()) -> P:
    """The probe with every string field rendered (``commands``: as shell commands); ``key`` is its kind's."""
    changes = {
        f.name: (renderer.command if f.name in commands else renderer.field)(f"{key}.{f.name}", value)
        for f in dataclasses.fields(probe)  # type: ignore[arg-type]
        if isinstance(value := getattr(probe, f.name), str)
    }
    return dataclasses.replace(probe, **changes)  # type: ignore[type-var]
