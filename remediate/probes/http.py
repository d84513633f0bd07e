"""The ``http`` probe: a URL answers with the expected status (and body text), asked from the controller
the way a user reaches the service, retried while a service settles after a change."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from remediate.model import ProbeResult, Renderer
from remediate.probes.base import MAX_CAPTURE, FromController, ProbeKind, render_strings
from remediate.yamlnode import Node

KEY = "http"
KEYS = ("url", "expect_status", "contains", "timeout", "retries", "delay")


@dataclass(frozen=True)
class HttpProbe:
    url: str
    expect_status: int = 200
    contains: str | None = None
    timeout: float = 5.0
    retries: int = 3
    delay: float = 1.0

    def describe(self) -> str:
        return f"http {self.url}"

    def rendered(self, renderer: Renderer) -> HttpProbe:
        return render_strings(self, renderer, KEY)


def load(node: Node) -> HttpProbe:
    f = node.mapping(KEYS, required=("url",))
    return HttpProbe(
        url=f["url"].string(),
        expect_status=f["expect_status"].integer(100, 599) if "expect_status" in f else 200,
        contains=f["contains"].string() if "contains" in f else None,
        timeout=f["timeout"].number(0.1) if "timeout" in f else 5.0,
        retries=f["retries"].integer(1, 100) if "retries" in f else 3,
        delay=f["delay"].number() if "delay" in f else 1.0,
    )


def run(probe: HttpProbe, address: str, sleep: Callable[[float], None] = time.sleep, retry: bool = True) -> ProbeResult:
    """``retry``: the probe gets its ``retries``, for a service settling after a change; without, one
    attempt (a --precheck looks at the health as it is, and need not wait for it)."""
    attempts = max(1, probe.retries) if retry else 1
    result = _http_once(probe)
    for _ in range(attempts - 1):
        if result.ok:
            break
        sleep(probe.delay)
        result = _http_once(probe)
    return result


def _http_once(probe: HttpProbe) -> ProbeResult:
    # Imported here: urllib and http.client are 15 ms of every run's start, and most runs probe no URL.
    import urllib.error
    import urllib.request

    request = urllib.request.Request(probe.url, headers={"User-Agent": "remediate-probe"})
    try:
        with urllib.request.urlopen(request, timeout=probe.timeout) as response:
            status, body = int(response.status), response.read(MAX_CAPTURE)
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read(MAX_CAPTURE)
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", e)
        return ProbeResult(probe.describe(), False, f"no answer: {reason}")
    if status != probe.expect_status:
        return ProbeResult(probe.describe(), False, f"HTTP {status}, expected {probe.expect_status}")
    if probe.contains is not None and probe.contains not in body.decode("utf-8", errors="replace"):
        return ProbeResult(probe.describe(), False, f"HTTP {status} but the body lacks '{probe.contains}'")
    return ProbeResult(probe.describe(), True, f"HTTP {status}")


KIND = ProbeKind(KEY, HttpProbe, load, FromController(run))
