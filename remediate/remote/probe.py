"""The host half of the ``command`` and ``file`` probes: all of one host's in one remote command, and the
parser of its answer (framed as ``answer`` says); each kind judges its own result (``probes``)."""

from __future__ import annotations

import base64
import binascii
import shlex
from collections.abc import Sequence

from remediate.errors import HostError
from remediate.model import CommandProbe, HostProbe, ProbeResult
from remediate.probes.checks import MAX_CAPTURE, judge_command, judge_file
from remediate.remote.answer import BEGIN_LINE, END_LINE, read_answer
from remediate.remote.shell import DATA_WORDS, library


def host_probe_script(probes: Sequence[HostProbe]) -> bytes:
    """One line per probe: ``INDEX RC OUTPUT_B64`` (for a file probe RC is 0 when it could be read), from
    the functions of sh/probe.sh."""
    lines = [DATA_WORDS, f"MAX_CAPTURE={MAX_CAPTURE}", library("probe.sh"), BEGIN_LINE]
    for i, probe in enumerate(probes):
        if isinstance(probe, CommandProbe):
            lines.append(f"probe_command {i} {probe.timeout:g} {shlex.quote(probe.run)}")
        else:
            lines.append(f"probe_file {i} {shlex.quote(probe.path)}")
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
            judge_command(probe, rc, output) if isinstance(probe, CommandProbe) else judge_file(probe, rc, output)
        )
    return results
