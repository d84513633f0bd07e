"""The host half of the probes that run on the host (``command``, ``file``): all of one host's in one remote
command, and the parser of its answer (framed as ``answer`` says); each kind writes its own shell lines and
judges its own result (probes/)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from remediate.errors import HostError
from remediate.model import Probe, ProbeResult
from remediate.probes.base import MAX_CAPTURE
from remediate.probes.checks import host_script, judge_on_host
from remediate.remote.answer import BEGIN_LINE, END_LINE, read_answer
from remediate.remote.shell import DATA_WORDS, library


def host_probe_script(probes: Sequence[Probe]) -> bytes:
    """One line per probe: ``INDEX RC OUTPUT_B64``, each kind's lines printing its own (the built-in kinds
    call the functions of sh/probe.sh)."""
    lines = [DATA_WORDS, f"MAX_CAPTURE={MAX_CAPTURE}", library("probe.sh"), BEGIN_LINE]
    for i, probe in enumerate(probes):
        lines += host_script(probe, i)
    lines.append(END_LINE)
    return ("\n".join(lines) + "\n").encode()


def parse_host_probes(output: bytes, probes: Sequence[Probe]) -> list[ProbeResult]:
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
        results.append(judge_on_host(probe, rc, output))
    return results
