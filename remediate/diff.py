"""Unified diffs of planned changes, exactly as they will be written. Pure."""

from __future__ import annotations

import difflib
import functools

from .model import FileChange


# A fleet mostly gets the same change on every host: the same change is diffed once (a diff of a
# 700-line file takes about half a millisecond), however many hosts show it.
@functools.lru_cache(maxsize=256)
def file_diff(change: FileChange) -> str:
    before = "" if change.before is None else change.before.decode("utf-8", errors="replace")
    after = change.after.decode("utf-8", errors="replace")
    header = []
    if change.before is None:
        header.append(f"new file {change.path} mode {change.mode:04o}\n")
    elif change.before_mode is not None and change.before_mode != change.mode:
        header.append(f"mode {change.before_mode:04o} -> {change.mode:04o}\n")
    if change.owner or change.group:
        header.append(f"owner -> {change.owner or ''}{':' + change.group if change.group else ''}\n")
    body = difflib.unified_diff(
        _lines(before),
        _lines(after),
        fromfile="/dev/null" if change.before is None else f"a{change.path}",
        tofile=f"b{change.path}",
    )
    return "".join(header) + "".join(body)


def _lines(text: str) -> list[str]:
    """Lines with their endings; a last line without one is marked as diff(1) marks it."""
    # str.splitlines would also break on \x0b, \x1c and friends; only \n ends a line in a file.
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines
