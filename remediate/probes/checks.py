"""Verification probes: is the service healthy? Run after a host's changes (and before, with --precheck).

``http`` and ``tcp`` probes go from the controller, the way a user reaches the service. ``command`` and
``file`` probes run on the host, all of one host batched into one remote command (a shell half and a
pure parser half, as for reading files); a ``file`` probe's regex is matched here, in Python, so that it
means the same as every other regex of a playbook.
"""

from __future__ import annotations

import base64
import binascii
import re
import shlex
import socket
import time
from collections.abc import Callable, Sequence

from remediate.errors import HostError
from remediate.model import CommandProbe, FileProbe, HostProbe, HttpProbe, ProbeResult, TcpProbe
from remediate.remote.answer import BEGIN_LINE, END_LINE, read_answer

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


def host_probe_script(probes: Sequence[HostProbe]) -> bytes:
    """One line per probe: ``INDEX RC OUTPUT_B64`` (for a file probe RC is 0 when it could be read)."""
    lines = ["LC_ALL=C; export LC_ALL", "nl='\n'", BEGIN_LINE]
    for i, probe in enumerate(probes):
        if isinstance(probe, CommandProbe):
            # No pipe after the command: $? must be the command's own exit status.
            # timeout leads a process group of its own: once the command has ended (or been ended at its
            # deadline) the whole group goes, so a child it left holding the output open (``(sleep 20 &)``)
            # can hold up neither the answer nor the host. The status comes last, on a line of its own.
            lines.append(
                f"o=$(timeout -k 1 {probe.timeout:g} sh -c {shlex.quote(probe.run)} 2>&1 </dev/null & p=$!;"
                " wait $p; r=$?; kill -KILL -$p 2>/dev/null; printf '\\n%s' \"$r\")"
            )
            lines.append("r=${o##*$nl}; o=${o%$nl*}")
            lines.append(
                f'printf \'%s %s %s\\n\' {i} "$r" "$(printf \'%s\' "$o" | head -c {MAX_CAPTURE} | base64 -w0)"'
            )
        else:
            path = shlex.quote(probe.path)
            lines.append(
                f"if [ -f {path} ] && [ -r {path} ]; then"
                f" printf '%s 0 %s\\n' {i} \"$(head -c {MAX_CAPTURE} -- {path} | base64 -w0)\";"
                f" else printf '%s 1 \\n' {i}; fi"
            )
    lines.append(END_LINE)
    return ("\n".join(lines) + "\n").encode()


def parse_host_probes(output: bytes, probes: Sequence[HostProbe]) -> list[ProbeResult]:
    answer = read_answer(output)
    answers: dict[int, tuple[int, bytes]] = {}
    for raw in answer.records:
        parts = raw.split(" ")
        try:
            if len(parts) != 3 or not parts[0].isdigit() or not parts[1].lstrip("-").isdigit():
                raise ValueError(raw)
            answers[int(parts[0])] = (int(parts[1]), base64.b64decode(parts[2], validate=True))
        except (binascii.Error, ValueError):
            raise HostError(answer.unexpected("from the probes")) from None
    if not answer.complete:
        raise HostError(answer.unexpected("from the probes (they stopped before their end)"))
    results = []
    for i, probe in enumerate(probes):
        if i not in answers:
            raise HostError(f"no answer from probe {probe.describe()}")
        rc, output = answers[i]
        results.append(
            _judge_command(probe, rc, output) if isinstance(probe, CommandProbe) else _judge_file(probe, rc, output)
        )
    return results


def _judge_command(probe: CommandProbe, rc: int, output: bytes) -> ProbeResult:
    text = output.decode("utf-8", errors="replace").strip()
    tail = text[-200:].replace("\n", " | ")
    if rc == 124:
        return ProbeResult(probe.describe(), False, f"timed out after {probe.timeout:g}s")
    if rc != probe.expect_rc:
        return ProbeResult(probe.describe(), False, f"rc {rc}, expected {probe.expect_rc}: {tail}")
    if probe.contains is not None and probe.contains not in text:
        return ProbeResult(probe.describe(), False, f"rc {rc} but the output lacks '{probe.contains}': {tail}")
    return ProbeResult(probe.describe(), True, f"rc {rc}")


def _judge_file(probe: FileProbe, rc: int, raw: bytes) -> ProbeResult:
    content = raw.decode("utf-8", errors="replace")
    if rc != 0:
        return ProbeResult(probe.describe(), False, "not a readable file")
    if probe.contains is not None and not re.search(probe.contains, content, re.MULTILINE):
        return ProbeResult(probe.describe(), False, f"no match of '{probe.contains}'")
    if probe.absent is not None and (m := re.search(probe.absent, content, re.MULTILINE)):
        return ProbeResult(probe.describe(), False, f"'{probe.absent}' still matches: {m.group(0)[:80]!r}")
    return ProbeResult(probe.describe(), True, "as expected")
