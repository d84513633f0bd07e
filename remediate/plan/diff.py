"""Unified diffs of planned changes, exactly as they will be written. Pure.

The diff is of the true bytes, printed in the forms the change shows (``shown_before``/``shown_after``:
lines a secret is rendered into, masked): a line whose secret changed is still a ``-``/``+`` pair.
"""

from __future__ import annotations

import difflib
import functools

from remediate.model import FileChange


# A fleet mostly gets the same change on every host: the same change is diffed once (a diff of a
# 700-line file takes about half a millisecond), however many hosts show it.
@functools.lru_cache(maxsize=256)
def file_diff(change: FileChange) -> str:
    before = _text(change.before)
    after = _text(change.after)
    header = []
    if change.delete:  # undoing a created file: so are the folders made for it, while empty
        header += [f"folder {folder} removed if empty\n" for folder in reversed(change.folders)]
    elif change.before is None:
        header += [f"new folder {folder} mode 0755\n" for folder in change.folders]
        header.append(f"new file {change.path} mode {change.mode:04o}\n")
    elif change.before_mode is not None and change.before_mode != change.mode:
        header.append(f"mode {change.before_mode:04o} -> {change.mode:04o}\n")
    if change.owner or change.group:
        header.append(f"owner -> {change.owner or ''}{':' + change.group if change.group else ''}\n")
    a, b = _lines(before), _lines(after)
    shown_a = a if change.shown_before is None else _lines(_text(change.shown_before))
    shown_b = b if change.shown_after is None else _lines(_text(change.shown_after))
    if (len(shown_a), len(shown_b)) != (len(a), len(b)):  # not line for line: the masked forms only
        a, b = shown_a, shown_b
    body = _unified(
        a, b, shown_a, shown_b, "/dev/null" if change.before is None else f"a{change.path}", f"b{change.path}"
    )
    return "".join(header) + "".join(body)


def _text(data: bytes | None) -> str:
    return "" if data is None else data.decode("utf-8", errors="replace")


def _unified(
    a: list[str], b: list[str], shown_a: list[str], shown_b: list[str], fromfile: str, tofile: str
) -> list[str]:
    """difflib.unified_diff's output for ``a`` and ``b``, each line printed as its shown form."""
    out: list[str] = []
    for group in difflib.SequenceMatcher(None, a, b).get_grouped_opcodes(3):
        if not out:
            out += [f"--- {fromfile}\n", f"+++ {tofile}\n"]
        first, last = group[0], group[-1]
        out.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [" " + line for line in shown_a[i1:i2]]
                continue
            out += ["-" + line for line in shown_a[i1:i2]]
            out += ["+" + line for line in shown_b[j1:j2]]
    return out


def _range(start: int, stop: int) -> str:
    """A hunk's range as unified diffs write it (difflib's private _format_range_unified)."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start if not length else start + 1},{length}"


def _lines(text: str) -> list[str]:
    """Lines with their endings; a last line without one is marked as diff(1) marks it."""
    # str.splitlines would also break on \x0b, \x1c and friends; only \n ends a line in a file.
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines
