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
# The most a host may send for a script that carries no file's bytes back (a write, probes): its
# records, one file's current content for a conflict's diff (CURRENT_LIMIT, base64) and the outputs of
# its validators and handlers. Past a limit the host fails alone and its answer is not read further, so
# one flooding host cannot fill the controller's memory.
CURRENT_LIMIT = 1 << 20  # bytes of a conflicting file sent back to show what changed
ANSWER_FLOOR = 16 << 20


def reading_limit(files: int, max_file_size: int) -> int:
    """The most a host may send when it reads ``files`` files of at most ``max_file_size`` bytes each:
    every file's bytes in base64 (4/3 of them) plus its line, and the floor for the rest."""
    return files * (-(-max_file_size * 4 // 3) + 4096) + ANSWER_FLOOR


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
