"""The ``tcp`` probe: a port accepts connections, tried from the controller (on the host's own address
unless the probe names another)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass

from remediate.model import ProbeResult, Renderer
from remediate.probes.base import FromController, ProbeKind, render_strings
from remediate.yamlnode import Node

KEY = "tcp"
KEYS = ("port", "host", "timeout")


@dataclass(frozen=True)
class TcpProbe:
    port: int
    host: str | None = None  # None: the host's own address
    timeout: float = 5.0

    def describe(self) -> str:
        return f"tcp {self.host or ''}:{self.port}"

    def rendered(self, renderer: Renderer) -> TcpProbe:
        return render_strings(self, renderer, KEY)


def load(node: Node) -> TcpProbe:
    f = node.mapping(KEYS, required=("port",))
    return TcpProbe(
        port=f["port"].integer(1, 65535),
        host=f["host"].string() if "host" in f else None,
        timeout=f["timeout"].number(0.1) if "timeout" in f else 5.0,
    )


def run(probe: TcpProbe, address: str, sleep: Callable[[float], None], retry: bool) -> ProbeResult:
    """One connection attempt (``sleep`` and ``retry`` are for kinds that wait)."""
    address = probe.host or address
    try:
        with socket.create_connection((address, probe.port), timeout=probe.timeout):
            return ProbeResult(probe.describe(), True, f"{address}:{probe.port} accepts connections")
    except OSError as e:
        return ProbeResult(probe.describe(), False, f"{address}:{probe.port}: {e.strerror or e}")


KIND = ProbeKind(KEY, TcpProbe, load, FromController(run))
