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
            judge_command(probe, rc, output) if isinstance(probe, CommandProbe) else judge_file(probe, rc, output)
        )
    return results
