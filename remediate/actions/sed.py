"""The ``sed: 's/old/new/flags'`` shorthand -> a ``Substitute``.

The pattern is a Python regular expression (like ``sed -E`` rather than sed's basic syntax); in the
replacement ``&`` is the whole match and ``\\1``..``\\9`` are groups, as in sed. Flags: ``g`` (every match
of a line, not only the first) and ``i``/``I`` (ignore case).
"""

from __future__ import annotations

from remediate.model import Substitute


class SedError(ValueError):
    pass


def parse_sed(expression: str) -> Substitute:
    if len(expression) < 2 or expression[0] != "s":
        raise SedError(f"expected s/REGEX/REPLACEMENT/FLAGS, got {expression!r}")
    delimiter = expression[1]
    if delimiter.isalnum() or delimiter in "\\\n ":
        raise SedError(f"{delimiter!r} cannot delimit a sed expression")
    parts = _split_unescaped(expression[2:], delimiter)
    if len(parts) != 3:
        raise SedError(f"expected s{delimiter}REGEX{delimiter}REPLACEMENT{delimiter}FLAGS, got {expression!r}")
    pattern, replacement, flags = parts
    if not pattern:
        raise SedError("the regex is empty")
    unknown = set(flags) - set("giI")
    if unknown:
        raise SedError(f"unsupported sed flag(s) {''.join(sorted(unknown))!r} (supported: g, i)")
    if "i" in flags or "I" in flags:
        pattern = f"(?i:{pattern})"
    return Substitute(regex=pattern, replace=_python_replacement(replacement), first_per_line="g" not in flags)


def _split_unescaped(text: str, delimiter: str) -> list[str]:
    """Split on the delimiter; ``\\<delimiter>`` stands for the delimiter itself, other escapes stay."""
    parts, current, i = [], [], 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            following = text[i + 1]
            current.append(following if following == delimiter else char + following)
            i += 2
            continue
        if char == delimiter:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    parts.append("".join(current))
    return parts


def _python_replacement(replacement: str) -> str:
    """sed's ``&`` -> ``\\g<0>``; ``\\&`` -> a literal ``&``; other escapes mean the same in Python."""
    out, i = [], 0
    while i < len(replacement):
        char = replacement[i]
        if char == "\\" and i + 1 < len(replacement):
            following = replacement[i + 1]
            out.append("&" if following == "&" else char + following)
            i += 2
            continue
        out.append(r"\g<0>" if char == "&" else char)
        i += 1
    return "".join(out)
