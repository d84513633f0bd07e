"""Splitting text into lines and joining it back byte-for-byte: CRLF and a missing final newline survive."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    body: str  # without its line ending
    ending: str  # "\n", "\r\n", or "" for a last line with no newline


def split_lines(text: str) -> list[Line]:
    # str.splitlines would also split on \x0b, \x1c, \u2028 and friends, which are not line breaks in a
    # config file; only \n is, with an optional \r before it.
    parts = text.split("\n")
    lines = [Line(p[:-1], "\r\n") if p.endswith("\r") else Line(p, "\n") for p in parts[:-1]]
    if parts[-1]:
        lines.append(Line(parts[-1], ""))
    return lines


def join_lines(lines: list[Line]) -> str:
    return "".join(line.body + line.ending for line in lines)


def usual_ending(lines: list[Line]) -> str:
    """The ending new lines get: the file's own (CRLF files stay CRLF), "\\n" for an empty file."""
    endings = [line.ending for line in lines if line.ending]
    if not endings:
        return "\n"
    return "\r\n" if endings.count("\r\n") > len(endings) / 2 else "\n"
