"""Masking secret values in everything the tool prints or keeps: each value in every form it can take
(whole, each line, shell-quoted, JSON-escaped, a Python literal). Pure."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable
from typing import Any

MASK = "********"


class Masker:
    """Replaces every secret value in text, bytes and JSON-like documents."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.values = frozenset(s for s in secrets if s)  # the secrets themselves (a plan file lists them)
        # Every form a value takes on its way out, longest first so that a form containing another is
        # masked whole.
        found = {form for s in self.values for form in secret_forms(s)}
        self._secrets = sorted(found, key=len, reverse=True)
        self._encoded = [s.encode() for s in self._secrets]

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def text(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def data(self, data: bytes) -> bytes:
        for secret in self._encoded:
            data = data.replace(secret, MASK.encode())
        return data

    def holds_secret(self, data: bytes) -> bool:
        return any(secret in data for secret in self._encoded)

    def document(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(k) if isinstance(k, str) else k: self.document(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.document(v) for v in value]
        return value


MIN_SECRET_LINE = 4  # a shorter line of a multi-line value (a PEM's "=="), would mask ordinary text


def secret_forms(secret: str) -> frozenset[str]:
    """The text a secret can show up as: whole or as one of its lines (a diff prints a multi-line value
    line by line), shell-quoted (a command), JSON-escaped with and without ``\\u`` escapes (a journal
    column), as a Python literal (an error quoting a value), and these combined."""
    bases = {secret} | {line for line in secret.splitlines() if len(line.strip()) >= MIN_SECRET_LINE}
    quoted = bases | {shlex.quote(b) for b in bases}
    forms = set(quoted)
    for text in quoted:
        forms |= {json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1], repr(text)[1:-1]}
    return frozenset(f for f in forms if f)
