"""Verification probes: is the service healthy? Run after a host's changes (and before, with --precheck).

``http`` and ``tcp`` probes go from the controller, the way a user reaches the service. ``command`` and
``file`` probes run on the host, all of one host batched into one remote command (a shell half and a
pure parser half, as for reading files); a ``file`` probe's regex is matched here, in Python, so that it
means the same as every other regex of a playbook.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable

from remediate.model import CommandProbe, FileProbe, HttpProbe, ProbeResult, TcpProbe

MAX_CAPTURE = 64 * 1024  # bytes of a command's output or a file kept for matching and reporting


def run_on_controller(
    probe: HttpProbe | TcpProbe, address: str, sleep: Callable[[float], None] = time.sleep, retry: bool = True
) -> ProbeResult:
    """One probe from here. ``retry``: an http probe gets its ``retries``, for a service settling after a
    change; without, one attempt (a --precheck looks at the health as it is, and need not wait for it).
    """
    if isinstance(probe, TcpProbe):
        return _tcp(probe, probe.host or address)
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


def _tcp(probe: TcpProbe, address: str) -> ProbeResult:
    try:
        with socket.create_connection((address, probe.port), timeout=probe.timeout):
            return ProbeResult(probe.describe(), True, f"{address}:{probe.port} accepts connections")
    except OSError as e:
        return ProbeResult(probe.describe(), False, f"{address}:{probe.port}: {e.strerror or e}")


# --- probes that run on the host, batched ---------------------------------------------------------------


def judge_command(probe: CommandProbe, rc: int, output: bytes) -> ProbeResult:
    text = output.decode("utf-8", errors="replace").strip()
    tail = text[-200:].replace("\n", " | ")
    if rc == 124:
        return ProbeResult(probe.describe(), False, f"timed out after {probe.timeout:g}s")
    if rc != probe.expect_rc:
        return ProbeResult(probe.describe(), False, f"rc {rc}, expected {probe.expect_rc}: {tail}")
    if probe.contains is not None and probe.contains not in text:
        return ProbeResult(probe.describe(), False, f"rc {rc} but the output lacks '{probe.contains}': {tail}")
    return ProbeResult(probe.describe(), True, f"rc {rc}")


def judge_file(probe: FileProbe, rc: int, raw: bytes) -> ProbeResult:
    content = raw.decode("utf-8", errors="replace")
    if rc != 0:
        return ProbeResult(probe.describe(), False, "not a readable file")
    if probe.contains is not None and not re.search(probe.contains, content, re.MULTILINE):
        return ProbeResult(probe.describe(), False, f"no match of '{probe.contains}'")
    if probe.absent is not None and (m := re.search(probe.absent, content, re.MULTILINE)):
        return ProbeResult(probe.describe(), False, f"'{probe.absent}' still matches: {m.group(0)[:80]!r}")
    return ProbeResult(probe.describe(), True, "as expected")
