"""Masking by where a secret is: the lines of a file that a secret is rendered into. Pure.

Masking by value (``Masker``) finds a secret the tool knows. It cannot find the value a file held before
a rotation, nor a secret that went through a filter (``| b64encode``). So a file's lines are also masked
by position, in three steps:

1. ``rendered_secret_lines``: the template is rendered a second time with every secret replaced by a
   sentinel. A line of the true rendering that differs from the sentinel rendering depends on a secret:
   it is shown with the secret's place masked (``password = ********``), or masked whole when the
   secret was filtered or spans lines.
2. The planner maps those lines to the new file by their text (a later ``line_patch`` may move them),
   and masks by value what a ``line_patch`` wrote (``shown_lines``).
3. ``mask_like``: a line of another version of the file (the original, or what a host holds when an
   apply or a rollback finds it changed) is masked where it sits at a masked line's place, as the two
   versions line up in a diff, or where it has a masked line's shape (the text around the mask:
   ``password = ...``, wherever that line moved to). ``shown_version`` does so for a whole version,
   like each shown form at hand, and by value.

Each step keeps the number of lines, so a diff of the true bytes can be printed line by line in the
masked forms: a rotation still shows ``-password = ********`` / ``+password = ********``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from remediate.plan.masking import MASK, Masker

# Characters no template writes by accident, and no filter but one that changes every character alters.
_SENTINEL = "\x1esecret-{}\x1e"
_SENTINELS = re.compile("\x1esecret-[0-9]+\x1e")


def sentinel_context(context: Mapping[str, Any], secrets: frozenset[str]) -> dict[str, Any] | None:
    """The context with every variable whose value is a secret replaced by a sentinel of its own; None
    when no variable holds a secret (there is nothing to mask by where)."""
    changed: dict[str, Any] = {}
    for index, (name, value) in enumerate(context.items()):
        if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value) in secrets:
            changed[name] = _SENTINEL.format(index)
    return {**context, **changed} if changed else None


def rendered_secret_lines(real: str, sentinel: str | None) -> tuple[tuple[str, str], ...]:
    """``(line, masked line)`` for each line of the true rendering ``real`` that a secret is rendered
    into, found against ``sentinel``, the rendering with sentinels (None: it could not be rendered, a
    template that computes with a secret: every line is taken to hold one)."""
    lines = real.split("\n")
    if sentinel is None:
        return tuple((line, MASK) for line in lines if line.strip())
    marked = sentinel.split("\n")
    found: dict[str, str] = {}
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, lines, marked, autojunk=False).get_opcodes():
        if tag == "equal":
            continue  # the same text with and without the secret: the secret is not in it
        one_to_one = tag == "replace" and i2 - i1 == j2 - j1
        for k, line in enumerate(lines[i1:i2]):
            shape = marked[j1 + k] if one_to_one else ""
            if line.strip():  # an empty line holds nothing, and masking it would mask every empty line
                found[line] = _SENTINELS.sub(MASK, shape) if _SENTINELS.search(shape) else MASK
    return tuple(found.items())


def shown_lines(lines: Sequence[str], secret_lines: Mapping[str, str], masker: Masker) -> list[str]:
    """The lines of a new file as shown: those a template rendered a secret into, and any holding a
    secret's value."""
    return [secret_lines.get(line) or masker.text(line) for line in lines]


def mask_like(shown: Sequence[str], other: Sequence[str]) -> list[str]:
    """The lines of ``other`` (another version of the file ``shown`` shows) masked where ``shown`` masks."""
    hidden = [MASK in line for line in shown]
    if not any(hidden):
        return list(other)
    shapes = [_shape(line) for line, h in zip(shown, hidden, strict=True) if h]
    # A line that is the secret alone has no shape worth matching anywhere: it would match every line.
    telling = [s for s in shapes if s is not None]
    masked = list(other)
    opcodes = difflib.SequenceMatcher(None, list(shown), list(other), autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            continue
        block_hidden = any(hidden[i1:i2]) or (tag == "insert" and _near_hidden(hidden, i1))
        for k in range(j2 - j1):
            j = j1 + k
            paired = i1 + k if i1 + k < i2 else None
            if paired is not None and hidden[paired]:
                masked[j] = _masked_as(other[j], shown[paired])
            elif paired is None and block_hidden:
                masked[j] = MASK  # the version holds more lines here than the masked block (a longer key)
    for j, line in enumerate(masked):
        if MASK not in line:
            parts = next((parts for parts, regex in telling if regex.fullmatch(line)), None)
            if parts is not None:
                masked[j] = MASK.join(parts)
    return masked


def shown_version(other: bytes, shown: Sequence[bytes | None], masker: Masker | None = None) -> bytes | None:
    """``other``, one version of a file, as shown: masked like each of ``shown`` (the shown forms of other
    versions of it; None: one with nothing masked) and by ``masker``'s values. None: nothing in it is masked.

    Each form is applied in turn, as each knows lines the other may not: the original's shown form knows
    where its own secret lines sit, the new file's the shapes of lines the original lacks."""
    lines = other.decode("utf-8", errors="replace").split("\n")
    masked = lines
    for form in shown:
        if form is not None:
            masked = mask_like(form.decode("utf-8", errors="replace").split("\n"), masked)
    if masker is not None:
        masked = [masker.text(line) for line in masked]
    return "\n".join(masked).encode() if masked != lines else None


def _near_hidden(hidden: Sequence[bool], index: int) -> bool:
    return any(hidden[i] for i in (index - 1, index) if 0 <= i < len(hidden))


def _shape(masked_line: str) -> tuple[list[str], re.Pattern[str]] | None:
    """The text around a masked line's masks, and a pattern matching any line with that text around."""
    parts = masked_line.split(MASK)
    if not "".join(parts).strip():
        return None
    return parts, re.compile("(.*?)".join(re.escape(p) for p in parts), re.DOTALL)


def _masked_as(line: str, masked_line: str) -> str:
    """``line`` masked as ``masked_line`` is when it has its shape, else whole."""
    shape = _shape(masked_line)
    return masked_line if shape is not None and shape[1].fullmatch(line) else MASK
