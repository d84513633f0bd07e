"""The frame of every answer a host's script sends: reading files, writing them, probing.

A script's first line of output is ``BEGIN`` and its last ``END``; the lines between are its records.
Each record is made of words the script wrote itself (a word, an index, a sha256) and of base64 of
anything that came from the host (a file name, a command's output, a file's bytes), so no name or
output on the host can make a line of its own. Around that:

- what comes before ``BEGIN`` is chatter (a login script's greeting) and is ignored;
- ``END`` counts only as the answer's very last line: a script that stopped early (``exit``, killed,
  a lost connection) has an incomplete answer, whatever it printed before;
- what the parsers do not recognise fails that host alone, with the raw tail of the answer in the
  message (and so in the journal).
"""

from __future__ import annotations

from dataclasses import dataclass

BEGIN = "remediate-answer-begin"
END = "remediate-answer-end"
BEGIN_LINE = f"echo {BEGIN}"  # the script's first output
END_LINE = f"echo {END}"  # the script's last output, only when it got to its end
TAIL = 200  # characters of the raw answer kept to say what was unexpected


@dataclass(frozen=True)
class Answer:
    records: tuple[str, ...]  # the lines between BEGIN and END (to the answer's end when END is missing)
    complete: bool  # BEGIN came, and END was the last line
    raw_tail: str  # the answer's last TAIL characters, as received

    def unexpected(self, what: str) -> str:
        """One line for a host whose answer did not say what it should: ``what``, then the raw tail."""
        return f"unexpected answer {what}: {self.raw_tail!r}"


def read_answer(output: bytes) -> Answer:
    text = output.decode("utf-8", errors="replace")
    lines = text.splitlines()
    raw_tail = text[-TAIL:]
    try:
        start = lines.index(BEGIN)
    except ValueError:
        return Answer((), False, raw_tail)
    body = lines[start + 1 :]
    if body and body[-1] == END:
        return Answer(tuple(body[:-1]), True, raw_tail)
    return Answer(tuple(body), False, raw_tail)
