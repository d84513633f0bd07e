"""Searching everything remediate printed or recorded for a secret, in every form the secret can take.

Written apart from the product's ``Masker`` (on purpose: a test that reused it would find only what it
masks): a secret may show up whole, as any one of its lines (a diff prints a multi-line value line by
line), shell-quoted (a command), JSON-escaped with or without ``\\u`` escapes (a JSON column), as a
Python literal (an error message quoting a value) or as any of these combined.
"""

from __future__ import annotations

import json
import shlex
import sqlite3
import zlib
from pathlib import Path

MIN_LINE = 4  # a shorter line of a multi-line secret (a PEM's "=="), is not told apart from any text


def forms(secret: str) -> set[str]:
    bases = {secret} | {line for line in secret.splitlines() if len(line.strip()) >= MIN_LINE}
    quoted = bases | {shlex.quote(b) for b in bases}
    found = set(quoted)
    for text in quoted:
        found |= {json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1], repr(text)[1:-1]}
    return found


def leaks(secret: str, *texts: str | bytes) -> list[str]:
    """The forms of ``secret`` found in any of ``texts`` (empty: none leaked)."""
    found = []
    for form in sorted(forms(secret)):
        for text in texts:
            if (form.encode() in text) if isinstance(text, bytes) else (form in text):
                found.append(form)
                break
    return found


def journal_dump(state: Path) -> bytes:
    """Every column of every row of every table of the journal, compressed contents decompressed."""
    if not (state / "journal.sqlite").exists():
        return b""  # a run refused before it began has no journal
    db = sqlite3.connect(state / "journal.sqlite")
    parts: list[bytes] = []
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        for row in db.execute(f"SELECT * FROM {table}"):  # the names come from sqlite_master
            for value in row:
                parts.append(_column_bytes(value))
    db.close()
    return b"\n".join(parts)


def _column_bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        try:
            return zlib.decompress(value)
        except zlib.error:
            return value
    return str(value).encode()
