"""Line patching: sed-style substitution, ensure_line and absent, line by line, with an idempotency check."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from remediate.actions.lines import Line, join_lines, split_lines, usual_ending
from remediate.model import AbsentLines, EnsureLine, LineOperation, LinePatch, Substitute


class NotIdempotent(Exception):
    """Applying the patch to its own output changes the file again: a playbook bug, refused at plan time."""


class UnexpectedMatches(Exception):
    """The file has a number of matches outside ``expect_matches``: this host is not patched."""


@dataclass(frozen=True)
class PatchResult:
    text: str
    matches: int
    reason: str  # why nothing changed, when text is unchanged


def apply_operation(operation: LineOperation, text: str) -> PatchResult:
    if isinstance(operation, Substitute):
        return _substitute(operation, text)
    lines = split_lines(text)
    if isinstance(operation, EnsureLine):
        return _ensure_line(operation, lines, text)
    return _absent(operation, lines, text)


# A fleet's hosts mostly hold the same file: the same patch of the same text is worked out once. A few
# variants are kept (each entry holds a whole file, twice).
@functools.lru_cache(maxsize=16)
def patch(step: LinePatch, text: str) -> PatchResult:
    """The new text, after checking ``expect_matches`` and that a second application would change nothing."""
    result = apply_operation(step.operation, text)
    if step.expect_matches is not None and result.matches not in step.expect_matches:
        raise UnexpectedMatches(
            f"{step.path} has {result.matches} match(es) of {_describe(step.operation)}, expected {step.expect_matches}"
        )
    if result.text != text:
        again = apply_operation(step.operation, result.text)
        if again.text != result.text:
            raise NotIdempotent(
                f"applying it to its own output changes {step.path} again ({_describe(step.operation)}); "
                "make the regex stop matching what the replacement writes"
            )
    return result


def _describe(operation: LineOperation) -> str:
    if isinstance(operation, EnsureLine):
        return f"line '{operation.line}'" if operation.regex is None else f"regex '{operation.regex}'"
    return f"regex '{operation.regex}'"


def _substitute(operation: Substitute, text: str) -> PatchResult:
    # The file's lines as split_lines makes them, without a Line object each: most lines of a file do not
    # match, and a plan patches the same file on every host of a fleet. A part before a "\n" that ends in
    # "\r" is a CRLF line, whose body is matched without its "\r"; joining the parts with "\n" gives the
    # text back byte for byte.
    regex = re.compile(operation.regex)
    budget = operation.count or None  # None: unlimited
    matches = 0
    parts = text.split("\n")
    last = len(parts) - 1
    changed = False
    for position, part in enumerate(parts):
        crlf = position < last and part.endswith("\r")
        body = part[:-1] if crlf else part
        if regex.search(body) is None:
            continue
        matches += sum(1 for _ in regex.finditer(body))
        if budget is not None and budget <= 0:
            continue
        limit = 1 if operation.first_per_line else 0
        if budget is not None:
            limit = budget if limit == 0 else min(limit, budget)
        new_body, made = regex.subn(operation.replace, body, count=limit)
        if budget is not None:
            budget -= made
        if new_body != body:
            parts[position] = new_body + "\r" if crlf else new_body
            changed = True
    new_text = "\n".join(parts) if changed else text
    reason = (
        ""
        if new_text != text
        else (
            f"no line matches '{operation.regex}'" if matches == 0 else "every match already reads as the replacement"
        )
    )
    return PatchResult(new_text, matches, reason)


def _ensure_line(operation: EnsureLine, lines: list[Line], text: str) -> PatchResult:
    bodies = [line.body for line in lines]
    if operation.regex is not None:
        regex = re.compile(operation.regex)
        matches = sum(1 for body in bodies if regex.search(body))
    else:
        matches = bodies.count(operation.line)
    if operation.line in bodies:
        return PatchResult(text, matches, "the line is already present")
    ending = usual_ending(lines)
    if operation.regex is not None and matches:
        index = max(i for i, body in enumerate(bodies) if regex.search(body))
        lines = [*lines[:index], Line(operation.line, lines[index].ending), *lines[index + 1 :]]
        return PatchResult(join_lines(lines), matches, "")
    position = len(lines)  # lineinfile's rule: an anchor that matches nothing means the end of the file
    if operation.after is not None:
        after = re.compile(operation.after)
        hits = [i for i, body in enumerate(bodies) if after.search(body)]
        position = hits[-1] + 1 if hits else len(lines)
    elif operation.before is not None:
        before = re.compile(operation.before)
        position = next((i for i, body in enumerate(bodies) if before.search(body)), len(lines))
    if position == len(lines) and lines and not lines[-1].ending:
        # The file ends without a newline: the old last line gets one, the new last line keeps the lack.
        lines = [*lines[:-1], Line(lines[-1].body, ending)]
        return PatchResult(join_lines([*lines, Line(operation.line, "")]), matches, "")
    lines = [*lines[:position], Line(operation.line, ending), *lines[position:]]
    return PatchResult(join_lines(lines), matches, "")


def _absent(operation: AbsentLines, lines: list[Line], text: str) -> PatchResult:
    regex = re.compile(operation.regex)
    kept = [line for line in lines if not regex.search(line.body)]
    matches = len(lines) - len(kept)
    if not matches:
        return PatchResult(text, 0, f"no line matches '{operation.regex}'")
    return PatchResult(join_lines(kept), matches, "")
